package goheap_test

// Tests against the corpus: cores of Go programs whose manifest.json says
// exactly what their heap holds (scripts/corpus.py builds them). The corpus
// is found through GOHEAP_CORPUS, by default ../../build/corpus; the tests
// skip when it is absent.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	goheap "github.com/goheap/goheap/bindings/go"
)

// The releases and programs checked: the oldest and the newest Go release
// of the corpus, or the comma-separated releases in GOHEAP_RELEASES.
var (
	releases = testReleases()
	programs = []string{"chans", "closures", "demo", "finalizers", "garbage", "globals", "goroutines", "list",
		"maps", "retained", "samename", "sites", "sizeclasses", "stacks"}
)

func testReleases() []string {
	if v := os.Getenv("GOHEAP_RELEASES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"go1.22.12", "go1.27.4"}
}

type manifest struct {
	Go         string         `json:"go"`
	Program    string         `json:"program"`
	Live       map[string]int `json:"live"`
	Garbage    map[string]int `json:"garbage"`
	Sentinels  []sentinel     `json:"sentinels"`
	Goroutines int            `json:"goroutines"`
	// goroutines the program parked where it says (stacks, goroutines)
	Parked []struct {
		Goroutine int64             `json:"goroutine"`
		Function  string            `json:"function"`
		User      *manifestFrame    `json:"user"`
		Creator   *manifestFrame    `json:"creator"`
		Labels    map[string]string `json:"labels"`
	} `json:"parked"`
	// objects pending finalization (finalizers, retained)
	Pending        map[string]int `json:"pending"`
	PendingObjects []struct {
		Addr     string `json:"addr"`
		Type     string `json:"type"`
		Kind     string `json:"kind"`
		Function string `json:"function"`
	} `json:"pending_objects"`
	// allocation sites by construction, with runtime.MemProfile's view (sites)
	Sites []struct {
		Function string `json:"function"`
		File     string `json:"file"`
		Line     int    `json:"line"`
		Type     string `json:"type"`
		Live     uint64 `json:"live"`
		Garbage  uint64 `json:"garbage"`
		Callers  int    `json:"callers"`
		Runtime  struct {
			InuseObjects uint64 `json:"inuse_objects"`
			InuseBytes   uint64 `json:"inuse_bytes"`
			AllocObjects uint64 `json:"alloc_objects"`
			AllocBytes   uint64 `json:"alloc_bytes"`
		} `json:"runtime"`
	} `json:"sites"`
}

type manifestFrame struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
}

type sentinel struct {
	Addr string       `json:"addr"`
	Type string       `json:"type"`
	Root manifestRoot `json:"root"`
	Note string       `json:"note"`
}

type manifestRoot struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Goroutine *int64 `json:"goroutine"`
	Function  string `json:"function"`
	Variable  string `json:"variable"`
}

func (r manifestRoot) String() string {
	if r.Kind == "stack" {
		g := "?"
		if r.Goroutine != nil {
			g = strconv.FormatInt(*r.Goroutine, 10)
		}
		return fmt.Sprintf("stack goroutine %s %s %s", g, r.Function, r.Variable)
	}
	return r.Kind + " " + r.Name
}

func rootString(r goheap.Root) string {
	if r.Kind == goheap.RootStack {
		return fmt.Sprintf("stack goroutine %d %s %s", r.Goroutine, r.Function, r.Variable)
	}
	return r.Kind.String() + " " + r.Name
}

// rootMatches is the manifest's rule (tests/integration/check_heap.py):
// the same kind; for a stack the goroutine (when the manifest names one),
// the function, and the variable when both name one; else the same name.
func rootMatches(want manifestRoot, got goheap.Root) bool {
	if got.Kind.String() != want.Kind {
		return false
	}
	if want.Kind == "stack" {
		if want.Goroutine != nil && got.Goroutine != *want.Goroutine {
			return false
		}
		if got.Function != want.Function {
			return false
		}
		return want.Variable == "" || got.Variable == "" || got.Variable == want.Variable
	}
	return got.Name == want.Name
}

var alsoHeld = regexp.MustCompile(`also held by (\S+?)\)?$`)

