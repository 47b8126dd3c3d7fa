package bolt_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// sample builds a closed store of n stories in topics, with link groups and
// tombstones, and returns its path.
func sample(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sample.db")
	db, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var batch []story.Story
	for i := range n {
		s := mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("t%d", i%7))
		s.Content = strings.Repeat("Text of the story. ", 20+i%50)
		batch = append(batch, s)
	}
	put(t, db, "wire", t0, batch...)
	for i := 0; i < n; i += 5 {
		dup := mk("agency", fmt.Sprint(i), time.Time{}, "dup")
		dup.Link = batch[i].Link
		put(t, db, "agency", t0, dup)
	}
	if _, err := db.Prune(t.Context(), store.Retention{MaxStories: n}, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// damageEnv names the sound file the helper damages; damageAllEnv asks
// for every case (a few minutes) instead of a sample.
const (
	damageEnv    = "NEWSDESK_TEST_DAMAGE_SRC"
	damageAllEnv = "NEWSDESK_TEST_DAMAGE_ALL"
)

// damage is one way to break a file: cut it at n bytes, or flip bit of the
// byte at n.
type damage struct {
	cut bool
	n   int
	bit byte
}

func (d damage) String() string {
	if d.cut {
		return fmt.Sprintf("cut-%d", d.n)
	}
	return fmt.Sprintf("flip-%d-%d", d.n, d.bit)
}

func (d damage) apply(orig []byte) []byte {
	if d.cut {
		return orig[:d.n]
	}
	b := bytes.Clone(orig)
	b[d.n] ^= 1 << d.bit
	return b
}

// damages lists the cases for a file of size bytes: cuts at every KiB from
// 0 to 64 KiB and at odd offsets beside them, then across the rest of the
// file; flips of the meta pages and page headers, and random bytes. Unless
// all, flips are sampled.
func damages(size int, all bool) []damage {
	const page = 4096
	var out []damage
	for n := 0; n <= 64<<10; n += 1024 {
		out = append(out, damage{cut: true, n: n}, damage{cut: true, n: n + 1}, damage{cut: true, n: n + 17})
	}
	for n := 64 << 10; n < size; n += size / 40 {
		out = append(out, damage{cut: true, n: n}, damage{cut: true, n: n - n%page})
	}
	out = append(out, damage{cut: true, n: size - 1}, damage{cut: true, n: size - page})
	rng := rand.New(rand.NewPCG(1, 2))
	var flips []damage
	for _, base := range []int{0, page} {
		for i := range 16 + 64 { // page header and meta
			flips = append(flips, damage{n: base + i, bit: byte(rng.IntN(8))})
		}
	}
	for p := 2 * page; p < size; p += page {
		for i := range 16 {
			flips = append(flips, damage{n: p + i, bit: byte(rng.IntN(8))})
		}
		flips = append(flips, damage{n: p + 16 + rng.IntN(page-16), bit: byte(rng.IntN(8))},
			damage{n: p + 16 + rng.IntN(64), bit: byte(rng.IntN(8))})
	}
	if !all {
		rng.Shuffle(len(flips), func(i, j int) { flips[i], flips[j] = flips[j], flips[i] })
		flips = flips[:min(len(flips), 250)]
	}
	out = slices.DeleteFunc(out, func(d damage) bool { return d.n < 0 || d.n >= size })
	return append(out, flips...)
}

// TestDamagedHelper is not a test: TestDamagedFilesNeverCrash runs the test
// binary again with it, so that a crash on a damaged file (which recover
// cannot stop) fails that test instead of killing the whole run. For each
// case it writes the damaged file, prints "case NAME" before it tries, then
// "opened …" or "refused: ERR".
func TestDamagedHelper(t *testing.T) {
	src := os.Getenv(damageEnv)
	if src == "" {
		t.Skip("runs as a subprocess of TestDamagedFilesNeverCrash")
	}
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range damages(len(orig), os.Getenv(damageAllEnv) != "") {
		path := filepath.Join(dir, d.String())
		if err := os.WriteFile(path, d.apply(orig), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("case %s %s\n", d, path)
		db, err := bolt.Open(path, bolt.Options{NoSync: true, Timeout: 100 * time.Millisecond})
		if err != nil {
			fmt.Printf("refused: %s\n", strings.ReplaceAll(err.Error(), "\n", `\n`))
			os.Remove(path)
			continue
		}
		// Opened: reading, checking and writing must not crash either.
		for _, slug := range []string{"", "t1", "dup"} {
			db.Recent(t.Context(), store.Query{Topic: slug, Limit: store.MaxLimit})
		}
		checkErr := db.Check(t.Context())
		_, putErr := db.Put(t.Context(), "late", store.SourceState{}, []story.Story{mk("late", "x", t0, "t1")}, t0)
		db.Close()
		os.Remove(path)
		fmt.Printf("opened: check failed %v, put failed %v\n", checkErr != nil, putErr != nil)
	}
}

// TestDamagedFilesNeverCrash cuts a store at many sizes and flips bytes all
// over it (a sample; NEWSDESK_TEST_DAMAGE_ALL=1 tries every case): every
// file is either refused with a one-line error naming the file and the way
// out, or opens, reads, checks and takes a Put without crashing. A file cut
// short is always refused.
func TestDamagedFilesNeverCrash(t *testing.T) {
	src := sample(t, 100)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDamagedHelper$", "-test.v")
	cmd.Env = append(os.Environ(), damageEnv+"="+src)
	out, err := cmd.CombinedOutput()
	if err != nil {
		last := ""
		for line := range strings.Lines(string(out)) {
			if strings.HasPrefix(line, "case ") {
				last = line
			}
		}
		t.Fatalf("the helper crashed (%v) on %s\n%s", err, last, tail(out, 3000))
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	var name, path string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "case "):
			fields := strings.Fields(line)
			name, path = fields[1], fields[2]
		case strings.HasPrefix(line, "refused: "):
			msg := strings.TrimPrefix(line, "refused: ")
			counts[kind(name)+" refused"]++
			if !strings.Contains(msg, path) || strings.Contains(msg, `\n`) || !strings.Contains(msg, "restore a backup") {
				t.Errorf("%s: error %q should be one line naming the file and the way out", name, msg)
			}
		case strings.HasPrefix(line, "opened"):
			counts[kind(name)+" "+line]++
			if kind(name) == "cut" {
				t.Errorf("%s: a file cut short opened (%s)", name, line)
			}
		}
	}
	if counts["cut refused"] == 0 || counts["flip refused"] == 0 {
		t.Errorf("outcomes %v: expected refusals of both kinds", counts)
	}
	info, _ := os.Stat(src)
	t.Logf("a %d-byte store: outcomes %v", info.Size(), counts)
}

