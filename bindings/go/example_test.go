package goheap_test

import (
	"fmt"
	"log"

	goheap "github.com/goheap/goheap/bindings/go"
)

// The biggest live types of a core, and what keeps one object of the
// biggest alive.
func ExampleSession_TypeStats() {
	s, err := goheap.Open("core", "") // the executable is found from the core
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	stats, err := s.TypeStats(goheap.Live)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.GoVersion())
	for _, st := range stats[:min(10, len(stats))] {
		fmt.Printf("%8d %12d  %s\n", st.Count, st.Bytes, st.Name)
	}
	if len(stats) == 0 || stats[0].Type == 0 {
		return
	}
	// The first object of the biggest type, and its shortest path.
	var first goheap.Object
	err = s.EachObject(goheap.Live, func(o goheap.Object) bool {
		if o.Type != stats[0].Type {
			return true
		}
		first = o
		return false
	})
	if err != nil {
		log.Fatal(err)
	}
	paths, err := s.Paths(first.Addr, 1)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range paths {
		fmt.Printf("%#x %s is kept alive by %s %s\n", first.Addr, stats[0].Name, p.Root.Kind, p.Root.Name)
		for _, h := range p.Hops {
			fmt.Printf("  -> %-24s %#x %s\n", h.Field, h.Addr, h.Type)
		}
	}
}

// Every pointer of an object, with the field that holds it.
func ExampleSession_Edges() {
	s, err := goheap.Open("core", "exe")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	o, err := s.ObjectAt(0xc000012345)
	if err != nil {
		log.Fatal(err)
	}
	edges, err := s.Edges(o.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range edges {
		fmt.Printf("+%-4d %-16s %#x\n", e.Offset, e.Field, e.Value)
	}
}