// corpusDir is where the corpus is, or the test is skipped.
func corpusDir(t testing.TB) string {
	dir := os.Getenv("GOHEAP_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus at %s (set GOHEAP_CORPUS): %v", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// coreDir is the directory of one core of the corpus, or "" when it is not
// there (not generated).
func coreDir(t testing.TB, release, program string) string {
	d := filepath.Join(corpusDir(t), release, program)
	for _, f := range []string{"core", "exe", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(d, f)); err != nil {
			return ""
		}
	}
	return d
}

func readManifest(t testing.TB, d string) manifest {
	b, err := os.ReadFile(filepath.Join(d, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", d, err)
	}
	return m
}

func openCore(t testing.TB, d string) *goheap.Session {
	s, err := goheap.Open(filepath.Join(d, "core"), filepath.Join(d, "exe"))
	if err != nil {
		t.Fatalf("Open %s: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCorpus checks every core of the oldest and newest release against
// its manifest.
func TestCorpus(t *testing.T) {
	corpusDir(t)
	for _, rel := range releases {
		rel := rel
		t.Run(rel, func(t *testing.T) {
			found := 0
			for _, prog := range programs {
				d := coreDir(t, rel, prog)
				if d == "" {
					continue
				}
				found++
				t.Run(prog, func(t *testing.T) {
					t.Parallel()
					checkCore(t, d)
				})
			}
			if found == 0 {
				t.Skipf("no cores of %s in %s (scripts/corpus.py gen %s)", rel, corpusDir(t), rel)
			}
		})
	}
}

func checkCore(t *testing.T, d string) {
	m := readManifest(t, d)
	s := openCore(t, d)
	t.Run("version", func(t *testing.T) {
		v := s.GoVersion()
		if f := regexp.MustCompile(`^\S+`).FindString(v); f != m.Go {
			t.Errorf("GoVersion %q, manifest %s", v, m.Go)
		}
		if _, minor, _ := s.GoRelease(); fmt.Sprintf("go1.%d", minor) != regexp.MustCompile(`^go1\.\d+`).FindString(m.Go) {
			t.Errorf("GoRelease minor %d, manifest %s", minor, m.Go)
		}
		if exe, want := s.Executable(), filepath.Join(d, "exe"); exe != want {
			t.Errorf("Executable %q, want %q", exe, want)
		}
	})
	t.Run("types", func(t *testing.T) { checkTypeStats(t, s, m) })
	t.Run("sentinels", func(t *testing.T) { checkSentinels(t, s, m) })
	t.Run("goroutines", func(t *testing.T) { checkGoroutines(t, s, m) })
	t.Run("pending", func(t *testing.T) { checkPending(t, s, m) })
	t.Run("profile", func(t *testing.T) { checkProfile(t, s, m) })
	t.Run("iteration", func(t *testing.T) { checkIteration(t, s) })
	t.Run("breakdown", func(t *testing.T) { checkBreakdown(t, s) })
	t.Run("command", func(t *testing.T) { checkCommand(t, s) })
	if m.Program == "demo" {
		t.Run("demo", func(t *testing.T) { checkDemo(t, s, m) })
	}
	if n := s.HeapLoads(); n != 1 {
		t.Errorf("heap loaded %d times, want 1", n)
	}
}

// checkTypeStats: the live count of every type the manifest lists is
// exact.
func checkTypeStats(t *testing.T, s *goheap.Session, m manifest) {
	stats, err := s.TypeStats(goheap.Live)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for i, st := range stats {
		got[st.Name] += st.Count
		if i > 0 && st.Bytes > stats[i-1].Bytes {
			t.Errorf("TypeStats not sorted by bytes: %s %d after %s %d", st.Name, st.Bytes, stats[i-1].Name,
				stats[i-1].Bytes)
		}
	}
	for name, n := range m.Live {
		if got[name] != uint64(n) {
			t.Errorf("%s: %d live, manifest %d", name, got[name], n)
		}
	}
	// The manifest's garbage counts are lower bounds.
	sum, err := s.HeapSummary()
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, n := range m.Garbage {
		want += n
	}
	if sum.GarbageObjects < uint64(want) {
		t.Errorf("%d garbage objects, manifest at least %d", sum.GarbageObjects, want)
	}
	if sum.LiveObjects == 0 || sum.TypedBytes > sum.LiveBytes || sum.LiveBytes > sum.Bytes {
		t.Errorf("summary inconsistent: %+v", sum)
	}
}

// checkSentinels: each sentinel is a live object of the manifest's type,
// kept alive through the manifest's root.
func checkSentinels(t *testing.T, s *goheap.Session, m manifest) {
	roots, err := s.Roots()
	if err != nil {
		t.Fatal(err)
	}
	gs, err := s.Goroutines()
	if err != nil {
		t.Fatal(err)
	}
	for _, sn := range m.Sentinels {
		where := fmt.Sprintf("sentinel %s %s", sn.Type, sn.Addr)
		addr, err := strconv.ParseUint(sn.Addr, 0, 64)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		o, err := s.ObjectAt(addr)
		if err != nil {
			t.Errorf("%s: ObjectAt: %v", where, err)
			continue
		}
		if !o.Live {
			t.Errorf("%s: not live", where)
		}
		if o.Type == 0 {
			t.Errorf("%s: type unknown", where)
		} else if ty, err := s.Type(o.Type); err != nil {
			t.Errorf("%s: Type(%d): %v", where, o.Type, err)
		} else if ty.Name != sn.Type {
			t.Errorf("%s: type %s", where, ty.Name)
		}
		if addr < o.Addr || addr >= o.Addr+max(o.Size, 1) {
			t.Errorf("%s: ObjectAt gives %#x (%d bytes)", where, o.Addr, o.Size)
		}
		paths, err := s.Paths(addr, 8)
		if err != nil {
			t.Errorf("%s: Paths: %v", where, err)
			continue
		}
		if len(paths) == 0 {
			t.Errorf("%s: no path", where)
			continue
		}
		for _, p := range paths {
			if len(p.Hops) == 0 {
				t.Errorf("%s: a path from %s without hops", where, rootString(p.Root))
				continue
			}
			if last := p.Hops[len(p.Hops)-1]; last.ID != o.ID || last.Addr != o.Addr {
				t.Errorf("%s: path from %s ends at %#x (id %d), not the object", where, rootString(p.Root),
					last.Addr, last.ID)
			}
		}
		first := paths[0].Root
		also := alsoHeld.FindStringSubmatch(sn.Note)
		if also != nil && first.Name == also[1] {
			ok := false
			for _, p := range paths {
				ok = ok || rootMatches(sn.Root, p.Root)
			}
			if !ok {
				t.Errorf("%s: no path from %s among %d paths (first from %s)", where, sn.Root, len(paths),
					rootString(first))
			}
		} else if !rootMatches(sn.Root, first) {
			t.Errorf("%s: first path from %s, manifest %s", where, rootString(first), sn.Root)
		}
		// A root that points at the object directly has a word to it.
		if len(paths[0].Hops) == 1 && first.Kind == goheap.RootGlobal {
			checkRootWord(t, s, roots, first, o, where)
		}
		if len(paths[0].Hops) == 1 && first.Kind == goheap.RootStack {
			checkVariable(t, s, gs, first, o, where)
		}
	}
}

func checkRootWord(t *testing.T, s *goheap.Session, roots []goheap.Root, r goheap.Root, o goheap.Object, where string) {
	for i, x := range roots {
		if x != r {
			continue
		}
		words, err := s.RootWords(i)
		if err != nil {
			t.Errorf("%s: RootWords(%d): %v", where, i, err)
			return
		}
		for _, w := range words {
			if w.Target == o.ID {
				return
			}
		}
		t.Errorf("%s: no word of root %s points to the object (%d words)", where, rootString(r), len(words))
		return
	}
	t.Errorf("%s: the path's root %s is not among Roots", where, rootString(r))
}

func checkVariable(t *testing.T, s *goheap.Session, gs []goheap.Goroutine, r goheap.Root, o goheap.Object, where string) {
	for _, g := range gs {
		if g.ID != r.Goroutine {
			continue
		}
		vars, err := s.Variables(g.Index)
		if err != nil {
			t.Errorf("%s: Variables(%d): %v", where, g.Index, err)
			return
		}
		for _, v := range vars {
			if v.Target == o.ID {
				if v.Frame > len(g.Frames) {
					t.Errorf("%s: variable %s in frame %d of %d", where, v.Name, v.Frame, len(g.Frames))
				}
				return
			}
		}
		t.Errorf("%s: no variable of goroutine %d points to the object (%d variables)", where, g.ID, len(vars))
		return
	}
	t.Errorf("%s: no goroutine %d", where, r.Goroutine)
}

// checkGoroutines: as many user goroutines as runtime.NumGoroutine said,
// each with frames.
func checkGoroutines(t *testing.T, s *goheap.Session, m manifest) {
	gs, err := s.Goroutines()
	if err != nil {
		t.Fatal(err)
	}
	user := 0
	for i, g := range gs {
		if g.Index != i {
			t.Errorf("goroutine %d has Index %d", i, g.Index)
		}
		if g.System {
			continue
		}
		user++
		if len(g.Frames) == 0 {
			t.Errorf("user goroutine %d (%s) has no frames", g.ID, g.Status)
		}
	}
	if user != m.Goroutines {
		t.Errorf("%d user goroutines, manifest %d", user, m.Goroutines)
	}
	// Delve's view: sorted by id, user frames by the rule, entry frames,
	// and the program's own record of user frames, go statements, labels.
	byID := map[int64]*goheap.Goroutine{}
	for i := range gs {
		g := &gs[i]
		byID[g.ID] = g
		if i > 0 && g.ID <= gs[i-1].ID {
			t.Errorf("goroutine %d after %d: not sorted by id", g.ID, gs[i-1].ID)
		}
		if k, err := s.GoroutineIndex(g.ID); err != nil || k != i {
			t.Errorf("GoroutineIndex(%d) = %d, %v; want %d", g.ID, k, err, i)
		}
		want := -1
		for f := range g.Frames {
			if !runtimeFrame(g.Frames[f]) {
				want = f
				break
			}
		}
		if g.UserFrame != want {
			t.Errorf("goroutine %d: user frame %d, the rule gives %d", g.ID, g.UserFrame, want)
		}
		if (g.EntryFrame < 0) != (len(g.Frames) == 0) || g.EntryFrame >= len(g.Frames) {
			t.Errorf("goroutine %d: entry frame %d of %d", g.ID, g.EntryFrame, len(g.Frames))
		}
		if g.LabelsError != "" {
			t.Errorf("goroutine %d: labels: %s", g.ID, g.LabelsError)
		}
		if !sort.SliceIsSorted(g.Labels, func(a, b int) bool { return g.Labels[a].Key < g.Labels[b].Key }) {
			t.Errorf("goroutine %d: labels not sorted by key: %v", g.ID, g.Labels)
		}
	}
	for _, p := range m.Parked {
		g := byID[p.Goroutine]
		if g == nil {
			t.Errorf("parked goroutine %d (%s) not found", p.Goroutine, p.Function)
			continue
		}
		got := map[string]string{}
		for _, l := range g.Labels {
			got[l.Key] = l.Value
		}
		if len(got) != len(p.Labels) {
			t.Errorf("goroutine %d: labels %v, the program set %v", g.ID, got, p.Labels)
		}
		for k, v := range p.Labels {
			if have, ok := g.Label(k); !ok || have != v {
				t.Errorf("goroutine %d: label %s = %q, the program set %q", g.ID, k, have, v)
			}
		}
		if u := p.User; u != nil {
			f := g.User()
			if f == nil || f.Function != u.Function || (u.Line != 0 && (f.File != u.File || f.Line != u.Line)) {
				t.Errorf("goroutine %d: user frame %+v, the program says %+v", g.ID, f, *u)
			}
		}
		if c := p.Creator; c != nil && (g.Creator != c.Function || g.CreatorFile != c.File || g.CreatorLine != c.Line) {
			t.Errorf("goroutine %d: created by %s %s:%d, the go statement is %+v", g.ID, g.Creator, g.CreatorFile,
				g.CreatorLine, *c)
		}
	}
	if _, err := s.GoroutineIndex(-7); !errors.Is(err, goheap.ErrNotFound) || !strings.Contains(err.Error(), "-7") {
		t.Errorf("GoroutineIndex(-7): %v, want ErrNotFound naming it", err)
	}
}

// runtimeFrame is docs/api.md's rule for the user frame: Delve's
// (*G).UserCurrent (no '.', unexported runtime.*, internal/,
// runtime/internal/, iter.) plus GOROOT/src/runtime code linked into other
// packages and package syscall.
func runtimeFrame(f goheap.Frame) bool {
	fn := f.Function
	if rest, ok := strings.CutPrefix(fn, "runtime."); ok {
		return rest == "" || !(rest[0] >= 'A' && rest[0] <= 'Z')
	}
	return !strings.Contains(fn, ".") || strings.HasPrefix(fn, "internal/") ||
		strings.HasPrefix(fn, "runtime/internal/") || strings.HasPrefix(fn, "iter.") ||
		strings.HasPrefix(fn, "syscall.") || strings.Contains(f.File, "/src/runtime/")
}

// checkPending: the objects pending finalization the manifest lists, each
// with its finalizer or cleanup function and record (a root of that kind);
// live sentinels are not pending; a bad address is ErrNotFound.
func checkPending(t *testing.T, s *goheap.Session, m manifest) {
	objs, _, err := s.PendingTotals()
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, n := range m.Pending {
		want += n
	}
	if m.Pending != nil && objs != uint64(want) {
		t.Errorf("%d objects pending finalization, manifest %d (%v)", objs, want, m.Pending)
	}
	all, err := s.Pending()
	if err != nil {
		t.Fatal(err)
	}
	roots, err := s.Roots()
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[uint64]bool{}
	for _, p := range all {
		distinct[p.Object.Addr] = true
		if p.Object.Live || p.Root < 0 || p.Root >= len(roots) || roots[p.Root].Kind != p.Kind ||
			roots[p.Root].Addr != p.Record {
			t.Errorf("pending %#x: live %v, record %#x, root %d", p.Object.Addr, p.Object.Live, p.Record, p.Root)
		}
	}
	if uint64(len(distinct)) != objs {
		t.Errorf("Pending lists %d objects, PendingTotals %d", len(distinct), objs)
	}
	for _, o := range m.PendingObjects {
		addr, _ := strconv.ParseUint(o.Addr, 0, 64)
		ps, err := s.PendingAt(addr)
		if err != nil || len(ps) != 1 || ps[0].Kind.String() != o.Kind || ps[0].Function != o.Function ||
			ps[0].Object.Addr != addr {
			t.Errorf("PendingAt(%s): %+v, %v; manifest %s %s", o.Addr, ps, err, o.Kind, o.Function)
		}
	}
	for _, sn := range m.Sentinels {
		addr, _ := strconv.ParseUint(sn.Addr, 0, 64)
		if ps, err := s.PendingAt(addr); err != nil || ps != nil {
			t.Errorf("sentinel %s: PendingAt %+v, %v", sn.Addr, ps, err)
		}
	}
	if _, err := s.PendingAt(0x10); !errors.Is(err, goheap.ErrNotFound) {
		t.Errorf("PendingAt(0x10): %v, want ErrNotFound", err)
	}
}

// checkProfile: corpus/sites' allocation sites against the runtime's own
// MemProfile and the program's live counts; every stack's user frame is
// its site; each sentinel of a sampled type was allocated at its site;
// programs that never ask for a profile have it disabled.
func checkProfile(t *testing.T, s *goheap.Session, m manifest) {
	p, err := s.Profile()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Stacks {
		x := p.Sites[st.Site]
		if st.User >= len(st.Frames) || st.Frames[st.User].Function != x.Function ||
			st.Frames[st.User].Line != x.Line {
			t.Errorf("stack %d: user frame %d of %d is not its site %s", st.Index, st.User, len(st.Frames), x.Function)
		}
	}
	if _, err := s.AllocStack(0x10); !errors.Is(err, goheap.ErrNotFound) {
		t.Errorf("AllocStack(0x10): %v, want ErrNotFound", err)
	}
	if m.Sites == nil {
		if !p.Disabled || p.Rate != 0 {
			t.Errorf("a program that never asks for a profile: disabled %v, rate %d", p.Disabled, p.Rate)
		}
		return
	}
	if p.Rate != 1 || p.Disabled {
		t.Errorf("rate %d, disabled %v", p.Rate, p.Disabled)
	}
	byType := map[string]string{}
	for _, ms := range m.Sites {
		var x *goheap.Site
		for i := range p.Sites {
			if p.Sites[i].Function == ms.Function && p.Sites[i].File == ms.File && p.Sites[i].Line == ms.Line {
				x = &p.Sites[i]
			}
		}
		if x == nil {
			t.Errorf("site %s:%d not found", ms.Function, ms.Line)
			continue
		}
		rt := ms.Runtime
		if x.LiveObjects != ms.Live || x.LiveObjects != rt.InuseObjects || x.LiveBytes != rt.InuseBytes ||
			x.AllocObjects != rt.AllocObjects || x.AllocBytes != rt.AllocBytes ||
			x.SampledObjects-x.LiveObjects != ms.Garbage || len(x.Stacks) != ms.Callers {
			t.Errorf("site %s: %+v; manifest %+v", ms.Function, *x, ms)
		}
		if ms.Live > 0 {
			byType[ms.Type] = ms.Function
		}
	}
	n := 0
	for _, sn := range m.Sentinels {
		fn, ok := byType[sn.Type]
		if !ok {
			continue
		}
		addr, _ := strconv.ParseUint(sn.Addr, 0, 64)
		st, err := s.AllocStack(addr)
		if err != nil || st == nil || p.Sites[st.Site].Function != fn {
			t.Errorf("sentinel %s %s: allocation stack %+v, %v; want one at %s", sn.Type, sn.Addr, st, err, fn)
		}
		n++
	}
	if n == 0 {
		t.Errorf("no sentinel of a sampled type")
	}
}

// checkIteration: walking the live objects counts the same per type (and
// per slot size for untyped ones) as TypeStats; the walk is in address
// order; Live + Garbage = All.
func checkIteration(t *testing.T, s *goheap.Session) {
	stats, err := s.TypeStats(goheap.Live)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		id   goheap.TypeID
		name string
	}
	count, bytes := map[key]uint64{}, map[key]uint64{}
	var last uint64
	n := 0
	err = s.EachObject(goheap.Live, func(o goheap.Object) bool {
		if !o.Live {
			t.Errorf("object %#x from a live walk is not live", o.Addr)
		}
		if o.Addr < last {
			t.Errorf("object %#x after %#x: not in address order", o.Addr, last)
		}
		last = o.Addr
		k := key{id: o.Type}
		if o.Type == 0 {
			k.name = fmt.Sprintf("unknown<%d>", o.Size)
		}
		count[k]++
		bytes[k] += o.Size
		n++
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, st := range stats {
		k := key{id: st.Type}
		if st.Type == 0 {
			k.name = st.Name
		}
		if count[k] != st.Count || bytes[k] != st.Bytes {
			t.Errorf("%s: TypeStats %d objects %d bytes, walk %d objects %d bytes", st.Name, st.Count, st.Bytes,
				count[k], bytes[k])
		}
		delete(count, k)
		total += st.Count
	}
	for k, c := range count {
		t.Errorf("walk found %d objects of type %d %s that TypeStats does not list", c, k.id, k.name)
	}
	if uint64(n) != total {
		t.Errorf("walked %d live objects, TypeStats counts %d", n, total)
	}

	// The iterator, for all objects; EachObject stops when told.
	it, err := s.Objects(goheap.All)
	if err != nil {
		t.Fatal(err)
	}
	all, live := 0, 0
	for it.Next() {
		all++
		if it.Object().Live {
			live++
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	it.Close()
	sum, err := s.HeapSummary()
	if err != nil {
		t.Fatal(err)
	}
	if live != n || uint64(all-live) != sum.GarbageObjects {
		t.Errorf("All walk: %d live (live walk %d), %d garbage (summary %d)", live, n, all-live, sum.GarbageObjects)
	}
	calls := 0
	if err := s.EachObject(goheap.All, func(goheap.Object) bool { calls++; return calls < 3 }); err != nil || calls != 3 {
		t.Errorf("EachObject stopped after %d calls (%v), want 3", calls, err)
	}
}

func checkBreakdown(t *testing.T, s *goheap.Session) {
	b, err := s.Breakdown()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) == 0 || len(b.Checks) == 0 {
		t.Fatalf("breakdown: %d rows, %d checks", len(b.Rows), len(b.Checks))
	}
	sum, err := s.HeapSummary()
	if err != nil {
		t.Fatal(err)
	}
	heap := false
	for _, r := range b.Rows {
		if r.Group == "" || r.What == "" {
			t.Errorf("breakdown row without a name: %+v", r)
		}
		if r.Group == "heap" && r.Count == sum.Objects && r.Bytes == sum.Bytes {
			heap = true
		}
	}
	if !heap {
		t.Errorf("no heap row with the summary's %d objects, %d bytes", sum.Objects, sum.Bytes)
	}
	for _, c := range b.Checks {
		if c.Goheap != c.Runtime && c.Explanation == "" {
			t.Errorf("breakdown check %q: goheap %d, runtime %d", c.What, c.Goheap, c.Runtime)
		}
	}
}

// checkCommand: the heap command's JSON agrees with HeapSummary.
func checkCommand(t *testing.T, s *goheap.Session) {
	out, err := s.Run("heap", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var heap struct {
		Bytes      uint64 `json:"bytes"`
		TypedBytes uint64 `json:"typed_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &heap); err != nil {
		t.Fatalf("heap --json: %v: %.200s", err, out)
	}
	sum, err := s.HeapSummary()
	if err != nil {
		t.Fatal(err)
	}
	if heap.Bytes != sum.LiveBytes || heap.TypedBytes != sum.TypedBytes {
		t.Errorf("heap --json: %d bytes, %d typed; summary %d, %d", heap.Bytes, heap.TypedBytes, sum.LiveBytes,
			sum.TypedBytes)
	}
	if _, err := s.Run("no-such-command"); err == nil {
		t.Errorf("Run(no-such-command) did not fail")
	}
}

// checkDemo: main.Session's fields, and a session's pointer to its payload.
func checkDemo(t *testing.T, s *goheap.Session, m manifest) {
	types, err := s.Types()
	if err != nil {
		t.Fatal(err)
	}
	var session goheap.Type
	for i, ty := range types {
		if ty.ID != goheap.TypeID(i+1) {
			t.Fatalf("Types()[%d] has id %d", i, ty.ID)
		}
		if ty.Name == "main.Session" {
			session = ty
		}
	}
	if session.ID == 0 {
		t.Fatal("no type main.Session")
	}
	if session.Kind != goheap.KindStruct || session.Kind.String() != "struct" || session.Size != 40 ||
		session.NumFields != 4 {
		t.Errorf("main.Session: %+v (kind %s)", session, session.Kind)
	}
	fields, err := s.Fields(session.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	if fmt.Sprint(names) != "[ID User Payload Prev]" {
		t.Errorf("main.Session fields %v, want [ID User Payload Prev]", names)
	}
	want := []goheap.Field{
		{Name: "ID", Offset: 0, Size: 8, Type: "int", Kind: goheap.KindInt},
		{Name: "User", Offset: 8, Size: 16, Type: "string", Kind: goheap.KindString},
		{Name: "Payload", Offset: 24, Size: 8, Type: "*main.Payload", Kind: goheap.KindPointer},
		{Name: "Prev", Offset: 32, Size: 8, Type: "*main.Session", Kind: goheap.KindPointer},
	}
	if fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("main.Session fields\n%+v\nwant\n%+v", fields, want)
	}

	var addr uint64
	for _, sn := range m.Sentinels {
		if sn.Type == "main.Session" {
			addr, _ = strconv.ParseUint(sn.Addr, 0, 64)
		}
	}
	if addr == 0 {
		t.Fatal("the manifest has no main.Session sentinel")
	}
	o, err := s.ObjectAt(addr)
	if err != nil {
		t.Fatal(err)
	}
	edges, err := s.Edges(o.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range edges {
		if e.Field != ".Payload" {
			continue
		}
		found = true
		if e.Offset != 24 || e.Target == goheap.NoObject {
			t.Errorf(".Payload edge %+v", e)
			continue
		}
		to, err := s.ObjectAt(e.Value)
		if err != nil {
			t.Fatal(err)
		}
		ty, err := s.Type(to.Type)
		if err != nil || ty.Name != "main.Payload" || to.ID != e.Target {
			t.Errorf(".Payload points to %+v of type %q (%v)", to, ty.Name, err)
		}
	}
	if !found {
		t.Errorf("no .Payload edge among %+v", edges)
	}
	if session.Rtype == 0 {
		t.Errorf("main.Session has no runtime type descriptor")
	}

	// The biggest live type is the leak.
	stats, err := s.TypeStats(goheap.Live)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) == 0 || stats[0].Name != "main.Payload" || stats[0].Count != 500 {
		t.Errorf("biggest live type: %+v", stats[:min(1, len(stats))])
	}
	if !sort.SliceIsSorted(stats, func(i, j int) bool { return stats[i].Bytes > stats[j].Bytes }) {
		t.Errorf("TypeStats not sorted by bytes")
	}
}

// TestOpenWithoutExe finds the executable from the core's notes.
func TestOpenWithoutExe(t *testing.T) {
	d := coreDir(t, releases[len(releases)-1], "demo")
	if d == "" {
		t.Skip("no demo core")
	}
	s, err := goheap.Open(filepath.Join(d, "core"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Executable() == "" {
		t.Errorf("no executable")
	}
	if _, err := s.HeapSummary(); err != nil {
		t.Error(err)
	}
}

// TestErrors: failures come back as *Error with libgoheap's code.
func TestErrors(t *testing.T) {
	_, err := goheap.Open("/nonexistent/core", "")
	wantCode(t, "Open(missing file)", err, goheap.ErrIO, -1)

	d := coreDir(t, releases[len(releases)-1], "demo")
	if d == "" {
		t.Skip("no demo core")
	}
	exe := filepath.Join(d, "exe")
	_, err = goheap.Open(exe, exe)
	wantCode(t, "Open(an executable as the core)", err, goheap.ErrFormat, -2)

	s := openCore(t, d)
	_, err = s.ObjectAt(8)
	wantCode(t, "ObjectAt(8)", err, goheap.ErrNotFound, -10)
	_, err = s.Paths(8, 1)
	wantCode(t, "Paths(8)", err, goheap.ErrNotFound, -10)
	_, err = s.Objects(goheap.Which(0))
	wantCode(t, "Objects(0)", err, goheap.ErrArg, -7)
	_, err = s.TypeStats(goheap.Which(8))
	wantCode(t, "TypeStats(8)", err, goheap.ErrArg, -7)
	_, err = s.Edges(goheap.NoObject)
	wantCode(t, "Edges(NoObject)", err, goheap.ErrNotFound, -10)
	n, err := s.TypeCount()
	if err != nil {
		t.Fatal(err)
	}
	if _, err = s.Type(goheap.TypeID(n + 1)); err == nil {
		t.Errorf("Type(%d) of %d types did not fail", n+1, n)
	}
	roots, err := s.Roots()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RootWords(len(roots))
	wantCode(t, "RootWords(past the last)", err, goheap.ErrNotFound, -10)
	_, err = s.Variables(1 << 30)
	wantCode(t, "Variables(past the last)", err, goheap.ErrNotFound, -10)

	// A closed session: calls fail, Close again is fine, an open walk ends.
	it, err := s.Objects(goheap.Live)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = s.HeapSummary()
	wantCode(t, "HeapSummary after Close", err, goheap.ErrArg, -7)
	if it.Next() {
		t.Errorf("walk goes on after Close")
	}
	wantCode(t, "walk after Close", it.Err(), goheap.ErrArg, -7)
	if s.GoVersion() != "" || s.Warnings() != nil {
		t.Errorf("closed session still answers")
	}
}

func wantCode(t *testing.T, what string, err error, code goheap.Code, num int) {
	t.Helper()
	var e *goheap.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %v (%T), want a *goheap.Error", what, err, err)
		return
	}
	if e.Code != code || int(e.Code) != num || !errors.Is(err, code) || e.Msg == "" {
		t.Errorf("%s: code %d (%v) %q, want %d (%v)", what, int(e.Code), e.Code, e.Msg, num, code)
	}
}

// TestStrippedProfile: a stripped binary has no memory profile to read:
// Profile and AllocStack say so with ErrUnsupported, naming the symbol.
func TestStrippedProfile(t *testing.T) {
	corpusDir(t)
	n := 0
	for _, rel := range releases {
		d := coreDir(t, rel+"-stripped", "demo")
		if d == "" {
			continue
		}
		n++
		s := openCore(t, d)
		if _, err := s.Profile(); !errors.Is(err, goheap.ErrUnsupported) || !strings.Contains(err.Error(), "runtime.mbuckets") {
			t.Errorf("%s: Profile: %v, want ErrUnsupported naming runtime.mbuckets", rel, err)
		}
		m := readManifest(t, d)
		addr, _ := strconv.ParseUint(m.Sentinels[0].Addr, 0, 64)
		if _, err := s.AllocStack(addr); !errors.Is(err, goheap.ErrUnsupported) {
			t.Errorf("%s: AllocStack: %v, want ErrUnsupported", rel, err)
		}
	}
	if n == 0 {
		t.Skip("no stripped demo core of the releases tested")
	}
}
