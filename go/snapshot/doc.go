// Package snapshot lets a Go program take an ELF core file of itself while it
// runs, with a pause of milliseconds, and serve it over HTTP: a heap dump
// that goheap, gdb and lldb open, instead of runtime/debug.WriteHeapDump.
//
// It runs the goheap command (goheap --pid <self> snapshot), which stops
// every thread of this process with ptrace, copies its memory, resumes it and
// only then writes the file; the package streams that file and removes it.
// The goroutine that waits for goheap is stopped like the others, inside a
// system call, so the process may snapshot itself.
//
// Serve it on an address only its operators reach: a core holds every byte
// of the process's memory, secrets included.
//
//	mux := http.NewServeMux()
//	mux.Handle(snapshot.Path, snapshot.Handler())
//	go http.ListenAndServe("localhost:6061", mux)
//
//	$ curl -o app.core.gz 'http://localhost:6061/debug/heapcore?gzip=1'
//	$ goheap --exe ./app app.core.gz heap
//
// Requirements: linux, goheap on PATH (or Options.Goheap, or $GOHEAP_BIN),
// and a kernel that lets goheap trace this process. With Yama's
// kernel.yama.ptrace_scope 1 (Ubuntu's default) a process may trace only its
// descendants; the package calls prctl(PR_SET_PTRACER, goheap's pid) for the
// duration of the snapshot, which lets that goheap, and nothing else, trace
// its parent. ptrace_scope 2 needs CAP_SYS_PTRACE, 3 forbids ptrace; in a
// container, add CAP_SYS_PTRACE when the runtime's seccomp profile denies
// ptrace or process_vm_readv without it. Errors say which of these applies.
package snapshot
