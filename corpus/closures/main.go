// closures: heap objects reached only through func values, and generic types.
//
//	Handlers  []func()          closures capturing a *Handler by value (the
//	                            closure object holds the pointer)
//	Bigs      []func() int      closures capturing a 200-byte BigCapture that
//	                            is never modified: over 128 bytes, so it is
//	                            captured by reference and moved to the heap as
//	                            its own BigCapture object
//	M         func()            method value bound to a *Obj
//	V         func() string     method value with a value receiver: the
//	                            Printer is copied into the closure object (not
//	                            counted), its Out field points to a Payload
//	IntTree   *Tree[int]        complete binary tree, 127 nodes
//	PairTree  *Tree[Pair]       complete binary tree, 31 nodes
//	StrBoxes  []*Box[string]    10 boxes
//	TreeBoxes []*Box[*Tree[int]] 3 boxes pointing into IntTree
//	Getters   []func() float64  generic closures capturing a *Box[float64]
//
// Closure objects themselves (compiler-made struct types) are not listed.
// Addresses of captured objects are recorded as numbers when they are made.
//
// Live mode, second stop: Handlers is cut to 4 (the tail cleared first), M
// becomes nil, Bigs becomes nil, and IntTree.Right.Left (a 31-node subtree
// no box points into) is cut off.
package main

import (
	"fmt"
	"reflect"
	"unsafe"

	"corpus/manifest"
)

type Handler struct {
	Name  string
	Calls int
}

type BigCapture struct {
	Tag  string
	Data [23]int64
}

type Obj struct {
	ID   int
	Name string
}

func (o *Obj) Method() { o.ID++ }

type Payload struct {
	Text string
	N    int
}

type Printer struct {
	Prefix string
	Out    *Payload
}

func (p Printer) Print() string { return p.Prefix + p.Out.Text }

type Tree[T any] struct {
	Left, Right *Tree[T]
	Val         T
}

type Pair struct {
	Key string
	N   int
}

type Box[T any] struct {
	V T
	N int
}

// BigCapture must be over 128 bytes to be captured by reference.
var _ = [1]int{}[unsafe.Sizeof(BigCapture{})-200]

const (
	nHandlers = 8
	nBigs     = 3
	intDepth  = 7 // 127 nodes
	pairDepth = 5 // 31 nodes
	nStrBoxes = 10
	nGetters  = 2
)

var (
	Handlers  []func()
	Bigs      []func() int
	M         func()
	V         func() string
	IntTree   *Tree[int]
	PairTree  *Tree[Pair]
	StrBoxes  []*Box[string]
	TreeBoxes []*Box[*Tree[int]]
	Getters   []func() float64
)

// Addresses of objects only closures refer to, recorded when made.
var (
	handlerAt []uintptr
	bigAt     []uintptr
	objAt     uintptr
	payloadAt uintptr
	getterAt  []uintptr
)

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func makeHandler(i int) func() {
	h := &Handler{Name: fmt.Sprintf("handler-%d", i), Calls: i}
	handlerAt = append(handlerAt, uintptr(unsafe.Pointer(h)))
	return func() { h.Calls++ }
}

func makeBig(i int) func() int {
	var big BigCapture
	big.Tag = "big"
	big.Data[22] = int64(i)
	f := func() int { return int(big.Data[22]) + len(big.Tag) }
	bigAt = append(bigAt, uintptr(unsafe.Pointer(&big)))
	return f
}

func makeTree[T any](depth int, val func(int) T, next *int) *Tree[T] {
	if depth == 0 {
		return nil
	}
	t := &Tree[T]{}
	t.Left = makeTree(depth-1, val, next)
	t.Val = val(*next)
	*next++
	t.Right = makeTree(depth-1, val, next)
	return t
}

func getter[T any](b *Box[T]) func() T {
	getterAt = append(getterAt, uintptr(unsafe.Pointer(b)))
	return func() T { return b.V }
}

func build() {
	for i := 0; i < nHandlers; i++ {
		Handlers = append(Handlers, makeHandler(i))
	}
	for i := 0; i < nBigs; i++ {
		Bigs = append(Bigs, makeBig(i))
	}

	o := &Obj{ID: 4242, Name: "bound"}
	objAt = uintptr(unsafe.Pointer(o))
	M = o.Method

	p := &Payload{Text: "payload", N: 7}
	payloadAt = uintptr(unsafe.Pointer(p))
	V = Printer{Prefix: "> ", Out: p}.Print

	n := 0
	IntTree = makeTree(intDepth, func(i int) int { return i }, &n)
	n = 0
	PairTree = makeTree(pairDepth, func(i int) Pair { return Pair{Key: fmt.Sprintf("pair-%d", i), N: i} }, &n)

	for i := 0; i < nStrBoxes; i++ {
		StrBoxes = append(StrBoxes, &Box[string]{V: fmt.Sprintf("box-%d", i), N: i})
	}
	TreeBoxes = []*Box[*Tree[int]]{
		{V: IntTree.Left, N: 0},
		{V: IntTree.Right.Right, N: 1},
		{V: IntTree, N: 2},
	}
	for i := 0; i < nGetters; i++ {
		Getters = append(Getters, getter(&Box[float64]{V: 1.5 + float64(i), N: 100 + i}))
	}
}

