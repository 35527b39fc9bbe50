package goheap

/*
#cgo pkg-config: goheap
#include <stdlib.h>
#include <goheap/goheap.h>
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"
)

// HeaderVersion is the version of the libgoheap headers this package was
// compiled against, as major*10000 + minor*100 + patch. Compare it with
// [VersionParts] to tell a program built against one release and run with
// another.
const HeaderVersion = C.GOHEAP_VERSION_NUMBER

// Version is the version string of the libgoheap loaded at run time
// ("1.0.0").
func Version() string {
	return C.GoString(C.gh_version(nil, nil, nil))
}

// VersionParts is the version of the libgoheap loaded at run time as
// numbers.
func VersionParts() (major, minor, patch int) {
	var ma, mi, pa C.int
	C.gh_version(&ma, &mi, &pa)
	return int(ma), int(mi), int(pa)
}

// Session is one open target (a core file or a live process) with the
// models libgoheap builds from it: the heap, the roots, and the object
// graph. Models are built on first use and kept until the session is
// closed. Its methods may be called from several goroutines; they run one
// at a time. Close it when done: it holds the core's mappings. On a closed
// session, methods that return an error fail with ErrArg, the others
// return zero values.
type Session struct {
	mu sync.Mutex // serializes calls into the C session
	s  *C.gh_session

	// flag is libgoheap's interrupt flag (C memory, set by Interrupt
	// without taking mu); flagMu guards the pointer against Close.
	flagMu sync.Mutex
	flag   *C.int

	// Go callbacks (SetInterrupt, SetProgress): cb is reached from C
	// through the handle, made when a callback is first set. The handle
	// holds cb, not the session, so that a session nobody holds is still
	// finalized.
	cb     *callbacks
	handle cgo.Handle

	// For a process opened with attach: gh_close must run on the thread
	// that attached (ptrace), which a goroutine holds locked. closeReq
	// asks that goroutine to close the session; closed says it did.
	closeReq chan struct{}
	closed   chan struct{}
}

// Open opens a core file. exe is the executable that dumped it; when ""
// it is found from the core's notes (its path at the time of the dump).
// The executable must be the one that dumped (its Go build id is checked).
func Open(core, exe string) (*Session, error) {
	ccore := C.CString(core)
	defer C.free(unsafe.Pointer(ccore))
	var cexe *C.char
	if exe != "" {
		cexe = C.CString(exe)
		defer C.free(unsafe.Pointer(cexe))
	}
	var cs *C.gh_session
	var cerr C.gh_err
	rc := C.gh_open_core(ccore, cexe, &cs, &cerr)
	if rc != 0 {
		return nil, newError(rc, &cerr)
	}
	return newSession(cs), nil
}

// OpenPID opens the live process pid through /proc/PID. With attach, the
// process is attached with ptrace and all its threads are stopped until
// Close (the attaching thread is held by a goroutine of this package for
// the session's life, since ptrace ties the process to it). Without
// attach, the process must already be stopped (a debugger holds it) and
// only its memory is read; its threads' registers are then unknown, so
// goroutines that were running when it stopped may lack roots.
func OpenPID(pid int, attach bool) (*Session, error) {
	if !attach {
		var cs *C.gh_session
		var cerr C.gh_err
		rc := C.gh_open_pid(C.int(pid), 0, nil, 0, &cs, &cerr)
		if rc != 0 {
			return nil, newError(rc, &cerr)
		}
		return newSession(cs), nil
	}
	type result struct {
		cs  *C.gh_session
		err error
	}
	res := make(chan result)
	closeReq := make(chan struct{})
	closed := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var cs *C.gh_session
		var cerr C.gh_err
		rc := C.gh_open_pid(C.int(pid), C.GH_OPEN_ATTACH, nil, 0, &cs, &cerr)
		if rc != 0 {
			res <- result{err: newError(rc, &cerr)}
			return
		}
		res <- result{cs: cs}
		<-closeReq
		C.gh_close(cs)
		close(closed)
	}()
	r := <-res
	if r.err != nil {
		return nil, r.err
	}
	s := newSession(r.cs)
	s.closeReq, s.closed = closeReq, closed
	return s, nil
}

func newSession(cs *C.gh_session) *Session {
	s := &Session{s: cs, cb: &callbacks{}}
	s.flag = (*C.int)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int(0)))))
	if s.flag != nil {
		C.gh_set_interrupt_flag(cs, (*C.int)(s.flag))
	}
	runtime.SetFinalizer(s, (*Session).Close)
	return s
}

// Close closes the target and frees everything the session holds. It is
// safe to call more than once; later calls on the session fail with
// ErrArg.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil {
		return nil
	}
	runtime.SetFinalizer(s, nil)
	if s.closeReq != nil {
		close(s.closeReq)
		<-s.closed
	} else {
		C.gh_close(s.s)
	}
	s.s = nil
	if s.handle != 0 {
		s.handle.Delete()
		s.handle = 0
	}
	s.flagMu.Lock()
	C.free(unsafe.Pointer(s.flag))
	s.flag = nil
	s.flagMu.Unlock()
	return nil
}

// lock takes the session for one call; it fails on a closed session.
// Every successful lock is paired with unlock.
func (s *Session) lock() error {
	s.mu.Lock()
	if s.s == nil {
		s.mu.Unlock()
		return errClosed()
	}
	return nil
}

// unlock releases the session, and passes on a panic a Go callback raised
// while C code ran (the callback's panic was recovered before it could
// unwind through C).
func (s *Session) unlock() {
	p := s.cb.panicked
	s.cb.panicked = nil
	s.mu.Unlock()
	if p != nil {
		panic(p)
	}
}

// Description is what the session calls itself in output ("core /x/core",
// "process 1234").
func (s *Session) Description() string {
	if s.lock() != nil {
		return ""
	}
	defer s.unlock()
	return C.GoString(C.gh_description(s.s))
}

// SetDescription sets what the session calls itself in command output.
func (s *Session) SetDescription(desc string) {
	if s.lock() != nil {
		return
	}
	defer s.unlock()
	cdesc := C.CString(desc)
	defer C.free(unsafe.Pointer(cdesc))
	C.gh_set_description(s.s, cdesc)
}

// IndexMode says what a session does with the graph index of a core (see
// SetIndex).
type IndexMode int

const (
	// IndexDefault: GOHEAP_INDEX (off, auto, always), else auto.
	IndexDefault IndexMode = C.GH_INDEX_DEFAULT
	// IndexOff: neither load nor save (a session's default).
	IndexOff IndexMode = C.GH_INDEX_OFF
	// IndexAuto: load; save graphs that took a second or more to build.
	IndexAuto IndexMode = C.GH_INDEX_AUTO
	// IndexAlways: load; save every graph.
	IndexAlways IndexMode = C.GH_INDEX_ALWAYS
)

// SetIndex turns on the graph index: the object graph of a core (what
// marking and typing found) saved to a file in dir after it is built, and
// loaded instead of built when the same core is opened again with the same
// executable and the same libgoheap. dir "" is GOHEAP_INDEX_DIR, else
// $XDG_CACHE_HOME/goheap, else ~/.cache/goheap. Call it before the first
// query.
func (s *Session) SetIndex(mode IndexMode, dir string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	var cdir *C.char
	if dir != "" {
		cdir = C.CString(dir)
		defer C.free(unsafe.Pointer(cdir))
	}
	var cerr C.gh_err
	if rc := C.gh_set_index(s.s, C.int(mode), cdir, &cerr); rc != 0 {
		return newError(rc, &cerr)
	}
	return nil
}

// IndexStatus says what the graph index did in this session ("loaded
// PATH", "saved PATH", "not used PATH: why", "not saved: why"), or "" when
// it was not asked.
func (s *Session) IndexStatus() string {
	if s.lock() != nil {
		return ""
	}
	defer s.unlock()
	return C.GoString(C.gh_index_status(s.s))
}

// Warnings are the library's warnings about the target: a truncated core,
// a Go release newer than the newest libgoheap was tested with. Nil when
// there are none.
func (s *Session) Warnings() []string {
	if s.lock() != nil {
		return nil
	}
	defer s.unlock()
	var w []string
	for i := 0; ; i++ {
		p := C.gh_warning(s.s, C.size_t(i))
		if p == nil {
			return w
		}
		w = append(w, C.GoString(p))
	}
}

// GoVersion is the Go release of the target as its binary states it
// ("go1.25.14 X:greenteagc"); "" on a closed session.
func (s *Session) GoVersion() string {
	if s.lock() != nil {
		return ""
	}
	defer s.unlock()
	return C.GoString(C.gh_go_version(s.s, nil, nil, nil))
}

// GoRelease is the target's Go release as numbers (1, 25, 14).
func (s *Session) GoRelease() (major, minor, patch int) {
	if s.lock() != nil {
		return 0, 0, 0
	}
	defer s.unlock()
	var ma, mi, pa C.int
	C.gh_go_version(s.s, &ma, &mi, &pa)
	return int(ma), int(mi), int(pa)
}

// Executable is the path of the target's executable.
func (s *Session) Executable() string {
	if s.lock() != nil {
		return ""
	}
	defer s.unlock()
	return C.GoString(C.gh_executable(s.s))
}

// HeapLoads is how many times the heap model was built in this session:
// 1 after the first query of a core.
func (s *Session) HeapLoads() int {
	if s.lock() != nil {
		return 0
	}
	defer s.unlock()
	return int(C.gh_heap_loads(s.s))
}

// Interrupt asks the call running on the session (from another goroutine)
// to stop: long phases (loading the heap, marking, indexing, paths) then
// return ErrInterrupted. The request stays in force, so every later long
// call fails the same way, until ClearInterrupt. Unlike every other
// method, Interrupt does not wait for the running call.
func (s *Session) Interrupt() {
	s.flagMu.Lock()
	defer s.flagMu.Unlock()
	if s.flag != nil {
		atomic.StoreInt32((*int32)(unsafe.Pointer(s.flag)), 1)
	}
}

// ClearInterrupt withdraws an Interrupt: later calls run again. A model
// whose building was interrupted is built anew on the next call.
func (s *Session) ClearInterrupt() {
	s.flagMu.Lock()
	defer s.flagMu.Unlock()
	if s.flag != nil {
		atomic.StoreInt32((*int32)(unsafe.Pointer(s.flag)), 0)
	}
}

// InterruptOn calls Interrupt when ctx is done (at once if it is done
// already). The returned stop function detaches ctx again, as with
// context.AfterFunc; it does not clear an interrupt already made.
func (s *Session) InterruptOn(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, s.Interrupt)
}
