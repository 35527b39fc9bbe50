// chans: messages held by channel buffers and by goroutines parked on
// channel operations.
//
//	Queue      chan *Msg (global), cap 16, 10 messages queued
//	keeper     goroutine parked in `<-Stop` whose local `local` is the only
//	           reference to another chan *Msg, cap 16, 10 messages queued
//	sender     goroutine blocked sending its *Msg on the unbuffered Unbuf
//	receiver   goroutine blocked receiving from Empty, holding a *Msg local
//	selector   goroutine blocked in a select (receive SelA / send on SelB),
//	           holding the *Msg it tries to send
//	Envelopes  chan Envelope (global), cap 8, 5 queued; Envelope holds a *Msg
//
// The manifest is printed only once runtime.Stack shows every one of these
// goroutines parked in its state. Channel buffers (typed by their element
// type, holding several elements) and hchan objects are not listed.
//
// Live mode, second stop: Queue is drained, the sender's message is received
// into the global Got (the sender exits), and Stop is closed (the keeper
// drains its channel and exits): the receiver and the selector stay parked.
package main

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"corpus/manifest"
)

type Msg struct {
	ID   int
	Body string
}

type Envelope struct {
	Seq  int
	Body *Msg
	Tag  string
}

const (
	nQueue     = 10
	nKept      = 10
	nEnvelopes = 5
)

var (
	Queue     chan *Msg
	Unbuf     chan *Msg
	Empty     chan *Msg
	SelA      chan int
	SelB      chan *Msg
	Stop      chan struct{}
	Envelopes chan Envelope

	// Got receives the sender's message in live mode.
	Got *Msg
)

// parked goroutines report themselves here just before they block. Addresses
// are kept as numbers, so this holds no references.
var (
	mu      sync.Mutex
	parked  []manifest.Parked
	kept    uintptr // a message in the keeper's channel
	sent    uintptr // the sender's message
	held    uintptr // the receiver's message
	offered uintptr // the selector's message
)

func report(p manifest.Parked, slot *uintptr, addr uintptr) {
	mu.Lock()
	defer mu.Unlock()
	parked = append(parked, p)
	*slot = addr
}

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func addr(p *Msg) uintptr { return uintptr(unsafe.Pointer(p)) }

// newMsg allocates every message on the heap: a message that only a parked
// goroutine's local refers to would otherwise be allocated on its stack.
//
//go:noinline
func newMsg(id int, body string) *Msg { return &Msg{ID: id, Body: body} }

// keeper owns a buffered channel that nothing else references.
func keeper() {
	local := make(chan *Msg, 16)
	var fourth uintptr
	for i := 0; i < nKept; i++ {
		m := newMsg(200+i, "kept")
		if i == 3 {
			fourth = addr(m)
		}
		local <- m
	}
	_, file, line, _ := runtime.Caller(0)
	report(manifest.Parked{Goroutine: manifest.Goid(), Function: "main.keeper", File: file, Line: line + 2, State: "chan receive"}, &kept, fourth)
	<-Stop
	for len(local) > 0 {
		<-local
	}
}

func sender() {
	m := newMsg(300, "unbuffered")
	_, file, line, _ := runtime.Caller(0)
	report(manifest.Parked{Goroutine: manifest.Goid(), Function: "main.sender", File: file, Line: line + 2, State: "chan send"}, &sent, addr(m))
	Unbuf <- m
	runtime.KeepAlive(m)
}

func receiver() {
	mine := newMsg(400, "waiting")
	_, file, line, _ := runtime.Caller(0)
	report(manifest.Parked{Goroutine: manifest.Goid(), Function: "main.receiver", File: file, Line: line + 2, State: "chan receive"}, &held, addr(mine))
	got := <-Empty
	mine.Body = got.Body
	runtime.KeepAlive(mine)
}

func selector() {
	out := newMsg(500, "offered")
	_, file, line, _ := runtime.Caller(0)
	report(manifest.Parked{Goroutine: manifest.Goid(), Function: "main.selector", File: file, Line: line + 2, State: "select"}, &offered, addr(out))
	select {
	case <-SelA:
	case SelB <- out:
	}
	runtime.KeepAlive(out)
}

func build() {
	Queue = make(chan *Msg, 16)
	for i := 0; i < nQueue; i++ {
		Queue <- newMsg(100+i, "queued")
	}
	Envelopes = make(chan Envelope, 8)
	for i := 0; i < nEnvelopes; i++ {
		Envelopes <- Envelope{Seq: i, Body: newMsg(600+i, "enveloped"), Tag: "env"}
	}
	Unbuf = make(chan *Msg)
	Empty = make(chan *Msg)
	SelA = make(chan int)
	SelB = make(chan *Msg)
	Stop = make(chan struct{})
	go keeper()
	go sender()
	go receiver()
	go selector()
}

