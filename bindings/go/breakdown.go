package goheap

/*
#include <goheap/goheap.h>
*/
import "C"

// BreakdownRow is one class of the target's memory.
type BreakdownRow struct {
	Group string // "binary", "heap", "manual", "arena", "runtime"
	What  string // "allocated objects", "bss", ...
	Bytes uint64 // the class's bytes
	Count uint64 // objects or spans, 0 when not meaningful
}

// BreakdownCheck compares a figure of goheap's with the runtime's own
// statistics.
type BreakdownCheck struct {
	What    string // the figure compared
	Goheap  int64  // as goheap counts it
	Runtime int64  // as the runtime's statistics say
	// Explanation says why the two may differ; "" when they must not.
	Explanation string
}

// Breakdown is the target's memory by class, and the checks against the
// runtime's own statistics.
type Breakdown struct {
	Rows   []BreakdownRow   // memory by class, as the breakdown command lists it
	Checks []BreakdownCheck // goheap's figures against the runtime's
}

// Breakdown gives the target's memory by class, as the breakdown command
// shows it.
func (s *Session) Breakdown() (Breakdown, error) {
	if err := s.lock(); err != nil {
		return Breakdown{}, err
	}
	defer s.unlock()
	var b C.gh_breakdown
	var cerr C.gh_err
	if rc := C.gh_breakdown_get(s.s, &b, &cerr); rc != 0 {
		return Breakdown{}, newError(rc, &cerr)
	}
	var out Breakdown
	for _, r := range b.rows {
		out.Rows = append(out.Rows, BreakdownRow{
			Group: C.GoString(r.group), What: C.GoString(r.what), Bytes: uint64(r.bytes), Count: uint64(r.count),
		})
	}
	for _, c := range b.checks {
		out.Checks = append(out.Checks, BreakdownCheck{
			What: C.GoString(c.what), Goheap: int64(c.goheap), Runtime: int64(c.runtime),
			Explanation: C.GoString(c.explanation),
		})
	}
	return out, nil
}
