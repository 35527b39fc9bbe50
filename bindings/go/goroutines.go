package goheap

/*
#include <goheap/goheap.h>
*/
import "C"

import "unsafe"

// Goroutine is one goroutine of the target and its stack.
type Goroutine struct {
	Index       int    // position in Goroutines, for Variables
	ID          int64  // the goroutine id
	ParentID    int64  // the id of the goroutine that created it
	G           uint64 // address of the runtime.g
	Status      string // "waiting", "runnable", ...
	WaitReason  string // "chan receive"; "" when not waiting
	WaitMinutes int64  // as the runtime would print it, -1 when not known
	System      bool   // a runtime goroutine (not counted by runtime.NumGoroutine)
	Creator     string // "created by" function, "" when none
	CreatorFile string // where the go statement is
	CreatorLine int
	Frames      []Frame // innermost first; inlined calls are frames of their own
	Stop        string  // why the stack walk ended early, "" when it reached the top
}

// Frame is one frame of a goroutine's stack.
type Frame struct {
	Function string // as a traceback prints it
	File     string // source file and line
	Line     int
	Inlined  bool   // inlined into the next frame
	PC, SP   uint64 // of the physical frame (shared by the calls inlined into it)
}

// Variable is one live pointer of a goroutine's frames or registers, as
// the garbage collector scans it.
type Variable struct {
	// Frame is the index in Goroutine.Frames of the frame holding it (the
	// innermost, for an inlined call's), len(Frames) when it is in none.
	Frame        int
	Name         string   // the DWARF variable, a register, "(closure context)"; "" when unknown
	Addr         uint64   // the word; 0 for a register
	Value        uint64   // the pointer
	Target       ObjectID // the object it points into, NoObject when none
	Type         string   // the target's type name, "" when unknown
	Conservative bool     // a conservatively scanned word (an unknown frame layout)
}

// Goroutines gives every goroutine, system ones included, with its frames.
func (s *Session) Goroutines() ([]Goroutine, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_goroutine_count(s.s, &n, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	gs := make([]Goroutine, 0, int(n))
	for i := 0; i < int(n); i++ {
		var g C.gh_goroutine_info
		if rc := C.gh_goroutine_get(s.s, C.size_t(i), &g, &cerr); rc != 0 {
			return nil, newError(rc, &cerr)
		}
		gr := Goroutine{
			Index: i, ID: int64(g.id), ParentID: int64(g.parent_id), G: uint64(g.g),
			Status: C.GoString(g.status), WaitReason: C.GoString(g.wait_reason),
			WaitMinutes: int64(g.wait_minutes), System: g.system != 0,
			Creator: C.GoString(g.creator), CreatorFile: C.GoString(g.creator_file),
			CreatorLine: int(g.creator_line), Stop: C.GoString(g.stop),
			Frames: make([]Frame, 0, int(g.nframes)),
		}
		for f := 0; f < int(g.nframes); f++ {
			var fr C.gh_frame_info
			if rc := C.gh_goroutine_frame(s.s, C.size_t(i), C.size_t(f), &fr, &cerr); rc != 0 {
				return nil, newError(rc, &cerr)
			}
			gr.Frames = append(gr.Frames, Frame{
				Function: C.GoString(fr.function), File: C.GoString(fr.file), Line: int(fr.line),
				Inlined: fr.inlined != 0, PC: uint64(fr.pc), SP: uint64(fr.sp),
			})
		}
		gs = append(gs, gr)
	}
	return gs, nil
}

// Variables gives the pointer words of the frames and registers of
// goroutine i (Goroutine.Index, an index into Goroutines, not its id).
func (s *Session) Variables(i int) ([]Variable, error) {
	if i < 0 {
		return nil, &Error{Code: ErrNotFound, Msg: "no goroutine with a negative index"}
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var v *C.gh_variable
	var n C.size_t
	var cerr C.gh_err
	if rc := C.gh_goroutine_variables(s.s, C.size_t(i), &v, &n, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	defer C.gh_variables_free(v)
	vars := make([]Variable, 0, int(n))
	for _, cv := range unsafe.Slice(v, int(n)) {
		vars = append(vars, Variable{
			Frame: int(cv.frame), Name: C.GoString(cv.name), Addr: uint64(cv.addr), Value: uint64(cv.value),
			Target: ObjectID(cv.target), Type: C.GoString(cv._type), Conservative: cv.conservative != 0,
		})
	}
	return vars, nil
}
