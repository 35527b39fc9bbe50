// service: a heap built like a long-running service's, for goheap's
// benchmark (bench/run.py): a binary search tree over randomly ordered keys
// (so the pointer graph runs all over the address space), each node holding
// an item with a name, tags and a payload of random size (a few large),
// an index map from name to item, a map of sessions by id, and slices of
// pointers that bucket the items. SERVICE_ITEMS sets the number of items
// (about 6 heap objects each).
//
// It prints one JSON line of what it holds (exact counts by construction)
// and aborts, dumping a core (ulimit -c unlimited); with SERVICE_HOLD=1 it
// waits instead, for a live session, until its stdin closes. With
// SERVICE_GCREF=1 it times the Go runtime's own collector on that heap
// instead (bench/run.py's yardstick) and exits.
package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"syscall"
	"time"
)

type Node struct {
	Key         int64
	Left, Right *Node
	Item        *Item
}

type Item struct {
	ID      int64
	Name    string
	Tags    []string
	Payload []byte
	Owner   *Session
}

type Session struct {
	ID    int64
	User  string
	Items []*Item
}

var (
	Root     *Node
	Index    map[string]*Item
	Sessions map[int64]*Session
	Buckets  [][]*Item
)

func insert(key int64, it *Item) {
	n := &Node{Key: key, Item: it}
	if Root == nil {
		Root = n
		return
	}
	for p := Root; ; {
		if key < p.Key {
			if p.Left == nil {
				p.Left = n
				return
			}
			p = p.Left
		} else {
			if p.Right == nil {
				p.Right = n
				return
			}
			p = p.Right
		}
	}
}

func main() {
	items := 100_000
	if s := os.Getenv("SERVICE_ITEMS"); s != "" {
		items, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewSource(1))
	nsessions := items/50 + 1
	Sessions = make(map[int64]*Session, nsessions)
	sess := make([]*Session, nsessions)
	for i := range sess {
		sess[i] = &Session{ID: int64(i), User: "user-" + strconv.Itoa(i)}
		Sessions[int64(i)] = sess[i]
	}
	Index = make(map[string]*Item, items)
	Buckets = make([][]*Item, 64)
	keys := rng.Perm(items)
	for i := 0; i < items; i++ {
		size := 8 + rng.Intn(120)
		if rng.Intn(2000) == 0 {
			size = 4096 + rng.Intn(60000) // a few large buffers
		}
		s := sess[rng.Intn(nsessions)]
		it := &Item{
			ID:      int64(keys[i]),
			Name:    "item-" + strconv.Itoa(keys[i]),
			Tags:    []string{"t" + strconv.Itoa(i%97), "g" + strconv.Itoa(i%13)},
			Payload: make([]byte, size),
			Owner:   s,
		}
		if len(s.Items) < 8 {
			s.Items = append(s.Items, it)
		}
		insert(int64(keys[i]), it)
		Index[it.Name] = it
		b := &Buckets[rng.Intn(len(Buckets))]
		*b = append(*b, it)
	}
	runtime.GC()
	debug.SetGCPercent(-1)
	if os.Getenv("SERVICE_GCREF") == "1" {
		gcReference(items)
		return
	}
	out, _ := json.Marshal(map[string]any{
		"go":      runtime.Version(),
		"program": "service",
		"items":   items,
		"live":    map[string]int{"main.Node": items, "main.Item": items, "main.Session": nsessions},
	})
	fmt.Println(string(out))
	os.Stdout.Sync()
	if os.Getenv("SERVICE_HOLD") == "1" {
		// Live mode: wait (for goheap --pid, lldb or gdb) until stdin closes.
		var b [1]byte
		syscall.Read(0, b[:])
		os.Exit(0)
	}
	// The signal goes to this thread, as corpus/manifest does: a SIGABRT
	// sent to the process can land on a thread that never crashes it.
	debug.SetTraceback("crash")
	runtime.LockOSThread()
	syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), syscall.SIGABRT)
	select {}
}

// gcReference prints one JSON line: the wall and CPU seconds of three
// forced collections of the heap just built (the runtime marks every live
// object, on every P), and how many objects it holds.
func gcReference(items int) {
	ss := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/heap/objects:objects"}}
	var wall, cpu []float64
	for r := 0; r < 3; r++ {
		metrics.Read(ss)
		before := ss[0].Value.Float64()
		t0 := time.Now()
		runtime.GC()
		wall = append(wall, time.Since(t0).Seconds())
		metrics.Read(ss)
		cpu = append(cpu, ss[0].Value.Float64()-before)
	}
	out, _ := json.Marshal(map[string]any{
		"go": runtime.Version(), "items": items, "gomaxprocs": runtime.GOMAXPROCS(0),
		"objects": ss[1].Value.Uint64(), "gc_wall_s": wall, "gc_cpu_s": cpu,
	})
	fmt.Println(string(out))
}
