// bigheap: a heap of about ten million small objects, to measure how fast
// goheap loads a large core. Not part of the test matrix (it sits below
// corpus/perf/, which scripts/corpus.py does not list); build it by hand:
//
//	go build -C corpus -o /tmp/bigheap/exe ./perf/bigheap
//	cd /tmp/bigheap && (ulimit -c unlimited; ./exe > manifest.json)
package main

import (
	"os"
	"strconv"

	"corpus/manifest"
)

type Node struct {
	Next *Node
	Val  int
}

type Leaf struct {
	A, B int64
	P    *Node
}

var Lists [][]*Node
var Leaves []*Leaf

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func main() {
	n := 5_000_000
	if s := os.Getenv("BIGHEAP_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	var head *Node
	for i := 0; i < n; i++ {
		head = &Node{Next: head, Val: i}
	}
	Lists = append(Lists, []*Node{head})
	Leaves = make([]*Leaf, n)
	for i := range Leaves {
		Leaves[i] = &Leaf{A: int64(i), P: head}
	}
	m := manifest.New("bigheap")
	m.SetLive("main.Node", n)
	m.SetLive("main.Leaf", n)
	manifest.Finish(m, checkpoint)
}
