// retained: heap shapes whose retained sizes (dominator tree) are known by
// construction.
//
// The retained set of an object is the objects only it keeps alive: those
// every path from the roots to them goes through it (its subtree in the
// dominator tree), itself included. A root group (one global variable, one
// goroutine's frames and registers, one finalizer) retains the objects every
// path to which starts at it. A type retains what would become unreachable
// if every instance of it were removed at once, the instances included.
// Sizes are slot sizes: every object below is exactly a Go size class
// (checked at compile time and by slot() at run time), pointerful ones at
// most 512 bytes (no malloc header), none pointer-free under 16 bytes (no
// tiny blocks). Buffers are named pointer-free arrays (main.TreeBuf ...)
// allocated with new, so every type below is counted exactly in `live`. Each
// structure is built in a //go:noinline function that returns nothing: only
// the globals (or the one local, or the finalizer) named here refer to it.
//
//	structure   objects (slot bytes)                    held by
//	tree        7 main.TreeNode (32): root, 2 inner,    main.Tree -> root
//	            4 leaves; each leaf owns a main.TreeBuf
//	            (1024)
//	shared      main.Shared X (48) owning a             main.SharedA and
//	            main.SharedBuf (1024)                   main.SharedB -> X
//	diamond     main.DiamondTop (48) -> Left, Right     main.Diamond -> Top
//	            main.DiamondSide (32 each) -> one
//	            main.DiamondBottom (64) owning a
//	            main.DiamondBuf (2048)
//	ring        8 main.RingNode (48), singly linked,    main.Ring -> node 0
//	            node 7 -> node 0
//	map         main.Entries map[int]*Entry, 8 entries: main.Entries
//	            main.Entry (32) each owning a
//	            main.EntryBuf (512)
//	stack       main.StackOwner (48) -> main.StackChild the local obj of
//	            (64, pointer-free) and main.StackBuf    main.holdOnStack, a
//	            (4096)                                  goroutine parked for
//	                                                    good on a nil channel
//	finalizer   main.FinObj (64, unreachable, with      F's finalizer (root
//	            finalizer main.finalizeFinObj) ->       kind "finalizer"):
//	            main.FinRef R (80) owning a             the special marks F's
//	            main.FinBuf (1024)                      referents, not F
//
// Expected retained sizes (bytes/objects), each also in the manifest's
// "retained" list:
//
//	tree root                4320/11  (7*32 + 4*1024)
//	tree root's Left (ID 101) 2144/5  (3*32 + 2*1024)
//	X                        1072/2   (neither global retains it)
//	main.SharedA, SharedB    0/0
//	Top                      2224/5   (48 + 2*32 + 64 + 2048)
//	Left, Right              32/1 each (Bottom is reached through both)
//	Bottom                   2112/2
//	ring node 0              384/8
//	ring node 3 (ID 403)     240/5    (nodes 3..7: node k dominates k+1)
//	one Entry (Key 5)        544/2
//	main.Entries (global)    at least 4352/16 (plus the map's own objects)
//	main.StackOwner, and its goroutine (root kind "stack")   4208/3
//	R, and F's finalizer (root kind "finalizer")             1104/2
//	globals main.Tree 4320/11, main.Diamond 2224/5, main.Ring 384/8
//	types: main.TreeNode 4320/11, main.TreeBuf 4096/4, main.Shared 1072/2,
//	       main.DiamondTop 2224/5, main.DiamondSide 2176/4 (removing both
//	       sides cuts Bottom off, though neither side alone retains it),
//	       main.DiamondBottom 2112/2, main.RingNode 384/8, main.Entry 4352/16,
//	       main.StackOwner 4208/3, main.FinRef 1104/2
//
// F is allocated after m.Settle() turned the GC off, so its finalizer is never
// queued: F stays unreachable (pending finalization 1, live 0) while R and its buffer are
// live through the finalizer special. The parked goroutine receives from a
// nil channel, which parks it without a sudog or any other runtime object;
// its only pointer into the heap is obj (runtime.KeepAlive after the receive).
//
// Live mode, second stop: main.Tree is set to nil, and F's finalizer is let
// run (collect, wait for it, collect twice more). The tree, F, R and their
// buffers are freed (live 0); main.Tree retains 0/0; everything else is as at
// stop 1 (no finalizer root holds anything of this program any more).
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

