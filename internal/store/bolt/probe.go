package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"time"
)

// ErrDamaged means the file is not a sound bbolt file: cut short, or with
// pages that do not hold together. Open refuses it before bbolt maps it,
// because bbolt would crash on it (a SIGBUS reading past the end, or a
// panic in a goroutine of its own that no recover can catch).
var ErrDamaged = errors.New("store file is damaged")

// ErrEmpty means the file exists but holds nothing. Open refuses it rather
// than start a new store over it: newsdesk creates stores whole (see Open),
// so an empty file is a failed copy or restore, and starting afresh would
// hide that the stories are gone.
var ErrEmpty = errors.New("store file is empty")

// errLockHeld means another process holds the file (Open turns it into
// store.ErrLocked).
var errLockHeld = errors.New("locked")

// bbolt's on-disk format (go.etcd.io/bbolt/internal/common), version 2.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	pageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	elemSize       = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	metaSize       = 64 // magic, version, pageSize, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	inBucketSize   = 16 // root pgid u64, sequence u64
	noFreelist     = ^uint64(0)

	branchFlag   = 0x01
	leafFlag     = 0x02
	metaFlag     = 0x04
	freelistFlag = 0x10
	bucketFlag   = 0x01 // in a leaf element's flags
)

var native = binary.NativeEndian // bbolt writes its structs in the machine's byte order

// meta is a decoded meta page.
type meta struct {
	pageSize         uint64
	root             uint64
	freelist, pgid   uint64
	txid             uint64
	valid            bool
	invalidBecauseOf string
}

func readMeta(b []byte) meta {
	if len(b) < pageHeaderSize+metaSize {
		return meta{invalidBecauseOf: "short"}
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	out := meta{
		pageSize: uint64(native.Uint32(m[8:])),
		root:     native.Uint64(m[16:]),
		freelist: native.Uint64(m[32:]),
		pgid:     native.Uint64(m[40:]),
		txid:     native.Uint64(m[48:]),
	}
	h := fnv.New64a()
	h.Write(m[:56])
	switch {
	case native.Uint32(m[0:]) != boltMagic:
		out.invalidBecauseOf = "not a bbolt meta page"
	case native.Uint32(m[4:]) != boltVersion:
		out.invalidBecauseOf = "another bbolt version"
	case native.Uint64(m[56:]) != h.Sum64():
		out.invalidBecauseOf = "checksum mismatch"
	default:
		out.valid = true
	}
	return out
}

// probe checks the file at path the way bbolt will read it, without
// trusting a byte of it: the meta pages, the file size against the pages
// they claim, and every page reachable from the root (bounds, types,
// single references, key order, inline buckets), so that bbolt's own
// open-time walk cannot fault or fail. A missing file is fine (Open creates
// it); anything else wrong is an error wrapping ErrEmpty or ErrDamaged.
//
// It holds the file's lock while it reads (waiting up to timeout, then
// failing with errLockHeld), so it never mistakes another process's commit in
// progress for damage.
func probe(path string, timeout time.Duration) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	unlock, err := lockFile(f, timeout)
	if err != nil {
		return errLockHeld
	}
	defer unlock()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	if size == 0 {
		return ErrEmpty
	}
	m, err := chooseMeta(f, size)
	if err != nil {
		return err
	}
	ps := m.pageSize
	if m.pgid < 2 || uint64(size)/ps < m.pgid {
		return fmt.Errorf("%w: cut short at %d bytes, its pages need %d", ErrDamaged, size, m.pgid*ps)
	}
	if m.root < 2 || m.root >= m.pgid {
		return fmt.Errorf("%w: root page %d outside the file's %d pages", ErrDamaged, m.root, m.pgid)
	}
	data, unmap, err := mapFile(f, int(m.pgid*ps))
	if err != nil {
		return fmt.Errorf("probe %s: %w", path, err)
	}
	defer unmap()
	w := &walker{data: data, ps: ps, hwm: m.pgid, seen: make([]uint64, m.pgid/64+1)}
	return w.run(m)
}

// chooseMeta reads the page size and both meta pages, and picks the one
// bbolt will use: the one with the higher transaction id if it is valid,
// else the other.
func chooseMeta(f io.ReaderAt, size int64) (meta, error) {
	var buf [0x1000]byte
	n, _ := f.ReadAt(buf[:], 0)
	m0 := readMeta(buf[:n])
	ps := m0.pageSize
	if !m0.valid {
		// bbolt looks for the second meta page at every page size from 1 KiB.
		for i := 0; i <= 14; i++ {
			pos := int64(1024) << i
			if pos >= size-1024 {
				break
			}
			n, _ := f.ReadAt(buf[:], pos)
			if m := readMeta(buf[:n]); m.valid {
				ps = m.pageSize
				break
			}
		}
	}
	if !m0.valid && (ps < 1024 || ps > 1<<24 || ps&(ps-1) != 0) {
		return meta{}, fmt.Errorf("%w: no valid meta page (%s)", ErrDamaged, m0.invalidBecauseOf)
	}
	if ps < 1024 || ps > 1<<24 || ps&(ps-1) != 0 {
		return meta{}, fmt.Errorf("%w: page size %d", ErrDamaged, ps)
	}
	if size < int64(2*ps) {
		return meta{}, fmt.Errorf("%w: cut short at %d bytes, shorter than its two meta pages", ErrDamaged, size)
	}
	metas := [2]meta{m0}
	if !m0.valid || m0.pageSize != ps {
		b := make([]byte, ps)
		n, _ := f.ReadAt(b, 0)
		metas[0] = readMeta(b[:n])
	}
	b := make([]byte, ps)
	n, _ = f.ReadAt(b, int64(ps))
	metas[1] = readMeta(b[:n])
	a, other := metas[0], metas[1]
	if other.txid > a.txid {
		a, other = other, a
	}
	for _, m := range []meta{a, other} {
		if m.valid && m.pageSize == ps {
			return m, nil
		}
	}
	return meta{}, fmt.Errorf("%w: neither meta page is valid (%s; %s)", ErrDamaged, metas[0].invalidBecauseOf, metas[1].invalidBecauseOf)
}

// walker walks the pages of a mapped file.
type walker struct {
	data []byte
	ps   uint64
	hwm  uint64   // pages in use (meta.pgid)
	seen []uint64 // bit per page: reached once already
}

// run walks everything bbolt reads at open: the freelist page, if the file
// has one, and the tree of buckets. A fault on the mapping (the file shrank
// under us) becomes an error, not a crash.
func (w *walker) run(m meta) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: unreadable (%v)", ErrDamaged, r)
		}
	}()
	if m.freelist != noFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return err
		}
	}
	if _, err := w.page(m.root, nil, nil); err != nil {
		return err
	}
	return nil
}

func (w *walker) damaged(id uint64, format string, args ...any) error {
	return fmt.Errorf("%w: page %d: %s", ErrDamaged, id, fmt.Sprintf(format, args...))
}

// span returns page id with its overflow pages, after checking that it is a
// page of the file that nothing reached before.
func (w *walker) span(id uint64) ([]byte, error) {
	if id < 2 || id >= w.hwm {
		return nil, w.damaged(id, "outside the file's %d pages", w.hwm)
	}
	hdr := w.data[id*w.ps:]
	if got := native.Uint64(hdr); got != id {
		return nil, w.damaged(id, "says it is page %d", got)
	}
	overflow := uint64(native.Uint32(hdr[12:]))
	if overflow >= w.hwm-id {
		return nil, w.damaged(id, "overflows past the file's %d pages", w.hwm)
	}
	for p := id; p <= id+overflow; p++ {
		if w.seen[p/64]&(1<<(p%64)) != 0 {
			return nil, w.damaged(id, "reached twice")
		}
		w.seen[p/64] |= 1 << (p % 64)
	}
	return w.data[id*w.ps : (id+overflow+1)*w.ps], nil
}

func (w *walker) freelist(id uint64) error {
	b, err := w.span(id)
	if err != nil {
		return err
	}
	if flags := native.Uint16(b[8:]); flags != freelistFlag {
		return w.damaged(id, "freelist page of type %#x", flags)
	}
	start, count := uint64(pageHeaderSize), uint64(native.Uint16(b[10:]))
	if count == 0xFFFF {
		count, start = native.Uint64(b[pageHeaderSize:]), pageHeaderSize+8
	}
	if count > (uint64(len(b))-start)/8 {
		return w.damaged(id, "freelist of %d ids does not fit", count)
	}
	for i := range count {
		if free := native.Uint64(b[start+8*i:]); free < 2 || free >= w.hwm {
			return w.damaged(id, "frees page %d, outside the file", free)
		}
	}
	return nil
}

// page walks a branch or leaf page and what hangs from it, checking key
// order as bbolt does: every key in [min, max), strictly increasing. It
// returns the greatest key below it.
func (w *walker) page(id uint64, min, max []byte) ([]byte, error) {
	b, err := w.span(id)
	if err != nil {
		return nil, err
	}
	switch flags := native.Uint16(b[8:]); flags {
	case branchFlag:
		return w.branch(id, b, min, max)
	case leafFlag:
		return w.leaf(id, b, min, max)
	default:
		return nil, w.damaged(id, "unexpected page type %#x", flags)
	}
}

