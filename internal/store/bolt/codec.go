package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk/internal/story"
)

// A stored story is either JSON, as every file written before this
// encoding holds it (a JSON object's first byte is '{'), or codecV1 followed
// by the fields below in a fixed order. Both decode to the same story:
// decodeStory reads either, encode writes only the binary form, so an older
// file is read as it is and its stories move to the binary form as they are
// next rewritten. The binary form costs a tenth of encoding/json's time to
// write and less to read, and is smaller (no field names, HTML unescaped).
//
// Field order (uvarint lengths and counts, strings as length then bytes,
// times as varint Unix seconds, uvarint nanoseconds, varint zone offset in
// seconds with 1 meaning UTC):
//
//	Seq
//	ID Source SourceTitle SourceURL SourceLink GUID Link
//	Title Summary Content SummaryText ContentText
//	Authors (n × Name Email URL)  Categories (n × string)
//	Enclosures (n × URL Type varint(Length) Title varint(Duration))
//	Image Language  Published Updated FirstSeen  Undated (byte)
//	DuplicateOf  AlsoIn (n × Source Title ID)  ServedID
//	Merged (byte 0 absent, 1 present, then Enclosures Categories Image)
//
// A new field of story.Story must be added here (at the end, with a new
// codec version if old values cannot read as its zero value):
// TestCodecKeepsEveryField fails until it is.
const codecV1 = 1

// utcOffset stands for UTC in the zone offset of an encoded time: no real
// offset is one second.
const utcOffset = 1

// encode is the stored form of s. Topics stay out (they live in the active
// generation, which Reclassify replaces without rewriting stories). Equal
// content always encodes to equal bytes (Put's change test compares them),
// and what decodes from it is what a JSON round trip gave: empty slices
// read as nil, times as UTC or a fixed zone, without their monotonic clock,
// and a string's invalid UTF-8 bytes as U+FFFD each.
func encode(s story.Story) ([]byte, error) {
	for _, t := range []time.Time{s.Published, s.Updated, s.FirstSeen} {
		if y := t.Year(); y < 0 || y > 9999 {
			// encoding/json's limit, which stored stories always kept to
			return nil, fmt.Errorf("encode story %s: year %d outside of range [0,9999]", s.ID, y)
		}
	}
	e := encoder{b: make([]byte, 0, storySize(&s))}
	e.b = append(e.b, codecV1)
	e.uvarint(s.Seq)
	for _, f := range []string{s.ID, s.Source, s.SourceTitle, s.SourceURL, s.SourceLink, s.GUID, s.Link,
		s.Title, s.Summary, s.Content, s.SummaryText, s.ContentText} {
		e.string(f)
	}
	e.uvarint(uint64(len(s.Authors)))
	for _, a := range s.Authors {
		e.string(a.Name)
		e.string(a.Email)
		e.string(a.URL)
	}
	e.strings(s.Categories)
	e.enclosures(s.Enclosures)
	e.string(s.Image)
	e.string(s.Language)
	e.time(s.Published)
	e.time(s.Updated)
	e.time(s.FirstSeen)
	e.bool(s.Undated)
	e.string(s.DuplicateOf)
	e.uvarint(uint64(len(s.AlsoIn)))
	for _, r := range s.AlsoIn {
		e.string(r.Source)
		e.string(r.Title)
		e.string(r.ID)
	}
	e.string(s.ServedID)
	e.bool(s.Merged != nil)
	if m := s.Merged; m != nil {
		e.enclosures(m.Enclosures)
		e.strings(m.Categories)
		e.string(m.Image)
	}
	return e.b, nil
}

// storySize is about the encoded size of s, so encode allocates once.
func storySize(s *story.Story) int {
	n := 64 + len(s.ID) + len(s.Source) + len(s.SourceTitle) + len(s.SourceURL) + len(s.SourceLink) +
		len(s.GUID) + len(s.Link) + len(s.Title) + len(s.Summary) + len(s.Content) + len(s.SummaryText) +
		len(s.ContentText) + len(s.Image) + len(s.Language) + len(s.DuplicateOf) + len(s.ServedID)
	for _, a := range s.Authors {
		n += 3 + len(a.Name) + len(a.Email) + len(a.URL)
	}
	for _, c := range s.Categories {
		n += 1 + len(c)
	}
	for _, e := range s.Enclosures {
		n += 24 + len(e.URL) + len(e.Type) + len(e.Title)
	}
	for _, r := range s.AlsoIn {
		n += 3 + len(r.Source) + len(r.Title) + len(r.ID)
	}
	return n
}

// decodeStory reads a stored story in either form (see codecV1).
func decodeStory(v []byte) (story.Story, error) {
	switch {
	case len(v) == 0:
		return story.Story{}, errors.New("empty story value")
	case v[0] == '{':
		var s story.Story
		err := json.Unmarshal(v, &s)
		return s, err
	case v[0] == codecV1:
		d := decoder{s: string(v[1:])} // one allocation: every field is a piece of it
		return d.story()
	}
	return story.Story{}, fmt.Errorf("unknown story encoding %#x", v[0])
}

