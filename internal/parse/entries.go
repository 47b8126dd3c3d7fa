package parse

// entryMeta is what the pre-scan learns about one entry that gofeed drops.
type entryMeta struct {
	// title and summary are the Atom text construct types ("" when absent,
	// which means text): type="text" must be escaped, type="html"
	// sanitized, and gofeed returns both as a bare string.
	title, summary string
	// bases are the xml:base values in scope at the entry, outermost first
	// (root, channel, entry): gofeed applies them to links and to Atom
	// content, not to RSS descriptions, enclosures or authors.
	bases []string
}

// entryTracker follows a scan's start tags and records an entryMeta for
// each entry, in the order gofeed lists them: Atom entries in the feed's
// namespace; RSS items of the channel, then items outside it (RSS 1.0 puts
// them beside the channel). quickScan and rawScan share it, so both read
// one rule.
type entryTracker struct {
	kind      kind
	rootSpace string

	bases    [4]string // xml:base at depths 1 to 3 ("" when none)
	anyBase  bool
	inEntry  bool // an Atom entry is open at depth 2
	channel  bool // an RSS channel is open at depth 2
	channels int

	entries      []entryMeta // Atom entries, or RSS items of the channel
	outerEntries []entryMeta // RSS items outside the channel
}

// start records a start tag at depth (the root is 1). typ is its type
// attribute as attr returns it; base its xml:base, if hasBase.
func (e *entryTracker) start(depth int, space, local, typ, base string, hasBase bool) {
	if depth <= 3 {
		e.bases[depth] = ""
		if hasBase {
			e.bases[depth], e.anyBase = base, true
		}
	}
	if depth == 1 || (space != e.rootSpace && space != "") || (e.kind == kindAtom && space != e.rootSpace) {
		return
	}
	switch {
	case e.kind == kindAtom && depth == 2:
		e.inEntry = local == "entry"
		if e.inEntry {
			e.entries = append(e.entries, entryMeta{bases: e.chain(2)})
		}
	case e.kind == kindAtom && depth == 3 && e.inEntry && local == "title":
		e.entries[len(e.entries)-1].title = typ
	case e.kind == kindAtom && depth == 3 && e.inEntry && local == "summary":
		e.entries[len(e.entries)-1].summary = typ
	case e.kind == kindRSS && depth == 2:
		e.channel = local == "channel"
		if e.channel {
			e.channels++
		}
		if local == "item" {
			e.outerEntries = append(e.outerEntries, entryMeta{bases: e.chain(2)})
		}
	case e.kind == kindRSS && depth == 3 && e.channel && local == "item":
		e.entries = append(e.entries, entryMeta{bases: e.chain(3)})
	}
}

// chain returns the xml:base values in scope at depth, outermost first;
// nil when there are none.
func (e *entryTracker) chain(depth int) []string {
	if !e.anyBase {
		return nil
	}
	var out []string
	for d := 1; d <= depth; d++ {
		if e.bases[d] != "" {
			out = append(out, e.bases[d])
		}
	}
	return out
}

// result returns the entries in gofeed's order; nil for a document with
// several RSS channels, where gofeed keeps the last one's items only.
func (e *entryTracker) result() []entryMeta {
	if e.kind == kindAtom {
		return e.entries
	}
	if e.channels > 1 {
		return nil
	}
	if len(e.outerEntries) == 0 {
		return e.entries
	}
	return append(e.entries, e.outerEntries...)
}