// elements checks that a page's element headers fit in b.
func (w *walker) elements(id uint64, b []byte) (int, error) {
	count := int(native.Uint16(b[10:]))
	if pageHeaderSize+elemSize*count > len(b) {
		return 0, w.damaged(id, "%d elements do not fit", count)
	}
	return count, nil
}

// bytesAt returns b[off+pos : off+pos+n], or false when that is not inside b.
func bytesAt(b []byte, off int, pos, n uint32) ([]byte, bool) {
	start := uint64(off) + uint64(pos)
	end := start + uint64(n)
	if end > uint64(len(b)) {
		return nil, false
	}
	return b[start:end], true
}

func (w *walker) branch(id uint64, b, min, max []byte) ([]byte, error) {
	count, err := w.elements(id, b)
	if err != nil {
		return nil, err
	}
	if count == 0 {
		return nil, w.damaged(id, "branch page without elements")
	}
	key := func(i int) ([]byte, uint64, error) {
		off := pageHeaderSize + elemSize*i
		k, ok := bytesAt(b, off, native.Uint32(b[off:]), native.Uint32(b[off+4:]))
		if !ok {
			return nil, 0, w.damaged(id, "key %d outside the page", i)
		}
		return k, native.Uint64(b[off+8:]), nil
	}
	running := min
	for i := range count {
		k, child, err := key(i)
		if err != nil {
			return nil, err
		}
		if err := order(id, i, k, running, max); err != nil {
			return nil, err
		}
		next := max
		if i < count-1 {
			if next, _, err = key(i + 1); err != nil {
				return nil, err
			}
		}
		if running, err = w.page(child, k, next); err != nil {
			return nil, err
		}
	}
	return running, nil
}

func (w *walker) leaf(id uint64, b, min, max []byte) ([]byte, error) {
	count, err := w.elements(id, b)
	if err != nil {
		return nil, err
	}
	running := min
	for i := range count {
		off := pageHeaderSize + elemSize*i
		flags, pos, ksize, vsize := native.Uint32(b[off:]), native.Uint32(b[off+4:]), native.Uint32(b[off+8:]), native.Uint32(b[off+12:])
		kv, ok := bytesAt(b, off, pos, ksize+vsize)
		if !ok || uint64(ksize)+uint64(vsize) > uint64(^uint32(0)) {
			return nil, w.damaged(id, "element %d outside the page", i)
		}
		k, v := kv[:ksize], kv[ksize:]
		if err := order(id, i, k, running, max); err != nil {
			return nil, err
		}
		running = k
		if flags&bucketFlag != 0 {
			if err := w.bucket(id, v); err != nil {
				return nil, err
			}
		}
	}
	if count == 0 {
		return nil, nil
	}
	return running, nil
}

// bucket walks the bucket whose header is v: a tree of its own, or an
// inline page inside v.
func (w *walker) bucket(id uint64, v []byte) error {
	if len(v) < inBucketSize {
		return w.damaged(id, "bucket header of %d bytes", len(v))
	}
	root := native.Uint64(v)
	if root != 0 {
		_, err := w.page(root, nil, nil)
		return err
	}
	inline := v[inBucketSize:]
	if len(inline) < pageHeaderSize {
		return w.damaged(id, "inline bucket of %d bytes", len(inline))
	}
	if flags := native.Uint16(inline[8:]); flags != leafFlag {
		return w.damaged(id, "inline bucket page of type %#x", flags)
	}
	_, err := w.leaf(id, inline, nil, nil)
	return err
}

// order is bbolt's key-order rule for element i of a page.
func order(id uint64, i int, key, prev, max []byte) error {
	if i == 0 && prev != nil && bytes.Compare(prev, key) > 0 || i > 0 && bytes.Compare(prev, key) >= 0 {
		return fmt.Errorf("%w: page %d: key %d out of order", ErrDamaged, id, i)
	}
	if max != nil && bytes.Compare(key, max) >= 0 {
		return fmt.Errorf("%w: page %d: key %d beyond its parent's range", ErrDamaged, id, i)
	}
	return nil
}

// CheckFile checks, without writing to it, that the file at path is a sound
// store file that Open would accept (a backup, say): the same probe Open
// runs. It does not take the file's lock, so check only a file no process
// is writing.
func CheckFile(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if err := probe(path, time.Second); err != nil {
		return openError(path, err)
	}
	return nil
}
