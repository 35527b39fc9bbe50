package goheap

/*
#include <goheap/goheap.h>
*/
import "C"

// Pending is one finalizer or cleanup of an object pending finalization:
// allocated, unreachable, with a finalizer (runtime.SetFinalizer) or a
// cleanup (runtime.AddCleanup). The next collection queues its finalizer
// and keeps the object until that ran, or frees it and queues its cleanup.
// Object.Live is false for it, and HeapSummary counts it as garbage.
type Pending struct {
	Object   Object
	Kind     RootKind // RootFinalizer or RootCleanup
	Function string   // the finalizer's or cleanup's function, "" when unnamed
	Record   uint64   // the runtime's record of it (its special's address)
	Root     int      // that record as a root: an index into Roots
}

func goPending(p *C.gh_pending_info) Pending {
	return Pending{Object: goObject(&p.object), Kind: RootKind(p.kind), Function: C.GoString(p.function),
		Record: uint64(p.record), Root: int(p.root)}
}

// PendingTotals gives the objects pending finalization and their bytes.
func (s *Session) PendingTotals() (objects, bytes uint64, err error) {
	if err := s.lock(); err != nil {
		return 0, 0, err
	}
	defer s.unlock()
	var n C.size_t
	var o, b C.uint64_t
	var cerr C.gh_err
	if rc := C.gh_pending_count(s.s, &n, &o, &b, &cerr); rc != 0 {
		return 0, 0, newError(rc, &cerr)
	}
	return uint64(o), uint64(b), nil
}

// Pending lists every finalizer and cleanup of the objects pending
// finalization, sorted by object (an object with several cleanups has
// several entries, next to each other).
func (s *Session) Pending() ([]Pending, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_pending_count(s.s, &n, nil, nil, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	v := make([]Pending, 0, int(n))
	for i := 0; i < int(n); i++ {
		var p C.gh_pending_info
		if rc := C.gh_pending_get(s.s, C.size_t(i), &p, &cerr); rc != 0 {
			return nil, newError(rc, &cerr)
		}
		v = append(v, goPending(&p))
	}
	return v, nil
}

// PendingAt gives the finalizers and cleanups of the object holding addr
// when it is pending finalization, nil when it is not; ErrNotFound when
// addr is in no allocated object.
func (s *Session) PendingAt(addr uint64) ([]Pending, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var first, n C.size_t
	var cerr C.gh_err
	if rc := C.gh_pending_find(s.s, C.uint64_t(addr), &first, &n, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	var v []Pending
	for i := first; i < first+n; i++ {
		var p C.gh_pending_info
		if rc := C.gh_pending_get(s.s, i, &p, &cerr); rc != 0 {
			return nil, newError(rc, &cerr)
		}
		v = append(v, goPending(&p))
	}
	return v, nil
}
