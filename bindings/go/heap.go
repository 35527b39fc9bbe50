package goheap

/*
#include <goheap/goheap.h>
*/
import "C"

import "runtime"

// HeapSummary sums up the heap: allocated slots, the live ones (reachable
// from a root), the garbage (allocated, unreachable), and the live ones
// whose type is known.
type HeapSummary struct {
	Objects, Bytes               uint64 // allocated slots, their bytes
	LiveObjects, LiveBytes       uint64 // reachable from a root
	GarbageObjects, GarbageBytes uint64 // allocated, unreachable
	TypedObjects, TypedBytes     uint64 // live ones whose type is known
	Spans, Arenas                uint64 // in-use spans, heap arenas
}

// HeapSummary marks the heap (on the first query) and sums it up.
func (s *Session) HeapSummary() (HeapSummary, error) {
	if err := s.lock(); err != nil {
		return HeapSummary{}, err
	}
	defer s.unlock()
	var h C.gh_heap_summary
	var cerr C.gh_err
	if rc := C.gh_heap_summary_get(s.s, &h, &cerr); rc != 0 {
		return HeapSummary{}, newError(rc, &cerr)
	}
	return HeapSummary{
		Objects: uint64(h.objects), Bytes: uint64(h.bytes),
		LiveObjects: uint64(h.live_objects), LiveBytes: uint64(h.live_bytes),
		GarbageObjects: uint64(h.garbage_objects), GarbageBytes: uint64(h.garbage_bytes),
		TypedObjects: uint64(h.typed_objects), TypedBytes: uint64(h.typed_bytes),
		Spans: uint64(h.spans), Arenas: uint64(h.arenas),
	}, nil
}

// HeapCoverage says what part of the heap the session's model holds. A
// truncated core (shorter than its program headers say) holds only the
// in-use spans whose record, pages and allocation bits survived the cut, and
// every count is over those. With ReachPartial, an object no root reached may
// be live through missing memory: what HeapSummary and ObjectsGarbage call
// garbage is then "not reached", and retained sizes fail. A whole core:
// Truncated false, Percent 100, Complete true, ReachPartial false.
type HeapCoverage struct {
	Truncated                        bool
	FileBytes, FileBytesExpected     uint64  // when truncated
	Percent                          float64 // of InUseSpanBytes the model holds
	Complete                         bool    // every in-use span is in the model
	ReachPartial                     bool    // roots or spans missing: not reached is not garbage
	InUseSpanBytes                   uint64  // the runtime's in-use span bytes
	ReadableSpanBytes, ReadableSpans uint64
	UnreadableSpans                  uint64 // record read, pages or allocation bits missing
	MissingSpanRecords               uint64
}

// HeapCoverage marks the heap (on the first query) and says how much of it
// the model holds.
func (s *Session) HeapCoverage() (HeapCoverage, error) {
	if err := s.lock(); err != nil {
		return HeapCoverage{}, err
	}
	defer s.unlock()
	var c C.gh_heap_coverage
	var cerr C.gh_err
	if rc := C.gh_heap_coverage_get(s.s, &c, &cerr); rc != 0 {
		return HeapCoverage{}, newError(rc, &cerr)
	}
	return HeapCoverage{
		Truncated: c.truncated != 0, FileBytes: uint64(c.file_bytes), FileBytesExpected: uint64(c.file_bytes_expected),
		Percent: float64(c.percent), Complete: c.complete != 0, ReachPartial: c.reach_partial != 0,
		InUseSpanBytes: uint64(c.in_use_span_bytes), ReadableSpanBytes: uint64(c.readable_span_bytes),
		ReadableSpans: uint64(c.readable_spans), UnreadableSpans: uint64(c.unreadable_spans),
		MissingSpanRecords: uint64(c.missing_span_records),
	}, nil
}

// ObjectID is an object's heap-wide slot number, stable for the session.
// Two typed sub-objects of one tiny block share their id.
type ObjectID uint32

// NoObject is the ObjectID of a pointer that points into no heap object.
const NoObject ObjectID = C.GH_NO_OBJECT

// Object is one allocated heap slot, or a typed sub-object of a tiny block.
type Object struct {
	Addr      uint64   // first byte (a tiny sub-object: its own first byte)
	Size      uint64   // the slot's size (a tiny sub-object: its type's size)
	ID        ObjectID // heap-wide slot number
	Type      TypeID   // 0 when unknown
	Live      bool     // reachable from a root
	SpanClass uint8    // the span's size class << 1 | noscan
	Tiny      bool     // a typed sub-object of a tiny block
}

func goObject(o *C.gh_object) Object {
	return Object{
		Addr: uint64(o.addr), Size: uint64(o.size), ID: ObjectID(o.id), Type: TypeID(o._type),
		Live: o.live != 0, SpanClass: uint8(o.span_class), Tiny: o.tiny != 0,
	}
}

