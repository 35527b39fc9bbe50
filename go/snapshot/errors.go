package snapshot

import "errors"

// The kinds of failure, for errors.Is. The error itself says more: which
// goheap was looked for, why the kernel refused, who traces the process.
var (
	// ErrNoGoheap: the goheap executable is not installed where it was
	// looked for, or cannot be run.
	ErrNoGoheap = errors.New("goheap is not installed")
	// ErrPtraceRefused: the kernel would not let goheap trace this process
	// (Yama's ptrace_scope, a missing CAP_SYS_PTRACE, a seccomp profile, a
	// process that is not dumpable).
	ErrPtraceRefused = errors.New("ptrace refused")
	// ErrTraced: another tracer (a debugger, strace, another goheap)
	// holds this process.
	ErrTraced = errors.New("the process is traced already")
	// ErrGoheap: goheap failed for another reason, given in the message.
	ErrGoheap = errors.New("goheap failed")
	// ErrUnsupported: not linux.
	ErrUnsupported = errors.New("snapshots need linux")
)

// Error is a failed snapshot: Msg says why, Kind is one of the Err values.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }
