// stacks: heap objects held ONLY by goroutine stacks.
//
//   - main.StackParked:   one object in a local (obj) of main.parkOnChan, a
//     goroutine parked on a channel receive ("chan receive").
//   - main.StackSyscall:  one object in a local (obj) of main.blockInSyscall, a
//     goroutine blocked in a raw read(2) on a pipe ("syscall").
//   - main.StackSpinning: one object in a local (obj) of main.spin, a goroutine
//     locked to its own thread and spinning in main.spinUntil ("running" at a
//     live stop; "runnable" in the core, see spinnerState).
//   - main.StackMain:     one object in main.main's local held across Finish.
//
// The program sets GOMAXPROCS to at least 4. Every object is forced onto the
// heap (stored into manifest.Sink, then the sink is cleared) and kept live
// across the blocking point with runtime.KeepAlive, so the only references
// are the frames' stack slots. The goroutines report their address to main
// as a uintptr, never as a pointer. The manifest is printed only once
// runtime.Stack shows every goroutine at its blocking point (and the spinner
// has spun), and the file:line recorded for each parked goroutine is checked
// against what the runtime's own traceback prints.
//
// Parked entries: function is the frame that holds obj; line is the line of its
// blocking statement in that frame (for the spinner: the call of
// main.spinUntil, whose own frame is the top one and moves while it spins).
//
// Goroutine listings (parked entries, known by construction): each
// goroutine's creator is main.startGoroutines at the line of its go
// statement; parkOnChan and blockInSyscall set pprof labels on themselves
// (pprof.SetGoroutineLabels: the labels of parkedLabels and syscallLabels),
// spin sets none; the user frame (the first frame outside the runtime and
// package syscall) is the parked frame itself for parkOnChan and
// blockInSyscall, main.spinUntil (line not known: it moves) for spin.
//
// Live mode, second stop: main sends on the channel (parkOnChan copies obj into
// the global main.Kept and returns), writes one byte into the pipe
// (blockInSyscall's read returns and it exits), and stops the spinner, then
// waits until only main is left. StackParked is then held by the global
// main.Kept (same address), StackSyscall and StackSpinning are unreachable and
// collected (count 0), StackMain is still held by main.main.
package main

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"corpus/manifest"
)

type StackParked struct {
	ID   int
	Name string
	Tag  uint64
}

type StackSyscall struct {
	ID   int
	Name string
	Fd   int
}

type StackSpinning struct {
	ID    int
	Name  string
	Spins uint64
}

type StackMain struct {
	ID   int
	Name string
	Data [4]int
}

// Kept receives the parked goroutine's object at the second live stop.
var Kept *StackParked

var (
	parkCh   = make(chan int)
	pipeFds  [2]int
	spinStop int32 // set by main to stop the spinner
	spinBeat int64 // counts the spinner's iterations
)

// report is what a goroutine tells main about itself. It holds no pointer to
// the object, so main's frame never references it.
type report struct {
	goid     int64
	function string
	file     string
	line     int // line of the blocking statement in function
	state    string
	typ      string
	addr     uintptr
	size     uintptr
	fields   map[string]string
	labels   map[string]string
}

// The pprof labels parkOnChan and blockInSyscall set on themselves.
var (
	parkedLabels  = map[string]string{"corpus": "stacks", "role": "parked on chan"}
	syscallLabels = map[string]string{"corpus": "stacks", "role": "syscall", "fd": "pipe"}
)

// setLabels sets labels on the calling goroutine.
func setLabels(labels map[string]string) {
	var kv []string
	for k, v := range labels {
		kv = append(kv, k, v)
	}
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(kv...)))
}

// creators: file:line of each go statement of startGoroutines, by function.
var creators = map[string]manifest.Frame{}

var reports = make(chan report, 3)

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

// here returns the caller's file and line.
func here() (string, int) {
	_, file, line, _ := runtime.Caller(1)
	return file, line
}

func parkOnChan() {
	setLabels(parkedLabels)
	obj := &StackParked{ID: 101, Name: "parked-on-chan", Tag: 0xC0FFEE}
	manifest.Sink = obj
	manifest.Sink = nil
	r := report{goid: manifest.Goid(), function: "main.parkOnChan", state: "chan receive",
		typ: typeName(obj), addr: uintptr(unsafe.Pointer(obj)), size: unsafe.Sizeof(*obj),
		fields: map[string]string{"ID": "101", "Name": "parked-on-chan", "Tag": fmt.Sprint(uint64(0xC0FFEE))},
		labels: parkedLabels}
	r.file, r.line = here()
	r.line += 3
	reports <- r
	v := <-parkCh // the blocking statement: here() + 3
	if v == 2 {
		Kept = obj
	}
	runtime.KeepAlive(obj)
}

