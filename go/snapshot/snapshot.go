package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Path is where Handler is meant to be mounted.
const Path = "/debug/heapcore"

// EnvGoheap names the environment variable that gives the goheap
// executable when Options.Goheap is empty.
const EnvGoheap = "GOHEAP_BIN"

// Options says how to take a snapshot. The zero value is the default.
type Options struct {
	// Goheap is the goheap executable: a path, or a name looked up on PATH.
	// Empty: $GOHEAP_BIN, else "goheap" on PATH.
	Goheap string
	// Full copies every readable mapping (goheap snapshot --full), not only
	// the writable memory a heap analysis needs.
	Full bool
	// TempDir is where the core is written before it is streamed (in a
	// directory of its own, mode 0700, removed afterwards). Empty:
	// os.TempDir(). The file is sparse: it takes about the process's
	// resident memory on disk, though its apparent size may be larger.
	TempDir string
}

// Stats are goheap's figures for one snapshot.
type Stats struct {
	PauseMs float64 `json:"pause_ms"` // the process was stopped this long
	Threads int     `json:"threads"`  // threads stopped
	Copied  uint64  `json:"copied"`   // bytes copied during the pause
	Size    int64   `json:"size"`     // the file's apparent size
	Disk    int64   `json:"disk"`     // bytes it takes on disk
}

// Core is a snapshot written to a temporary file: read it (Read, WriteTo),
// then Close it, which removes the file.
type Core struct {
	Stats Stats
	f     *os.File
	dir   string
}

// Read reads the core file.
func (c *Core) Read(p []byte) (int, error) { return c.f.Read(p) }

// WriteTo copies the rest of the core file to w.
func (c *Core) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, c.f) }

// Close removes the file.
func (c *Core) Close() error {
	err := c.f.Close()
	if rerr := os.RemoveAll(c.dir); err == nil {
		err = rerr
	}
	return err
}

// One snapshot of this process at a time: two goheaps cannot trace it at
// once, and Yama keeps one allowed tracer per process.
var turn = make(chan struct{}, 1)

// Write writes a core of the running process to w with the default Options.
func Write(w io.Writer) error {
	return Options{}.Write(context.Background(), w)
}

// Write writes a core of the running process to w.
func (o Options) Write(ctx context.Context, w io.Writer) error {
	c, err := o.Take(ctx)
	if err != nil {
		return err
	}
	_, err = c.WriteTo(w)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}

// Take writes a core of the running process to a temporary file and returns
// it. Snapshots of the process are taken one at a time: Take waits for one
// under way, until ctx is done. Cancelling ctx while goheap runs interrupts
// it; goheap then resumes the process and removes what it wrote.
func (o Options) Take(ctx context.Context) (*Core, error) {
	if runtime.GOOS != "linux" {
		return nil, &Error{Kind: ErrUnsupported, Msg: "snapshot: snapshots need linux, not " + runtime.GOOS}
	}
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("snapshot: waiting for another snapshot of this process: %w", ctx.Err())
	}
	defer func() { <-turn }()

	goheap, err := o.goheap()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(o.TempDir, "heapcore-")
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	c, err := run(ctx, goheap, dir, o.Full)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (o Options) goheap() (string, error) {
	name, from := o.Goheap, "Options.Goheap"
	if name == "" {
		name, from = os.Getenv(EnvGoheap), "$"+EnvGoheap
	}
	if name == "" {
		name, from = "goheap", ""
	}
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	var why string
	switch {
	case from == "":
		why = "goheap is not installed: no goheap on PATH (install it, or give its path in " + EnvGoheap +
			" or Options.Goheap)"
	case strings.ContainsRune(name, filepath.Separator):
		why = fmt.Sprintf("goheap is not installed at %s (from %s): %v", name, from, unwrapPath(err))
	default:
		why = fmt.Sprintf("goheap is not installed: no %s on PATH (from %s)", name, from)
	}
	return "", &Error{Kind: ErrNoGoheap, Msg: "snapshot: " + why}
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// run starts goheap on this process, lets it trace us, gives it the
// go-ahead and waits: while it copies, every thread of this process is
// stopped, this goroutine's in its wait system call.
func run(ctx context.Context, goheap, dir string, full bool) (*Core, error) {
	out := filepath.Join(dir, "core")
	args := []string{"--pid", strconv.Itoa(os.Getpid()), "snapshot", out, "--json", "--wait-stdin"}
	if full {
		args = append(args, "--full")
	}
	cmd := exec.Command(goheap, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	gate, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, &Error{Kind: ErrNoGoheap, Msg: fmt.Sprintf("snapshot: cannot run %s: %v", goheap, err)}
	}
	// Only this goheap, and only until it is done.
	prctlErr := allowTracer(cmd.Process.Pid)
	defer allowTracer(0)

	done := make(chan struct{})
	go func() { // ctx cancelled: goheap resumes us and removes its file
		select {
		case <-ctx.Done():
			cmd.Process.Signal(os.Interrupt)
		case <-done:
		}
	}()
	gate.Write([]byte{'\n'})
	gate.Close()
	err = cmd.Wait()
	close(done)
	if err != nil {
		return nil, failure(ctx, err, stderr.String(), prctlErr)
	}
	var st Stats
	if err := json.Unmarshal(stdout.Bytes(), &st); err != nil {
		return nil, fmt.Errorf("snapshot: goheap's figures: %v (%q)", err, stdout.String())
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return &Core{Stats: st, f: f, dir: dir}, nil
}

// failure names why goheap failed: from its one-line message, and for a
// refused ptrace from what the kernel and this process allow.
func failure(ctx context.Context, err error, stderr string, prctlErr error) error {
	msg := strings.TrimSpace(stderr)
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	msg = strings.TrimPrefix(msg, "goheap: ")
	if msg == "" {
		msg = err.Error()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("snapshot: %w (goheap: %s)", ctx.Err(), msg)
	}
	switch {
	case strings.Contains(msg, "is traced by process"):
		return &Error{Kind: ErrTraced, Msg: "snapshot: " + msg}
	case refused(msg):
		return &Error{Kind: ErrPtraceRefused, Msg: fmt.Sprintf("snapshot: the kernel refused to let goheap trace this process: %s (goheap: %s)",
			probe(prctlErr).reason(), msg)}
	}
	return &Error{Kind: ErrGoheap, Msg: "snapshot: goheap failed: " + msg}
}

// refused: goheap's messages when ptrace or process_vm_readv is denied, or
// /proc/PID/exe (which takes the same permission) cannot be read.
func refused(msg string) bool {
	return strings.Contains(msg, "Operation not permitted") || strings.Contains(msg, "Permission denied") ||
		strings.Contains(msg, "cannot read the executable of process")
}
