// sites: allocation sites known by construction, every allocation sampled.
//
// init sets runtime.MemProfileRate to 1 before main allocates anything, so
// the runtime's memory profiler records every allocation of this program: a
// bucket per (stack, size) with its counts, and a profile special on each
// object pointing to its bucket. Each site below is a one-line function
// (the allocation is on the line of its func keyword, so the runtime gives
// the line by construction):
//
//	site             type          live  garbage  callers  note
//	main.newSmall    main.Small    300   0        2        fillA 200, fillB 100
//	main.newBuf      main.Buf      40    0        1        pointer-free 1024
//	main.newNode     main.Node     120   0        1        inlinable: a list
//	main.newHuge     main.Huge     2     0        1        large objects
//	main.newDropped  main.Dropped  0     0        1        50 made, dropped, freed
//	main.newLate     main.Late     0     200      1        made after the last GC
//
// The last GC runs (manifest.Settle, GC off from then on), then
// runtime.MemProfile is read: the manifest's "runtime" figures per site are
// the runtime's own view, summed over the site's stacks. Only then are the
// 200 main.Late objects made and dropped: sampled, never collected, never
// published in the profile (their counts wait for a GC that does not come).
//
// Live mode, second stop: main.Smalls is set to nil and two GCs run: the
// smalls and the late objects are freed (live 0, garbage 0), and the
// runtime's view publishes their frees.
//
// Every type is a size class exactly, pointerful ones at most 512 bytes and
// none pointer-free under 16: no malloc headers, no tiny blocks.
package main

import (
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	"corpus/manifest"
)

type Small struct {
	A, B *int
	C    [4]int64
} // 48

type Buf [1024]byte

type Node struct {
	Next *Node
	V    [3]int64
} // 32

type Huge [40960]byte

type Dropped struct {
	P *int
	X [5]int64
} // 48

type Late struct {
	P *int
	X [5]int64
} // 48

var (
	Smalls []*Small
	Bufs   []*Buf
	List   *Node
	Huges  []*Huge
)

func init() { runtime.MemProfileRate = 1 }

//go:noinline
func newSmall() *Small { return &Small{} }

//go:noinline
func newBuf() *Buf { return new(Buf) }

func newNode(next *Node) *Node { return &Node{Next: next} }

//go:noinline
func newHuge() *Huge { return new(Huge) }

//go:noinline
func newDropped() *Dropped { return &Dropped{} }

//go:noinline
func newLate() *Late { return &Late{} }

//go:noinline
func fillA() {
	for i := 0; i < 200; i++ {
		Smalls = append(Smalls, newSmall())
	}
}

//go:noinline
func fillB() {
	for i := 0; i < 100; i++ {
		Smalls = append(Smalls, newSmall())
	}
}

//go:noinline
func buildList() {
	for i := 0; i < 120; i++ {
		List = newNode(List)
		List.V[0] = int64(i)
	}
}

//go:noinline
func dropSome(n int) {
	for i := 0; i < n; i++ {
		d := newDropped()
		d.X[0] = int64(i)
	}
}

//go:noinline
func makeLate(n int) {
	for i := 0; i < n; i++ {
		l := newLate()
		l.X[0] = int64(i)
	}
}

type site struct {
	fn             any
	typ            string
	live, garbage  int
	callers        int
	function, file string
	line           int
}

// where gives a one-line function's name, file and line.
func where(fn any) (string, string, int) {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	file, line := f.FileLine(f.Entry())
	return f.Name(), file, line
}

// runtimeView sums runtime.MemProfile's records per site: the record's
// first frame outside the runtime, as pprof shows it.
func runtimeView(sites []*site) map[string]*manifest.SiteProfile {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	out := map[string]*manifest.SiteProfile{}
	for _, s := range sites {
		out[s.function] = &manifest.SiteProfile{}
	}
	for i := range recs {
		r := &recs[i]
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			if !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, "internal/runtime/") {
				if p := out[f.Function]; p != nil {
					p.InuseObjects += r.InUseObjects()
					p.InuseBytes += r.InUseBytes()
					p.AllocObjects += r.AllocObjects
					p.AllocBytes += r.AllocBytes
				}
				break
			}
			if !more {
				break
			}
		}
	}
	return out
}

func main() {
	Smalls = make([]*Small, 0, 300)
	Bufs = make([]*Buf, 0, 40)
	Huges = make([]*Huge, 0, 2)
	fillA()
	fillB()
	for i := 0; i < 40; i++ {
		Bufs = append(Bufs, newBuf())
	}
	buildList()
	for i := 0; i < 2; i++ {
		Huges = append(Huges, newHuge())
	}
	dropSome(50)

	sites := []*site{
		{fn: newSmall, typ: "main.Small", live: 300, callers: 2},
		{fn: newBuf, typ: "main.Buf", live: 40, callers: 1},
		{fn: newNode, typ: "main.Node", live: 120, callers: 1},
		{fn: newHuge, typ: "main.Huge", live: 2, callers: 1},
		{fn: newDropped, typ: "main.Dropped", callers: 1},
		{fn: newLate, typ: "main.Late", garbage: 200, callers: 1},
	}
	for _, s := range sites {
		s.function, s.file, s.line = where(s.fn)
	}

	m := manifest.New("sites")
	m.Settle() // the last GC: the profile is published, the GC is off
	view := runtimeView(sites)
	makeLate(200)
	describe(m, sites, view)
	m.Sentinel(unsafe.Pointer(Smalls[0]), "main.Small", unsafe.Sizeof(Small{}), manifest.Global("main.Smalls"), nil)
	m.Sentinel(unsafe.Pointer(List), "main.Node", unsafe.Sizeof(Node{}), manifest.Global("main.List"), nil)
	describeRest(m)
	manifest.Finish(m, checkpoint)

	// Live mode, second stop: the smalls are dropped and two collections
	// free them and the late objects; the runtime publishes their frees.
	Smalls = nil
	sites[0].live = 0
	sites[5].garbage = 0
	m2 := manifest.New("sites")
	m2.Stop = 2
	m2.Settle()
	describe(m2, sites, runtimeView(sites))
	describeRest(m2)
	m2.Note("main.Smalls = nil; two GCs freed the smalls and the late objects")
	manifest.Finish(m2, checkpoint)
}

func describe(m *manifest.M, sites []*site, view map[string]*manifest.SiteProfile) {
	for _, s := range sites {
		m.Sites = append(m.Sites, manifest.Site{Function: s.function, File: s.file, Line: s.line, Type: s.typ,
			Live: s.live, Garbage: s.garbage, Callers: s.callers, Runtime: *view[s.function]})
		m.SetLive(s.typ, s.live)
		if s.garbage > 0 {
			m.AddGarbage(s.typ, s.garbage)
		}
	}
}

// describeRest names the sentinels both stops hold.
func describeRest(m *manifest.M) {
	m.Sentinel(unsafe.Pointer(Bufs[0]), "main.Buf", unsafe.Sizeof(Buf{}), manifest.Global("main.Bufs"), nil)
	m.Sentinel(unsafe.Pointer(Huges[1]), "main.Huge", unsafe.Sizeof(Huge{}), manifest.Global("main.Huges"), nil)
}

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }
