package parse

import (
	"strings"
	"time"
)

// futureSkew is how far ahead of the fetch time an upstream date may be
// before it is treated as a clock or typing error and clamped to now.
const futureSkew = 10 * time.Minute

// date returns the UTC time of the first of raws that reads as a date, else
// of gofeed's parse (corrected when its raw text ends in a zone abbreviation
// gofeed read as UTC), clamped to now when it lies further in the future
// than clocks plausibly drift. Missing and unparseable dates give the zero
// time (the store substitutes first-seen).
func date(now time.Time, parsed *time.Time, raws ...string) time.Time {
	var t time.Time
	for _, raw := range raws {
		if v, ok := parseDate(raw); ok {
			t = v
			break
		}
	}
	if t.IsZero() && parsed != nil && len(raws) > 0 {
		t = *parsed
		if fixed, ok := fixZone(raws[0], t); ok {
			t = fixed
		}
	}
	if t.IsZero() {
		return time.Time{}
	}
	t = t.UTC()
	if t.After(now.Add(futureSkew)) {
		return now
	}
	return t
}

// fixZone re-reads raw when it ends in an abbreviation from zoneOffsets that
// gofeed does not know, by shifting gofeed's result, which kept the wall
// clock with a zero offset. It only matters for layouts parseDate does not
// read ("Jan 2, 2006 3:04:05 PM JST" is one it does).
func fixZone(raw string, parsed time.Time) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	i := strings.LastIndexAny(raw, " \t")
	if i < 0 {
		return time.Time{}, false
	}
	name := raw[i+1:]
	minutes, ok := zoneOffsets[strings.ToUpper(name)]
	if !ok || gofeedZones[strings.ToUpper(name)] {
		return time.Time{}, false
	}
	if _, offset := parsed.Zone(); !parsed.IsZero() && offset == 0 {
		return parsed.Add(-time.Duration(minutes) * time.Minute), true
	}
	return time.Time{}, false
}

// gofeedZones are the abbreviations gofeed v1.4.2 maps itself.
var gofeedZones = map[string]bool{"UT": true, "GMT": true, "UTC": true, "EST": true, "EDT": true,
	"CST": true, "CDT": true, "MST": true, "MDT": true, "PST": true, "PDT": true, "WET": true,
	"WEST": true, "BST": true, "CET": true, "CEST": true, "EET": true, "EEST": true}

// zoneOffsets maps zone abbreviations, upper-cased, to their UTC offsets in
// minutes: RFC 822's (UT, GMT, the US zones and the military letters), the
// European ones gofeed knows, and the Asia-Pacific and other zones news feeds
// use, which gofeed reads as UTC (a Tokyo story nine hours in the future).
// Ambiguous names take the reading most common in news feeds (IST is India,
// not Ireland or Israel; CST is US Central; BST is British Summer Time);
// names with no dominant reading (AST, CCT) are left out.
//
// RFC 822 defines the military letters A–I and K–M as -1 to -12 hours and
// N–Y as +1 to +12; RFC 1123 notes that the RFC's own table has the signs
// backwards from military use, but feeds that use them (RSS cites RFC 822)
// follow RFC 822's table, as feedparser does.
var zoneOffsets = func() map[string]int {
	m := map[string]int{
		"UT": 0, "GMT": 0, "UTC": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120,
		"MET": 60, "MEST": 120, "EET": 120, "EEST": 180,
		"EST": -5 * 60, "EDT": -4 * 60, "CST": -6 * 60, "CDT": -5 * 60,
		"MST": -7 * 60, "MDT": -6 * 60, "PST": -8 * 60, "PDT": -7 * 60,
		"JST": 9 * 60, "KST": 9 * 60, "HKT": 8 * 60, "SGT": 8 * 60, "MYT": 8 * 60, "PHT": 8 * 60,
		"AWST": 8 * 60, "WITA": 8 * 60, "WIB": 7 * 60, "WIT": 9 * 60, "ICT": 7 * 60,
		"IST": 5*60 + 30, "PKT": 5 * 60, "NPT": 5*60 + 45, "AEST": 10 * 60, "AEDT": 11 * 60,
		"ACST": 9*60 + 30, "ACDT": 10*60 + 30, "NZST": 12 * 60, "NZDT": 13 * 60, "CHST": 10 * 60,
		"MSK": 3 * 60, "EAT": 3 * 60, "SAST": 2 * 60, "CAT": 2 * 60, "WAT": 1 * 60, "IDT": 3 * 60,
		"NST": -(3*60 + 30), "NDT": -(2*60 + 30),
		"AKST": -9 * 60, "AKDT": -8 * 60, "HST": -10 * 60, "BRT": -3 * 60, "ART": -3 * 60,
	}
	for i, c := range "ABCDEFGHIKLM" {
		m[string(c)] = -(i + 1) * 60
	}
	for i, c := range "NOPQRSTUVWXY" {
		m[string(c)] = (i + 1) * 60
	}
	return m
}()

