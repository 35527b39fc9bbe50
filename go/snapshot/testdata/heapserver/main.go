// heapserver: a corpus-like program for go/snapshot's tests. It holds a
// known heap (-items main.Item, each with its main.Blob, reachable from a
// global), prints its manifest (corpus/manifest) as one JSON line, then
// serves snapshot.Handler at snapshot.Path and its progress at /tick on a
// loopback port, which it prints as "listening on ADDR". -churn goroutines
// allocate (and drop) main.Churn objects all along, so that snapshots are
// taken of a busy process. -refuse makes goheap's ptrace fail: the process
// is not dumpable and the programs it starts lack CAP_SYS_PTRACE.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"corpus/manifest"

	"github.com/goheap/goheap/go/snapshot"
)

type Blob struct {
	Data [200]byte
}

type Item struct {
	ID   int
	Name string
	Blob *Blob
	Next *Item
}

type Churn struct {
	N    int
	Data [48]byte
}

var (
	items []*Item
	ticks atomic.Int64
	keep  [64]*Churn // the churners' last objects, shared and overwritten
)

func churn(id int) {
	for i := 0; ; i++ {
		c := &Churn{N: i}
		keep[(id*7+i)%len(keep)] = c
		ticks.Add(1)
		if i%1000 == 999 {
			time.Sleep(time.Millisecond)
		}
	}
}

func main() {
	n := flag.Int("items", 10000, "main.Item objects held")
	nchurn := flag.Int("churn", 4, "goroutines that allocate all along")
	refuse := flag.Bool("refuse", false, "make goheap's ptrace fail")
	flag.Parse()

	for i := 0; i < *n; i++ {
		items = append(items, &Item{ID: i, Name: fmt.Sprintf("item-%d", i), Blob: &Blob{}})
	}
	m := manifest.New("heapserver")
	m.SetLive("main.Item", *n)
	m.SetLive("main.Blob", *n)
	m.Settle()
	m.Goroutines = runtime.NumGoroutine()
	debug.SetGCPercent(100) // the churners' garbage is collected
	if *refuse {
		const prCapbsetDrop, prSetDumpable, capSysPtrace = 24, 4, 19
		// capabilities are per thread: a program is started from any of them
		if _, _, e := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, prCapbsetDrop, capSysPtrace, 0); e != 0 {
			fmt.Fprintln(os.Stderr, "PR_CAPBSET_DROP:", e)
		}
		syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0)
	}
	for i := 0; i < *nchurn; i++ {
		go churn(i)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.Handle(snapshot.Path, snapshot.Handler())
	mux.HandleFunc("/tick", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, ticks.Load())
	})
	printManifest(m)
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func printManifest(m *manifest.M) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
}
