package bolt

// CommitStats reports how many transactions db's Puts and PutSources
// committed and the weight (stories, plus one a write) they held.
func CommitStats(db *DB) (txs, weight int) {
	db.commit.mu.Lock()
	defer db.commit.mu.Unlock()
	return db.commit.txs, db.commit.committed
}

// PageAlloc reports the bytes of pages db's transactions allocated.
func PageAlloc(db *DB) int64 { st := db.bolt.Stats(); return st.TxStats.GetPageAlloc() }
