// Package manifest is the ground truth every corpus program prints: what its
// heap holds, exactly, by construction. goheap's tests compare the engine with
// this line and never with goheap's own earlier output.
//
// Life of a corpus program:
//
//	build the heap shape
//	m := manifest.New("name"); m.Live(...); m.Sentinel(...)
//	manifest.Finish(m, checkpoint)   // core mode: prints, then aborts (core dump)
//	mutate the heap (live mode only)
//	manifest.Finish(m2, checkpoint)  // live mode: second stop
//
// In core mode (the default) Finish never returns. With GOHEAP_LIVE=1 it prints
// the manifest, calls the program's checkpoint function (main.checkpoint, where a
// debugger puts its breakpoint) and returns.
package manifest

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Root names what holds a sentinel alive.
//   - global: Name is the Go symbol (main.Index).
//   - stack:  Function is the frame's function (main.parkOnChan), Variable the
//     local, Goroutine the goroutine id.
//   - finalizer, cleanup, runtime: Name says which.
type Root struct {
	Kind      string `json:"kind"`
	Name      string `json:"name,omitempty"`
	Goroutine int64  `json:"goroutine,omitempty"`
	Function  string `json:"function,omitempty"`
	Variable  string `json:"variable,omitempty"`
}

// Sentinel is one named heap object and the root that keeps it alive.
// Fields holds recognisable values the program put into it (for print tests):
// keys are Go field paths (Name, Inner.ID), values are what fmt %v prints.
type Sentinel struct {
	Addr   string            `json:"addr"`
	Type   string            `json:"type"`
	Size   uintptr           `json:"size"`
	Root   Root              `json:"root"`
	Fields map[string]string `json:"fields,omitempty"`
	Note   string            `json:"note,omitempty"`
}

// Parked is a goroutine the program parked on purpose, with the function it
// parked in, for backtrace tests.
type Parked struct {
	Goroutine int64  `json:"goroutine"`
	Function  string `json:"function"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	State     string `json:"state"`
	// User: its user frame (the first frame outside the runtime, as
	// docs/cli.md defines it), where known by construction; Line 0 when only
	// the function is known. Creator: the go statement that started it
	// (Function as the traceback's "created by" names it, File:Line of the
	// statement). Labels: its pprof labels (none: no labels).
	User    *Frame            `json:"user,omitempty"`
	Creator *Frame            `json:"creator,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// Pending is an unreachable, still allocated object with a finalizer or a
// cleanup (Kind "finalizer" or "cleanup"; Function as runtime.FuncForPC
// names the function given to runtime.SetFinalizer or AddCleanup) that the
// next collection will queue.
type Pending struct {
	Addr     string `json:"addr"`
	Type     string `json:"type"`
	Kind     string `json:"kind"`
	Function string `json:"function"`
}

// Retained is what one object, one root group or one type keeps alive, by
// construction: exactly one of Addr, Root and Type is set.
//   - Addr: the object's retained set, its subtree in the dominator tree (the
//     objects every path from the roots to them goes through it), itself
//     included.
//   - Root: a root group's: a global by Name, a goroutine (kind stack,
//     Goroutine id: all its frames and registers), or kind finalizer (Name is
//     the function given to runtime.SetFinalizer).
//   - Type: what would become unreachable if every instance of the type were
//     removed at once, the instances included.
//
// Bytes are slot sizes. AtLeast: Bytes and Objects are lower bounds (a map's
// own internal objects are not known by construction).
type Retained struct {
	Addr    string `json:"addr,omitempty"`
	Root    *Root  `json:"root,omitempty"`
	Type    string `json:"type,omitempty"`
	Bytes   uint64 `json:"bytes"`
	Objects uint64 `json:"objects"`
	AtLeast bool   `json:"at_least,omitempty"`
}

// Site is one allocation site (the line of a new or make) whose objects the
// runtime's memory profiler sampled, all of them (MemProfileRate 1).
type Site struct {
	Function string `json:"function"` // innermost frame, inlined or not
	File     string `json:"file"`
	Line     int    `json:"line"`
	Type     string `json:"type"`
	Live     int    `json:"live"`    // objects of this site reachable at the dump
	Garbage  int    `json:"garbage"` // unreachable, still allocated (sampled after the last GC)
	Callers  int    `json:"callers"` // distinct stacks that reach the site
	// What runtime.MemProfile said right after the last GC, summed over the
	// site's stacks: the runtime's own view, an independent source.
	Runtime SiteProfile `json:"runtime"`
}

type SiteProfile struct {
	InuseObjects int64 `json:"inuse_objects"`
	InuseBytes   int64 `json:"inuse_bytes"`
	AllocObjects int64 `json:"alloc_objects"`
	AllocBytes   int64 `json:"alloc_bytes"`
}

type M struct {
	Go      string `json:"go"`
	Program string `json:"program"`
	Mode    string `json:"mode"` // "core" or "live"
	Stop    int    `json:"stop"` // 1, 2, ... in live mode; 1 in core mode
	// Live: exact count of reachable heap objects per type, for every type
	// listed. Types not listed may exist; listed counts are exact.
	Live map[string]int `json:"live"`
	// Garbage: lower bound of unreachable, still allocated objects per type
	// (those with a finalizer or cleanup are Pending, not Garbage).
	Garbage map[string]int `json:"garbage,omitempty"`
	// Pending: exact count per listed type of unreachable objects with a
	// finalizer or cleanup (pending finalization); PendingObjects names some.
	Pending        map[string]int `json:"pending,omitempty"`
	PendingObjects []Pending      `json:"pending_objects,omitempty"`
	Sentinels      []Sentinel     `json:"sentinels"`
	Goroutines     int            `json:"goroutines"`
	Parked         []Parked       `json:"parked,omitempty"`
	// Retained: retained sizes known by construction (corpus/retained).
	Retained []Retained `json:"retained,omitempty"`
	// Sites: allocation sites known by construction (corpus/sites).
	Sites []Site `json:"sites,omitempty"`
	// Shapes: addresses resolved to one object as given (corpus/sizeclasses).
	Shapes  []Shape  `json:"shapes,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	settled bool
}

func LiveMode() bool { return os.Getenv("GOHEAP_LIVE") == "1" }

func New(program string) *M {
	mode := "core"
	if LiveMode() {
		mode = "live"
	}
	return &M{Go: runtime.Version(), Program: program, Mode: mode, Stop: 1,
		Live: map[string]int{}, Garbage: map[string]int{}}
}

// SetLive records count exact live objects of type typ.
func (m *M) SetLive(typ string, n int) { m.Live[typ] = n }

// AddGarbage records at least n unreachable objects of type typ.
func (m *M) AddGarbage(typ string, n int) { m.Garbage[typ] += n }

// SetPending records exactly n unreachable objects of type typ that have a
// finalizer or cleanup.
func (m *M) SetPending(typ string, n int) {
	if m.Pending == nil {
		m.Pending = map[string]int{}
	}
	m.Pending[typ] = n
}

func (m *M) Note(s string) { m.Notes = append(m.Notes, s) }

// Sentinel records a heap object; p must point to its start.
func (m *M) Sentinel(p unsafe.Pointer, typ string, size uintptr, root Root, fields map[string]string) {
	m.Sentinels = append(m.Sentinels, Sentinel{Addr: Addr(p), Type: typ, Size: size, Root: root, Fields: fields})
}

func (m *M) Park(p Parked) { m.Parked = append(m.Parked, p) }

// AddRetained records the retained size of an object, root group or type.
func (m *M) AddRetained(r Retained) { m.Retained = append(m.Retained, r) }

// Global is a root held by a global variable.
func Global(name string) Root { return Root{Kind: "global", Name: name} }

// Stack is a root held by a goroutine's frame.
func Stack(goid int64, function, variable string) Root {
	return Root{Kind: "stack", Goroutine: goid, Function: function, Variable: variable}
}

func Addr(p unsafe.Pointer) string { return fmt.Sprintf("%#x", uintptr(p)) }

// Goid returns the calling goroutine's id, parsed from its own traceback.
func Goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	s := strings.TrimPrefix(string(buf[:n]), "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		id, _ := strconv.ParseInt(s[:i], 10, 64)
		return id
	}
	return -1
}

// Settle collects all garbage, finishes sweeping and turns the GC off, so the
// heap holds only live objects and nothing moves or is freed afterwards.
// Programs that want unswept garbage call it, then allocate the garbage.
func (m *M) Settle() {
	if m.settled {
		return
	}
	runtime.GC()
	runtime.GC() // a second cycle frees objects whose finalizers ran
	debug.SetGCPercent(-1)
	m.settled = true
}

// Sink forces values to escape to the heap.
var Sink any

// Finish prints the manifest as one JSON line on stdout. In core mode it then
// aborts the process with SIGABRT from the calling goroutine's thread, with
// traceback level "crash", so the kernel writes a core file. In live mode it
// calls checkpoint(m.Stop) and returns.
func Finish(m *M, checkpoint func(int)) {
	m.Settle()
	m.Goroutines = runtime.NumGoroutine()
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
	if LiveMode() {
		checkpoint(m.Stop)
		return
	}
	if os.Getenv("GOHEAP_HOLD") == "1" {
		// Fallback when the kernel writes no core in the working directory:
		// the corpus script takes a core with gcore while we wait here.
		os.Stdout.Close()
		var b [1]byte
		syscall.Read(0, b[:]) // blocks until the script closes our stdin
		os.Exit(0)
	}
	debug.SetTraceback("crash")
	runtime.LockOSThread()
	syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), syscall.SIGABRT)
	select {} // not reached
}

var touched int

// Touch gives checkpoint functions a body the compiler cannot drop.
//
//go:noinline
func Touch(stop int) { touched += stop }