func blockInSyscall(fd int) {
	setLabels(syscallLabels)
	obj := &StackSyscall{ID: 202, Name: "blocked-in-read", Fd: fd}
	manifest.Sink = obj
	manifest.Sink = nil
	var buf [1]byte
	r := report{goid: manifest.Goid(), function: "main.blockInSyscall", state: "syscall",
		typ: typeName(obj), addr: uintptr(unsafe.Pointer(obj)), size: unsafe.Sizeof(*obj),
		fields: map[string]string{"ID": "202", "Name": "blocked-in-read", "Fd": strconv.Itoa(fd)},
		labels: syscallLabels}
	r.file, r.line = here()
	r.line += 3
	reports <- r
	syscall.Read(fd, buf[:]) // the blocking statement: here() + 3
	runtime.KeepAlive(obj)
}

func spin() {
	runtime.LockOSThread()
	obj := &StackSpinning{ID: 303, Name: "spinning"}
	manifest.Sink = obj
	manifest.Sink = nil
	r := report{goid: manifest.Goid(), function: "main.spin", state: spinnerState(),
		typ: typeName(obj), addr: uintptr(unsafe.Pointer(obj)), size: unsafe.Sizeof(*obj),
		fields: map[string]string{"ID": "303", "Name": "spinning"}}
	r.file, r.line = here()
	r.line += 3
	reports <- r
	spinUntil(obj) // the "blocking" statement: here() + 3
	runtime.KeepAlive(obj)
}

// spinUntil spins until main sets spinStop. obj stays in main.spin's frame,
// which is at a call site, so its stack map covers obj.
//
//go:noinline
func spinUntil(obj *StackSpinning) {
	for atomic.LoadInt32(&spinStop) == 0 {
		obj.Spins++
		atomic.AddInt64(&spinBeat, 1)
	}
}

// waitSpinning waits until the spinner is making progress, i.e. it has its P
// and thread back after the last stop-the-world.
func waitSpinning() {
	deadline := time.Now().Add(2 * time.Second)
	for n := 0; n < 3; {
		before := atomic.LoadInt64(&spinBeat)
		time.Sleep(200 * time.Microsecond)
		if atomic.LoadInt64(&spinBeat) > before {
			n++
		} else {
			n = 0
		}
		if time.Now().After(deadline) {
			panic("stacks: the spinner does not spin")
		}
	}
}

// spinnerState is the spinner's state at the stop. In live mode it is running
// on its own thread when checkpoint is reached. In core mode the runtime's
// crash path (freezetheworld) preempts it before the core is written: the
// core shows it runnable, stopped in runtime.asyncPreempt2 above
// runtime.asyncPreempt and main.spinUntil.
func spinnerState() string {
	if manifest.LiveMode() {
		return "running"
	}
	return "runnable"
}

//go:noinline
func newStackMain() *StackMain {
	obj := &StackMain{ID: 404, Name: "held-by-main", Data: [4]int{4, 0, 4, 0}}
	manifest.Sink = obj
	manifest.Sink = nil
	return obj
}

// typeName is the Go name of the type p points to.
func typeName(p any) string { return reflect.TypeOf(p).Elem().String() }

