package bolt

import (
	"bytes"
	"testing"
	"time"
)

// FuzzTopicKeyOrder checks the invariant the newest-first cursor walk relies
// on: a later time sorts after an earlier one whatever the ids, including
// times outside the range UnixNano can hold.
func FuzzTopicKeyOrder(f *testing.F) {
	f.Add(int64(0), int64(1), "b", "a")
	f.Add(int64(-1), int64(0), "", "zzzz")
	f.Add(int64(-62135596800), int64(9223372036), "ab", "a")
	f.Add(int64(1798761600), int64(1798761600), "x", "y")
	f.Fuzz(func(t *testing.T, secA, secB int64, idA, idB string) {
		ta, tb := time.Unix(secA, 0), time.Unix(secB, 0)
		ka, kb := timeKey(ta, idA), timeKey(tb, idB)
		if ta.Before(tb) && bytes.Compare(ka[:8], kb[:8]) > 0 {
			t.Fatalf("%v sorts after %v", ta, tb)
		}
		if nanos(ta) < nanos(tb) && bytes.Compare(ka, kb) >= 0 {
			t.Fatalf("key of %v (%q) does not sort before key of %v (%q)", ta, idA, tb, idB)
		}
		if got, id := splitTimeKey(ka); id != idA || (nanos(ta) > 0 && nanos(ta) < 1<<63-1 && !got.Equal(ta)) {
			t.Fatalf("splitTimeKey(timeKey(%v, %q)) = %v, %q", ta, idA, got, id)
		}
	})
}
