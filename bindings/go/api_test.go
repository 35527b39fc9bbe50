package goheap_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goheap "github.com/goheap/goheap/bindings/go"
)

func TestVersion(t *testing.T) {
	v := goheap.Version()
	ma, mi, pa := goheap.VersionParts()
	if v != fmt.Sprintf("%d.%d.%d", ma, mi, pa) {
		t.Errorf("Version %q, parts %d.%d.%d", v, ma, mi, pa)
	}
	if goheap.HeaderVersion != ma*10000+mi*100+pa {
		t.Errorf("compiled against %d, running %s", goheap.HeaderVersion, v)
	}
}

func TestNames(t *testing.T) {
	for k, want := range map[goheap.Kind]string{goheap.KindStruct: "struct", goheap.KindMap: "map",
		goheap.KindPointer: "ptr", goheap.KindRuntime: "runtime", goheap.Kind(99): "invalid"} {
		if k.String() != want {
			t.Errorf("Kind(%d) %q, want %q", int(k), k.String(), want)
		}
	}
	for k, want := range map[goheap.RootKind]string{goheap.RootGlobal: "global", goheap.RootStack: "stack",
		goheap.RootFinalizer: "finalizer", goheap.RootCleanup: "cleanup", goheap.RootRuntime: "runtime"} {
		if k.String() != want {
			t.Errorf("RootKind(%d) %q, want %q", int(k), k.String(), want)
		}
	}
	if goheap.ErrNotFound.String() == "" || goheap.ErrIO.Error() == "" {
		t.Errorf("codes without descriptions")
	}
	err := &goheap.Error{Code: goheap.ErrMem, Msg: "0x10: not readable"}
	if err.Error() != "goheap: 0x10: not readable" || !errors.Is(err, goheap.ErrMem) || errors.Is(err, goheap.ErrIO) {
		t.Errorf("Error %q", err.Error())
	}
}

func TestCommands(t *testing.T) {
	cmds := goheap.Commands()
	names := map[string]bool{}
	for _, c := range cmds {
		names[c.Name] = true
		if c.Usage == "" {
			t.Errorf("command %s has no usage", c.Name)
		}
	}
	for _, n := range []string{"heap", "objects", "paths", "goroutines", "roots", "breakdown"} {
		if !names[n] {
			t.Errorf("no command %s among %v", n, cmds)
		}
	}
	help, err := goheap.CommandHelp("heap")
	if err != nil || !strings.Contains(help, "heap") {
		t.Errorf("CommandHelp(heap): %v %q", err, help)
	}
	all, err := goheap.CommandHelp("")
	if err != nil || !strings.Contains(all, "paths") {
		t.Errorf("CommandHelp(): %v %q", err, all)
	}
	if _, err := goheap.CommandHelp("no-such-command"); err == nil {
		t.Errorf("CommandHelp(no-such-command) did not fail")
	}
}

// demoCore opens the newest release's demo core, or skips.
func demoCore(t *testing.T) (*goheap.Session, manifest) {
	d := coreDir(t, releases[len(releases)-1], "demo")
	if d == "" {
		t.Skip("no demo core")
	}
	return openCore(t, d), readManifest(t, d)
}

func liveCounts(t *testing.T, s *goheap.Session, m manifest) {
	t.Helper()
	stats, err := s.TypeStats(goheap.Live)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, st := range stats {
		got[st.Name] += st.Count
	}
	for name, n := range m.Live {
		if got[name] != uint64(n) {
			t.Errorf("%s: %d live, manifest %d", name, got[name], n)
		}
	}
}

