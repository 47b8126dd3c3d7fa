// Package storetest is the conformance suite of the storage contract: Run
// checks an engine against everything store.Store's comments promise, using
// nothing but the contract, so every engine passes the same tests.
// Engine-specific behaviour (file layout, locking, crash leftovers) is tested
// in the engine's own package.
package storetest

import (
	"context"
	"testing"

	"github.com/newsdesk/newsdesk/internal/store"
)

// NewStore prepares a fresh, empty store for one test and returns the func
// that opens it. Calling open again after the store it returned was closed
// must reopen the same data: the suite checks durability that way. The
// engine removes what it made when t ends (t.TempDir, t.Cleanup).
type NewStore func(t *testing.T) (open func() (store.Store, error))

// Checker is implemented by an engine that can verify its own invariants
// (bbolt: the file's page structure, and that every index agrees with the
// stories). The suite calls Check after the writes of every test and fails
// the test on an error.
type Checker interface {
	Check(ctx context.Context) error
}

// Run runs the conformance suite, one subtest per behaviour.
func Run(t *testing.T, newStore NewStore) {
	h := harness{newStore}
	tests := []struct {
		name string
		test func(*testing.T, harness)
	}{
		{"PutNewUpdatedUnchanged", testPutNewUpdatedUnchanged},
		{"PutMovesIndexKeys", testPutMovesIndexKeys},
		{"PutTopicChangeOnUnchangedStory", testPutTopicChangeOnUnchangedStory},
		{"PutRejectsBadID", testPutRejectsBadID},
		{"PutAfterCancel", testPutAfterCancel},
		{"CrossSourceDedupe", testCrossSourceDedupe},
		{"RecentPagesWithoutGapsOrRepeats", testRecentPagesWithoutGapsOrRepeats},
		{"RecentLastFullPageHasNoNext", testRecentLastFullPageHasNoNext},
		{"RecentNotBefore", testRecentNotBefore},
		{"RecentLimits", testRecentLimits},
		{"RecentBadCursor", testRecentBadCursor},
		{"RecentCursorOutlivesItsStory", testRecentCursorOutlivesItsStory},
		{"SinceAscendingSeq", testSinceAscendingSeq},
		{"TopicInfo", testTopicInfo},
		{"Reclassify", testReclassify},
		{"ReclassifyManyStories", testReclassifyManyStories},
		{"ReclassifyWithConcurrentPut", testReclassifyWithConcurrentPut},
		{"ReclassifyCancelled", testReclassifyCancelled},
		{"PruneByAgeLeavesTombstones", testPruneByAgeLeavesTombstones},
		{"PruneMaxStoriesKeepsNewestIngested", testPruneMaxStoriesKeepsNewestIngested},
		{"PruneDuplicates", testPruneDuplicates},
		{"DedupeTwoCopiesOrderIndependent", testDedupeTwoCopiesOrderIndependent},
		{"DedupeThreeCopiesAnyOrder", testDedupeThreeCopiesAnyOrder},
		{"DedupeSwapMovesTopicMembership", testDedupeSwapMovesTopicMembership},
		{"DedupeReelectsWhenContentChanges", testDedupeReelectsWhenContentChanges},
		{"DedupeSameSourceStaysAStory", testDedupeSameSourceStaysAStory},
		{"DedupePruneAfterSwap", testDedupePruneAfterSwap},
		{"DedupeReclassifyAfterSwap", testDedupeReclassifyAfterSwap},
		{"DedupeConcurrentPuts", testDedupeConcurrentPuts},
		{"ServedIDNeverChanges", testServedIDNeverChanges},
		{"MergedCopiesLoseNothing", testMergedCopiesLoseNothing},
		{"Fragments", testFragments},
		{"UndatedKeepsUpstreamOrder", testUndatedKeepsUpstreamOrder},
		{"EditsAreSignalled", testEditsAreSignalled},
		{"LinkKeysFollowTheGroup", testLinkKeysFollowTheGroup},
		{"ReopenKeepsStoriesAndSources", testReopenKeepsStoriesAndSources},
		{"GetUnknown", testGetUnknown},
		{"Stats", testStats},
		{"Activity", testActivity},
		{"MetaSurvivesReopen", testMetaSurvivesReopen},
		{"Backup", testBackup},
		{"Port", testPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, h) })
	}
}

// harness opens the engine's stores for one test.
type harness struct{ newStore NewStore }

// open returns a fresh store, checked and closed when t ends.
func (h harness) open(t *testing.T) store.Store {
	t.Helper()
	db, err := h.newStore(t)()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		check(t, db)
		db.Close()
	})
	return db
}

// durable returns the opener of a fresh store, for tests that close and
// reopen it; each store it opens is checked and closed by the test.
func (h harness) durable(t *testing.T) func() store.Store {
	t.Helper()
	open := h.newStore(t)
	return func() store.Store {
		t.Helper()
		db, err := open()
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
}

// check runs the engine's own consistency check, when it has one.
func check(t *testing.T, db store.Store) {
	t.Helper()
	if c, ok := db.(Checker); ok {
		// t.Context is already cancelled in Cleanup.
		if err := c.Check(context.Background()); err != nil {
			t.Errorf("engine check: %v", err)
		}
	}
}