// waitParked waits until want goroutines exist and the named ones have
// reported and show their state in a full traceback.
func waitParked(want int, fns ...string) []manifest.Parked {
	buf := make([]byte, 1<<20)
	for tries := 0; tries < 5000; tries++ {
		time.Sleep(time.Millisecond)
		if runtime.NumGoroutine() != want {
			continue
		}
		mu.Lock()
		var ps []manifest.Parked
		for _, fn := range fns {
			for _, p := range parked {
				if p.Function == fn {
					ps = append(ps, p)
				}
			}
		}
		mu.Unlock()
		if len(ps) != len(fns) {
			continue
		}
		all := string(buf[:runtime.Stack(buf, true)])
		ok := true
		for _, p := range ps {
			if !strings.Contains(all, fmt.Sprintf("goroutine %d [%s", p.Goroutine, p.State)) {
				ok = false
			}
		}
		if ok {
			return ps
		}
	}
	panic("goroutines did not park")
}

func typeName[T any]() string { return reflect.TypeOf((*T)(nil)).Elem().String() }

func msgSentinel(m *manifest.M, a uintptr, root manifest.Root, id int, body string) {
	m.Sentinels = append(m.Sentinels, manifest.Sentinel{Addr: fmt.Sprintf("%#x", a), Type: typeName[Msg](), Size: unsafe.Sizeof(Msg{}),
		Root: root, Fields: map[string]string{"ID": fmt.Sprint(id), "Body": body}})
}

func find(ps []manifest.Parked, fn string) manifest.Parked {
	for _, p := range ps {
		if p.Function == fn {
			return p
		}
	}
	panic("no parked goroutine " + fn)
}

func manifest1() *manifest.M {
	ps := waitParked(5, "main.keeper", "main.sender", "main.receiver", "main.selector")
	m := manifest.New("chans")
	m.SetLive(typeName[Msg](), nQueue+nKept+1+1+1+nEnvelopes)
	m.Parked = ps
	mu.Lock()
	defer mu.Unlock()
	// The channels' buffers are not exported: find queued messages by
	// receiving and sending them back, which keeps their order.
	var third uintptr
	for i := 0; i < nQueue; i++ {
		x := <-Queue
		if i == 2 {
			third = addr(x)
		}
		Queue <- x
	}
	msgSentinel(m, third, manifest.Global("main.Queue"), 102, "queued")
	var env uintptr
	for i := 0; i < nEnvelopes; i++ {
		e := <-Envelopes
		if i == 1 {
			env = addr(e.Body)
		}
		Envelopes <- e
	}
	msgSentinel(m, env, manifest.Global("main.Envelopes"), 601, "enveloped")
	msgSentinel(m, kept, manifest.Stack(find(ps, "main.keeper").Goroutine, "main.keeper", "local"), 203, "kept")
	m.Sentinels[len(m.Sentinels)-1].Note = "queued in a channel referenced only by the keeper's local variable"
	msgSentinel(m, sent, manifest.Stack(find(ps, "main.sender").Goroutine, "main.sender", "m"), 300, "unbuffered")
	m.Sentinels[len(m.Sentinels)-1].Note = "being sent on the unbuffered main.Unbuf (also reachable from the channel's sudog)"
	msgSentinel(m, held, manifest.Stack(find(ps, "main.receiver").Goroutine, "main.receiver", "mine"), 400, "waiting")
	msgSentinel(m, offered, manifest.Stack(find(ps, "main.selector").Goroutine, "main.selector", "out"), 500, "offered")
	return m
}

// mutate is the live-mode change between stop 1 and stop 2.
func mutate() {
	for len(Queue) > 0 {
		<-Queue
	}
	Got = <-Unbuf
	close(Stop)
}

func manifest2() *manifest.M {
	ps := waitParked(3, "main.receiver", "main.selector")
	m := manifest.New("chans")
	m.Stop = 2
	m.SetLive(typeName[Msg](), 1+1+1+nEnvelopes)
	m.Parked = ps
	m.Sentinel(unsafe.Pointer(Got), typeName[Msg](), unsafe.Sizeof(*Got), manifest.Global("main.Got"), map[string]string{"ID": "300", "Body": "unbuffered"})
	return m
}

func main() {
	build()
	manifest.Finish(manifest1(), checkpoint)

	mutate()
	manifest.Finish(manifest2(), checkpoint)
}
