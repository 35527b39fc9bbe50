// maps: the shapes a map walker must handle, each map in its own global.
//
//	Small   map[string]*Entry         6 entries: one bucket / one group
//	Large   map[string]*Entry         10000 entries: many buckets / tables
//	Nested  map[string]map[int]*Leaf  5 inner maps of 20 entries each
//	ByPtr   map[*Key]*Val             pointer keys and pointer values
//	BigVals map[int]BigVal            152-byte values: stored indirectly, each
//	                                  in its own heap object of type BigVal
//	BigKeys map[BigKey]*Tag           160-byte keys: stored indirectly, each
//	                                  in its own heap object of type BigKey
//
// Classic maps (Go 1.22-1.23, GOEXPERIMENT=noswissmap on 1.24-1.25) and Swiss
// maps (1.24+) both store keys and values over 128 bytes out of line, so the
// BigVal and BigKey counts are the number of entries on every version.
// Map internals (hmap, buckets, groups, tables, directories) are not listed.
//
// Live mode, second stop: keys key-00000..key-04999 are deleted from Large,
// 10 entries are added to Small (it outgrows a single bucket/group),
// Nested["outer-0"] is deleted, and 10 entries are deleted from BigVals.
package main

import (
	"fmt"
	"reflect"
	"strconv"
	"unsafe"

	"corpus/manifest"
)

type Entry struct {
	Key string
	N   int
}

type Leaf struct {
	Outer string
	Inner int
}

type Key struct {
	ID   int
	Name string
}

type Val struct {
	ID   int
	Data string
}

type BigVal struct {
	ID   int
	Name string
	Pad  [16]int64
}

type BigKey struct {
	Code [18]int64
	Name string
}

type Tag struct {
	Label string
	N     int
}

// Over 128 bytes, so stored out of line; these fail to compile otherwise.
var (
	_ = [1]int{}[unsafe.Sizeof(BigVal{})-152]
	_ = [1]int{}[unsafe.Sizeof(BigKey{})-160]
)

const (
	nSmall  = 6
	nLarge  = 10000
	nOuter  = 5
	nInner  = 20
	nByPtr  = 50
	nBigVal = 40
	nBigKey = 30
)

var (
	Small   map[string]*Entry
	Large   map[string]*Entry
	Nested  map[string]map[int]*Leaf
	ByPtr   map[*Key]*Val
	BigVals map[int]BigVal
	BigKeys map[BigKey]*Tag
)

// KeyOf remembers one pointer key of ByPtr, to find it again for a sentinel.
var KeyOf *Key

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func largeKey(i int) string { return fmt.Sprintf("key-%05d", i) }

func bigKey(i int) BigKey {
	var k BigKey
	for j := range k.Code {
		k.Code[j] = int64(i*100 + j)
	}
	k.Name = "big-key"
	return k
}

func build() {
	Small = make(map[string]*Entry)
	for i := 0; i < nSmall; i++ {
		k := "s" + strconv.Itoa(i)
		Small[k] = &Entry{Key: k, N: i}
	}

	Large = make(map[string]*Entry)
	for i := 0; i < nLarge; i++ {
		k := largeKey(i)
		Large[k] = &Entry{Key: k, N: i}
	}

	Nested = make(map[string]map[int]*Leaf)
	for o := 0; o < nOuter; o++ {
		ok := "outer-" + strconv.Itoa(o)
		inner := make(map[int]*Leaf)
		for i := 0; i < nInner; i++ {
			inner[i] = &Leaf{Outer: ok, Inner: i}
		}
		Nested[ok] = inner
	}

	ByPtr = make(map[*Key]*Val)
	for i := 0; i < nByPtr; i++ {
		k := &Key{ID: i, Name: "key"}
		ByPtr[k] = &Val{ID: 1000 + i, Data: "val"}
		if i == 17 {
			KeyOf = k
		}
	}

	BigVals = make(map[int]BigVal)
	for i := 0; i < nBigVal; i++ {
		v := BigVal{ID: i, Name: "big-val"}
		v.Pad[15] = int64(i)
		BigVals[i] = v
	}

	BigKeys = make(map[BigKey]*Tag)
	for i := 0; i < nBigKey; i++ {
		BigKeys[bigKey(i)] = &Tag{Label: "tag", N: i}
	}
}

func typeName[T any]() string { return reflect.TypeOf((*T)(nil)).Elem().String() }

func sentinel[T any](m *manifest.M, p *T, root string, fields map[string]string) {
	m.Sentinel(unsafe.Pointer(p), typeName[T](), unsafe.Sizeof(*p), manifest.Global(root), fields)
}

func counts(m *manifest.M) {
	m.SetLive(typeName[Entry](), len(Small)+len(Large))
	leaves := 0
	for _, inner := range Nested {
		leaves += len(inner)
	}
	m.SetLive(typeName[Leaf](), leaves)
	m.SetLive(typeName[Key](), len(ByPtr))
	m.SetLive(typeName[Val](), len(ByPtr))
	m.SetLive(typeName[BigVal](), len(BigVals))
	m.SetLive(typeName[BigKey](), len(BigKeys))
	m.SetLive(typeName[Tag](), len(BigKeys))
}

func manifest1() *manifest.M {
	m := manifest.New("maps")
	counts(m)
	sentinel(m, Small["s2"], "main.Small", map[string]string{"Key": "s2", "N": "2"})
	sentinel(m, Large["key-04242"], "main.Large", map[string]string{"Key": "key-04242", "N": "4242"})
	sentinel(m, Nested["outer-3"][7], "main.Nested", map[string]string{"Outer": "outer-3", "Inner": "7"})
	sentinel(m, ByPtr[KeyOf], "main.ByPtr", map[string]string{"ID": "1017", "Data": "val"})
	sentinel(m, KeyOf, "main.ByPtr", map[string]string{"ID": "17", "Name": "key"})
	m.Sentinels[len(m.Sentinels)-1].Note = "a pointer key of main.ByPtr (also held by main.KeyOf)"
	sentinel(m, BigKeys[bigKey(11)], "main.BigKeys", map[string]string{"Label": "tag", "N": "11"})
	m.Note("main.BigVal and main.BigKey objects are the out-of-line values and keys of main.BigVals and main.BigKeys")
	return m
}

// mutate is the live-mode change between stop 1 and stop 2.
func mutate() {
	for i := 0; i < nLarge/2; i++ {
		delete(Large, largeKey(i))
	}
	for i := nSmall; i < nSmall+10; i++ {
		k := "s" + strconv.Itoa(i)
		Small[k] = &Entry{Key: k, N: i}
	}
	delete(Nested, "outer-0")
	for i := 0; i < 10; i++ {
		delete(BigVals, i)
	}
}

func manifest2() *manifest.M {
	m := manifest.New("maps")
	m.Stop = 2
	counts(m)
	sentinel(m, Small["s12"], "main.Small", map[string]string{"Key": "s12", "N": "12"})
	sentinel(m, Large["key-07777"], "main.Large", map[string]string{"Key": "key-07777", "N": "7777"})
	return m
}

func main() {
	build()
	manifest.Finish(manifest1(), checkpoint)

	mutate()
	manifest.Finish(manifest2(), checkpoint)
}
