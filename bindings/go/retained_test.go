package goheap_test

import (
	"encoding/json"
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
		})
	}
}