// parseDate reads the date shapes feeds use, in one pass over the text and
// without trying a list of layouts:
//
//   - RFC 822 and RFC 1123 ("Thu, 29 Jan 2026 10:00:00 GMT"), with or
//     without the weekday and the seconds, with two-digit years (00–49 are
//     20xx, 50–99 are 19xx, as RFC 2822 says), month names in full, and the
//     asctime and Unix date orders ("Thu Jan 29 10:00:00 2026");
//   - "January 29, 2026 10:00 PM" and RFC 850's "29-Jan-26";
//   - ISO 8601 and RFC 3339 ("2026-01-29T10:00:00+09:00", "20260129T1000Z",
//     "2026-01-29 10:00"), and "2026/1/29 10:00:00";
//   - zones as numbers (+0900, +09:00, +09), as names (zoneOffsets, military
//     letters included), and as a name followed by a number ("GMT+0200",
//     "UTC+5:30", JavaScript's "GMT+0200 (CEST)"): the number wins.
//
// A date with no zone is UTC. White space of any kind and amount (dates
// broken over lines, padded with tabs) counts as one space. Anything else
// gives false, and the caller falls back to gofeed's parse.
func parseDate(s string) (time.Time, bool) {
	s = collapse(s)
	if s == "" || len(s) > 80 {
		return time.Time{}, false
	}
	if t, ok := parseISO(s); ok {
		return t, true
	}
	return parseWords(s)
}

// dateFields are the parts of a date as parseDate reads them.
type dateFields struct {
	year, month, day     int
	hour, minute, second int
	nanos                int
	offset               int // seconds east of UTC
	haveTime, haveOffset bool
	pm, am               bool
	yearDigits           int // as written: two-digit years are RFC 822's
	haveYear             bool
}

// build validates f and returns its time.
func (f dateFields) build() (time.Time, bool) {
	switch {
	case f.yearDigits == 1 || f.yearDigits == 2 && f.year < 50:
		f.year += 2000
	case f.yearDigits == 2:
		f.year += 1900
	case f.yearDigits == 3:
		f.year += 1900 // RFC 2822 §4.3
	}
	if f.year < 1000 || f.year > 9999 {
		return time.Time{}, false // no feed dates a story so
	}
	if f.pm || f.am {
		if f.hour < 1 || f.hour > 12 {
			return time.Time{}, false
		}
		if f.hour == 12 {
			f.hour = 0
		}
		if f.pm {
			f.hour += 12
		}
	}
	if f.month < 1 || f.month > 12 || f.day < 1 || f.day > daysIn(f.month, f.year) ||
		f.hour > 24 || f.minute > 59 || f.second > 60 || (f.hour == 24 && (f.minute > 0 || f.second > 0)) ||
		f.offset <= -24*3600 || f.offset >= 24*3600 {
		return time.Time{}, false
	}
	if f.second == 60 {
		f.second = 59 // a leap second; time.Date would roll into the next minute
	}
	return time.Date(f.year, time.Month(f.month), f.day, f.hour, f.minute, f.second, f.nanos, time.UTC).
		Add(-time.Duration(f.offset) * time.Second), true
}

