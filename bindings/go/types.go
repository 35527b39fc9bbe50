package goheap

/*
#include <goheap/goheap.h>
*/
import "C"

import "unsafe"

// TypeID identifies an object type in a session: 1 to TypeCount; 0 is
// "unknown".
type TypeID uint32

// Kind is Go's reflect kind of a type, or KindRuntime for a
// runtime-internal shape that has no Go type of its own (a map's buckets,
// a channel's hchan, a closure's context, a string's bytes).
type Kind int

// The kinds, numbered as reflect.Kind numbers them.
const (
	KindInvalid       Kind = C.GH_KIND_INVALID
	KindBool          Kind = C.GH_KIND_BOOL
	KindInt           Kind = C.GH_KIND_INT
	KindInt8          Kind = C.GH_KIND_INT8
	KindInt16         Kind = C.GH_KIND_INT16
	KindInt32         Kind = C.GH_KIND_INT32
	KindInt64         Kind = C.GH_KIND_INT64
	KindUint          Kind = C.GH_KIND_UINT
	KindUint8         Kind = C.GH_KIND_UINT8
	KindUint16        Kind = C.GH_KIND_UINT16
	KindUint32        Kind = C.GH_KIND_UINT32
	KindUint64        Kind = C.GH_KIND_UINT64
	KindUintptr       Kind = C.GH_KIND_UINTPTR
	KindFloat32       Kind = C.GH_KIND_FLOAT32
	KindFloat64       Kind = C.GH_KIND_FLOAT64
	KindComplex64     Kind = C.GH_KIND_COMPLEX64
	KindComplex128    Kind = C.GH_KIND_COMPLEX128
	KindArray         Kind = C.GH_KIND_ARRAY
	KindChan          Kind = C.GH_KIND_CHAN
	KindFunc          Kind = C.GH_KIND_FUNC
	KindInterface     Kind = C.GH_KIND_INTERFACE
	KindMap           Kind = C.GH_KIND_MAP
	KindPointer       Kind = C.GH_KIND_POINTER
	KindSlice         Kind = C.GH_KIND_SLICE
	KindString        Kind = C.GH_KIND_STRING
	KindStruct        Kind = C.GH_KIND_STRUCT
	KindUnsafePointer Kind = C.GH_KIND_UNSAFEPOINTER
	KindRuntime       Kind = C.GH_KIND_RUNTIME
)

// String is the kind's name: "struct", "map", "ptr", ..., "runtime".
func (k Kind) String() string {
	return C.GoString(C.gh_kind_name(C.int(k)))
}

// Type is an object type: one Go type repeated Count times (a []T's
// backing array of 8 T is T with Count 8), named as Go prints it.
type Type struct {
	ID        TypeID // 1..TypeCount
	Name      string // "main.Entry", "[8]*main.Node", "map.group[string]int"
	Kind      Kind   // of one value
	Size      uint64 // bytes of one value; 0 when unknown (closures, string bytes)
	Count     uint64 // values in one object of this type
	Rtype     uint64 // the runtime type descriptor's address, 0 when none
	NumFields int    // fields of one value when it is a struct
}

// Field is one field of a struct type.
type Field struct {
	Name     string // as declared ("ID")
	Offset   uint64 // in one value
	Size     uint64 // bytes
	Type     string // the field's type's name
	Kind     Kind   // the field's type's kind
	Embedded bool   // an embedded field
}

// TypeStat counts objects of one type.
type TypeStat struct {
	Type  TypeID // 0: unknown
	Name  string // "unknown<N>" for untyped objects of slot size N
	Count uint64 // objects
	Bytes uint64 // their slots' bytes
}

// TypeCount is the number of types: ids run 1..TypeCount. It marks the
// heap first.
func (s *Session) TypeCount() (int, error) {
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.unlock()
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_type_count(s.s, &n, &cerr); rc != 0 {
		return 0, newError(rc, &cerr)
	}
	return int(n), nil
}

// Type describes type id; ErrNotFound (or ErrArg) for an id that is none.
func (s *Session) Type(id TypeID) (Type, error) {
	if err := s.lock(); err != nil {
		return Type{}, err
	}
	defer s.unlock()
	return s.typeLocked(id)
}

func (s *Session) typeLocked(id TypeID) (Type, error) {
	var t C.gh_type
	var cerr C.gh_err
	if rc := C.gh_type_get(s.s, C.uint32_t(id), &t, &cerr); rc != 0 {
		return Type{}, newError(rc, &cerr)
	}
	return Type{
		ID: TypeID(t.id), Name: C.GoString(t.name), Kind: Kind(t.kind), Size: uint64(t.size),
		Count: uint64(t.count), Rtype: uint64(t.rtype), NumFields: int(t.nfields),
	}, nil
}

// Types describes every type: Types()[i] is type i+1. One call instead of
// TypeCount calls of Type, for tools that name many objects.
func (s *Session) Types() ([]Type, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_type_count(s.s, &n, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	types := make([]Type, 0, int(n))
	for id := 1; id <= int(n); id++ {
		t, err := s.typeLocked(TypeID(id))
		if err != nil {
			return nil, err
		}
		types = append(types, t)
	}
	return types, nil
}

// Fields gives the fields of one value of type id (none when it is not a
// struct).
func (s *Session) Fields(id TypeID) ([]Field, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	t, err := s.typeLocked(id)
	if err != nil {
		return nil, err
	}
	fields := make([]Field, 0, t.NumFields)
	for i := 0; i < t.NumFields; i++ {
		var f C.gh_type_field
		var cerr C.gh_err
		if rc := C.gh_type_field_get(s.s, C.uint32_t(id), C.size_t(i), &f, &cerr); rc != 0 {
			return nil, newError(rc, &cerr)
		}
		fields = append(fields, Field{
			Name: C.GoString(f.name), Offset: uint64(f.offset), Size: uint64(f.size),
			Type: C.GoString(f._type), Kind: Kind(f.kind), Embedded: f.embedded != 0,
		})
	}
	return fields, nil
}

// TypeStats counts the objects which selects per type, most bytes first
// (then most objects, then by name). Untyped objects are counted per slot
// size as "unknown<N>" with type 0.
func (s *Session) TypeStats(which Which) ([]TypeStat, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var v *C.gh_type_stat
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_type_stats(s.s, C.uint(which), &v, &n, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	defer C.gh_type_stats_free(v)
	stats := make([]TypeStat, 0, int(n))
	for _, st := range unsafe.Slice(v, int(n)) {
		stats = append(stats, TypeStat{
			Type: TypeID(st._type), Name: C.GoString(st.name), Count: uint64(st.count), Bytes: uint64(st.bytes),
		})
	}
	return stats, nil
}
