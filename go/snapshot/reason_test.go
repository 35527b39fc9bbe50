//go:build linux

package snapshot

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
)

// The cause named for each combination of what decides a ptrace.
func TestRefusalReasons(t *testing.T) {
	for _, c := range []struct {
		f    facts
		want []string
	}{
		{facts{scope: "3", dumpable: true}, []string{"ptrace_scope is 3", "until it reboots"}},
		{facts{scope: "2", dumpable: true}, []string{"ptrace_scope is 2", "CAP_SYS_PTRACE"}},
		{facts{scope: "2", dumpable: true, container: "a Docker container"},
			[]string{"ptrace_scope is 2", "runs in a Docker container without CAP_SYS_PTRACE", "--cap-add=SYS_PTRACE"}},
		{facts{scope: "1", dumpable: true, prctlErr: syscall.EPERM},
			[]string{"ptrace_scope is 1", "PR_SET_PTRACER", "operation not permitted"}},
		{facts{scope: "1", dumpable: false}, []string{"not dumpable"}},
		{facts{dumpable: false}, []string{"not dumpable"}},
		{facts{dumpable: true, seccomp: "2", container: "a Kubernetes pod"},
			[]string{"seccomp", "Kubernetes pod without CAP_SYS_PTRACE", "securityContext"}},
		{facts{scope: "2", dumpable: true, tracerCap: true}, []string{"no known cause", "ptrace_scope is 2", "with CAP_SYS_PTRACE"}},
		{facts{dumpable: true, seccomp: "0"}, []string{"no known cause", "Yama is not enabled", "without CAP_SYS_PTRACE"}},
	} {
		got := c.f.reason()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: %q lacks %q", c.f, got, w)
			}
		}
	}
}

// goheap's messages, as failure sorts them.
func TestFailureKinds(t *testing.T) {
	for _, c := range []struct {
		stderr string
		kind   error
	}{
		{"goheap: process 12 is traced by process 34 (strace): detach it first\n", ErrTraced},
		{"goheap: cannot attach to thread 12 of process 12: Operation not permitted\n", ErrPtraceRefused},
		{"goheap: cannot read the memory of process 12: Operation not permitted\n", ErrPtraceRefused},
		{"goheap: cannot read the executable of process 12\n", ErrPtraceRefused},
		{"goheap: cannot create /x/core: No space left on device\n", ErrGoheap},
	} {
		err := failure(context.Background(), errors.New("exit status 1"), c.stderr, nil)
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), strings.TrimSpace(strings.TrimPrefix(c.stderr, "goheap: "))) {
			t.Errorf("%q: %v (want %v, with goheap's message)", c.stderr, err, c.kind)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "deflate, gzip;q=1.0, *;q=0.5": true, "gzip;q=0": false,
		"br, GZIP": true, "identity": false, "x-gzip": false,
	} {
		if acceptsGzip(h) != want {
			t.Errorf("Accept-Encoding %q: %v", h, !want)
		}
	}
}
