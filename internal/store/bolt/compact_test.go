package bolt_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
)

const compactEnv = "NEWSDESK_TEST_COMPACT"

// TestCompactHelper is not a test: TestKilledCompactLosesNothing runs the
// test binary again with it and kills it mid-compaction.
func TestCompactHelper(t *testing.T) {
	path := os.Getenv(compactEnv)
	if path == "" {
		t.Skip("runs as a subprocess of TestKilledCompactLosesNothing")
	}
	fmt.Println("compacting")
	if _, err := bolt.CompactFile(path, bolt.Options{}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("compacted")
}

// listing is everything a reader sees of the store at path, checked.
func listing(t *testing.T, path string) []string {
	t.Helper()
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, slug := range []string{"", "t1", "dup"} {
		all = append(all, slug+":")
		all = append(all, recent(t, db, store.Query{Topic: slug, Limit: store.MaxLimit})...)
	}
	return all
}

// TestKilledCompactLosesNothing kills `compact` (CompactFile in a
// subprocess) at moments through its copy: each time, the store opens, its
// check passes and it lists what it listed before, and the half-written copy
// is gone once the store is opened again.
func TestKilledCompactLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a store of several megabytes and kills a dozen subprocesses")
	}
	path := sample(t, 1200)
	db, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Prune(t.Context(), store.Retention{MaxStories: 600}, t0); err != nil {
		t.Fatal(err) // free pages, so that the copy is smaller than the file
	}
	db.Close()
	want := listing(t, path)
	info, _ := os.Stat(path)
	t.Logf("store of %d bytes, %d entries listed", info.Size(), len(want))

	tmp := path + ".compact"
	kills, after := 0, 0
	// Kill when the copy has reached these sizes (0: as soon as it exists),
	// and once when the helper says it started.
	for _, at := range []int64{-1, 0, 4 << 10, 32 << 10, 128 << 10, 512 << 10, 1 << 20, 1 << 62} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCompactHelper$", "-test.v")
		cmd.Env = append(os.Environ(), compactEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		for lines.Scan() && lines.Text() != "compacting" {
		}
		finished := make(chan error, 1)
		go func() {
			for lines.Scan() {
			}
			finished <- cmd.Wait()
		}()
		killed := false
	wait:
		for {
			select {
			case err := <-finished:
				if err != nil {
					t.Fatalf("compact helper (kill at %d): %v", at, err)
				}
				break wait
			default:
			}
			if info, err := os.Stat(tmp); at < 0 || err == nil && info.Size() >= at {
				cmd.Process.Kill()
				<-finished
				killed = true
				break
			}
			time.Sleep(time.Millisecond) // polling the copy's size: not a timing assertion
		}
		if killed {
			kills++
		} else {
			after++
		}
		if got := listing(t, path); !slices.Equal(got, want) {
			t.Fatalf("after a kill at %d bytes of the copy the store lists %d entries, want the same %d", at, len(got), len(want))
		}
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after a kill at %d bytes and a reopen, %s is still there", at, tmp)
		}
	}
	if kills < 5 {
		t.Errorf("only %d of the compactions were killed mid-way (%d finished first)", kills, after)
	}
	// The last round was never killed: the store is compacted, and lists
	// what it did.
	final, _ := os.Stat(path)
	if after == 0 || final.Size() >= info.Size() {
		t.Errorf("no compaction finished (%d) or the file did not shrink: %d → %d bytes", after, info.Size(), final.Size())
	}
	t.Logf("%d kills mid-copy, %d compactions finished; %d → %d bytes", kills, after, info.Size(), final.Size())
}