// isJSON reports whether the stored value v is in the older JSON form.
func isJSON(v []byte) bool { return len(v) > 0 && v[0] == '{' }

type encoder struct{ b []byte }

func (e *encoder) uvarint(n uint64) { e.b = binary.AppendUvarint(e.b, n) }
func (e *encoder) varint(n int64)   { e.b = binary.AppendVarint(e.b, n) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) string(s string) {
	if !utf8.ValidString(s) {
		s = jsonRunes(s)
	}
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// jsonRunes is s with every byte that is not part of valid UTF-8 replaced
// by U+FFFD, as encoding/json writes it.
func jsonRunes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func (e *encoder) strings(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.string(s)
	}
}

func (e *encoder) enclosures(es []story.Enclosure) {
	e.uvarint(uint64(len(es)))
	for _, x := range es {
		e.string(x.URL)
		e.string(x.Type)
		e.varint(x.Length)
		e.string(x.Title)
		e.varint(int64(x.Duration))
	}
}

func (e *encoder) time(t time.Time) {
	_, off := t.Zone()
	if off == 0 {
		off = utcOffset // JSON wrote such a time with "Z": it read back as UTC
	}
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
	e.varint(int64(off))
}

// decoder reads the fields of a binary story from s; the first error
// stops it, and every later read returns zero values.
type decoder struct {
	s   string
	err error
}

var errShort = errors.New("story value cut short")

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var n uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break // overflows 64 bits
		}
		n |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.s = d.s[i+1:]
			return n
		}
	}
	d.err = errShort
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	n := int64(u >> 1)
	if u&1 != 0 {
		n = ^n
	}
	return n
}

// count reads a length or count that must fit what is left, each item
// taking at least each bytes.
func (d *decoder) count(each int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.s)/each) {
		d.err = errShort
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count(1)
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

func (d *decoder) bool() bool {
	if d.err == nil && len(d.s) == 0 {
		d.err = errShort
	}
	if d.err != nil {
		return false
	}
	v := d.s[0]
	d.s = d.s[1:]
	return v != 0
}

func (d *decoder) strings() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.string()
	}
	return ss
}

func (d *decoder) enclosures() []story.Enclosure {
	n := d.count(5)
	if n == 0 {
		return nil
	}
	es := make([]story.Enclosure, n)
	for i := range es {
		es[i] = story.Enclosure{URL: d.string(), Type: d.string(), Length: d.varint(), Title: d.string(),
			Duration: time.Duration(d.varint())}
	}
	return es
}

func (d *decoder) time() time.Time {
	sec, nsec, off := d.varint(), d.uvarint(), d.varint()
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.err = fmt.Errorf("story time with %d nanoseconds", nsec)
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if off == utcOffset {
		return t.UTC()
	}
	// No zone is a day or more off UTC (RFC 3339, which the JSON form held,
	// cannot write one): such an offset is a damaged value, and a time with
	// it could not be served as JSON.
	if off <= -86400 || off >= 86400 {
		d.err = fmt.Errorf("story time with a zone offset of %d seconds", off)
		return time.Time{}
	}
	// As time.Parse read the JSON: the local zone when it has that offset
	// then, else a zone of that offset with no name.
	if _, local := t.Zone(); int64(local) == off {
		return t
	}
	return t.In(time.FixedZone("", int(off)))
}

func (d *decoder) story() (story.Story, error) {
	var s story.Story
	s.Seq = d.uvarint()
	for _, f := range []*string{&s.ID, &s.Source, &s.SourceTitle, &s.SourceURL, &s.SourceLink, &s.GUID, &s.Link,
		&s.Title, &s.Summary, &s.Content, &s.SummaryText, &s.ContentText} {
		*f = d.string()
	}
	if n := d.count(3); n > 0 {
		s.Authors = make([]story.Author, n)
		for i := range s.Authors {
			s.Authors[i] = story.Author{Name: d.string(), Email: d.string(), URL: d.string()}
		}
	}
	s.Categories = d.strings()
	s.Enclosures = d.enclosures()
	s.Image = d.string()
	s.Language = d.string()
	s.Published = d.time()
	s.Updated = d.time()
	s.FirstSeen = d.time()
	s.Undated = d.bool()
	s.DuplicateOf = d.string()
	if n := d.count(3); n > 0 {
		s.AlsoIn = make([]story.Ref, n)
		for i := range s.AlsoIn {
			s.AlsoIn[i] = story.Ref{Source: d.string(), Title: d.string(), ID: d.string()}
		}
	}
	s.ServedID = d.string()
	if d.bool() {
		s.Merged = &story.Merged{Enclosures: d.enclosures(), Categories: d.strings(), Image: d.string()}
	}
	if d.err == nil && len(d.s) != 0 {
		d.err = fmt.Errorf("%d bytes after the story", len(d.s))
	}
	if d.err != nil {
		return story.Story{}, d.err
	}
	return s, nil
}
