package goheap

/*
#include <stdlib.h>
#include <goheap/goheap.h>
*/
import "C"

import "unsafe"

// Retained is what one object keeps alive on its own: the objects it
// dominates in the live graph, itself included, in slot sizes.
type Retained struct {
	Object  Object
	Bytes   uint64 // 0 for garbage
	Objects uint64
	// Dominator is the address of the object's immediate dominator, 0 when
	// that is a root group or several roots together.
	Dominator uint64
	// DominatorRoot is, when a root group dominates the object, the index of
	// one of its roots (for Root); -1 otherwise.
	DominatorRoot int64
}

func goRetained(r *C.gh_retained) Retained {
	return Retained{Object: goObject(&r.object), Bytes: uint64(r.bytes), Objects: uint64(r.objects),
		Dominator: uint64(r.dominator), DominatorRoot: int64(r.dominator_root)}
}

// Retained says what the object holding addr retains. The first retention
// call on a session builds the dominator tree.
func (s *Session) Retained(addr uint64) (Retained, error) {
	if err := s.lock(); err != nil {
		return Retained{}, err
	}
	defer s.unlock()
	var r C.gh_retained
	var cerr C.gh_err
	if rc := C.gh_retained_get(s.s, C.uint64_t(addr), &r, &cerr); rc != 0 {
		return Retained{}, newError(rc, &cerr)
	}
	return goRetained(&r), nil
}

// Retainers lists the limit objects retaining the most, largest first.
func (s *Session) Retainers(limit int) ([]Retained, error) {
	if limit < 0 {
		return nil, &Error{Code: ErrArg, Msg: "retainers: negative limit"}
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var v *C.gh_retained
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_retainers(s.s, C.size_t(limit), &v, &n, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	defer C.gh_retainers_free(v)
	out := make([]Retained, 0, int(n))
	for i := range unsafe.Slice(v, int(n)) {
		out = append(out, goRetained(&unsafe.Slice(v, int(n))[i]))
	}
	return out, nil
}

// TypeRetained says what removing every live object of the named type would
// make unreachable. exact is false when only a lower bound was computed.
func (s *Session) TypeRetained(name string) (bytes, objects uint64, exact bool, err error) {
	if err := s.lock(); err != nil {
		return 0, 0, false, err
	}
	defer s.unlock()
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var b, o C.uint64_t
	var ex C.int
	var cerr C.gh_err
	if rc := C.gh_type_retained(s.s, cs, &b, &o, &ex, &cerr); rc != 0 {
		return 0, 0, false, newError(rc, &cerr)
	}
	return uint64(b), uint64(o), ex != 0, nil
}

// RootRetained says what the root group of root i (a global, a goroutine, a
// finalizer record) alone keeps alive.
func (s *Session) RootRetained(i int) (bytes, objects uint64, err error) {
	if err := s.lock(); err != nil {
		return 0, 0, err
	}
	defer s.unlock()
	var b, o C.uint64_t
	var cerr C.gh_err
	if rc := C.gh_root_retained(s.s, C.size_t(i), &b, &o, &cerr); rc != 0 {
		return 0, 0, newError(rc, &cerr)
	}
	return uint64(b), uint64(o), nil
}

func goRetainedList(v *C.gh_retained, n C.size_t) []Retained {
	out := make([]Retained, 0, int(n))
	for i := range unsafe.Slice(v, int(n)) {
		out = append(out, goRetained(&unsafe.Slice(v, int(n))[i]))
	}
	return out
}

// Dominated gives the dominator tree one level below the object holding
// addr: the objects it alone keeps alive with no other object between,
// largest retained first, up to limit of them (0: all), and how many there
// are. The object retains its own slot plus what they retain. Needs
// libgoheap 1.1.
func (s *Session) Dominated(addr uint64, limit int) ([]Retained, int, error) {
	if limit < 0 {
		return nil, 0, &Error{Code: ErrArg, Msg: "dominated: negative limit"}
	}
	if err := s.lock(); err != nil {
		return nil, 0, err
	}
	defer s.unlock()
	var v *C.gh_retained
	var n, total C.size_t
	var cerr C.gh_err
	if rc := C.gh_dominated(s.s, C.uint64_t(addr), C.size_t(limit), &v, &n, &total, &cerr); rc != 0 {
		return nil, 0, newError(rc, &cerr)
	}
	defer C.gh_retainers_free(v)
	return goRetainedList(v, n), int(total), nil
}

// RootDominated is Dominated below the root group of root i: the objects
// it alone keeps alive with no object between; they retain what
// RootRetained gives. Needs libgoheap 1.1.
func (s *Session) RootDominated(i int, limit int) ([]Retained, int, error) {
	if i < 0 || limit < 0 {
		return nil, 0, &Error{Code: ErrArg, Msg: "root dominated: negative root or limit"}
	}
	if err := s.lock(); err != nil {
		return nil, 0, err
	}
	defer s.unlock()
	var v *C.gh_retained
	var n, total C.size_t
	var cerr C.gh_err
	if rc := C.gh_root_dominated(s.s, C.size_t(i), C.size_t(limit), &v, &n, &total, &cerr); rc != 0 {
		return nil, 0, newError(rc, &cerr)
	}
	defer C.gh_retainers_free(v)
	return goRetainedList(v, n), int(total), nil
}