type TreeNode struct {
	Left, Right *TreeNode
	Buf         *TreeBuf // leaves only
	ID          int
}

type TreeBuf [1024]byte

type Shared struct {
	Buf *SharedBuf
	ID  int
	Pad [4]uint64
}

type SharedBuf [1024]byte

type DiamondTop struct {
	Left, Right *DiamondSide
	ID          int
	Pad         [3]uint64
}

type DiamondSide struct {
	Down *DiamondBottom
	ID   int
	Pad  [2]uint64
}

type DiamondBottom struct {
	Buf *DiamondBuf
	ID  int
	Pad [6]uint64
}

type DiamondBuf [2048]byte

type RingNode struct {
	Next *RingNode
	ID   int
	Pad  [4]uint64
}

type Entry struct {
	Buf *EntryBuf
	Key int
	Pad [2]uint64
}

type EntryBuf [512]byte

type StackOwner struct {
	Child *StackChild
	Buf   *StackBuf
	ID    int
	Pad   [3]uint64
}

type StackChild struct {
	ID   int
	Vals [7]int
}

type StackBuf [4096]byte

type FinObj struct {
	Ref *FinRef
	ID  int
	Pad [6]uint64
}

type FinRef struct {
	Buf *FinBuf
	ID  int
	Pad [8]uint64
}

type FinBuf [1024]byte

// Every size is a size class; these fail to compile otherwise.
var (
	_ = [1]int{}[unsafe.Sizeof(TreeNode{})-32]
	_ = [1]int{}[unsafe.Sizeof(Shared{})-48]
	_ = [1]int{}[unsafe.Sizeof(DiamondTop{})-48]
	_ = [1]int{}[unsafe.Sizeof(DiamondSide{})-32]
	_ = [1]int{}[unsafe.Sizeof(DiamondBottom{})-64]
	_ = [1]int{}[unsafe.Sizeof(RingNode{})-48]
	_ = [1]int{}[unsafe.Sizeof(Entry{})-32]
	_ = [1]int{}[unsafe.Sizeof(StackOwner{})-48]
	_ = [1]int{}[unsafe.Sizeof(StackChild{})-64]
	_ = [1]int{}[unsafe.Sizeof(FinObj{})-64]
	_ = [1]int{}[unsafe.Sizeof(FinRef{})-80]
)

const (
	treeDepth = 3 // levels: 1 + 2 + 4 nodes
	nRing     = 8
	ringPick  = 3 // the ring node with its own entry
	nEntries  = 8
	entryPick = 5 // the map entry with its own entry
)

var (
	Tree             *TreeNode
	SharedA, SharedB *Shared
	Diamond          *DiamondTop
	Ring             *RingNode
	Entries          map[int]*Entry
)

// The parked goroutine and the finalizer report addresses as numbers only.
type stackReport struct {
	goid int64
	addr uintptr
	file string
	line int // line of the blocking statement in main.holdOnStack
}

var (
	stackReady = make(chan stackReport, 1)
	never      chan int // nil: a receive blocks for good
	finRan     atomic.Int32
	finObjAddr uintptr
	finRefAddr uintptr
)

const parkedState = "chan receive (nil chan)"

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func here() (string, int) {
	_, file, line, _ := runtime.Caller(1)
	return file, line
}

func typeName(p any) string { return reflect.TypeOf(p).Elem().String() }

func funcName(f any) string { return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name() }

// sizeClasses are Go's small size classes (runtime/sizeclasses.go, the same
// 1.22 - 1.27) up to 4096, the largest object here.
var sizeClasses = []uintptr{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048,
	2304, 2688, 3072, 3200, 3456, 4096}

// slot is size, which must be a size class (so the slot holds exactly it).
func slot(size uintptr) uint64 {
	for _, c := range sizeClasses {
		if c == size {
			return uint64(size)
		}
	}
	panic(fmt.Sprintf("retained: %d bytes is not a size class", size))
}

func newTree(level, id int) *TreeNode {
	n := &TreeNode{ID: id}
	if level == treeDepth {
		n.Buf = new(TreeBuf)
		n.Buf[0] = byte(id)
		return n
	}
	n.Left = newTree(level+1, 2*id-99)  // ids 100; 101, 102; 103 .. 106
	n.Right = newTree(level+1, 2*id-98) // (heap order, from 100)
	return n
}

//go:noinline
func buildTree() { Tree = newTree(1, 100) }

