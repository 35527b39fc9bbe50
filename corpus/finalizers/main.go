// finalizers: objects kept alive (or not) by finalizers, cleanups and weak
// pointers.
//
// Stop 1 (every Go version):
//   - main.FinKept (16): reachable from the global main.finKept, each with a
//     finalizer that is a method value of its own main.FinFnRef. The finalizers
//     never run (the objects stay reachable).
//   - main.FinFnRef (16): referenced only by those finalizer closures, i.e.
//     reachable only through the finalizer specials (root kind "finalizer").
//   - main.FinBlocked (1): unreachable object whose finalizer,
//     main.blockFinalizer, blocks forever on a channel receive. The program
//     collects once, waits until the finalizer runs, and only then builds the
//     manifest, so the object is held by the finalizer goroutine: by the
//     frame of main.blockFinalizer (variable p) and by the runtime's finalizer
//     block being run (allfin/finq). The finalizer goroutine can run no other
//     finalizer afterwards, which keeps everything below deterministic.
//   - m.Settle() then turns the GC off; everything after it is never collected:
//   - main.FinOrphan (pending 16, live 0): unreachable objects with finalizer
//     main.orphanFinalizer, allocated after the last collection, so their
//     finalizers are not queued: pending finalization (the next collection
//     would queue them), listed in pending and pending_objects.
//   - main.FinReferent (16): referenced only by a FinOrphan. A finalizer special
//     marks its object's referents but not the object, so these are reachable
//     (root kind "finalizer") while their FinOrphan is garbage.
//
// Go 1.24+ adds (finalizers_go124.go; finalizers_old.go stubs it out):
//   - main.CleanKept (16) from the global main.cleanKept, each with
//     runtime.AddCleanup(k, main.cleanArg, arg); main.CleanArg (16) is held only
//     by the cleanup closure (root kind "cleanup").
//   - main.CleanOrphan (pending 16, live 0) with cleanups whose args,
//     main.CleanOrphanArg (16), are held only by the cleanup specials.
//   - main.WeakStrong (16) from the global main.weakStrong and also from
//     weak.Pointers; main.WeakOnly (garbage 16, live 0) only from weak.Pointers
//     in main.weakOnly (a weak handle is not a strong reference).
//
// Root names: for kind "finalizer" and "cleanup" Name is the function the
// program passed to runtime.SetFinalizer / runtime.AddCleanup, as
// runtime.FuncForPC names it.
//
// Live mode, second stop: main.finKept is cleared and (1.24+) main.weakStrong
// keeps only its first 8 objects; Finish collects twice. The FinKept and
// FinOrphan objects are found unreachable, their finalizers are queued, and
// since the finalizer goroutine is stuck in main.blockFinalizer they stay
// queued: FinKept, FinFnRef, FinOrphan and FinReferent are all live, held by
// the finalizer queue (root kind "finalizer"). WeakStrong drops to 8, WeakOnly
// objects are freed and their weak pointers return nil, CleanOrphan objects
// are freed (their cleanups run or stay queued depending on the version, so
// CleanOrphanArg is not listed).
package main

import (
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"corpus/manifest"
)

const nObj = 16 // objects per kind
const pick = 3  // index of the sentinel object of each kind

type FinKept struct {
	ID   int
	Name string
}

type FinFnRef struct {
	ID   int
	Name string
	Pad  [2]uint64
}

type FinBlocked struct {
	ID   int
	Name string
	Pad  [4]uint64
}

type FinOrphan struct {
	ID   int
	Ref  *FinReferent
	Name string
	Pad  [2]uint64
}

type FinReferent struct {
	ID   int
	Name string
	Pad  [6]uint64
}

var finKept []*FinKept

var (
	finRan      atomic.Int32 // finalizers other than blockFinalizer that ran
	cleanRan    atomic.Int32 // cleanups that ran (1.24+)
	never       = make(chan struct{})
	blockedInfo = make(chan blockReport, 1)
)

// addrs records object addresses that main may not hold as pointers.
var (
	keptFinName   string // symbol of the FinKept finalizers (a method value)
	keptAddr      [nObj]uintptr
	fnRefAddr     [nObj]uintptr
	referentAddr  [nObj]uintptr
	orphanAddr    [nObj]uintptr
	blockedReport blockReport
)

type blockReport struct {
	goid int64
	addr uintptr
	file string
	line int
}

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func here() (string, int) {
	_, file, line, _ := runtime.Caller(1)
	return file, line
}

