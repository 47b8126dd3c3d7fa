package background

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunNicesTheWorkNotTheCaller: the work runs on a thread niced to
// Nice, and the caller's thread keeps its priority.
func TestRunNicesTheWorkNotTheCaller(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread priorities are set on Linux only")
	}
	p := New(2)
	if err := p.Niced(); err != nil {
		t.Fatalf("Niced: %v", err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, beforeSlice, err := threadNice()
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		var got int
		var slice uint64
		var err error
		p.Run(func() { got, slice, err = threadNice() })
		if err != nil {
			t.Fatal(err)
		}
		if got != Nice {
			t.Fatalf("the work ran at nice %d, want %d", got, Nice)
		}
		// A kernel without custom slices reports its default, never ours.
		if slice != Slice && slice == beforeSlice {
			t.Logf("slice %d ns: this kernel keeps its default (custom slices came in Linux 6.12)", slice)
		} else if slice != Slice {
			t.Fatalf("the work ran with a slice of %d ns, want %d", slice, Slice)
		}
	}
	after, afterSlice, _ := threadNice()
	if after != before || after == Nice || afterSlice != beforeSlice {
		t.Fatalf("the caller's thread went from nice %d, slice %d to %d, %d", before, beforeSlice, after, afterSlice)
	}
}

// TestRunBoundsTheWork: no more than Size jobs run at once, and every job
// runs.
func TestRunBoundsTheWork(t *testing.T) {
	p := New(3)
	var running, most, ran atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			p.Run(func() {
				n := running.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(time.Millisecond)
				running.Add(-1)
				ran.Add(1)
			})
		})
	}
	wg.Wait()
	if ran.Load() != 40 {
		t.Fatalf("%d of 40 jobs ran", ran.Load())
	}
	if most.Load() > 3 {
		t.Fatalf("%d jobs ran at once on a pool of 3", most.Load())
	}
}

// TestRunRaisesAPanicOnTheCaller: a panic in the work reaches the caller,
// and the worker goes on to run the next job.
func TestRunRaisesAPanicOnTheCaller(t *testing.T) {
	p := New(1)
	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), "boom") {
				t.Fatalf("recovered %v, want the work's panic", r)
			}
		}()
		p.Run(func() { panic("boom") })
		t.Fatal("Run returned after a panic")
	}()
	ran := false
	p.Run(func() { ran = true })
	if !ran {
		t.Fatal("the pool ran nothing after a panic")
	}
}

// TestRunGoexitEndsTheCaller: runtime.Goexit in the work (t.FailNow, for
// one) ends the caller's goroutine, as in place, and the pool keeps its
// size.
func TestRunGoexitEndsTheCaller(t *testing.T) {
	p := New(1)
	returned := make(chan bool, 1)
	go func() {
		defer func() { returned <- false }()
		p.Run(runtime.Goexit)
		returned <- true
	}()
	if <-returned {
		t.Fatal("Run returned after the work called Goexit")
	}
	done := make(chan struct{})
	go p.Run(func() { close(done) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the pool ran nothing after a Goexit")
	}
}

// TestNilPoolRunsInPlace: a nil pool runs the work on the caller.
func TestNilPoolRunsInPlace(t *testing.T) {
	var p *Pool
	ran := false
	p.Run(func() { ran = true })
	if !ran {
		t.Fatal("a nil pool did not run the work")
	}
}

// TestLowerProcess: every thread of a process lowered, those it starts
// after included, runs at the priority given. It runs in a child process,
// since a thread's priority cannot be raised again without privileges.
func TestLowerProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread priorities are set on Linux only")
	}
	if os.Getenv("BACKGROUND_LOWER_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestLowerProcess$", "-test.v")
		cmd.Env = append(os.Environ(), "BACKGROUND_LOWER_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "threads at nice 19") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	if err := LowerProcess(19); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 { // new threads: each locks one while it sleeps
		wg.Go(func() {
			runtime.LockOSThread()
			time.Sleep(50 * time.Millisecond)
		})
	}
	time.Sleep(10 * time.Millisecond)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		stat, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// Field 19 is the nice value; the command name (field 2) ends with ") ".
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		if fields[16] != "19" {
			t.Errorf("thread %s at nice %s", task.Name(), fields[16])
		}
	}
	wg.Wait()
	if !t.Failed() {
		t.Logf("%d threads at nice 19", len(tasks))
	}
}