func daysIn(month, year int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseISO reads ISO 8601 dates: YYYY-MM-DD or YYYYMMDD (or YYYY/M/D),
// optionally followed by 'T' or a space and hh:mm[:ss[.fff]] (or hhmm[ss]),
// optionally followed by a zone. W3C-DTF's reduced forms (YYYY-MM, and a
// date alone) are midnight UTC.
func parseISO(s string) (time.Time, bool) {
	if len(s) < 7 || !digit(s[0]) || !digit(s[1]) || !digit(s[2]) || !digit(s[3]) {
		return time.Time{}, false
	}
	var f dateFields
	f.year, f.yearDigits, f.haveYear = atoi(s[:4]), 4, true
	i := 4
	switch {
	case s[4] == '-' || s[4] == '/':
		sep := s[4]
		var n int
		if f.month, n = number(s, i+1, 1, 2); n == 0 {
			return time.Time{}, false
		}
		i += 1 + n
		f.day = 1
		if i < len(s) && s[i] == sep {
			if f.day, n = number(s, i+1, 1, 2); n == 0 {
				return time.Time{}, false
			}
			i += 1 + n
		}
	case len(s) >= 8 && allDigits(s[4:8]):
		f.month, f.day = atoi(s[4:6]), atoi(s[6:8])
		i = 8
	default:
		return time.Time{}, false
	}
	if i == len(s) {
		return f.build()
	}
	if s[i] != 'T' && s[i] != 't' && s[i] != ' ' {
		return time.Time{}, false
	}
	if j, ok := isoTime(s, i+1, &f); ok {
		i = j
	} else if s[i] == ' ' {
		// "2026-01-29 GMT" is odd but harmless; a time must follow 'T'.
		i++
	} else {
		return time.Time{}, false
	}
	if i == len(s) {
		return f.build()
	}
	if !zone(strings.TrimSpace(s[i:]), &f) {
		return time.Time{}, false
	}
	return f.build()
}

// isoTime reads hh:mm[:ss[.fff]] or hhmm[ss[.fff]] at s[i:]; a one-digit
// hour before a colon too ("2026/1/29 9:05:00").
func isoTime(s string, i int, f *dateFields) (int, bool) {
	if i+4 > len(s) || !digit(s[i]) {
		return 0, false
	}
	if s[i+1] == ':' {
		f.hour = atoi(s[i : i+1])
		i++
	} else if digit(s[i+1]) {
		f.hour = atoi(s[i : i+2])
		i += 2
	} else {
		return 0, false
	}
	f.haveTime = true
	colon := s[i] == ':'
	if colon {
		i++
	}
	if i+2 > len(s) || !digit(s[i]) || !digit(s[i+1]) {
		return 0, false
	}
	f.minute = atoi(s[i : i+2])
	i += 2
	if i < len(s) && ((colon && s[i] == ':') || (!colon && digit(s[i]))) {
		if colon {
			i++
		}
		if i+2 > len(s) || !digit(s[i]) || !digit(s[i+1]) {
			return 0, false
		}
		f.second = atoi(s[i : i+2])
		i += 2
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			j := i + 1
			for j < len(s) && digit(s[j]) {
				j++
			}
			if j == i+1 {
				return 0, false
			}
			f.nanos = fraction(s[i+1 : j])
			i = j
		}
	}
	return i, true
}

