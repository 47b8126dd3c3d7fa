package bolt_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store/bolt"
)

// BenchmarkActivity is the worst case of the status page's Activity: every
// story of the store was first stored inside the 30-day window, so the topic
// walk visits each one (the counters of the sources cost nothing by
// comparison). Outside the window a story costs nothing.
func BenchmarkActivity(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			db, err := bolt.Open(benchDB(b, n), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for b.Loop() {
				a, err := db.Activity(b.Context(), t0.Add(time.Hour), 30)
				if err != nil || a.Sources["wire"].Stored != n {
					b.Fatalf("Activity = %+v, %v", a.Sources["wire"], err)
				}
			}
		})
	}
}