// TestIndex: a session saves the graph to the index, the next one loads it
// and gives the same answers.
func TestIndex(t *testing.T) {
	d := coreDir(t, releases[len(releases)-1], "demo")
	if d == "" {
		t.Skip("no demo core")
	}
	dir := t.TempDir()
	var sums [2]goheap.HeapSummary
	for i, want := range []string{"saved", "loaded"} {
		s := openCore(t, d)
		if err := s.SetIndex(goheap.IndexAlways, dir); err != nil {
			t.Fatal(err)
		}
		if st := s.IndexStatus(); st != "" {
			t.Errorf("status before the graph: %q", st)
		}
		sum, err := s.HeapSummary()
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = sum
		if st := s.IndexStatus(); !strings.Contains(st, want) {
			t.Errorf("session %d: index status %q, want %q", i, st, want)
		}
		liveCounts(t, s, readManifest(t, d))
		s.Close()
	}
	if sums[0] != sums[1] {
		t.Errorf("summaries differ: built %+v, loaded %+v", sums[0], sums[1])
	}
	s := openCore(t, d)
	if err := s.SetIndex(goheap.IndexMode(7), dir); err == nil {
		t.Errorf("SetIndex(7) took a mode that does not exist")
	}
}

// TestInterruptCallback: a Go function stops marking; the session works
// again without it.
func TestInterruptCallback(t *testing.T) {
	s, m := demoCore(t)
	polls := 0
	s.SetInterrupt(func() bool { polls++; return polls > 1 })
	_, err := s.HeapSummary()
	wantCode(t, "HeapSummary with an interrupt", err, goheap.ErrInterrupted, -8)
	if polls < 2 {
		t.Errorf("interrupt function asked %d times", polls)
	}
	s.SetInterrupt(nil)
	liveCounts(t, s, m)
}

// TestInterruptPanic: a panic in the interrupt function stops the call and
// reaches the caller, not C.
func TestInterruptPanic(t *testing.T) {
	s, m := demoCore(t)
	s.SetInterrupt(func() bool { panic("stop here") })
	func() {
		defer func() {
			if r := recover(); r != "stop here" {
				t.Errorf("recovered %v, want the callback's panic", r)
			}
		}()
		s.HeapSummary()
		t.Errorf("HeapSummary returned")
	}()
	s.SetInterrupt(nil)
	liveCounts(t, s, m)
}

