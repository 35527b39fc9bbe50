package goheap

/*
#include <goheap/goheap.h>
*/
import "C"

// Code is one of libgoheap's error codes (GH_E* in common.h): zero for
// success, negative for a failure. A Code is also an error, so that
// errors.Is(err, goheap.ErrNotFound) matches any *Error with that code.
type Code int

// The library's error codes. New codes may be added in a minor release of
// libgoheap; treat an unknown negative value as a failure with its message.
const (
	OK             Code = C.GH_OK       // success
	ErrIO          Code = C.GH_EIO      // a file cannot be opened, read or mapped
	ErrFormat      Code = C.GH_EFORMAT  // input is not what it claims: not ELF, not a core, corrupt, truncated
	ErrNotGo       Code = C.GH_ENOTGO   // not a Go program
	ErrVersion     Code = C.GH_EVERSION // a Go release goheap does not support
	ErrMem         Code = C.GH_EMEM     // target memory is not readable at an address
	ErrNoMem       Code = C.GH_ENOMEM   // out of host memory
	ErrArg         Code = C.GH_EARG     // a bad argument from the caller (or a closed session)
	ErrInterrupted Code = C.GH_EINTR    // interrupted (see Session.Interrupt and Session.SetInterrupt)
	ErrUnsupported Code = C.GH_EUNSUPP  // not supported for this input
	ErrNotFound    Code = C.GH_ENOENT   // no such object, type, root or goroutine
)

// String is the library's short description of the code
// ("target memory not readable").
func (c Code) String() string {
	return C.GoString(C.gh_strerror(C.int(c)))
}

// Error makes a Code usable as an error value of its own, for errors.Is.
func (c Code) Error() string {
	return "goheap: " + c.String()
}

// Error is a failed call: the library's code and its one-line message
// ("core.123: truncated: segment 4 ends past the file").
type Error struct {
	Code Code   // the GH_E* code, negative
	Msg  string // the one-line message, naming the problem
}

// Error gives the message, prefixed with "goheap: ".
func (e *Error) Error() string {
	if e.Msg == "" {
		return "goheap: " + e.Code.String()
	}
	return "goheap: " + e.Msg
}

// Unwrap gives the code, so that errors.Is(err, goheap.ErrIO) is true for
// an *Error with code ErrIO.
func (e *Error) Unwrap() error {
	return e.Code
}

// newError turns a failed call's return code and gh_err into an *Error.
func newError(rc C.int, err *C.gh_err) error {
	msg := C.GoString(&err.msg[0])
	code := Code(rc)
	if code == OK {
		code = Code(err.code)
	}
	return &Error{Code: code, Msg: msg}
}

// errClosed is what a call on a closed Session returns.
func errClosed() error {
	return &Error{Code: ErrArg, Msg: "the session is closed"}
}
