package snapshot_test

// Integration tests: a corpus-like program (testdata/heapserver) serves the
// handler on a loopback port; its cores, fetched over HTTP (plain, gzip
// encoding, gzip file), give goheap's heap the counts its manifest says.
// They need goheap: $GOHEAP_BIN (tests/integration/test_gosnapshot.py sets
// it); without it they are skipped.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goheap/goheap/go/snapshot"
)

func goheap(t *testing.T) string {
	t.Helper()
	p := os.Getenv(snapshot.EnvGoheap)
	if p == "" {
		t.Skip("needs goheap: set " + snapshot.EnvGoheap)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v", snapshot.EnvGoheap, err)
	}
	return p
}

var (
	buildOnce sync.Once
	serverExe string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	var err error
	if buildDir, err = os.MkdirTemp("", "gosnapshot-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rc := m.Run()
	os.RemoveAll(buildDir)
	os.Exit(rc)
}

// server builds testdata/heapserver with the go command that runs the tests
// (GOTOOLCHAIN is inherited).
func server(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		serverExe = filepath.Join(buildDir, "heapserver")
		cmd := exec.Command("go", "build", "-o", serverExe, ".")
		cmd.Dir = filepath.Join("testdata", "heapserver")
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building heapserver: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return serverExe
}

type manifest struct {
	Go   string         `json:"go"`
	Live map[string]int `json:"live"`
}

type running struct {
	cmd      *exec.Cmd
	manifest manifest
	base     string
	stderr   bytes.Buffer
}

// start runs heapserver with env added to the test's environment.
func start(t *testing.T, env []string, args ...string) *running {
	t.Helper()
	r := &running{cmd: exec.Command(server(t), args...)}
	r.cmd.Env = append(append(os.Environ(), "GOMAXPROCS=4"), env...)
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	})
	lines := bufio.NewScanner(out)
	lines.Buffer(nil, 1<<20)
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &r.manifest) != nil {
		t.Fatalf("no manifest line: %q %s", lines.Text(), r.stderr.String())
	}
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "listening on ") {
		t.Fatalf("no address: %q %s", lines.Text(), r.stderr.String())
	}
	r.base = "http://" + strings.TrimPrefix(lines.Text(), "listening on ")
	go io.Copy(io.Discard, out)
	return r
}

func (r *running) ticks(t *testing.T) int64 {
	t.Helper()
	resp, err := http.Get(r.base + "/tick")
	if err != nil {
		t.Fatalf("/tick: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("/tick: %q", b)
	}
	return n
}

// runsOn: the program is not left traced, and its goroutines advance.
func (r *running) runsOn(t *testing.T) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nTracerPid:\t0\n") {
		t.Errorf("still traced after the snapshot")
	}
	a := r.ticks(t)
	time.Sleep(50 * time.Millisecond)
	if b := r.ticks(t); b <= a {
		t.Errorf("the churning goroutines stopped: %d then %d", a, b)
	}
}

func get(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, body
}

// heapCounts: goheap's live objects per type in core (with exe).
func heapCounts(t *testing.T, exe, core string) map[string]int {
	t.Helper()
	cmd := exec.Command(goheap(t), "--exe", exe, core, "heap", "--json")
	cmd.Env = append(os.Environ(), "GOHEAP_INDEX=off")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("goheap heap: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("goheap heap: %v", err)
	}
	var h struct {
		Types []struct {
			Type  string `json:"type"`
			Count int    `json:"count"`
		} `json:"types"`
	}
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("goheap heap --json: %v", err)
	}
	got := map[string]int{}
	for _, ty := range h.Types {
		got[ty.Type] = ty.Count
	}
	return got
}

func checkCounts(t *testing.T, exe, core string, want map[string]int) {
	t.Helper()
	got := heapCounts(t, exe, core)
	for typ, n := range want {
		if got[typ] != n {
			var near []string // what goheap names alike
			short := typ[strings.LastIndexByte(typ, '.')+1:]
			for name, k := range got {
				if strings.Contains(name, short) {
					near = append(near, fmt.Sprintf("%s: %d", name, k))
				}
			}
			t.Errorf("%s: %d live objects of %s, the manifest says %d (goheap has %v)", filepath.Base(core), got[typ], typ, n, near)
		}
	}
}

// short: a body in a message, cut.
func short(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return strconv.Quote(string(b))
}