// TestInterruptFlag: Interrupt stays in force until ClearInterrupt; a
// cancelled context interrupts.
func TestInterruptFlag(t *testing.T) {
	s, m := demoCore(t)
	s.Interrupt()
	_, err := s.TypeStats(goheap.Live)
	wantCode(t, "TypeStats after Interrupt", err, goheap.ErrInterrupted, -8)
	_, err = s.HeapSummary()
	wantCode(t, "HeapSummary after Interrupt", err, goheap.ErrInterrupted, -8)
	s.ClearInterrupt()
	liveCounts(t, s, m)

	d := coreDir(t, releases[len(releases)-1], "demo")
	s2 := openCore(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	stop := s2.InterruptOn(ctx)
	defer stop()
	cancel()
	time.Sleep(10 * time.Millisecond) // context.AfterFunc runs in its own goroutine
	_, err = s2.Paths(0x1000, 1)
	wantCode(t, "Paths after the context was cancelled", err, goheap.ErrInterrupted, -8)
	s2.ClearInterrupt()
	liveCounts(t, s2, m)
}

// TestInterruptRunning stops a call running in another goroutine: the
// goroutines core is the slowest to mark, and the interrupt comes from
// the first progress report or poll.
func TestInterruptRunning(t *testing.T) {
	d := coreDir(t, releases[len(releases)-1], "goroutines")
	if d == "" {
		t.Skip("no goroutines core")
	}
	s := openCore(t, d)
	started := make(chan struct{})
	var once sync.Once
	s.SetInterrupt(func() bool { once.Do(func() { close(started) }); return false })
	done := make(chan error)
	go func() {
		_, err := s.HeapSummary()
		done <- err
	}()
	select {
	case <-started:
		s.Interrupt()
	case err := <-done:
		t.Skipf("marking ended before an interrupt could be made (%v)", err)
	}
	err := <-done
	// The interrupt may come after marking's last poll.
	if err != nil {
		wantCode(t, "HeapSummary interrupted while running", err, goheap.ErrInterrupted, -8)
	}
	s.ClearInterrupt()
	s.SetInterrupt(nil)
	liveCounts(t, s, readManifest(t, d))
}

// TestProgress: progress is reported for phases longer than a quarter
// second, which an interrupt function that dawdles makes of marking; each
// report names its phase, and a phase with a known total ends with done ==
// total.
func TestProgress(t *testing.T) {
	d := coreDir(t, releases[len(releases)-1], "goroutines")
	if d == "" {
		t.Skip("no goroutines core")
	}
	s := openCore(t, d)
	type report struct {
		phase       string
		done, total uint64
	}
	var reports []report
	polls, start := 0, time.Now()
	s.SetInterrupt(func() bool {
		polls++
		if time.Since(start) < 600*time.Millisecond {
			time.Sleep(time.Millisecond)
		}
		return false
	})
	s.SetProgress(func(phase string, done, total uint64) {
		reports = append(reports, report{phase, done, total})
	})
	if _, err := s.HeapSummary(); err != nil {
		t.Fatal(err)
	}
	s.SetProgress(nil)
	s.SetInterrupt(nil)
	t.Logf("%d polls, progress reports %+v", polls, reports)
	if polls < 500 {
		t.Skipf("only %d polls: no phase lasted long enough to be reported", polls)
	}
	if len(reports) == 0 {
		t.Fatalf("no progress reported in %d polls", polls)
	}
	last := map[string]report{}
	for _, r := range reports {
		if r.phase == "" || (r.total != 0 && r.done > r.total) {
			t.Errorf("progress %+v", r)
		}
		last[r.phase] = r
	}
	for phase, r := range last {
		if r.total != 0 && r.done != r.total {
			t.Errorf("phase %q ended at %d of %d", phase, r.done, r.total)
		}
	}
}

// TestConcurrent uses one session from several goroutines.
func TestConcurrent(t *testing.T) {
	s, m := demoCore(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			switch i % 4 {
			case 0:
				liveCounts(t, s, m)
			case 1:
				n := 0
				if err := s.EachObject(goheap.Live, func(o goheap.Object) bool {
					if o.Type != 0 {
						if _, err := s.Type(o.Type); err != nil {
							t.Error(err)
							return false
						}
					}
					n++
					return true
				}); err != nil || n == 0 {
					t.Errorf("walk: %d objects, %v", n, err)
				}
			case 2:
				if _, err := s.Goroutines(); err != nil {
					t.Error(err)
				}
			case 3:
				if _, err := s.Run("heap", "--top", "3"); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
}

// startHeld runs a corpus program that prints its manifest and then waits
// on stdin (GOHEAP_HOLD=1), the way the corpus takes cores with gcore.
func startHeld(t *testing.T, exe string) (*exec.Cmd, manifest, io.Closer) {
	cmd := exec.Command(exe)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOHEAP_HOLD=1", "GOTRACEBACK=none")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("%s: no manifest: %v", exe, err)
	}
	var m manifest
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%s: manifest: %v: %s", exe, err, line)
	}
	return cmd, m, stdin
}

func skipIfNoPtrace(t *testing.T, err error) {
	if err != nil && (strings.Contains(err.Error(), "ptrace") || strings.Contains(err.Error(), "ermission") ||
		strings.Contains(err.Error(), "not permitted")) {
		t.Skipf("cannot trace the process here: %v", err)
	}
}

// TestOpenPID attaches to a live corpus program, reads its heap, and lets
// it go on Close.
func TestOpenPID(t *testing.T) {
	d := coreDir(t, releases[len(releases)-1], "demo")
	if d == "" {
		t.Skip("no demo program")
	}
	cmd, m, stdin := startHeld(t, filepath.Join(d, "exe"))
	s, err := goheap.OpenPID(cmd.Process.Pid, true)
	skipIfNoPtrace(t, err)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Description(), "process ") || s.GoVersion() == "" {
		t.Errorf("live session: %q, %q", s.Description(), s.GoVersion())
	}
	liveCounts(t, s, m)
	gs, err := s.Goroutines()
	if err != nil {
		t.Fatal(err)
	}
	user := 0
	for _, g := range gs {
		if !g.System {
			user++
		}
	}
	if user != m.Goroutines {
		t.Errorf("%d user goroutines, manifest %d", user, m.Goroutines)
	}
	// Close detaches from the goroutine's locked thread: the program then
	// runs on, and exits 0 once its stdin closes.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	exited := make(chan error)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("program after detach: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("program did not exit after detach (still traced?)")
	}
}

