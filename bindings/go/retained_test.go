package goheap_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	goheap "github.com/goheap/goheap/bindings/go"
)

// The retained sizes corpus/retained builds by construction (its manifest's
// "retained" list), through Retained, TypeRetained and RootRetained; and
// Retainers sorted, largest first, each equal to Retained of its object.
func TestRetained(t *testing.T) {
	corpusDir(t)
	for _, rel := range releases {
		rel := rel
		t.Run(rel, func(t *testing.T) {
			d := coreDir(t, rel, "retained")
			if d == "" {
				t.Skipf("no retained core for %s", rel)
			}
			var m struct {
				Retained []struct {
					Addr    string        `json:"addr"`
					Root    *manifestRoot `json:"root"`
					Type    string        `json:"type"`
					Bytes   uint64        `json:"bytes"`
					Objects uint64        `json:"objects"`
					AtLeast bool          `json:"at_least"`
				} `json:"retained"`
			}
			b, err := os.ReadFile(filepath.Join(d, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &m); err != nil || len(m.Retained) == 0 {
				t.Fatalf("manifest: %v (%d retained entries)", err, len(m.Retained))
			}
			s := openCore(t, d)
			roots, err := s.Roots()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range m.Retained {
				var gotB, gotO uint64
				var found bool
				switch {
				case r.Addr != "":
					a, _ := strconv.ParseUint(r.Addr, 0, 64)
					got, err := s.Retained(a)
					if err != nil {
						t.Fatalf("Retained(%s): %v", r.Addr, err)
					}
					gotB, gotO, found = got.Bytes, got.Objects, true
				case r.Type != "":
					var exact bool
					gotB, gotO, exact, err = s.TypeRetained(r.Type)
					if err != nil || !exact {
						t.Fatalf("TypeRetained(%s): %v, exact %v", r.Type, err, exact)
					}
					found = true
				case r.Root != nil && r.Root.Kind == "global":
					for i, root := range roots {
						if root.Kind == goheap.RootGlobal && root.Name == r.Root.Name {
							gotB, gotO, err = s.RootRetained(i)
							if err != nil {
								t.Fatal(err)
							}
							found = true
							break
						}
					}
					if !found && r.Bytes == 0 {
						found = true // a global retaining nothing may have no root of its own
					}
				default:
					continue // goroutine and finalizer groups: checked by check_retained
				}
				if !found {
					t.Errorf("%+v: not found", r)
					continue
				}
				if gotB != r.Bytes || gotO != r.Objects {
					if !r.AtLeast || gotB < r.Bytes || gotO < r.Objects {
						t.Errorf("%s%s%v: goheap %d bytes %d objects, manifest %d %d", r.Addr, r.Type, r.Root,
							gotB, gotO, r.Bytes, r.Objects)
					}
				}
			}
			top, err := s.Retainers(10)
			if err != nil || len(top) == 0 {
				t.Fatalf("Retainers: %v, %d", err, len(top))
			}
			for i, r := range top {
				if i > 0 && r.Bytes > top[i-1].Bytes {
					t.Errorf("Retainers not sorted at %d", i)
				}
				one, err := s.Retained(r.Object.Addr)
				if err != nil || one.Bytes != r.Bytes || one.Objects != r.Objects {
					t.Errorf("Retainers[%d] %#x: %d bytes, Retained says %d (%v)", i, r.Object.Addr, r.Bytes,
						one.Bytes, err)
				}
			}
			// The tree one level down adds up: an object retains its slot
			// and its children's retained sizes; a root group its
			// children's. Each child names its parent as its dominator.
			for _, r := range top {
				kids, total, err := s.Dominated(r.Object.Addr, 0)
				if err != nil || total != len(kids) {
					t.Fatalf("Dominated(%#x): %v, %d of %d", r.Object.Addr, err, len(kids), total)
				}
				b, o := r.Object.Size, uint64(1)
				for j, k := range kids {
					b, o = b+k.Bytes, o+k.Objects
					if k.Dominator != r.Object.Addr || (j > 0 && k.Bytes > kids[j-1].Bytes) {
						t.Errorf("Dominated(%#x)[%d]: dominator %#x, %d bytes", r.Object.Addr, j, k.Dominator, k.Bytes)
					}
				}
				if b != r.Bytes || o != r.Objects {
					t.Errorf("%#x retains %d B %d objects, its slot and children %d B %d", r.Object.Addr, r.Bytes,
						r.Objects, b, o)
				}
				if one, n, err := s.Dominated(r.Object.Addr, 1); err != nil || n != total || len(one) != min(1, total) {
					t.Errorf("Dominated(%#x, 1): %d of %d, %v", r.Object.Addr, len(one), n, err)
				}
			}
			groups := 0
			for i := range roots {
				rb, ro, err := s.RootRetained(i)
				if err != nil {
					t.Fatal(err)
				}
				kids, _, err := s.RootDominated(i, 0)
				if err != nil {
					t.Fatal(err)
				}
				var b, o uint64
				for _, k := range kids {
					b, o = b+k.Bytes, o+k.Objects
					if k.Dominator != 0 || k.DominatorRoot < 0 {
						t.Errorf("root %d: child %#x dominated by %#x / root %d", i, k.Object.Addr, k.Dominator,
							k.DominatorRoot)
					}
				}
				if b != rb || o != ro {
					t.Errorf("root %d (%s): retains %d B %d objects, its children %d B %d", i, rootString(roots[i]),
						rb, ro, b, o)
				}
				if len(kids) > 0 {
					groups++
				}
			}
			if groups == 0 {
				t.Errorf("no root group dominates anything")
			}
			if _, _, err := s.Dominated(0x10, 0); !errors.Is(err, goheap.ErrNotFound) {
				t.Errorf("Dominated(0x10): %v, want ErrNotFound", err)
			}
			if _, _, err := s.RootDominated(len(roots), 0); !errors.Is(err, goheap.ErrNotFound) {
				t.Errorf("RootDominated(%d): %v, want ErrNotFound", len(roots), err)
			}
		})
	}
}
