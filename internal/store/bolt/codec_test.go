package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

// encodeJSON is the stored form of s as newsdesk wrote it before the
// binary form (files written then hold it).
func encodeJSON(s story.Story) ([]byte, error) {
	s.Topics = nil
	if len(s.Authors) == 0 {
		s.Authors = nil
	}
	if len(s.Categories) == 0 {
		s.Categories = nil
	}
	if len(s.Enclosures) == 0 {
		s.Enclosures = nil
	}
	if len(s.AlsoIn) == 0 {
		s.AlsoIn = nil
	}
	return json.Marshal(s)
}

// jsonRoundTrip is what a story stored as JSON, as every file before the
// binary form held it, reads back as.
func jsonRoundTrip(t testing.TB, s story.Story) story.Story {
	t.Helper()
	v, err := encodeJSON(s)
	if err != nil {
		t.Fatal(err)
	}
	var got story.Story
	if err := json.Unmarshal(v, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// fill sets every field reachable from v to a value that is not its zero
// value, naming strings after their field, so a field the codec leaves
// out shows.
func fill(v reflect.Value, name string, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", name, *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * 1_000_003)
	case reflect.Uint64:
		v.SetUint(uint64(*n) * 7)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), fmt.Sprintf("%s[%d]", name, i), n)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name, n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zone := time.FixedZone("", (*n%24-12)*3600+1800)
			v.Set(reflect.ValueOf(time.Date(2026, 1, 1+*n, 12, *n, 7, 123456789, zone)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), name+"."+v.Type().Field(i).Name, n)
		}
	default:
		panic(fmt.Sprintf("fill: %s is a %s: teach fill (and the codec) about it", name, v.Kind()))
	}
}

// TestCodecKeepsEveryField: a story with every field set (Topics aside,
// which the store keeps in the generation) decodes as its JSON round trip
// does. A field added to story.Story and not to the codec fails here.
func TestCodecKeepsEveryField(t *testing.T) {
	var s story.Story
	n := 0
	fill(reflect.ValueOf(&s).Elem(), "Story", &n)
	s.Topics = nil
	v, err := encode(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeStory(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := jsonRoundTrip(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant (as JSON read it back)\n%+v", got, want)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, s)
	}
}

// TestCodecReadsAsJSONDid: values whose JSON round trip is not the
// identity read back from the binary form as they did from JSON.
func TestCodecReadsAsJSONDid(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	tests := []struct {
		name string
		s    story.Story
	}{
		{"zero story", story.Story{}},
		{"invalid UTF-8 bytes become U+FFFD each", story.Story{ID: "a", Title: "caf\xe9 \xff\xfe ok", Categories: []string{"\x80x"}}},
		{"offset 0 in a named zone reads as UTC", story.Story{Published: at.In(time.FixedZone("GMT", 0))}},
		{"a fixed offset keeps it", story.Story{Published: at.In(time.FixedZone("EST", -5*3600))}},
		{"the local zone", story.Story{Published: at.Local(), Updated: time.Now()}},
		{"a monotonic reading is dropped", story.Story{FirstSeen: time.Now()}},
		{"empty slices read as nil", story.Story{Authors: []story.Author{}, Categories: []string{}, Enclosures: []story.Enclosure{}, AlsoIn: []story.Ref{}}},
		{"an empty Merged stays", story.Story{Merged: &story.Merged{}}},
		{"empty Merged lists read as nil", story.Story{Merged: &story.Merged{Enclosures: []story.Enclosure{}, Categories: []string{}}}},
		{"before 1970 and far ahead", story.Story{Published: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Updated: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{"negative lengths", story.Story{Enclosures: []story.Enclosure{{URL: "u", Length: -1, Duration: -time.Second}}}},
		{"long text", story.Story{Content: strings.Repeat("<p>a &amp; b</p>\u2028", 5000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := encode(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeStory(v)
			if err != nil {
				t.Fatal(err)
			}
			if want := jsonRoundTrip(t, tt.s); !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%#v\nwant (as JSON read it back)\n%#v", got, want)
			}
			again, err := encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, v) {
				t.Error("the decoded story encodes to other bytes: Put would see a change that is none")
			}
		})
	}
}

// TestCodecRefusesWhatJSONRefused: a year JSON cannot write is an error,
// as it was, not a story stored in a form older newsdesks could not read
// back the same.
func TestCodecRefusesWhatJSONRefused(t *testing.T) {
	for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := encode(story.Story{ID: "x", Published: at}); err == nil {
			t.Errorf("encode with Published %v: no error", at)
		}
	}
}

// TestDecodeStoryDamaged: a cut or garbled value is an error, never a
// panic or a story made of the wrong bytes.
func TestDecodeStoryDamaged(t *testing.T) {
	var s story.Story
	n := 0
	fill(reflect.ValueOf(&s).Elem(), "Story", &n)
	s.Topics = nil
	v, err := encode(s)
	if err != nil {
		t.Fatal(err)
	}
	for cut := range len(v) {
		if _, err := decodeStory(v[:cut]); err == nil {
			t.Fatalf("decodeStory of the first %d of %d bytes: no error", cut, len(v))
		}
	}
	if _, err := decodeStory(append(bytes.Clone(v), 0)); err == nil {
		t.Error("decodeStory with a byte after the story: no error")
	}
	if _, err := decodeStory([]byte{7, 1, 2}); err == nil || !strings.Contains(err.Error(), "unknown story encoding") {
		t.Errorf("decodeStory of an unknown version: %v", err)
	}
}

// FuzzDecodeStory: whatever the bytes, decodeStory returns a story or an
// error, and a story it returns encodes to bytes that read back the same.
func FuzzDecodeStory(f *testing.F) {
	var s story.Story
	n := 0
	fill(reflect.ValueOf(&s).Elem(), "Story", &n)
	s.Topics = nil
	for _, seed := range []story.Story{s, {}, {ID: "a", Title: "t", Published: time.Unix(1e9, 5)}} {
		v, err := encode(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
	}
	f.Add([]byte(`{"ID":"a","Title":"json"}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		got, err := decodeStory(v)
		if err != nil {
			return
		}
		again, err := encode(got)
		if err != nil {
			return // a year JSON could not hold, from a JSON value
		}
		back, err := decodeStory(again)
		if err != nil {
			t.Fatalf("a decoded story re-encodes to bytes that do not decode: %v", err)
		}
		if !reflect.DeepEqual(jsonRoundTrip(t, back), jsonRoundTrip(t, got)) {
			t.Fatalf("re-encoded story differs:\n%#v\n%#v", back, got)
		}
	})
}