// parseWords reads the RFC 822 family and the other orders of words and
// numbers that feeds write: "[Weekday,] 29 Jan 2026 10:00[:00] [zone]",
// "Jan 29, 2026 10:00 PM [zone]", "Thu Jan 29 10:00:00 [zone] 2026",
// "29-Jan-26 10:00:00 GMT".
func parseWords(s string) (time.Time, bool) {
	var buf [12]string // the tokens stay on the stack
	toks := dateTokens(s, buf[:0])
	if len(toks) == 0 {
		return time.Time{}, false
	}
	if weekday(toks[0]) {
		toks = toks[1:]
	}
	var f dateFields
	var numBuf [4]string
	nums := numBuf[:0] // day and year, in order, until the month places them
	monthAt := -1
	i := 0
	for ; i < len(toks) && !f.haveTime; i++ {
		t := toks[i]
		switch {
		case strings.IndexByte(t, ':') > 0 && digit(t[0]):
			if !clock(t, &f) {
				return time.Time{}, false
			}
		case allDigits(t):
			nums = append(nums, t)
		case month(t) > 0 && monthAt < 0:
			f.month, monthAt = month(t), len(nums)
		default:
			return time.Time{}, false
		}
	}
	// Day, month and year: "29 Jan 2026" (monthAt 1) or "Jan 29 2026"
	// (monthAt 0); asctime puts the year after the time.
	switch {
	case monthAt >= 0 && len(nums) == 2 && len(nums[0]) == 4:
		f.year, f.day = atoi(nums[0]), atoi(nums[1]) // "2026 Jan 29"
		f.yearDigits = 4
	case monthAt == 1 && len(nums) == 2:
		f.day, f.year = atoi(nums[0]), atoi(nums[1])
		f.yearDigits = len(nums[1])
	case monthAt == 0 && len(nums) == 2 && len(nums[0]) <= 2:
		f.day, f.year = atoi(nums[0]), atoi(nums[1])
		f.yearDigits = len(nums[1])
	case monthAt == 0 && len(nums) == 1 && f.haveTime:
		f.day = atoi(nums[0]) // asctime: the year comes last
	default:
		return time.Time{}, false
	}
	f.haveYear = f.year != 0 || len(nums) == 2
	rest := toks[i:]
	if len(rest) > 0 && (rest[0] == "am" || rest[0] == "pm") {
		f.am, f.pm = rest[0] == "am", rest[0] == "pm"
		rest = rest[1:]
	}
	if !f.haveYear {
		// asctime: "… 10:00:00 2026" or "… 10:00:00 JST 2026"
		n := len(rest)
		if n == 0 || !allDigits(rest[n-1]) || len(rest[n-1]) != 4 {
			return time.Time{}, false
		}
		f.year, f.yearDigits, f.haveYear = atoi(rest[n-1]), 4, true
		rest = rest[:n-1]
	}
	if len(rest) > 0 && !zone(strings.Join(rest, " "), &f) {
		return time.Time{}, false
	}
	return f.build()
}

// dateTokens splits s into lower-case words, numbers, clock times and zone
// parts. Commas, the dots of abbreviations ("Jan.", "p.m.") and the hyphens
// of RFC 850 ("29-Jan-26") separate; a sign after the clock starts a zone
// offset; a parenthesised comment ("(CEST)") is dropped. The tokens are
// appended to toks.
func dateTokens(s string, toks []string) []string {
	s = lowerASCII(s) // once, not word by word: the words are ASCII letters
	afterClock := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == ',' || c == '.' || c == '-' && !afterClock:
			i++
		case c == '(':
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				return nil
			}
			i += end + 1
		case c == '+' || c == '-':
			j := i + 1
			for j < len(s) && (digit(s[j]) || s[j] == ':') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case digit(c):
			j := i
			for j < len(s) && (digit(s[j]) || s[j] == ':' || (s[j] == '.' && strings.IndexByte(s[i:j], ':') > 0)) {
				j++
			}
			t := s[i:j]
			if strings.IndexByte(t, ':') > 0 {
				afterClock = true
			}
			toks = append(toks, t)
			i = j
		case letter(c):
			j := i
			for j < len(s) && letter(s[j]) {
				j++
			}
			w := s[i:j]
			if (w == "a" || w == "p") && j+2 < len(s)+1 && strings.HasPrefix(s[j:], ".m") {
				w += "m" // "p.m."
				j += 2
				if j < len(s) && s[j] == '.' {
					j++
				}
			}
			if w == "gmt" || w == "utc" || w == "ut" {
				afterClock = true // "GMT-0700": the hyphen is a sign
			}
			toks = append(toks, w)
			i = j
		default:
			return nil
		}
	}
	return toks
}

