package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/internal/story"
)

// fill stores n stories of one source, titled "Story i".
func fill(t *testing.T, db *DB, n int) {
	t.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batch []story.Story
	for i := range n {
		batch = append(batch, story.Story{ID: story.NewID("wire", fmt.Sprint(i)), Source: "wire",
			Title: fmt.Sprintf("Story %d", i), Link: fmt.Sprintf("https://wire.example/%d", i),
			Published: t0.Add(time.Duration(i) * time.Minute), Topics: []string{"old"}})
	}
	if _, err := db.Put(t.Context(), "wire", store.SourceState{}, batch, t0); err != nil {
		t.Fatal(err)
	}
}

// TestPausedReclassifyLeavesTheNewLeadersIndexes is a leader (A) paused
// between two batches of a re-classification for longer than its lease and
// its re-classification flag: another process (B) takes the lead,
// re-classifies the whole store and switches to its generation. When A
// resumes, its re-classification fails (it no longer leads), and what it
// cleans up must not be B's generation, which is now the one readers use.
func TestPausedReclassifyLeavesTheNewLeadersIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := pgtest.URL(t)
	a, err := Open(ctx, u, Options{ReclassifyBatch: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, u, Options{ReclassifyBatch: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fill(t, a, 30)

	paused, resume := make(chan struct{}), make(chan struct{})
	a.afterBatch = func() {
		select {
		case <-paused:
		default:
			close(paused)
			<-resume
		}
	}
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	aDone := make(chan error, 1)
	// Leases long enough that neither loses its own on a loaded machine
	// (the race detector, other builds): the test ends A's lease itself.
	const period = 10 * time.Second
	go a.Lead(actx, period, "A", func(ctx context.Context) {
		_, err := a.Reclassify(ctx, func(story.Story) []string { return []string{"from-a"} })
		aDone <- err
		<-ctx.Done()
	})
	select {
	case <-paused:
	case <-time.After(20 * time.Second):
		t.Fatal("A's re-classification never finished a batch")
	}
	// As if A had been paused past its lease and its re-classification
	// flag: both expire.
	if _, err := a.pool.Exec(ctx, `UPDATE nd_lock SET expires = now() - INTERVAL '1 second' WHERE name = $1`, lockLeader); err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.Exec(ctx, `UPDATE nd_state SET rebuild_until = now() - INTERVAL '1 second'`); err != nil {
		t.Fatal(err)
	}
	bctx, stopB := context.WithCancel(ctx)
	defer stopB()
	bDone := make(chan error, 1)
	go b.Lead(bctx, period, "B", func(ctx context.Context) {
		_, err := b.Reclassify(ctx, func(story.Story) []string { return []string{"from-b"} })
		bDone <- err
		<-ctx.Done()
	})
	select {
	case err := <-bDone:
		if err != nil {
			t.Fatalf("B's re-classification: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("B's re-classification did not end")
	}
	close(resume)
	select {
	case err := <-aDone:
		if err == nil {
			t.Fatal("A's re-classification succeeded after B took the lead")
		}
		t.Logf("A's re-classification: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("A's re-classification did not end")
	}
	page, err := b.Recent(ctx, store.Query{Topic: "from-b", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Stories) != 30 {
		t.Errorf("after A's failed re-classification, B's topic lists %d stories, want 30", len(page.Stories))
	}
	if err := b.Check(ctx); err != nil {
		t.Error(err)
	}
	if info, _ := b.Topic(ctx, "from-a"); info.Count != 0 {
		t.Errorf("A's topic lists %d stories", info.Count)
	}
}

// TestLostLeaderWritesNothing: a process that campaigned and lost the
// lease (or has not won it yet) has every write refused with ErrNotLeader,
// so that nothing it kept from its leadership reaches the store behind the
// new leader; a process that never campaigns writes freely.
func TestLostLeaderWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := pgtest.URL(t)
	a, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	led := make(chan struct{})
	actx, stopA := context.WithCancel(ctx)
	var cause error
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Lead(actx, 500*time.Millisecond, "A", func(ctx context.Context) {
			if err := a.PutSource(ctx, "wire", store.SourceState{ETag: `"a"`}); err != nil {
				t.Errorf("the leader's write: %v", err)
			}
			close(led)
			<-ctx.Done()
			cause = context.Cause(ctx)
			stopA() // campaign no more
		})
	}()
	<-led
	// Another process takes the lease over (as after a pause of A).
	if _, err := a.pool.Exec(ctx, `UPDATE nd_lock SET holder = 'other', epoch = epoch + 1 WHERE name = $1`, lockLeader); err != nil {
		t.Fatal(err)
	}
	<-done
	if !errors.Is(cause, ErrNotLeader) {
		t.Errorf("the lead's context ended with cause %v, want ErrNotLeader", cause)
	}
	if err := a.PutSource(ctx, "wire", store.SourceState{ETag: `"stale"`}); !errors.Is(err, ErrNotLeader) {
		t.Errorf("a write after losing the lease: %v, want ErrNotLeader", err)
	}
	c, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, err := c.Source(ctx, "wire"); err != nil || st.ETag != `"a"` {
		t.Errorf("wire's state: %+v, %v; want the leader's", st, err)
	}
	if err := c.PutSource(ctx, "wire", store.SourceState{ETag: `"c"`}); err != nil {
		t.Errorf("a process that never campaigns: %v", err)
	}
}
