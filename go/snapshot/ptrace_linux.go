package snapshot

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

const (
	prSetPtracer   = 0x59616d61 // PR_SET_PTRACER ("Yama")
	prGetDumpable  = 3          // PR_GET_DUMPABLE
	capSysPtrace   = 19         // CAP_SYS_PTRACE
	yamaScopeFile  = "/proc/sys/kernel/yama/ptrace_scope"
	containerHint  = "docker run --cap-add=SYS_PTRACE; Kubernetes: securityContext.capabilities.add: [\"SYS_PTRACE\"]"
	dumpableReason = "this process is not dumpable (prctl(PR_SET_DUMPABLE, 0), or a set-user-ID or file-capability executable), and without CAP_SYS_PTRACE no process may trace it"
)

// allowTracer lets process pid trace this one under Yama's ptrace_scope 1
// (prctl(PR_SET_PTRACER, pid)); 0 withdraws it. Yama keeps one such tracer
// per process: a value the program set itself is replaced, then cleared.
// Without Yama the call fails with EINVAL and nothing needs allowing.
func allowTracer(pid int) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetPtracer, uintptr(pid), 0)
	if e == 0 {
		return nil
	}
	if _, err := os.Stat(yamaScopeFile); e == syscall.EINVAL && errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return e
}

// facts are what decides whether goheap may trace this process.
type facts struct {
	scope     string // kernel.yama.ptrace_scope; "" without Yama
	prctlErr  error  // allowTracer's failure
	tracerCap bool   // goheap, started by this process, has CAP_SYS_PTRACE
	dumpable  bool
	seccomp   string // "0" none, "1" strict, "2" filter
	container string // "a Docker container", ...; "" when none is seen
}

func probe(prctlErr error) facts {
	f := facts{prctlErr: prctlErr, dumpable: true}
	if b, err := os.ReadFile(yamaScopeFile); err == nil {
		f.scope = strings.TrimSpace(string(b))
	}
	if d, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prGetDumpable, 0, 0); e == 0 {
		f.dumpable = d == 1
	}
	status, _ := os.ReadFile("/proc/self/status")
	field := func(name string) string {
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, name+":"); ok {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	// goheap's capabilities after exec: root's are its bounding set, another
	// user's only the ambient ones.
	set := "CapAmb"
	if os.Geteuid() == 0 {
		set = "CapBnd"
	}
	if caps, err := strconv.ParseUint(field(set), 16, 64); err == nil {
		f.tracerCap = caps&(1<<capSysPtrace) != 0
	}
	f.seccomp = field("Seccomp")
	f.container = container()
	return f
}

func container() string {
	if _, err := os.Stat("/.dockerenv"); err == nil {
		return "a Docker container"
	}
	if _, err := os.Stat("/run/.containerenv"); err == nil {
		return "a Podman container"
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return "a Kubernetes pod"
	}
	if b, err := os.ReadFile("/proc/1/cgroup"); err == nil {
		for _, k := range []string{"kubepods", "docker", "containerd", "libpod", "lxc"} {
			if strings.Contains(string(b), k) {
				return "a container (" + k + ")"
			}
		}
	}
	return ""
}

// reason: the cause the facts point to, most specific first.
func (f facts) reason() string {
	noCap := ""
	if f.container != "" {
		noCap = fmt.Sprintf("; this process runs in %s without CAP_SYS_PTRACE: add it (%s)", f.container, containerHint)
	}
	switch {
	case f.scope == "3":
		return "kernel.yama.ptrace_scope is 3: no process may use ptrace on this machine until it reboots"
	case f.scope == "2" && !f.tracerCap:
		return "kernel.yama.ptrace_scope is 2: only a tracer with CAP_SYS_PTRACE may attach, and goheap, started by this process, does not have it" + noCap
	case f.scope == "1" && f.prctlErr != nil:
		return fmt.Sprintf("kernel.yama.ptrace_scope is 1 (a process may trace only its descendants) and prctl(PR_SET_PTRACER) failed: %v", f.prctlErr)
	case !f.dumpable && !f.tracerCap:
		return dumpableReason
	case f.seccomp == "2" && !f.tracerCap && f.container != "":
		return "a seccomp filter is in force (Seccomp: 2 in /proc/self/status), and container runtimes' default profiles deny ptrace and process_vm_readv without CAP_SYS_PTRACE" + noCap
	}
	yama := "Yama is not enabled"
	if f.scope != "" {
		yama = "kernel.yama.ptrace_scope is " + f.scope
	}
	has := "without"
	if f.tracerCap {
		has = "with"
	}
	return fmt.Sprintf("no known cause (%s, goheap runs %s CAP_SYS_PTRACE, seccomp mode %s): a Linux security module (SELinux, AppArmor) may deny it", yama, has, orDash(f.seccomp))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