//go:noinline
func buildShared() {
	x := &Shared{ID: 200, Buf: new(SharedBuf)}
	SharedA, SharedB = x, x
}

//go:noinline
func buildDiamond() {
	b := &DiamondBottom{ID: 303, Buf: new(DiamondBuf)}
	Diamond = &DiamondTop{ID: 300, Left: &DiamondSide{ID: 301, Down: b}, Right: &DiamondSide{ID: 302, Down: b}}
}

//go:noinline
func buildRing() {
	first := &RingNode{ID: 400}
	last := first
	for i := 1; i < nRing; i++ {
		n := &RingNode{ID: 400 + i}
		last.Next = n
		last = n
	}
	last.Next = first
	Ring = first
}

//go:noinline
func buildEntries() {
	Entries = make(map[int]*Entry, nEntries)
	for i := 0; i < nEntries; i++ {
		Entries[i] = &Entry{Key: i, Buf: new(EntryBuf)}
	}
}

//go:noinline
func newStackOwner() *StackOwner {
	return &StackOwner{ID: 600, Child: &StackChild{ID: 601}, Buf: new(StackBuf)}
}

// holdOnStack keeps a StackOwner in its local obj and parks for good.
func holdOnStack() {
	obj := newStackOwner()
	r := stackReport{goid: manifest.Goid(), addr: uintptr(unsafe.Pointer(obj))}
	r.file, r.line = here()
	r.line += 3
	stackReady <- r
	<-never // the blocking statement: here() + 3
	runtime.KeepAlive(obj)
}