func kind(name string) string {
	k, _, _ := strings.Cut(name, "-")
	return k
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func TestOpenRefusesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := bolt.Open(path, bolt.Options{})
	if !errors.Is(err, bolt.ErrEmpty) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("Open of a 0-byte file: %v, want ErrEmpty naming the file and the way out", err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() != 0 {
		t.Errorf("the empty file was changed: %v %v", info, err)
	}
}

// TestOpenCreatesWholeAndCleansUp checks that a new store appears in one
// rename, small, and that Open removes what a killed creation or compaction
// left beside the store.
func TestOpenCreatesWholeAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".new"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("creation left %s.new: %v", path, err)
	}
	// 22 stories, as the default config's bundled feeds give.
	var batch []story.Story
	for i := range 22 {
		s := mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "t")
		s.Content = strings.Repeat("A paragraph of a sample story. ", 40)
		batch = append(batch, s)
	}
	put(t, db, "wire", t0, batch...)
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if st.FileSize != info.Size() || st.FileSize > 1<<20 {
		t.Errorf("a store of 22 stories is %d bytes (Stats says %d), want under 1 MiB", info.Size(), st.FileSize)
	}
	t.Logf("22 stories: %d bytes, %d free pages, %d free bytes", st.FileSize, st.FreePages, st.FreeBytes)
	db.Close()

	for _, leftover := range []string{path + ".compact", path + ".new"} {
		if err := os.WriteFile(leftover, []byte("half a file"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, leftover := range []string{path + ".compact", path + ".new"} {
		if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open left %s: %v", leftover, err)
		}
	}
}

// TestStatsFreePages prunes most of a store: its free pages show in Stats,
// and a compaction gives them back.
func TestStatsFreePages(t *testing.T) {
	path := sample(t, 800)
	db, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Prune(t.Context(), store.Retention{MaxStories: 40}, t0); err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st.FreePages == 0 || st.FreeBytes < st.FileSize/2 {
		t.Errorf("after pruning 95%%: %+v, want free pages, most of the file free", st)
	}
	res, err := bolt.CompactFile(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.After >= res.Before/2 || res.Salvaged {
		t.Errorf("CompactFile = %+v, want the file shrunk by more than half", res)
	}
}

// TestCompactSalvagesADamagedFile flips a key byte so that keys go out of
// order: Open refuses the file, and CompactFile copies what it can read into
// a sound store, keeping the damaged file.
func TestCompactSalvagesADamagedFile(t *testing.T) {
	path := sample(t, 300)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sound, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := recent(t, sound, store.Query{Limit: store.MaxLimit})
	sound.Close()
	// In a leaf of the stories bucket a key (a hex id) is followed by its
	// value, a reference to the story's body (byte 2, be64 Seq): make the
	// key sort after every other. Freed pages hold stale copies, so
	// try each place the key appears until Open finds the live one out of
	// order.
	id := story.NewID("wire", "150")
	var damaged []byte
	for from := 0; ; {
		i := bytes.Index(orig[from:], []byte(id))
		if i < 0 {
			t.Fatal("no copy of the story's key breaks the file")
		}
		if at := from + i + len(id); at+9 > len(orig) || orig[at] != 2 {
			from += i + 1
			continue // not a key followed by its reference
		}
		damaged = bytes.Clone(orig)
		damaged[from+i] = '~'
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(path, bolt.Options{})
		if errors.Is(err, bolt.ErrDamaged) {
			break
		}
		if err == nil {
			db.Close()
		}
		from += i + 1
	}
	res, err := bolt.CompactFile(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Salvaged || res.Damaged != path+".damaged" {
		t.Errorf("CompactFile = %+v, want a salvage keeping the original", res)
	}
	if kept, err := os.ReadFile(res.Damaged); err != nil || !bytes.Equal(kept, damaged) {
		t.Errorf("the damaged original was not kept as it was: %v", err)
	}
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("the salvaged store does not open: %v", err)
	}
	defer db.Close()
	// Every story is still listed but the one whose key broke: it is
	// stored under another key now, so its index entries find nothing.
	if got := recent(t, db, store.Query{Limit: store.MaxLimit}); len(got) != len(want)-1 {
		t.Errorf("salvage lists %d stories, want %d of the original's %d", len(got), len(want)-1, len(want))
	}
}

func TestCheckFile(t *testing.T) {
	path := sample(t, 50)
	if err := bolt.CheckFile(path); err != nil {
		t.Errorf("CheckFile of a sound file: %v", err)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)/2], 0o600)
	if err := bolt.CheckFile(path); !errors.Is(err, bolt.ErrDamaged) {
		t.Errorf("CheckFile of half a file = %v, want ErrDamaged", err)
	}
}
