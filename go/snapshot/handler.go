package snapshot

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Handler serves GET requests with a core of the running process, with the
// default Options. Mount it at Path:
//
//	mux.Handle(snapshot.Path, snapshot.Handler())
func Handler() http.Handler { return Options{}.Handler() }

// Handler serves GET requests with a core of the running process:
//
//   - the body is the ELF core, Content-Type application/octet-stream, with
//     a Content-Disposition naming it PROGRAM-PID-TIME.core;
//   - ?gzip=1: the body is a gzip file of it (Content-Type application/gzip,
//     PROGRAM-PID-TIME.core.gz), which goheap opens as it is;
//   - otherwise, a request with Accept-Encoding: gzip gets the core with
//     Content-Encoding: gzip (the client decompresses it: curl --compressed);
//   - ?full=1 takes it with Options.Full.
//
// Goheap-Pause-Ms and Goheap-Threads headers give the pause and the threads
// stopped. A request made while another snapshot of the process is under
// way waits for it. On failure: 500 (503 when goheap is not installed or may
// not trace the process, 409 when another tracer holds it) with the error as
// text.
func (o Options) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "snapshot: use GET", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		opts := o
		if flag(q.Get("full")) {
			opts.Full = true
		}
		gzFile := flag(q.Get("gzip"))
		gzEncoding := !gzFile && acceptsGzip(r.Header.Get("Accept-Encoding"))
		if r.Method == http.MethodHead {
			return
		}
		c, err := opts.Take(r.Context())
		if err != nil {
			http.Error(w, err.Error(), status(err))
			return
		}
		defer c.Close()
		name := fmt.Sprintf("%s-%d-%s.core", program(), os.Getpid(), time.Now().UTC().Format("20060102T150405Z"))
		h := w.Header()
		h.Set("Goheap-Pause-Ms", strconv.FormatFloat(c.Stats.PauseMs, 'f', 1, 64))
		h.Set("Goheap-Threads", strconv.Itoa(c.Stats.Threads))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Add("Vary", "Accept-Encoding")
		var out io.Writer = w
		switch {
		case gzFile:
			h.Set("Content-Type", "application/gzip")
			h.Set("Content-Disposition", `attachment; filename="`+name+`.gz"`)
		case gzEncoding:
			h.Set("Content-Type", "application/octet-stream")
			h.Set("Content-Encoding", "gzip")
			h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		default:
			h.Set("Content-Type", "application/octet-stream")
			h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
			h.Set("Content-Length", strconv.FormatInt(c.Stats.Size, 10))
		}
		if gzFile || gzEncoding {
			// A core is mostly zeros and pointers: the fastest level keeps
			// most of the gain.
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			zw.Name = name
			defer zw.Close()
			out = zw
		}
		c.WriteTo(out) // a client that goes away ends the copy
	})
}

func flag(v string) bool { return v == "1" || v == "true" || v == "yes" }

// acceptsGzip: gzip listed in Accept-Encoding without q=0.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

func status(err error) int {
	switch {
	case errors.Is(err, ErrNoGoheap), errors.Is(err, ErrPtraceRefused), errors.Is(err, ErrUnsupported):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrTraced):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// program: the executable's base name, safe in a header.
func program() string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	name := filepath.Base(exe)
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "process"
	}
	return string(b)
}