// waitParked waits until every reported goroutine is at its blocking point and
// checks the recorded file:line against the traceback. It panics after a
// timeout: a manifest printed too early would be wrong.
func waitParked(rs []report) []string {
	deadline := time.Now().Add(2 * time.Second)
	for {
		table := manifest.Goroutines()
		ok := atomic.LoadInt64(&spinBeat) > 0
		var notes []string
		for _, r := range rs {
			g, found := table[r.goid]
			if !found {
				ok = false
				continue
			}
			// The spinner is preempted while runtime.Stack stops the world:
			// the traceback shows it runnable, so its state is not checked here.
			if r.function != "main.spin" && g.State != r.state {
				ok = false
				continue
			}
			seen := false
			for _, fr := range g.Frames {
				if fr.Function == r.function {
					seen = true
					if fr.File != r.file || fr.Line != r.line {
						notes = append(notes, fmt.Sprintf("%s: traceback says %s:%d, recorded %s:%d", r.function, fr.File, fr.Line, r.file, r.line))
					}
					break
				}
			}
			if !seen {
				ok = false
			}
		}
		if ok {
			return notes
		}
		if time.Now().After(deadline) {
			panic("stacks: goroutines did not reach their blocking points")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startGoroutines starts the three goroutines and returns their reports.
//
//go:noinline
func startGoroutines() []report {
	if err := syscall.Pipe(pipeFds[:]); err != nil {
		panic(err)
	}
	creator := func(fn string) {
		_, file, line, _ := runtime.Caller(1)
		creators[fn] = manifest.Frame{Function: "main.startGoroutines", File: file, Line: line + 1}
	}
	creator("main.parkOnChan")
	go parkOnChan()
	creator("main.blockInSyscall")
	go blockInSyscall(pipeFds[0])
	creator("main.spin")
	go spin()
	var rs []report
	for len(rs) < 3 {
		select {
		case r := <-reports:
			rs = append(rs, r)
		case <-time.After(2 * time.Second):
			panic("stacks: goroutines did not report")
		}
	}
	return rs
}

func addSentinel(m *manifest.M, r report, root manifest.Root) {
	m.Sentinels = append(m.Sentinels, manifest.Sentinel{Addr: fmt.Sprintf("%#x", r.addr), Type: r.typ, Size: r.size, Root: root, Fields: r.fields})
}

// waitGoroutines waits until runtime.NumGoroutine() is n.
func waitGoroutines(n int) {
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() != n {
		if time.Now().After(deadline) {
			panic(fmt.Sprintf("stacks: %d goroutines, want %d", runtime.NumGoroutine(), n))
		}
		time.Sleep(time.Millisecond)
	}
}

func main() {
	// At least four Ps, so the spinner keeps a P of its own next to main and is
	// running at a live stop (in a core the crash path preempts it anyway).
	if runtime.GOMAXPROCS(0) < 4 {
		runtime.GOMAXPROCS(4)
	}
	held := newStackMain()
	mainGoid := manifest.Goid()
	rs := startGoroutines()
	notes := waitParked(rs)

	// Settle now (Finish will not collect again), then wait until the spinner
	// runs again after the collections' stop-the-world pauses.
	m := manifest.New("stacks")
	m.Settle()
	waitSpinning()
	for _, r := range rs {
		m.SetLive(r.typ, 1)
		addSentinel(m, r, manifest.Stack(r.goid, r.function, "obj"))
		user := &manifest.Frame{Function: r.function, File: r.file, Line: r.line}
		if r.function == "main.spin" {
			user = &manifest.Frame{Function: "main.spinUntil", File: r.file}
		}
		c := creators[r.function]
		m.Park(manifest.Parked{Goroutine: r.goid, Function: r.function, File: r.file, Line: r.line, State: r.state,
			User: user, Creator: &c, Labels: r.labels})
	}
	m.SetLive("main.StackMain", 1)
	m.Sentinel(unsafe.Pointer(held), "main.StackMain", unsafe.Sizeof(*held), manifest.Stack(mainGoid, "main.main", "held"),
		map[string]string{"ID": "404", "Name": "held-by-main"})
	m.Note("each main.Stack* object is referenced only by one stack slot of the frame named in its sentinel root")
	m.Note("parked line = blocking statement in that frame; for main.spin the call of main.spinUntil (the spinning frame above it)")
	m.Note("core mode: the crash path preempts the spinner, so the core shows it runnable in runtime.asyncPreempt2 > runtime.asyncPreempt > main.spinUntil > main.spin; live mode: running")
	for _, n := range notes {
		m.Note(n)
	}
	manifest.Finish(m, checkpoint)

	// Live mode, second stop: release all three goroutines.
	parkCh <- 2 // parkOnChan stores obj into main.Kept and returns
	syscall.Write(pipeFds[1], []byte{1})
	atomic.StoreInt32(&spinStop, 1)
	waitGoroutines(1)

	m2 := manifest.New("stacks")
	m2.Stop = 2
	for _, r := range rs {
		m2.SetLive(r.typ, 0)
		if r.typ == "main.StackParked" {
			m2.SetLive(r.typ, 1)
			addSentinel(m2, r, manifest.Global("main.Kept"))
		}
	}
	m2.SetLive("main.StackMain", 1)
	m2.Sentinel(unsafe.Pointer(held), "main.StackMain", unsafe.Sizeof(*held), manifest.Stack(mainGoid, "main.main", "held"),
		map[string]string{"ID": "404", "Name": "held-by-main"})
	m2.Note("parkOnChan, blockInSyscall and spin have returned; StackSyscall and StackSpinning were collected")
	manifest.Finish(m2, checkpoint)
	runtime.KeepAlive(held)
}