func save(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func serverEnv(t *testing.T) []string {
	return []string{snapshot.EnvGoheap + "=" + goheap(t)}
}

func TestHTTP(t *testing.T) {
	r := start(t, serverEnv(t))
	exe := server(t)
	if len(r.manifest.Live) == 0 {
		t.Fatal("the manifest lists no live types")
	}

	t.Run("plain", func(t *testing.T) {
		resp, body := get(t, r.base+snapshot.Path, http.Header{"Accept-Encoding": {"identity"}})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, short(body))
		}
		h := resp.Header
		if h.Get("Content-Type") != "application/octet-stream" || h.Get("Content-Encoding") != "" {
			t.Errorf("Content-Type %q, Content-Encoding %q", h.Get("Content-Type"), h.Get("Content-Encoding"))
		}
		if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="heapserver-`) ||
			!strings.HasSuffix(cd, `.core"`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		if h.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("Content-Length %q, %d bytes", h.Get("Content-Length"), len(body))
		}
		if pause, err := strconv.ParseFloat(h.Get("Goheap-Pause-Ms"), 64); err != nil || pause <= 0 {
			t.Errorf("Goheap-Pause-Ms %q", h.Get("Goheap-Pause-Ms"))
		}
		if !bytes.HasPrefix(body, []byte("\x7fELF")) {
			t.Fatalf("not an ELF file: %q", body[:min(len(body), 16)])
		}
		checkCounts(t, exe, save(t, "plain.core", body), r.manifest.Live)
		r.runsOn(t)
	})

	t.Run("gzip-encoding", func(t *testing.T) {
		// Set by hand, Go's client leaves the body compressed.
		resp, body := get(t, r.base+snapshot.Path, http.Header{"Accept-Encoding": {"gzip"}})
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("status %d, Content-Encoding %q: %s", resp.StatusCode, resp.Header.Get("Content-Encoding"), short(body))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		core, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(core, []byte("\x7fELF")) {
			t.Fatal("the decompressed body is not an ELF file")
		}
		t.Logf("%d bytes compressed to %d", len(core), len(body))
		checkCounts(t, exe, save(t, "enc.core", core), r.manifest.Live)
		r.runsOn(t)
	})

	t.Run("gzip-file", func(t *testing.T) {
		resp, body := get(t, r.base+snapshot.Path+"?gzip=1", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/gzip" ||
			resp.Header.Get("Content-Encoding") != "" {
			t.Fatalf("status %d, Content-Type %q, Content-Encoding %q: %.300s", resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"), short(body))
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, `.core.gz"`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		// goheap opens the .gz as it is
		checkCounts(t, exe, save(t, "file.core.gz", body), r.manifest.Live)
		r.runsOn(t)
	})

	t.Run("concurrent", func(t *testing.T) {
		// three at once: taken one after the other, all complete
		var wg sync.WaitGroup
		bodies := make([][]byte, 3)
		codes := make([]int, 3)
		for i := range bodies {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				resp, err := http.Get(r.base + snapshot.Path + "?gzip=1")
				if err != nil {
					codes[i] = -1
					bodies[i] = []byte(err.Error())
					return
				}
				defer resp.Body.Close()
				codes[i] = resp.StatusCode
				bodies[i], _ = io.ReadAll(resp.Body)
			}(i)
		}
		wg.Wait()
		for i := range bodies {
			if codes[i] != 200 {
				t.Fatalf("request %d: status %d: %s", i, codes[i], short(bodies[i]))
			}
		}
		for i := range bodies {
			checkCounts(t, exe, save(t, fmt.Sprintf("c%d.core.gz", i), bodies[i]), r.manifest.Live)
		}
		r.runsOn(t)
	})

	t.Run("method", func(t *testing.T) {
		resp, err := http.Post(r.base+snapshot.Path, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: status %d", resp.StatusCode)
		}
	})
}

func TestNoGoheap(t *testing.T) {
	goheap(t)
	empty := t.TempDir()
	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"path", []string{snapshot.EnvGoheap + "=/nonexistent/goheap"},
			"goheap is not installed at /nonexistent/goheap (from $GOHEAP_BIN)"},
		{"PATH", []string{snapshot.EnvGoheap + "=", "PATH=" + empty},
			"goheap is not installed: no goheap on PATH"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := start(t, c.env, "-churn", "1")
			resp, body := get(t, r.base+snapshot.Path, nil)
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), c.want) {
				t.Errorf("status %d, %s; want 503 and %q", resp.StatusCode, short(body), c.want)
			}
		})
	}
	// in this process
	err := snapshot.Options{Goheap: filepath.Join(empty, "goheap")}.Write(context.Background(), io.Discard)
	if !errors.Is(err, snapshot.ErrNoGoheap) || !strings.Contains(err.Error(), "(from Options.Goheap)") {
		t.Errorf("Options.Goheap missing: %v", err)
	}
}