// funcName is the symbol of a function value.
func funcName(f any) string {
	return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
}

func typeName(p any) string { return reflect.TypeOf(p).Elem().String() }

func (r *FinFnRef) finalizeKept(k *FinKept) { finRan.Add(1) }

func orphanFinalizer(o *FinOrphan) { finRan.Add(1) }

// blockFinalizer runs on the finalizer goroutine and never returns.
func blockFinalizer(p *FinBlocked) {
	r := blockReport{goid: manifest.Goid(), addr: uintptr(unsafe.Pointer(p))}
	r.file, r.line = here()
	r.line += 3
	blockedInfo <- r
	<-never // the blocking statement: here() + 3
	runtime.KeepAlive(p)
}

//go:noinline
func buildKept() {
	finKept = make([]*FinKept, 0, nObj)
	for i := 0; i < nObj; i++ {
		k := &FinKept{ID: 100 + i, Name: "kept-" + strconv.Itoa(i)}
		r := &FinFnRef{ID: 200 + i, Name: "fnref-" + strconv.Itoa(i)}
		fnRefAddr[i] = uintptr(unsafe.Pointer(r))
		keptAddr[i] = uintptr(unsafe.Pointer(k))
		fin := r.finalizeKept
		keptFinName = funcName(fin)
		runtime.SetFinalizer(k, fin)
		finKept = append(finKept, k)
	}
}

//go:noinline
func dropBlocked() {
	b := &FinBlocked{ID: 300, Name: "blocked-in-finalizer"}
	runtime.SetFinalizer(b, blockFinalizer)
}

