// goroutines: 2000 parked goroutines, each holding one *main.Work in a local
// (w) of the function it parked in:
//
//	main.parkChan       600  receive on a channel nobody sends on ("chan receive")
//	main.parkWaitGroup  400  sync.WaitGroup.Wait ("sync.WaitGroup.Wait";
//	                         "semacquire" before Go 1.24)
//	main.parkMutex      400  sync.Mutex.Lock on a mutex main holds ("sync.Mutex.Lock")
//	main.parkSleep      300  time.Sleep(time.Hour) ("sleep")
//	main.parkSelect     300  select on two silent channels ("select")
//
// Each Work is forced onto the heap (stored into a global that is then
// cleared) and kept live across the blocking call with runtime.KeepAlive; its
// only reference is its goroutine's stack slot. The manifest is printed once
// runtime.Stack shows all 2000 goroutines parked in their functions; the
// states recorded are the ones that traceback printed, and the recorded
// file:line (the line after the call of main.start, where each function
// blocks) is checked against it. Parked entries and sentinels: the first
// goroutine of each kind.
//
// Each goroutine's creator is main.spawn at its go statement (spawnAt); the
// user frame (docs/cli.md) of the chan, sleep and select kinds is the parked
// frame itself (only the runtime is above it: time.Sleep is the runtime's
// code), the others wait in package sync, so only their creator is listed.
//
// Live mode, second stop: the channel is closed, the 600 parkChan goroutines
// return, and main waits until they are gone: main.Work 1400, parkChan is no
// longer listed.
package main

import (
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"corpus/manifest"
)

type Work struct {
	ID   int
	Kind string
	Seq  [4]uint64
}

type kind struct {
	function string
	n        int
	states   []string // what the traceback may print for it
}

var kinds = []kind{
	{"main.parkChan", 600, []string{"chan receive"}},
	{"main.parkWaitGroup", 400, []string{"sync.WaitGroup.Wait", "semacquire"}},
	{"main.parkMutex", 400, []string{"sync.Mutex.Lock"}},
	{"main.parkSleep", 300, []string{"sleep"}},
	{"main.parkSelect", 300, []string{"select"}},
}

const nWork = 2000

var (
	chanBlock = make(chan struct{})
	wgBlock   sync.WaitGroup
	muBlock   sync.Mutex
	selA      = make(chan int)
	selB      = make(chan int)
	workSink  *Work
)

// rep is what the first goroutine of each kind records about itself; no
// pointers, so nothing but the goroutine's stack holds its Work.
type rep struct {
	goid int64
	addr uintptr
	file string
	line int
}

var reps [5]rep

// spawnAt is the file:line of spawn's go statement.
var spawnAt manifest.Frame

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

// start forces w onto the heap and, for the first goroutine of kind k, records
// its goroutine id, w's address and the line after the caller's call of start
// (where the caller blocks).
//
//go:noinline
func start(k, i int, w *Work) {
	workSink = w
	workSink = nil
	if i == firstID(k) {
		_, file, line, _ := runtime.Caller(1)
		reps[k] = rep{goid: manifest.Goid(), addr: uintptr(unsafe.Pointer(w)), file: file, line: line + 1}
	}
}

func parkChan(i int) {
	w := &Work{ID: i, Kind: "chan"}
	start(0, i, w)
	<-chanBlock
	runtime.KeepAlive(w)
}

func parkWaitGroup(i int) {
	w := &Work{ID: i, Kind: "waitgroup"}
	start(1, i, w)
	wgBlock.Wait()
	runtime.KeepAlive(w)
}

func parkMutex(i int) {
	w := &Work{ID: i, Kind: "mutex"}
	start(2, i, w)
	muBlock.Lock()
	runtime.KeepAlive(w)
	muBlock.Unlock()
}

func parkSleep(i int) {
	w := &Work{ID: i, Kind: "sleep"}
	start(3, i, w)
	time.Sleep(time.Hour)
	runtime.KeepAlive(w)
}

func parkSelect(i int) {
	w := &Work{ID: i, Kind: "select"}
	start(4, i, w)
	select {
	case <-selA:
	case <-selB:
	}
	runtime.KeepAlive(w)
}