// startHolder starts holdOnStack and waits until the runtime's traceback
// shows it parked on its blocking statement.
//
//go:noinline
func startHolder() stackReport {
	go holdOnStack()
	var r stackReport
	select {
	case r = <-stackReady:
	case <-time.After(2 * time.Second):
		panic("retained: the holder goroutine did not report")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		g, ok := manifest.Goroutines()[r.goid]
		if ok && g.State == parkedState {
			for _, f := range g.Frames {
				if f.Function == "main.holdOnStack" {
					if f.File != r.file || f.Line != r.line {
						panic(fmt.Sprintf("retained: traceback says %s:%d, recorded %s:%d", f.File, f.Line, r.file, r.line))
					}
					return r
				}
			}
		}
		if time.Now().After(deadline) {
			panic("retained: the holder goroutine did not park")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func finalizeFinObj(f *FinObj) { finRan.Store(1) }

// buildFin runs after the last collection: F is unreachable from the start.
//
//go:noinline
func buildFin() {
	r := &FinRef{ID: 701, Buf: new(FinBuf)}
	f := &FinObj{ID: 700, Ref: r}
	runtime.SetFinalizer(f, finalizeFinObj)
	finObjAddr = uintptr(unsafe.Pointer(f))
	finRefAddr = uintptr(unsafe.Pointer(r))
}

// dropFin lets F's finalizer run, then collects F, R and R's buffer.
//
//go:noinline
func dropFin() {
	deadline := time.Now().Add(2 * time.Second)
	for finRan.Load() == 0 {
		runtime.GC() // queues F's finalizer (once)
		if time.Now().After(deadline) {
			panic("retained: the finalizer of main.FinObj did not run")
		}
		time.Sleep(5 * time.Millisecond)
	}
	runtime.GC()
	runtime.GC()
}

func addSentinel(m *manifest.M, addr uintptr, typ string, size uintptr, root manifest.Root, fields map[string]string, note string) {
	m.Sentinels = append(m.Sentinels, manifest.Sentinel{Addr: fmt.Sprintf("%#x", addr), Type: typ, Size: size,
		Root: root, Fields: fields, Note: note})
}

func retainedObj(m *manifest.M, p unsafe.Pointer, bytes, objects uint64) {
	m.AddRetained(manifest.Retained{Addr: manifest.Addr(p), Bytes: bytes, Objects: objects})
}

func retainedRoot(m *manifest.M, root manifest.Root, bytes, objects uint64, atLeast bool) {
	m.AddRetained(manifest.Retained{Root: &root, Bytes: bytes, Objects: objects, AtLeast: atLeast})
}

func retainedType(m *manifest.M, typ string, bytes, objects uint64) {
	m.AddRetained(manifest.Retained{Type: typ, Bytes: bytes, Objects: objects})
}

// describe fills the manifest of a stop. At stop 2 the tree and the finalizer
// structure are gone.
//
//go:noinline
func describe(m *manifest.M, holder stackReport, stop int) {
	var (
		node    = slot(unsafe.Sizeof(TreeNode{}))
		treeBuf = slot(unsafe.Sizeof(TreeBuf{}))
		shared  = slot(unsafe.Sizeof(Shared{})) + slot(unsafe.Sizeof(SharedBuf{}))
		top     = slot(unsafe.Sizeof(DiamondTop{}))
		side    = slot(unsafe.Sizeof(DiamondSide{}))
		bottom  = slot(unsafe.Sizeof(DiamondBottom{})) + slot(unsafe.Sizeof(DiamondBuf{}))
		ring    = slot(unsafe.Sizeof(RingNode{}))
		entry   = slot(unsafe.Sizeof(Entry{})) + slot(unsafe.Sizeof(EntryBuf{}))
		owner   = slot(unsafe.Sizeof(StackOwner{})) + slot(unsafe.Sizeof(StackChild{})) + slot(unsafe.Sizeof(StackBuf{}))
		fin     = slot(unsafe.Sizeof(FinRef{})) + slot(unsafe.Sizeof(FinBuf{}))
	)
	_ = slot(unsafe.Sizeof(FinObj{}))
	const leaves = 1 << (treeDepth - 1)
	const nodes = 2*leaves - 1

	// tree
	if stop == 1 {
		t := Tree
		m.SetLive("main.TreeNode", nodes)
		m.SetLive("main.TreeBuf", leaves)
		m.Sentinel(unsafe.Pointer(t), typeName(t), unsafe.Sizeof(*t), manifest.Global("main.Tree"),
			map[string]string{"ID": "100"})
		whole := nodes*node + leaves*treeBuf
		retainedObj(m, unsafe.Pointer(t), whole, nodes+leaves)
		retainedObj(m, unsafe.Pointer(t.Left), (nodes/2)*node+(leaves/2)*treeBuf, nodes/2+leaves/2)
		retainedRoot(m, manifest.Global("main.Tree"), whole, nodes+leaves, false)
		retainedType(m, "main.TreeNode", whole, nodes+leaves)
		retainedType(m, "main.TreeBuf", leaves*treeBuf, leaves)
	} else {
		m.SetLive("main.TreeNode", 0)
		m.SetLive("main.TreeBuf", 0)
		retainedRoot(m, manifest.Global("main.Tree"), 0, 0, false)
	}

	// shared
	x := SharedA
	m.SetLive("main.Shared", 1)
	m.SetLive("main.SharedBuf", 1)
	m.Sentinel(unsafe.Pointer(x), typeName(x), unsafe.Sizeof(*x), manifest.Global("main.SharedA"),
		map[string]string{"ID": "200"})
	m.Sentinels[len(m.Sentinels)-1].Note = "the same object as main.SharedB (also held by main.SharedB)"
	retainedObj(m, unsafe.Pointer(x), shared, 2)
	retainedRoot(m, manifest.Global("main.SharedA"), 0, 0, false)
	retainedRoot(m, manifest.Global("main.SharedB"), 0, 0, false)
	retainedType(m, "main.Shared", shared, 2)

	// diamond
	d := Diamond
	m.SetLive("main.DiamondTop", 1)
	m.SetLive("main.DiamondSide", 2)
	m.SetLive("main.DiamondBottom", 1)
	m.SetLive("main.DiamondBuf", 1)
	m.Sentinel(unsafe.Pointer(d), typeName(d), unsafe.Sizeof(*d), manifest.Global("main.Diamond"),
		map[string]string{"ID": "300"})
	all := top + 2*side + bottom
	retainedObj(m, unsafe.Pointer(d), all, 5)
	retainedObj(m, unsafe.Pointer(d.Left), side, 1)
	retainedObj(m, unsafe.Pointer(d.Right), side, 1)
	retainedObj(m, unsafe.Pointer(d.Left.Down), bottom, 2)
	retainedRoot(m, manifest.Global("main.Diamond"), all, 5, false)
	retainedType(m, "main.DiamondTop", all, 5)
	retainedType(m, "main.DiamondSide", 2*side+bottom, 4)
	retainedType(m, "main.DiamondBottom", bottom, 2)

	// ring
	r := Ring
	m.SetLive("main.RingNode", nRing)
	m.Sentinel(unsafe.Pointer(r), typeName(r), unsafe.Sizeof(*r), manifest.Global("main.Ring"),
		map[string]string{"ID": "400"})
	retainedObj(m, unsafe.Pointer(r), nRing*ring, nRing)
	k := r
	for i := 0; i < ringPick; i++ {
		k = k.Next
	}
	retainedObj(m, unsafe.Pointer(k), (nRing-ringPick)*ring, nRing-ringPick)
	retainedRoot(m, manifest.Global("main.Ring"), nRing*ring, nRing, false)
	retainedType(m, "main.RingNode", nRing*ring, nRing)

	// map
	e := Entries[entryPick]
	m.SetLive("main.Entry", nEntries)
	m.SetLive("main.EntryBuf", nEntries)
	m.Sentinel(unsafe.Pointer(e), typeName(e), unsafe.Sizeof(*e), manifest.Global("main.Entries"),
		map[string]string{"Key": strconv.Itoa(entryPick)})
	retainedObj(m, unsafe.Pointer(e), entry, 2)
	retainedRoot(m, manifest.Global("main.Entries"), nEntries*entry, 2*nEntries, true)
	retainedType(m, "main.Entry", nEntries*entry, 2*nEntries)

	// stack
	m.SetLive("main.StackOwner", 1)
	m.SetLive("main.StackChild", 1)
	m.SetLive("main.StackBuf", 1)
	addSentinel(m, holder.addr, "main.StackOwner", unsafe.Sizeof(StackOwner{}),
		manifest.Stack(holder.goid, "main.holdOnStack", "obj"), map[string]string{"ID": "600"}, "")
	m.AddRetained(manifest.Retained{Addr: fmt.Sprintf("%#x", holder.addr), Bytes: owner, Objects: 3})
	retainedRoot(m, manifest.Stack(holder.goid, "main.holdOnStack", ""), owner, 3, false)
	retainedType(m, "main.StackOwner", owner, 3)
	m.Park(manifest.Parked{Goroutine: holder.goid, Function: "main.holdOnStack", File: holder.file,
		Line: holder.line, State: parkedState})

	// finalizer
	if stop == 1 {
		finFn := funcName(finalizeFinObj)
		m.SetLive("main.FinObj", 0)
		m.SetPending("main.FinObj", 1)
		m.PendingObjects = append(m.PendingObjects, manifest.Pending{Addr: fmt.Sprintf("%#x", finObjAddr),
			Type: "main.FinObj", Kind: "finalizer", Function: finFn})
		m.SetLive("main.FinRef", 1)
		m.SetLive("main.FinBuf", 1)
		addSentinel(m, finRefAddr, "main.FinRef", unsafe.Sizeof(FinRef{}),
			manifest.Root{Kind: "finalizer", Name: finFn}, map[string]string{"ID": "701"},
			fmt.Sprintf("field Ref of the unreachable main.FinObj at %#x, whose finalizer special marks its referents", finObjAddr))
		m.AddRetained(manifest.Retained{Addr: fmt.Sprintf("%#x", finRefAddr), Bytes: fin, Objects: 2})
		retainedRoot(m, manifest.Root{Kind: "finalizer", Name: finFn}, fin, 2, false)
		retainedType(m, "main.FinRef", fin, 2)
	} else {
		m.SetLive("main.FinObj", 0)
		m.SetLive("main.FinRef", 0)
		m.SetLive("main.FinBuf", 0)
	}
	m.Note("retained sizes are slot sizes; a type retains what removing all its instances at once cuts off, the instances included")
	m.Note(fmt.Sprintf("goroutine %d is parked for good in main.holdOnStack on a nil channel; its only heap pointer is obj", holder.goid))
}

func main() {
	buildTree()
	buildShared()
	buildDiamond()
	buildRing()
	buildEntries()
	holder := startHolder()

	m := manifest.New("retained")
	m.Settle() // last collection: the GC is off from here on
	buildFin()
	describe(m, holder, 1)
	manifest.Finish(m, checkpoint)

	// Live mode, second stop: drop the tree, let F's finalizer run.
	Tree = nil
	m2 := manifest.New("retained")
	m2.Stop = 2
	dropFin()
	m2.Settle()
	describe(m2, holder, 2)
	m2.Note("main.Tree = nil; F's finalizer ran: the tree, F, R and their buffers were collected")
	manifest.Finish(m2, checkpoint)
}
