package goheap

/*
#include <goheap/goheap.h>
*/
import "C"

// Profile is the process's own heap profile read from the target (the
// runtime's memory-profile buckets and the record it puts on each sampled
// object), with how many sampled objects are live now. With
// runtime.MemProfileRate 1 every allocation is sampled and the counts are
// exact; otherwise they are samples.
type Profile struct {
	Rate           int64 // runtime.MemProfileRate; -1 when unreadable
	Disabled       bool  // the linker turned sampling off (the program never asks for a profile)
	LiveObjects    uint64
	LiveBytes      uint64 // sampled objects reachable now
	SampledObjects uint64
	SampledBytes   uint64 // sampled objects still allocated
	Note           string // the first trouble met reading it, "" when none
	Sites          []Site
	Stacks         []ProfileStack
}

// Site is an allocation site: the first frame of its stacks outside the
// runtime, as pprof shows heap profiles.
type Site struct {
	Function, File string
	Line           int
	PC             uint64
	Stacks         []int // indexes into Profile.Stacks
	LiveObjects    uint64
	LiveBytes      uint64 // sampled, reachable now
	SampledObjects uint64
	SampledBytes   uint64 // sampled, still allocated
	AllocObjects   uint64
	AllocBytes     uint64 // as runtime.MemProfile publishes them (as of the last GC)
	FreeObjects    uint64
	FreeBytes      uint64
}

// ProfileStack is one allocation stack (per stack and object size).
type ProfileStack struct {
	Index          int // in Profile.Stacks
	Site           int // index into Profile.Sites
	Size           uint64
	LiveObjects    uint64
	SampledObjects uint64
	AllocObjects   uint64
	FreeObjects    uint64
	Frames         []Frame // innermost first, the runtime's own included (SP 0)
	User           int     // index in Frames of the first frame outside the runtime (the site's)
}

func (s *Session) profileStack(k int, cerr *C.gh_err) (ProfileStack, error) {
	var st C.gh_profile_stack
	if rc := C.gh_profile_stack_get(s.s, C.size_t(k), &st, cerr); rc != 0 {
		return ProfileStack{}, newError(rc, cerr)
	}
	ps := ProfileStack{Index: k, Site: int(st.site), Size: uint64(st.size), LiveObjects: uint64(st.live_objects),
		SampledObjects: uint64(st.sampled_objects), AllocObjects: uint64(st.alloc_objects),
		FreeObjects: uint64(st.free_objects), User: int(st.user), Frames: make([]Frame, 0, int(st.nframes))}
	var buf [64]C.gh_frame_info
	for {
		w := C.gh_profile_stack_frames(s.s, C.size_t(k), C.size_t(len(ps.Frames)), &buf[0], C.size_t(len(buf)), cerr)
		if w < 0 {
			return ProfileStack{}, newError(w, cerr)
		}
		for _, f := range buf[:int(w)] {
			ps.Frames = append(ps.Frames, Frame{Function: C.GoString(f.function), File: C.GoString(f.file),
				Line: int(f.line), Inlined: f.inlined != 0, PC: uint64(f.pc)})
		}
		if int(w) < len(buf) {
			return ps, nil
		}
	}
}

// Profile reads the heap profile with its sites and stacks (the graph is
// marked first). ErrUnsupported when the binary has no symbol table.
func (s *Session) Profile() (*Profile, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var pi C.gh_profile_info
	var cerr C.gh_err
	if rc := C.gh_profile_get(s.s, &pi, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	p := &Profile{Rate: int64(pi.rate), Disabled: pi.disabled != 0, LiveObjects: uint64(pi.live_objects),
		LiveBytes: uint64(pi.live_bytes), SampledObjects: uint64(pi.sampled_objects),
		SampledBytes: uint64(pi.sampled_bytes), Note: C.GoString(pi.note)}
	for i := 0; i < int(pi.nsites); i++ {
		var x C.gh_site
		if rc := C.gh_site_get(s.s, C.size_t(i), &x, &cerr); rc != 0 {
			return nil, newError(rc, &cerr)
		}
		p.Sites = append(p.Sites, Site{Function: C.GoString(x.function), File: C.GoString(x.file), Line: int(x.line),
			PC: uint64(x.pc), LiveObjects: uint64(x.live_objects), LiveBytes: uint64(x.live_bytes),
			SampledObjects: uint64(x.sampled_objects), SampledBytes: uint64(x.sampled_bytes),
			AllocObjects: uint64(x.alloc_objects), AllocBytes: uint64(x.alloc_bytes),
			FreeObjects: uint64(x.free_objects), FreeBytes: uint64(x.free_bytes)})
	}
	for k := 0; k < int(pi.nstacks); k++ {
		st, err := s.profileStack(k, &cerr)
		if err != nil {
			return nil, err
		}
		if st.Site >= 0 && st.Site < len(p.Sites) {
			p.Sites[st.Site].Stacks = append(p.Sites[st.Site].Stacks, k)
		}
		p.Stacks = append(p.Stacks, st)
	}
	return p, nil
}

// AllocStack gives the allocation stack of the object holding addr when
// the runtime sampled it, nil when it did not; ErrNotFound when addr is in
// no allocated object, ErrUnsupported when the binary has no symbol table.
func (s *Session) AllocStack(addr uint64) (*ProfileStack, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.unlock()
	var k C.size_t
	var cerr C.gh_err
	if rc := C.gh_object_alloc_stack(s.s, C.uint64_t(addr), &k, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	if k == C.GH_NO_STACK {
		return nil, nil
	}
	st, err := s.profileStack(int(k), &cerr)
	if err != nil {
		return nil, err
	}
	return &st, nil
}