// TestRefused: heapserver -refuse is not dumpable and its goheap lacks
// CAP_SYS_PTRACE: the kernel refuses, and the error says why.
func TestRefused(t *testing.T) {
	r := start(t, serverEnv(t), "-refuse", "-churn", "1")
	resp, body := get(t, r.base+snapshot.Path, nil)
	want := "this process is not dumpable"
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "the kernel refused") ||
		!strings.Contains(string(body), want) {
		t.Errorf("status %d, %s; want 503, a refusal and %q", resp.StatusCode, short(body), want)
	}
	r.runsOn(t)
}

// TestTraced: a process strace holds is refused, naming strace.
func TestTraced(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("no strace")
	}
	r := start(t, serverEnv(t), "-churn", "1")
	tr := exec.Command(strace, "-f", "-o", "/dev/null", "-p", strconv.Itoa(r.cmd.Process.Pid))
	var trErr bytes.Buffer
	tr.Stderr = &trErr
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { tr.Wait(); close(exited) }()
	defer func() {
		tr.Process.Signal(os.Interrupt)
		<-exited
	}()
	for i := 0; ; i++ {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
		if !strings.Contains(string(st), "\nTracerPid:\t0\n") {
			break
		}
		select {
		case <-exited: // Yama's ptrace_scope 1 lets no one trace a process it did not start
			t.Skipf("strace could not attach: %s", strings.TrimSpace(trErr.String()))
		default:
		}
		if i == 500 {
			t.Fatal("strace did not attach in 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, body := get(t, r.base+snapshot.Path, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "(strace)") {
		t.Errorf("status %d, %s; want 409 naming strace", resp.StatusCode, short(body))
	}
}

// The test process snapshots itself with Write while goroutines allocate on
// GOMAXPROCS 4: it must not deadlock (the goroutine waiting for goheap is
// stopped in its wait system call), and the core holds what it holds.
type selfItem struct {
	ID   int
	Next *selfItem
}

var selfItems []*selfItem

func TestWriteSelf(t *testing.T) {
	goheap(t)
	const n = 3000
	selfItems = nil
	for i := 0; i < n; i++ {
		selfItems = append(selfItems, &selfItem{ID: i})
	}
	defer func() { selfItems = nil }()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		// goroutines allocate while the snapshot is taken, and only then
		var stop atomic.Bool
		var churned atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var sink []*[64]byte
				for !stop.Load() {
					sink = append(sink, new([64]byte))
					if len(sink) == 1000 {
						sink = nil
					}
					churned.Add(1)
				}
			}()
		}
		time.Sleep(10 * time.Millisecond)
		f, err := os.Create(filepath.Join(t.TempDir(), "self.core"))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- snapshot.Write(f) }()
		select {
		case err = <-done:
		case <-time.After(2 * time.Minute):
			t.Fatal("Write did not return in 2 minutes")
		}
		f.Close()
		// they run on (within 5 s: the machine may be busy)
		before, after := churned.Load(), int64(0)
		for i := 0; i < 500 && after <= before; i++ {
			time.Sleep(10 * time.Millisecond)
			after = churned.Load()
		}
		states := threadStates()
		stop.Store(true)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if after <= before {
			t.Fatalf("the allocating goroutines stopped after the snapshot; threads: %s", states)
		}
		checkCounts(t, exe, f.Name(), map[string]int{selfItemType: n})
	}
}

// threadStates: each thread's state (R, S, t: stopped by a tracer, ...).
func threadStates() string {
	tasks, _ := os.ReadDir("/proc/self/task")
	var out []string
	for _, e := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + e.Name() + "/stat")
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 0 {
			out = append(out, e.Name()+":"+f[0])
		}
	}
	return strings.Join(out, " ")
}

// selfItemType: the type as goheap names it (the runtime names a type by
// its package's last element).
const selfItemType = "snapshot_test.selfItem"
