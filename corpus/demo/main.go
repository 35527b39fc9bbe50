// demo: a small service with an obvious leak. Every request opens a Session
// that is cached in a global map and never evicted; each Session keeps its
// request payload. goheap's README session finds the leak with heap, paths
// and print.
package main

import (
	"fmt"
	"unsafe"

	"corpus/manifest"
)

type Payload struct {
	Body [4000]byte // pointer-free, malloc-header size class
}

type Session struct {
	ID      int
	User    string
	Payload *Payload
	Prev    *Session
}

type Config struct {
	Name    string
	Workers int
}

const nSessions = 500

// sessions is the leak: nothing ever deletes from it.
var sessions = map[string]*Session{}

var config *Config

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func handle(i int, prev *Session) *Session {
	s := &Session{ID: i, User: fmt.Sprintf("user-%04d", i), Payload: &Payload{}, Prev: prev}
	s.Payload.Body[0] = byte(i)
	sessions[s.User] = s
	return s
}

func main() {
	config = &Config{Name: "demo", Workers: 4}
	var prev *Session
	for i := 0; i < nSessions; i++ {
		prev = handle(i, nil)
	}
	_ = prev

	m := manifest.New("demo")
	m.SetLive("main.Session", nSessions)
	m.SetLive("main.Payload", nSessions)
	m.SetLive("main.Config", 1)
	s := sessions["user-0042"]
	m.Sentinel(unsafe.Pointer(s), "main.Session", unsafe.Sizeof(*s), manifest.Global("main.sessions"),
		map[string]string{"ID": "42", "User": "user-0042"})
	m.Sentinel(unsafe.Pointer(s.Payload), "main.Payload", unsafe.Sizeof(*s.Payload), manifest.Global("main.sessions"), nil)
	m.Sentinel(unsafe.Pointer(config), "main.Config", unsafe.Sizeof(*config), manifest.Global("main.config"),
		map[string]string{"Name": "demo", "Workers": "4"})
	manifest.Finish(m, checkpoint)

	// Live mode, second stop: 100 more sessions leak, chained to each other.
	for i := nSessions; i < nSessions+100; i++ {
		prev = handle(i, prev)
	}
	m2 := manifest.New("demo")
	m2.Stop = 2
	m2.SetLive("main.Session", nSessions+100)
	m2.SetLive("main.Payload", nSessions+100)
	m2.SetLive("main.Config", 1)
	manifest.Finish(m2, checkpoint)
}