// Which selects objects by liveness.
type Which uint

// The objects to iterate or count.
const (
	Live    Which = C.GH_OBJECTS_LIVE    // reachable from a root
	Garbage Which = C.GH_OBJECTS_GARBAGE // allocated but unreachable
	All     Which = C.GH_OBJECTS_ALL     // both
)

// ObjectAt gives the object holding addr, interior pointers included (in a
// tiny block, the typed sub-object holding it, else the block). It fails
// with ErrNotFound when addr is in no allocated object.
func (s *Session) ObjectAt(addr uint64) (Object, error) {
	if err := s.lock(); err != nil {
		return Object{}, err
	}
	defer s.unlock()
	var o C.gh_object
	var cerr C.gh_err
	if rc := C.gh_object_at(s.s, C.uint64_t(addr), &o, &cerr); rc != 0 {
		return Object{}, newError(rc, &cerr)
	}
	return goObject(&o), nil
}

// objectBatch is how many objects one call into C fetches.
const objectBatch = 1024

// ObjectIter walks objects in address order, a batch at a time:
//
//	it, err := s.Objects(goheap.Live)
//	if err != nil { ... }
//	defer it.Close()
//	for it.Next() {
//		o := it.Object()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
//
// The session's other methods may be called between calls of Next. An
// iterator is for one goroutine.
type ObjectIter struct {
	s    *Session
	it   *C.gh_object_iter
	buf  []C.gh_object
	n, i int
	cur  Object
	err  error
}

// Objects starts a walk over the objects which selects.
func (s *Session) Objects(which Which) (*ObjectIter, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var it *C.gh_object_iter
	var cerr C.gh_err
	if rc := C.gh_objects_begin(s.s, C.uint(which), &it, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	oi := &ObjectIter{s: s, it: it, buf: make([]C.gh_object, objectBatch)}
	runtime.SetFinalizer(oi, (*ObjectIter).Close)
	return oi, nil
}

// Next moves to the next object; false at the end or on an error (see
// Err), and the iterator is then closed.
func (it *ObjectIter) Next() bool {
	if it.i+1 < it.n {
		it.i++
		it.cur = goObject(&it.buf[it.i])
		return true
	}
	if it.it == nil {
		return false
	}
	if err := it.s.lock(); err != nil {
		it.err = err
		it.Close()
		return false
	}
	it.n = int(C.gh_objects_next(it.it, &it.buf[0], C.size_t(len(it.buf))))
	it.s.unlock()
	it.i = 0
	if it.n == 0 {
		it.Close()
		return false
	}
	it.cur = goObject(&it.buf[0])
	return true
}

// Object is the object Next moved to.
func (it *ObjectIter) Object() Object {
	return it.cur
}

// Err is the error that ended the walk early (the session was closed), or
// nil.
func (it *ObjectIter) Err() error {
	return it.err
}

// Close frees the iterator; Next then returns false. Safe to call more
// than once.
func (it *ObjectIter) Close() {
	if it.it != nil {
		C.gh_objects_end(it.it) // frees the iterator only: no need for the session
		it.it = nil
		it.n, it.i = 0, 0
		runtime.SetFinalizer(it, nil)
	}
}

// EachObject calls fn for each object which selects, in address order,
// until fn returns false. fn may call the session's other methods.
func (s *Session) EachObject(which Which, fn func(Object) bool) error {
	it, err := s.Objects(which)
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		if !fn(it.Object()) {
			return nil
		}
	}
	return it.Err()
}

// Edge is one non-nil pointer word of an object, as the garbage collector
// sees it.
type Edge struct {
	Offset uint64   // of the word, from the object's first byte
	Value  uint64   // the pointer
	Target ObjectID // the object it points into, NoObject when none
	Field  string   // ".Next", "[3].Name", "+16" when the type is unknown
}

// Edges gives all non-nil pointer words of object id, in offset order.
func (s *Session) Edges(id ObjectID) ([]Edge, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var edges []Edge
	buf := make([]C.gh_edge, 64)
	for {
		var cerr C.gh_err
		n := C.gh_object_edges(s.s, C.uint32_t(id), C.size_t(len(edges)), &buf[0], C.size_t(len(buf)), &cerr)
		if n < 0 {
			return nil, newError(n, &cerr)
		}
		for i := 0; i < int(n); i++ {
			e := &buf[i]
			edges = append(edges, Edge{
				Offset: uint64(e.offset), Value: uint64(e.value), Target: ObjectID(e.target),
				Field: C.GoString(&e.field[0]),
			})
		}
		if int(n) < len(buf) {
			return edges, nil
		}
		// Each page scans the object from its start: fewer, larger pages
		// for objects with many pointers.
		if len(buf) < 4096 {
			buf = make([]C.gh_edge, 4*len(buf))
		}
	}
}
