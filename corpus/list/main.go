// list: long pointer chains and cycles.
//
//   - main.Node (10000): a singly linked list from the global main.Head. Node k
//     (Val k, k = 1..10000) is k hops from main.Head: hop 1 is the node
//     main.Head points to, so the 5000th node is reached after 5000 hops.
//   - main.RingNode (1000): a doubly linked ring (Next/Prev cycle) held by the
//     global main.Ring, which points to the node with ID 0. The node with ID k
//     is k hops away along Next and 1000-k along Prev.
//   - main.SelfRef (1): an object whose Self field points to itself, held by the
//     global main.Self.
//   - main.DeadNode (garbage 100, live 0): after m.Settle() (GC off) the program
//     builds a 100-node cycle and drops it: unreachable although every node is
//     referenced.
//
// Live mode, second stop: the list is cut after node 5000 (Node 5000's Next =
// nil), the ring node with ID 500 is unlinked (999 remain, still a cycle), and
// main.Self is set to nil; Finish collects twice, so the cut-off nodes, the
// unlinked ring node, the SelfRef and the dead cycle are freed.
package main

import (
	"fmt"
	"strconv"
	"unsafe"

	"corpus/manifest"
)

type Node struct {
	Next *Node
	Val  int
	Pad  [16]byte
}

type RingNode struct {
	Next *RingNode
	Prev *RingNode
	ID   int
}

type SelfRef struct {
	Self *SelfRef
	Name string
	ID   int
}

type DeadNode struct {
	Next *DeadNode
	ID   int
	Pad  [2]uint64
}

const (
	nNodes = 10000
	nRing  = 1000
	nDead  = 100
	mid    = 5000 // the 5000th node
	ringID = 250  // the ring sentinel
)

var (
	Head *Node
	Ring *RingNode
	Self *SelfRef
)

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

//go:noinline
func buildList() {
	Head = &Node{Val: 1}
	Head.Pad[0] = 1
	tail := Head
	for i := 2; i <= nNodes; i++ {
		n := &Node{Val: i}
		n.Pad[0] = byte(i)
		tail.Next = n
		tail = n
	}
}

//go:noinline
func buildRing() {
	Ring = &RingNode{ID: 0}
	Ring.Next, Ring.Prev = Ring, Ring
	last := Ring
	for i := 1; i < nRing; i++ {
		r := &RingNode{ID: i, Prev: last, Next: Ring}
		last.Next = r
		Ring.Prev = r
		last = r
	}
}

//go:noinline
func buildSelf() {
	Self = &SelfRef{Name: "myself", ID: 7}
	Self.Self = Self
}

// buildDeadRing builds a cycle and drops it; it returns the first node's
// address as a number.
//
//go:noinline
func buildDeadRing() uintptr {
	first := &DeadNode{ID: 0}
	first.Next = first
	last := first
	for i := 1; i < nDead; i++ {
		d := &DeadNode{ID: i, Next: first}
		last.Next = d
		last = d
	}
	return uintptr(unsafe.Pointer(first))
}

func nodeAt(val int) *Node {
	n := Head
	for n != nil && n.Val != val {
		n = n.Next
	}
	return n
}

func ringAt(id int) *RingNode {
	r := Ring
	for r.ID != id {
		r = r.Next
	}
	return r
}

//go:noinline
func describe(m *manifest.M, nodes, ring int, self bool) {
	m.SetLive("main.Node", nodes)
	m.SetLive("main.RingNode", ring)
	m.SetLive("main.DeadNode", 0)
	if self {
		m.SetLive("main.SelfRef", 1)
	} else {
		m.SetLive("main.SelfRef", 0)
	}

	h := Head
	m.Sentinel(unsafe.Pointer(h), "main.Node", unsafe.Sizeof(*h), manifest.Global("main.Head"),
		map[string]string{"Val": "1"})
	n := nodeAt(mid)
	fields := map[string]string{"Val": strconv.Itoa(mid)}
	if n.Next == nil {
		fields["Next"] = "<nil>"
	}
	m.Sentinel(unsafe.Pointer(n), "main.Node", unsafe.Sizeof(*n), manifest.Global("main.Head"), fields)
	m.Sentinels[len(m.Sentinels)-1].Note = fmt.Sprintf("%d hops from main.Head", mid)
	if last := nodeAt(nodes); last != nil && last != n {
		m.Sentinel(unsafe.Pointer(last), "main.Node", unsafe.Sizeof(*last), manifest.Global("main.Head"),
			map[string]string{"Val": strconv.Itoa(nodes), "Next": "<nil>"})
		m.Sentinels[len(m.Sentinels)-1].Note = fmt.Sprintf("the last node, %d hops from main.Head", nodes)
	}
	r := ringAt(ringID)
	m.Sentinel(unsafe.Pointer(r), "main.RingNode", unsafe.Sizeof(*r), manifest.Global("main.Ring"),
		map[string]string{"ID": strconv.Itoa(ringID)})
	m.Sentinels[len(m.Sentinels)-1].Note = fmt.Sprintf("%d hops from main.Ring along Next", ringID)
	if self {
		s := Self
		m.Sentinel(unsafe.Pointer(s), "main.SelfRef", unsafe.Sizeof(*s), manifest.Global("main.Self"),
			map[string]string{"Name": "myself", "ID": "7", "Self": fmt.Sprintf("%p", s)})
	}
	m.Note("main.Node with Val k is k hops from main.Head (hop 1 = the node main.Head points to)")
}

// change is the second live stop's change.
//
//go:noinline
func change() {
	nodeAt(mid).Next = nil
	r := ringAt(500)
	r.Prev.Next = r.Next
	r.Next.Prev = r.Prev
	r.Next, r.Prev = nil, nil
	Self = nil
}

func main() {
	buildList()
	buildRing()
	buildSelf()

	m := manifest.New("list")
	m.Settle()
	dead := buildDeadRing()
	m.AddGarbage("main.DeadNode", nDead)
	describe(m, nNodes, nRing, true)
	m.Note(fmt.Sprintf("unreachable cycle of %d main.DeadNode starts at %#x", nDead, dead))
	manifest.Finish(m, checkpoint)

	change()
	m2 := manifest.New("list")
	m2.Stop = 2
	describe(m2, mid, nRing-1, false)
	m2.Note("list cut after Val 5000, ring node ID 500 unlinked, main.Self = nil; all of it collected")
	manifest.Finish(m2, checkpoint)
}