// clock reads h:mm[:ss[.fff]].
func clock(t string, f *dateFields) bool {
	var buf [3]string
	parts := buf[:0]
	for rest := t; ; {
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		if len(parts) == 2 {
			return false // a fourth part
		}
		parts = append(parts, rest[:i])
		rest = rest[i+1:]
	}
	if len(parts) < 2 {
		return false
	}
	sec, frac, _ := strings.Cut(parts[len(parts)-1], ".")
	parts[len(parts)-1] = sec
	for _, p := range parts {
		if p == "" || len(p) > 2 || !allDigits(p) {
			return false
		}
	}
	f.hour, f.minute, f.haveTime = atoi(parts[0]), atoi(parts[1]), true
	if len(parts) == 3 {
		f.second = atoi(parts[2])
	}
	if frac != "" {
		if !allDigits(frac) {
			return false
		}
		f.nanos = fraction(frac)
	}
	return true
}

// zone reads a time zone: Z, a name from zoneOffsets, a numeric offset
// (+hhmm, +hh:mm, +hh, +h), or a name then an offset ("GMT+0200", "EST
// -0500"), the offset winning. s is lower- or upper-case.
func zone(s string, f *dateFields) bool {
	s = strings.TrimSpace(s)
	name := s
	num := ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		name, num = strings.TrimSpace(s[:i]), s[i:]
	}
	if name != "" {
		minutes, ok := zoneOffsets[strings.ToUpper(name)]
		if !ok {
			return false
		}
		f.offset, f.haveOffset = minutes*60, true
	}
	if num == "" {
		return name != ""
	}
	sign := 1
	if num[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(strings.TrimSpace(num[1:]), ":", "")
	if !allDigits(digits) {
		return false
	}
	var h, m int
	switch len(digits) {
	case 1, 2:
		h = atoi(digits)
	case 3:
		h, m = atoi(digits[:1]), atoi(digits[1:])
	case 4:
		h, m = atoi(digits[:2]), atoi(digits[2:])
	default:
		return false
	}
	if h > 23 || m > 59 {
		return false
	}
	f.offset, f.haveOffset = sign*(h*3600+m*60), true
	return true
}

var months = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
	"oct": 10, "nov": 11, "dec": 12, "january": 1, "february": 2, "march": 3, "april": 4, "june": 6,
	"july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}

func month(w string) int { return months[w] }

var weekdays = map[string]bool{
	"mon": true, "tue": true, "tues": true, "wed": true, "thu": true, "thur": true, "thurs": true,
	"fri": true, "sat": true, "sun": true, "monday": true, "tuesday": true, "wednesday": true,
	"thursday": true, "friday": true, "saturday": true, "sunday": true,
}

func weekday(w string) bool { return weekdays[w] }

// number reads 1 to maxLen digits at s[i:], at least minLen; n is how many.
func number(s string, i, minLen, maxLen int) (v, n int) {
	for n < maxLen && i+n < len(s) && digit(s[i+n]) {
		v = v*10 + int(s[i+n]-'0')
		n++
	}
	if n < minLen {
		return 0, 0
	}
	return v, n
}

// fraction reads the digits after a decimal point as nanoseconds.
func fraction(d string) int {
	n := 0
	for i := 0; i < 9; i++ {
		n *= 10
		if i < len(d) {
			n += int(d[i] - '0')
		}
	}
	return n
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func digit(c byte) bool  { return c >= '0' && c <= '9' }
func letter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// lowerASCII is strings.ToLower for the ASCII letters of s only.
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !digit(s[i]) {
			return false
		}
	}
	return s != ""
}