// TestOpenPIDStopped reads a process someone else stopped (here, SIGSTOP).
func TestOpenPIDStopped(t *testing.T) {
	d := coreDir(t, releases[len(releases)-1], "demo")
	if d == "" {
		t.Skip("no demo program")
	}
	cmd, m, _ := startHeld(t, filepath.Join(d, "exe"))
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Signal(syscall.SIGCONT)
	// Wait until it is stopped.
	for i := 0; i < 200; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "T" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s, err := goheap.OpenPID(cmd.Process.Pid, false)
	skipIfNoPtrace(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	liveCounts(t, s, m)
}

// TestParallelSessions opens and queries distinct sessions from many
// goroutines at once: distinct sessions are independent (goheap.h), so
// opens, queries and commands run in parallel in the library.
func TestParallelSessions(t *testing.T) {
	var dirs []string
	for _, rel := range releases {
		for _, prog := range programs {
			if d := coreDir(t, rel, prog); d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	if len(dirs) == 0 {
		t.Skip("no cores")
	}
	var wg sync.WaitGroup
	for round := 0; round < 3; round++ {
		for _, d := range dirs {
			wg.Add(1)
			go func(d string) {
				defer wg.Done()
				s, err := goheap.Open(filepath.Join(d, "core"), filepath.Join(d, "exe"))
				if err != nil {
					t.Error(err)
					return
				}
				defer s.Close()
				liveCounts(t, s, readManifest(t, d))
				if _, err := s.Run("heap", "--sort", "count", "--top", "3"); err != nil {
					t.Error(err)
				}
			}(d)
		}
	}
	wg.Wait()
}

// TestCoverage: a whole core's heap is all there; a copy cut 1% short is
// said to be truncated and covers part of it, never more live objects of a
// type than the manifest's (docs/cli.md, "Truncated cores").
func TestCoverage(t *testing.T) {
	d := coreDir(t, releases[len(releases)-1], "demo")
	if d == "" {
		t.Skip("no demo core")
	}
	s := openCore(t, d)
	c, err := s.HeapCoverage()
	if err != nil {
		t.Fatal(err)
	}
	if c.Truncated || c.Percent != 100 || !c.Complete || c.ReachPartial || c.ReadableSpanBytes != c.InUseSpanBytes {
		t.Errorf("whole core: %+v", c)
	}
	data, err := os.ReadFile(filepath.Join(d, "core"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(cut, data[:len(data)*99/100], 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := goheap.Open(cut, filepath.Join(d, "exe"))
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	c, err = ts.HeapCoverage()
	if err != nil {
		t.Skipf("no span of the cut core readable: %v", err)
	}
	if !c.Truncated || c.FileBytes != uint64(len(data)*99/100) || c.FileBytesExpected != uint64(len(data)) ||
		c.Percent <= 0 || c.Percent > 100 || c.ReadableSpanBytes > c.InUseSpanBytes {
		t.Errorf("cut core: %+v", c)
	}
	if !c.Complete && !c.ReachPartial {
		t.Errorf("part of the heap missing, reachability complete: %+v", c)
	}
	m := readManifest(t, d)
	stats, err := ts.TypeStats(goheap.Live)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stats {
		if n, ok := m.Live[st.Name]; ok && st.Count > uint64(n) {
			t.Errorf("%s: %d live in the cut core, manifest %d", st.Name, st.Count, n)
		}
	}
}