// countTree counts the distinct nodes reachable from the given roots.
func countTree[T any](roots ...*Tree[T]) int {
	seen := map[*Tree[T]]bool{}
	var walk func(t *Tree[T])
	walk = func(t *Tree[T]) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		walk(t.Left)
		walk(t.Right)
	}
	for _, r := range roots {
		walk(r)
	}
	return len(seen)
}

func typeName[T any]() string { return reflect.TypeOf((*T)(nil)).Elem().String() }

func sentinel[T any](m *manifest.M, p *T, root string, fields map[string]string) {
	m.Sentinel(unsafe.Pointer(p), typeName[T](), unsafe.Sizeof(*p), manifest.Global(root), fields)
}

// sentinelAt records an object known only by its address.
func sentinelAt[T any](m *manifest.M, a uintptr, root string, fields map[string]string) {
	var zero T
	m.Sentinels = append(m.Sentinels, manifest.Sentinel{Addr: fmt.Sprintf("%#x", a), Type: typeName[T](),
		Size: unsafe.Sizeof(zero), Root: manifest.Global(root), Fields: fields})
}

func counts(m *manifest.M) {
	m.SetLive(typeName[Handler](), len(Handlers))
	m.SetLive(typeName[BigCapture](), len(Bigs))
	obj := 0
	if M != nil {
		obj = 1
	}
	m.SetLive(typeName[Obj](), obj)
	m.SetLive(typeName[Payload](), 1)
	var treeRoots []*Tree[int]
	treeRoots = append(treeRoots, IntTree)
	for _, b := range TreeBoxes {
		treeRoots = append(treeRoots, b.V)
	}
	m.SetLive(typeName[Tree[int]](), countTree(treeRoots...))
	m.SetLive(typeName[Tree[Pair]](), countTree(PairTree))
	m.SetLive(typeName[Box[string]](), len(StrBoxes))
	m.SetLive(typeName[Box[*Tree[int]]](), len(TreeBoxes))
	m.SetLive(typeName[Box[float64]](), len(Getters))
}

func manifest1() *manifest.M {
	m := manifest.New("closures")
	counts(m)
	sentinelAt[Handler](m, handlerAt[2], "main.Handlers", map[string]string{"Name": "handler-2", "Calls": "2"})
	sentinelAt[BigCapture](m, bigAt[1], "main.Bigs", map[string]string{"Tag": "big", "Data[22]": "1"})
	sentinelAt[Obj](m, objAt, "main.M", map[string]string{"ID": "4242", "Name": "bound"})
	sentinelAt[Payload](m, payloadAt, "main.V", map[string]string{"Text": "payload", "N": "7"})
	m.Sentinels[len(m.Sentinels)-1].Note = "pointed to by the Printer copied into the method value's closure object"
	sentinel(m, IntTree, "main.IntTree", map[string]string{"Val": "63"})
	sentinel(m, IntTree.Left.Left.Left.Left.Left.Left, "main.IntTree", map[string]string{"Val": "0"})
	sentinel(m, PairTree, "main.PairTree", map[string]string{"Val.Key": "pair-15", "Val.N": "15"})
	sentinel(m, StrBoxes[4], "main.StrBoxes", map[string]string{"V": "box-4", "N": "4"})
	sentinel(m, TreeBoxes[1], "main.TreeBoxes", map[string]string{"N": "1"})
	sentinelAt[Box[float64]](m, getterAt[1], "main.Getters", map[string]string{"V": "2.5", "N": "101"})
	return m
}

// mutate is the live-mode change between stop 1 and stop 2.
func mutate() {
	clear(Handlers[4:])
	Handlers = Handlers[:4]
	M = nil
	Bigs = nil
	IntTree.Right.Left = nil
}

func manifest2() *manifest.M {
	m := manifest.New("closures")
	m.Stop = 2
	counts(m)
	sentinelAt[Handler](m, handlerAt[3], "main.Handlers", map[string]string{"Name": "handler-3", "Calls": "3"})
	sentinel(m, IntTree.Right, "main.IntTree", map[string]string{"Val": "95"})
	return m
}

func main() {
	build()
	manifest.Finish(manifest1(), checkpoint)

	mutate()
	manifest.Finish(manifest2(), checkpoint)
}
