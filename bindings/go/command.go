package goheap

/*
#include "bridge.h"
*/
import "C"

import "unsafe"

// Command is one of the goheap commands (heap, objects, paths, goroutines,
// ...) that Session.Run runs, as the command line and the debugger
// plugins offer them.
type Command struct {
	Name    string // "heap"
	Summary string // one line, "" when none
	Usage   string // "heap [--top N] [--json] ..."
}

// Commands lists the goheap commands.
func Commands() []Command {
	var cmds []Command
	for i := 0; ; i++ {
		var summary *C.char
		name := C.gh_command_name(C.size_t(i), &summary)
		if name == nil {
			return cmds
		}
		cmds = append(cmds, Command{
			Name:    C.GoString(name),
			Summary: C.GoString(summary),
			Usage:   C.GoString(C.gh_command_usage(C.size_t(i))),
		})
	}
}

// CommandHelp is the help text of one command, or of all of them when name
// is "".
func CommandHelp(name string) (string, error) {
	var cname *C.char
	if name != "" {
		cname = C.CString(name)
		defer C.free(unsafe.Pointer(cname))
	}
	var b C.goheap_buf
	var cerr C.gh_err
	rc := C.goheap_command_help(cname, &b, &cerr)
	out := takeBuf(&b)
	if rc != 0 {
		return out, newError(rc, &cerr)
	}
	return out, nil
}

// Run runs one goheap command on the session, args[0] being the command's
// name ("heap") and the rest its arguments, and returns its output, the
// text the command line prints (most commands take --json for JSON).
// "help" and "COMMAND --help" give help. On failure the output written
// before it is returned with the error. An interrupted command that can
// give a partial result (heap) returns it labelled and no error.
func (s *Session) Run(args ...string) (string, error) {
	if len(args) == 0 {
		return "", &Error{Code: ErrArg, Msg: "no command given"}
	}
	if err := s.lock(); err != nil {
		return "", err
	}
	defer s.unlock()
	mem := (**C.char)(C.calloc(C.size_t(len(args)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	if mem == nil {
		return "", &Error{Code: ErrNoMem, Msg: "out of memory"}
	}
	defer C.free(unsafe.Pointer(mem))
	argv := unsafe.Slice(mem, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	var b C.goheap_buf
	var cerr C.gh_err
	rc := C.goheap_command_run(s.s, C.int(len(args)), &argv[0], &b, &cerr)
	out := takeBuf(&b)
	if rc != 0 {
		return out, newError(rc, &cerr)
	}
	if b.oom != 0 {
		return out, &Error{Code: ErrNoMem, Msg: "out of memory for the command's output"}
	}
	return out, nil
}

// takeBuf copies a command's output into a Go string and frees it.
func takeBuf(b *C.goheap_buf) string {
	if b.p == nil {
		return ""
	}
	out := string(unsafe.Slice((*byte)(unsafe.Pointer(b.p)), int(b.n)))
	C.free(unsafe.Pointer(b.p))
	b.p = nil
	return out
}
