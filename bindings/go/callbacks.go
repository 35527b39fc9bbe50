package goheap

/*
#include "bridge.h"
*/
import "C"

import "runtime/cgo"

// callbacks are a session's Go callbacks, reached from C through the
// session's cgo.Handle. They run on the goroutine that made the call into
// C, while it holds the session.
type callbacks struct {
	interrupt func() bool
	progress  func(phase string, done, total uint64)
	panicked  any // a callback's recovered panic, raised again by unlock
}

// SetInterrupt sets a function long calls ask every thousand objects or so
// whether to stop; when it returns true the call returns ErrInterrupted.
// nil removes it. It runs on the goroutine that made the call, while that
// call holds the session: it must not call the session's methods (except
// Interrupt). A panic in it stops the call and is raised again in the
// caller when the call returns. Interrupt and InterruptOn are the cheaper
// way when another goroutine decides.
func (s *Session) SetInterrupt(fn func() bool) {
	if s.lock() != nil {
		return
	}
	defer s.unlock()
	s.cb.interrupt = fn
	if fn == nil {
		C.goheap_set_interrupt(s.s, 0)
		return
	}
	C.goheap_set_interrupt(s.s, C.uintptr_t(s.callbackHandle()))
}

// SetProgress sets a function told how far long phases got ("loading
// heap", "collecting roots", "marking", "indexing references"): at most ten
// times a second, never for a phase shorter than a quarter second, and
// last with done == total when it was told anything. total is 0 when
// unknown. nil removes it. The same rules as for SetInterrupt's function
// apply: no calls on the session from it; a panic is raised again in the
// caller.
func (s *Session) SetProgress(fn func(phase string, done, total uint64)) {
	if s.lock() != nil {
		return
	}
	defer s.unlock()
	s.cb.progress = fn
	if fn == nil {
		C.goheap_set_progress(s.s, 0)
		return
	}
	C.goheap_set_progress(s.s, C.uintptr_t(s.callbackHandle()))
}

// callbackHandle is the session's handle for C, made on first use. The
// caller holds the session.
func (s *Session) callbackHandle() cgo.Handle {
	if s.handle == 0 {
		s.handle = cgo.NewHandle(s.cb)
	}
	return s.handle
}

//export goheapInterrupt
func goheapInterrupt(h C.uintptr_t) (stop C.int) {
	cb := cgo.Handle(h).Value().(*callbacks)
	if cb.panicked != nil {
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			cb.panicked = r
			stop = 1
		}
	}()
	if cb.interrupt != nil && cb.interrupt() {
		return 1
	}
	return 0
}

//export goheapProgress
func goheapProgress(h C.uintptr_t, phase *C.char, done, total C.uint64_t) {
	cb := cgo.Handle(h).Value().(*callbacks)
	if cb.panicked != nil || cb.progress == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			cb.panicked = r
		}
	}()
	cb.progress(C.GoString(phase), uint64(done), uint64(total))
}
