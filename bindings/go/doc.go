// Package goheap is a Go binding of libgoheap, the C library that reads the
// heap of a Go program from a core file or a live process: which objects are
// live, of what type, and what keeps them alive.
//
// Open a core with [Open] (or a live process with [OpenPID]) to get a
// [Session]; ask it for the heap ([Session.HeapSummary], [Session.TypeStats],
// [Session.Objects], [Session.ObjectAt], [Session.Edges]), the types
// ([Session.Type], [Session.Fields]), the roots ([Session.Roots],
// [Session.RootWords]), why an object is live ([Session.Paths]), the
// goroutines sorted by id with their user frames and pprof labels
// ([Session.Goroutines], [Session.GoroutineIndex], [Session.Variables]),
// what holds the memory ([Session.Retained], [Session.Retainers],
// [Session.Dominated], [Session.RootDominated]),
// objects pending finalization ([Session.Pending], [Session.PendingAt]),
// the process's own memory profile ([Session.Profile], [Session.AllocStack])
// and memory by class ([Session.Breakdown]); run any goheap command with
// [Session.Run]; then [Session.Close] it. The goroutines' user and entry
// frames, labels, the dominator tree's children, pending objects and the
// profile need libgoheap 1.1.
//
// The package is built with cgo and finds the library through pkg-config
// (package goheap): set PKG_CONFIG_PATH to the installed prefix's
// lib/pkgconfig, and make libgoheap.so.1 findable at run time
// (LD_LIBRARY_PATH, or CGO_LDFLAGS=-Wl,-rpath,PREFIX/lib when building).
//
// Every call that can fail returns an *[Error] carrying libgoheap's code
// (GH_E*) and its one-line message; compare codes with errors.Is, for
// example errors.Is(err, goheap.ErrNotFound). Strings are copied into Go
// memory before a call returns, and everything the C library allocates is
// freed before it returns, so results stay valid after the session is
// closed.
//
// A Session may be used from several goroutines: calls are serialized by a
// mutex (the C session is not thread-safe). [Session.Interrupt] is the one
// call that does not wait for a running call: it asks it to stop.
package goheap
