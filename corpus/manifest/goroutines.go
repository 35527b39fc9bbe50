package manifest

import (
	"runtime"
	"strconv"
	"strings"
)

// Frame is one frame of a goroutine as runtime.Stack prints it.
type Frame struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
}

// Goroutine is one goroutine's state ("chan receive", "syscall", ...) and frames.
type Goroutine struct {
	State  string
	Frames []Frame
}

// Goroutines parses runtime.Stack(buf, true): every goroutine by id. Programs
// use it to wait until their goroutines are parked where the manifest says.
func Goroutines() map[int64]Goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	table := map[int64]Goroutine{}
	for _, block := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		head := lines[0]
		if !strings.HasPrefix(head, "goroutine ") {
			continue
		}
		id, err := strconv.ParseInt(strings.Fields(head)[1], 10, 64)
		if err != nil {
			continue
		}
		var g Goroutine
		if i := strings.IndexByte(head, '['); i >= 0 {
			s := head[i+1:]
			g.State = s[:strings.IndexAny(s, ",]")]
		}
		for i := 1; i+1 < len(lines); i += 2 {
			fn := lines[i]
			if strings.HasPrefix(fn, "created by ") {
				break
			}
			if j := strings.LastIndexByte(fn, '('); j > 0 {
				fn = fn[:j]
			}
			loc := strings.TrimSpace(lines[i+1])
			if j := strings.Index(loc, " +0x"); j > 0 {
				loc = loc[:j]
			}
			fr := Frame{Function: fn}
			if j := strings.LastIndexByte(loc, ':'); j > 0 {
				fr.File = loc[:j]
				fr.Line, _ = strconv.Atoi(loc[j+1:])
			}
			g.Frames = append(g.Frames, fr)
		}
		table[id] = g
	}
	return table
}
