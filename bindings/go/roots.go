package goheap

/*
#include <goheap/goheap.h>
*/
import "C"

import "unsafe"

// RootKind is the kind of a root.
type RootKind int

// The kinds of roots.
const (
	RootGlobal    RootKind = C.GH_ROOT_GLOBAL    // a package-level variable (data, bss)
	RootStack     RootKind = C.GH_ROOT_STACK     // a goroutine's frame, or its registers
	RootFinalizer RootKind = C.GH_ROOT_FINALIZER // a finalizer: the object's referents and the function
	RootCleanup   RootKind = C.GH_ROOT_CLEANUP   // a cleanup: its function and argument
	RootRuntime   RootKind = C.GH_ROOT_RUNTIME   // anything else the runtime holds
)

// String is the kind's name: "global", "stack", "finalizer", "cleanup",
// "runtime".
func (k RootKind) String() string {
	return C.GoString(C.gh_root_kind_str(C.int(k)))
}

// Root is a region the garbage collector scans first: a global, a
// goroutine's frame or registers, a finalizer or cleanup record.
type Root struct {
	Kind RootKind // global, stack, finalizer, cleanup, runtime
	// Name: a global's Go variable ("main.Index") or ELF symbol; a
	// finalizer's or cleanup's function; "" when unnamed.
	Name         string
	Goroutine    int64  // stack: the goroutine id; -1 otherwise
	Function     string // stack: the frame's function
	Variable     string // stack: the variable, where DWARF names it
	Addr, Size   uint64 // the region in target memory; Addr 0 for registers
	Registers    bool   // a goroutine's registers, not memory
	Conservative bool   // every word counts when it points into an object
	Object       uint64 // finalizer: the object it is set on (not kept alive by it)
}

func goRoot(r *C.gh_root_info) Root {
	return Root{
		Kind: RootKind(r.kind), Name: C.GoString(r.name), Goroutine: int64(r.goroutine),
		Function: C.GoString(r.function), Variable: C.GoString(r.variable),
		Addr: uint64(r.addr), Size: uint64(r.size), Registers: r.registers != 0,
		Conservative: r.conservative != 0, Object: uint64(r.object),
	}
}

// Roots gives every root; RootWords takes an index into it.
func (s *Session) Roots() ([]Root, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_root_count(s.s, &n, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	roots := make([]Root, 0, int(n))
	for i := 0; i < int(n); i++ {
		var r C.gh_root_info
		if rc := C.gh_root_get(s.s, C.size_t(i), &r, &cerr); rc != 0 {
			return nil, newError(rc, &cerr)
		}
		roots = append(roots, goRoot(&r))
	}
	return roots, nil
}

// RootWord is one non-zero pointer word of a root.
type RootWord struct {
	Addr   uint64   // where it is (0 for a register)
	Value  uint64   // the pointer
	Target ObjectID // the object it points into, NoObject when none
}

// RootWords gives the non-zero pointer words of root i (an index into
// Roots).
func (s *Session) RootWords(i int) ([]RootWord, error) {
	if i < 0 {
		return nil, &Error{Code: ErrNotFound, Msg: "no root with a negative index"}
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var words []RootWord
	buf := make([]C.gh_root_word, 1024)
	for {
		var cerr C.gh_err
		n := C.gh_root_words(s.s, C.size_t(i), C.size_t(len(words)), &buf[0], C.size_t(len(buf)), &cerr)
		if n < 0 {
			return nil, newError(n, &cerr)
		}
		for _, w := range buf[:int(n)] {
			words = append(words, RootWord{Addr: uint64(w.addr), Value: uint64(w.value), Target: ObjectID(w.target)})
		}
		if int(n) < len(buf) {
			return words, nil
		}
	}
}

// Hop is one step of a path: a heap object, or a note on the way.
type Hop struct {
	Addr, Size uint64   // the object's first byte and size
	ID         ObjectID // the object; NoObject for a note hop
	Type       string   // the object's type's name
	Field      string   // of the previous hop (or the root) that points here; "" when unknown
	// Note describes a hop that is not a heap object on the way: a
	// finalizer's object (not kept alive by it) or static data; "" for an
	// object.
	Note string
}

// Path is how an object is kept alive: a root, and the hops from it, the
// root side first and the object last.
type Path struct {
	Root Root  // where the path starts
	Hops []Hop // the root side first, the object last
}

// Paths says how the object holding addr is kept alive: the shortest path
// from any root first, then up to max-1 more, each from a different root.
// It is empty when the object is garbage, and fails with ErrNotFound when
// addr is in no object.
func (s *Session) Paths(addr uint64, max int) ([]Path, error) {
	if max < 1 {
		return nil, &Error{Code: ErrArg, Msg: "paths: max must be at least 1"}
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var p *C.gh_path
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_paths(s.s, C.uint64_t(addr), C.size_t(max), &p, &n, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	defer C.gh_paths_free(p, n)
	paths := make([]Path, 0, int(n))
	for _, cp := range unsafe.Slice(p, int(n)) {
		path := Path{Root: goRoot(&cp.root), Hops: make([]Hop, 0, int(cp.nhops))}
		for _, h := range unsafe.Slice(cp.hops, int(cp.nhops)) {
			path.Hops = append(path.Hops, Hop{
				Addr: uint64(h.addr), Size: uint64(h.size), ID: ObjectID(h.id),
				Type: C.GoString(h._type), Field: C.GoString(h.field), Note: C.GoString(h.note),
			})
		}
		paths = append(paths, path)
	}
	return paths, nil
}