var parkFuncs = []func(int){parkChan, parkWaitGroup, parkMutex, parkSleep, parkSelect}

// waitParked waits until every goroutine of the first `from` kinds onwards is
// parked in its function, in an expected state. It returns the traceback's
// view of the representatives.
func waitParked(from int) map[int64]manifest.Goroutine {
	deadline := time.Now().Add(2500 * time.Millisecond)
	for {
		table := manifest.Goroutines()
		counts := make([]int, len(kinds))
		for _, g := range table {
			for k := from; k < len(kinds); k++ {
				if hasFrame(g, kinds[k].function) && contains(kinds[k].states, g.State) {
					counts[k]++
				}
			}
		}
		ok := true
		for k := from; k < len(kinds); k++ {
			if counts[k] != kinds[k].n {
				ok = false
			}
		}
		if ok {
			return table
		}
		if time.Now().After(deadline) {
			panic(fmt.Sprintf("goroutines: not all parked: %v", counts))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hasFrame(g manifest.Goroutine, fn string) bool {
	for _, f := range g.Frames {
		if f.Function == fn {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// spawn starts all goroutines; main holds muBlock and wgBlock is never done.
//
//go:noinline
func spawn() {
	muBlock.Lock()
	wgBlock.Add(1)
	id := 0
	_, file, line, _ := runtime.Caller(0)
	spawnAt = manifest.Frame{Function: "main.spawn", File: file, Line: line + 4}
	for k := range kinds {
		for i := 0; i < kinds[k].n; i++ {
			go parkFuncs[k](id)
			id++
		}
	}
}

// describe fills the manifest with the kinds from `from` on.
//
//go:noinline
func describe(m *manifest.M, table map[int64]manifest.Goroutine, from int) {
	total := 0
	for k := from; k < len(kinds); k++ {
		total += kinds[k].n
		r := reps[k]
		g := table[r.goid]
		for _, f := range g.Frames {
			if f.Function == kinds[k].function && (f.File != r.file || f.Line != r.line) {
				m.Note(fmt.Sprintf("%s: traceback says %s:%d, recorded %s:%d", f.Function, f.File, f.Line, r.file, r.line))
			}
		}
		p := manifest.Parked{Goroutine: r.goid, Function: kinds[k].function, File: r.file, Line: r.line, State: g.State}
		c := spawnAt
		p.Creator = &c
		if k == 0 || k == 3 || k == 4 { // chan, sleep, select: only the runtime above the parked frame
			p.User = &manifest.Frame{Function: kinds[k].function, File: r.file, Line: r.line}
		}
		m.Park(p)
		kindName := strings.ToLower(strings.TrimPrefix(kinds[k].function, "main.park"))
		m.Sentinels = append(m.Sentinels, manifest.Sentinel{Addr: fmt.Sprintf("%#x", r.addr),
			Type: reflect.TypeOf((*Work)(nil)).Elem().String(), Size: unsafe.Sizeof(Work{}),
			Root:   manifest.Stack(r.goid, kinds[k].function, "w"),
			Fields: map[string]string{"ID": strconv.Itoa(firstID(k)), "Kind": kindName}})
		m.Note(fmt.Sprintf("%d goroutines parked in %s", kinds[k].n, kinds[k].function))
	}
	m.SetLive("main.Work", total)
}

func firstID(k int) int {
	id := 0
	for j := 0; j < k; j++ {
		id += kinds[j].n
	}
	return id
}

func main() {
	spawn()
	table := waitParked(0)
	m := manifest.New("goroutines")
	describe(m, table, 0)
	manifest.Finish(m, checkpoint)

	// Live mode, second stop: release the parkChan goroutines.
	before := runtime.NumGoroutine()
	close(chanBlock)
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() != before-kinds[0].n {
		if time.Now().After(deadline) {
			panic("goroutines: parkChan goroutines did not exit")
		}
		time.Sleep(time.Millisecond)
	}
	table = waitParked(1)
	m2 := manifest.New("goroutines")
	m2.Stop = 2
	describe(m2, table, 1)
	m2.Note("the channel was closed: the parkChan goroutines returned")
	manifest.Finish(m2, checkpoint)
}