// startBlockedFinalizer makes a FinBlocked unreachable and collects until its
// finalizer is running (and blocked).
//
//go:noinline
func startBlockedFinalizer() bool {
	dropBlocked()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		select {
		case blockedReport = <-blockedInfo:
			return true
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

//go:noinline
func buildOrphans() {
	for i := 0; i < nObj; i++ {
		ref := &FinReferent{ID: 500 + i, Name: "referent-" + strconv.Itoa(i)}
		o := &FinOrphan{ID: 400 + i, Ref: ref, Name: "orphan-" + strconv.Itoa(i)}
		runtime.SetFinalizer(o, orphanFinalizer)
		referentAddr[i] = uintptr(unsafe.Pointer(ref))
		orphanAddr[i] = uintptr(unsafe.Pointer(o))
	}
}

func addSentinel(m *manifest.M, addr uintptr, typ string, size uintptr, root manifest.Root, fields map[string]string, note string) {
	m.Sentinels = append(m.Sentinels, manifest.Sentinel{Addr: fmt.Sprintf("%#x", addr), Type: typ, Size: size,
		Root: root, Fields: fields, Note: note})
}

// describe fills the manifest for stop 1 (stop 1) or stop 2 (stop 2).
//
//go:noinline
func describe(m *manifest.M, blocked bool, stop int) {
	keptFin := keptFinName
	orphanFin := funcName(orphanFinalizer)

	m.SetLive("main.FinKept", nObj)
	m.SetLive("main.FinFnRef", nObj)
	m.SetLive("main.FinReferent", nObj)
	if stop == 1 {
		m.SetLive("main.FinOrphan", 0)
		m.SetPending("main.FinOrphan", nObj)
		m.PendingObjects = append(m.PendingObjects, manifest.Pending{Addr: fmt.Sprintf("%#x", orphanAddr[pick]),
			Type: "main.FinOrphan", Kind: "finalizer", Function: orphanFin})
		k := finKept[pick]
		m.Sentinel(unsafe.Pointer(k), typeName(k), unsafe.Sizeof(*k), manifest.Global("main.finKept"),
			map[string]string{"ID": strconv.Itoa(100 + pick), "Name": "kept-" + strconv.Itoa(pick)})
		addSentinel(m, fnRefAddr[pick], "main.FinFnRef", unsafe.Sizeof(FinFnRef{}),
			manifest.Root{Kind: "finalizer", Name: keptFin},
			map[string]string{"ID": strconv.Itoa(200 + pick), "Name": "fnref-" + strconv.Itoa(pick)},
			"held by the method-value closure that is the finalizer of main.finKept["+strconv.Itoa(pick)+"]")
		addSentinel(m, referentAddr[pick], "main.FinReferent", unsafe.Sizeof(FinReferent{}),
			manifest.Root{Kind: "finalizer", Name: orphanFin},
			map[string]string{"ID": strconv.Itoa(500 + pick), "Name": "referent-" + strconv.Itoa(pick)},
			fmt.Sprintf("field Ref of the unreachable main.FinOrphan at %#x, whose finalizer special marks its referents", orphanAddr[pick]))
	} else {
		m.SetLive("main.FinOrphan", nObj)
		addSentinel(m, keptAddr[pick], "main.FinKept", unsafe.Sizeof(FinKept{}),
			manifest.Root{Kind: "finalizer", Name: keptFin},
			map[string]string{"ID": strconv.Itoa(100 + pick), "Name": "kept-" + strconv.Itoa(pick)},
			"queued for finalization (finq) after main.finKept was cleared; the finalizer goroutine is blocked")
		addSentinel(m, fnRefAddr[pick], "main.FinFnRef", unsafe.Sizeof(FinFnRef{}),
			manifest.Root{Kind: "finalizer", Name: keptFin},
			map[string]string{"ID": strconv.Itoa(200 + pick), "Name": "fnref-" + strconv.Itoa(pick)},
			"held by the queued finalizer closure of the FinKept at "+fmt.Sprintf("%#x", keptAddr[pick]))
		addSentinel(m, orphanAddr[pick], "main.FinOrphan", unsafe.Sizeof(FinOrphan{}),
			manifest.Root{Kind: "finalizer", Name: orphanFin},
			map[string]string{"ID": strconv.Itoa(400 + pick), "Name": "orphan-" + strconv.Itoa(pick)},
			"queued for finalization (finq); the finalizer goroutine is blocked, so it stays queued")
		addSentinel(m, referentAddr[pick], "main.FinReferent", unsafe.Sizeof(FinReferent{}),
			manifest.Root{Kind: "finalizer", Name: orphanFin},
			map[string]string{"ID": strconv.Itoa(500 + pick), "Name": "referent-" + strconv.Itoa(pick)},
			fmt.Sprintf("field Ref of main.FinOrphan at %#x, which is queued for finalization", orphanAddr[pick]))
	}
	if blocked {
		r := blockedReport
		m.SetLive("main.FinBlocked", 1)
		addSentinel(m, r.addr, "main.FinBlocked", unsafe.Sizeof(FinBlocked{}),
			manifest.Stack(r.goid, "main.blockFinalizer", "p"),
			map[string]string{"ID": "300", "Name": "blocked-in-finalizer"},
			"argument of the running (blocked) finalizer, still in the runtime's finalizer block "+
				"(allfin) too (also held by main.blockFinalizer)")
		m.Park(manifest.Parked{Goroutine: r.goid, Function: "main.blockFinalizer", File: r.file, Line: r.line, State: "chan receive"})
	} else {
		m.Note("the blocking finalizer did not start in time: main.FinBlocked not listed")
	}
	m.Note("features: runtime.SetFinalizer; " + modernFeatures)
	m.Note("finalizer/cleanup root name = the function passed to SetFinalizer/AddCleanup (runtime.FuncForPC)")
	m.Note("finalizer goroutine " + strconv.FormatInt(blockedReport.goid, 10) + " is blocked for good in main.blockFinalizer; no other finalizer runs")
	if n := finRan.Load(); n != 0 {
		m.Note("unexpected: " + strconv.Itoa(int(n)) + " other finalizers ran")
	}
	if n := cleanRan.Load(); n != 0 {
		m.Note(strconv.Itoa(int(n)) + " cleanups ran")
	}
}

func main() {
	buildKept()
	buildModernLive()
	blocked := startBlockedFinalizer()

	m := manifest.New("finalizers")
	m.Settle() // last collection: the GC is off from here on
	buildOrphans()
	buildModernGarbage()
	describe(m, blocked, 1)
	describeModern(m, 1)
	manifest.Finish(m, checkpoint)

	// Live mode, second stop: drop the FinKept objects (and half the
	// WeakStrong ones); Finish collects twice.
	finKept = nil
	changeModern()
	m2 := manifest.New("finalizers")
	m2.Stop = 2
	m2.Settle() // collect before describing: describe checks the weak pointers
	describe(m2, blocked, 2)
	describeModern(m2, 2)
	m2.Note("main.finKept was cleared: the FinKept objects are queued for finalization and stay queued")
	manifest.Finish(m2, checkpoint)
}
