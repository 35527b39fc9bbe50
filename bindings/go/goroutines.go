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
	// UserFrame is the index in Frames of the user frame: the first frame
	// not in the runtime, by Delve's rule (docs/api.md); -1 when every
	// frame is the runtime's (its own goroutines).
	UserFrame int
	// EntryFrame is the index in Frames of the function the goroutine
	// started in (below runtime.goexit and go-statement wrappers); -1
	// when it has no frames.
	EntryFrame int
	// Labels are its pprof labels sorted by key; LabelsError says why
	// they could not all be read ("" when they were).
	Labels      []Label
	LabelsError string
}

// Label is one pprof label of a goroutine (runtime/pprof.Do,
// SetGoroutineLabels).
type Label struct {
	Key, Value string
}

// Label gives the value of the goroutine's label key, and whether it has it.
func (g *Goroutine) Label(key string) (string, bool) {
	for _, l := range g.Labels {
		if l.Key == key {
			return l.Value, true
		}
	}
	return "", false
}

// User gives the user frame, nil when there is none (see UserFrame).
func (g *Goroutine) User() *Frame {
	if g.UserFrame < 0 || g.UserFrame >= len(g.Frames) {
		return nil
	}
	return &g.Frames[g.UserFrame]
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

// Goroutines gives every goroutine, system ones included, with its frames,
// sorted by id (as the goroutines command lists them).
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
		frame := func(call func(C.size_t, *C.size_t, *C.gh_err) C.int) (int, error) {
			var k C.size_t
			rc := call(C.size_t(i), &k, &cerr)
			if rc == C.GH_ENOENT {
				return -1, nil
			} else if rc != 0 {
				return -1, newError(rc, &cerr)
			}
			return int(k), nil
		}
		var err error
		if gr.UserFrame, err = frame(func(i C.size_t, k *C.size_t, e *C.gh_err) C.int {
			return C.gh_goroutine_user_frame(s.s, i, k, e)
		}); err != nil {
			return nil, err
		}
		if gr.EntryFrame, err = frame(func(i C.size_t, k *C.size_t, e *C.gh_err) C.int {
			return C.gh_goroutine_entry_frame(s.s, i, k, e)
		}); err != nil {
			return nil, err
		}
		var labels *C.gh_label
		var nl C.size_t
		var incomplete *C.char
		if rc := C.gh_goroutine_labels(s.s, C.size_t(i), &labels, &nl, &incomplete, &cerr); rc != 0 {
			return nil, newError(rc, &cerr)
		}
		for _, l := range unsafe.Slice(labels, int(nl)) {
			gr.Labels = append(gr.Labels, Label{Key: C.GoString(l.key), Value: C.GoString(l.value)})
		}
		gr.LabelsError = C.GoString(incomplete)
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

// GoroutineIndex gives the index in Goroutines of the goroutine with id
// id; ErrNotFound when there is none (or it is dead).
func (s *Session) GoroutineIndex(id int64) (int, error) {
	if err := s.lock(); err != nil {
		return -1, err
	}
	defer s.unlock()
	var i C.size_t
	var cerr C.gh_err
	if rc := C.gh_goroutine_index(s.s, C.int64_t(id), &i, &cerr); rc != 0 {
		return -1, newError(rc, &cerr)
	}
	return int(i), nil
}
