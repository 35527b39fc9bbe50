// sizeclasses: objects in every kind of span of the Go 1.22+ allocator, each
// type named by its size and held by a global slice of pointers.
//
//	Tiny                8 B, pointer-free: tiny allocator, two to a 16-byte block
//	Small24..Small512   pointerful, no malloc header (heap bits at the span end)
//	Header600..32760    pointerful, 512 < size <= 32 KiB - 8: 8-byte malloc
//	                    header holding the type (32760 is the largest such size)
//	Large32768          pointerful, just over the header limit: a large object
//	LargePtr            40000 B with one pointer (span.largeType)
//	LargeNoPtr          50000 B, pointer-free (noscan large span, no type)
//	[64]Pair            array of pointerful structs (1024 B, malloc header)
//	[16384]Pair         256 KiB array of pointerful structs: a GC program in
//	                    Go 1.22-1.23, a mask built on demand from Go 1.24
//	Leaf                16 B pointer-free, pointed to from the Pair arrays
//	Big                 a []byte of 70000 (not a page multiple: its large
//	                    slot is 73728 B); its capacity states the length
//	BoundBuf            a *byte to the first of 70000 bytes no slice keeps:
//	                    only the slot bounds the length ([≤73728]uint8)
//	TinyMid             a *int32 to the second field of a tiny-allocated
//	                    TinyPair, its only reference: the block's first 4
//	                    bytes hold no object goheap can know of
//
// Every pointerful type's first field points to the previous object of its
// kind (nil for the first), so the heap bitmaps matter.
//
// Live mode, second stop: Small48 is cut from 10 to 4 (the tail is cleared
// first), all LargePtr are dropped, and 3 more Header4096 are appended.
package main

import (
	"reflect"
	"strconv"
	"unsafe"

	"corpus/manifest"
)

type Tiny struct{ A, B uint32 }

type Small24 struct {
	Prev *Small24
	ID   int64
	Gen  int64
}

type Small48 struct {
	Prev *Small48
	ID   int64
	Pad  [4]int64
}

type Small128 struct {
	Prev *Small128
	ID   int64
	Pad  [14]int64
}

type Small256 struct {
	Prev *Small256
	ID   int64
	Pad  [30]int64
}

type Small512 struct {
	Prev *Small512
	ID   int64
	Pad  [62]int64
}

type Header600 struct {
	Prev *Header600
	ID   int64
	Pad  [73]int64
}

type Header1024 struct {
	Prev *Header1024
	ID   int64
	Pad  [126]int64
}

type Header4096 struct {
	Prev *Header4096
	ID   int64
	Pad  [510]int64
}

type Header30000 struct {
	Prev *Header30000
	ID   int64
	Pad  [3748]int64
}

type Header32760 struct {
	Prev *Header32760
	ID   int64
	Pad  [4093]int64
}

type Large32768 struct {
	Prev *Large32768
	ID   int64
	Pad  [4094]int64
}

type LargePtr struct {
	Prev *LargePtr
	ID   int64
	Pad  [4998]int64
}

type LargeNoPtr struct {
	ID   int64
	Data [49992]byte
}

type Leaf struct{ ID, Slot int64 }

type Pair struct{ L, R *Leaf }

type TinyPair struct{ A, B int32 }

// The sizes are part of the shape: these fail to compile if one is off.
var (
	_ = [1]int{}[unsafe.Sizeof(Tiny{})-8]
	_ = [1]int{}[unsafe.Sizeof(Small24{})-24]
	_ = [1]int{}[unsafe.Sizeof(Small48{})-48]
	_ = [1]int{}[unsafe.Sizeof(Small128{})-128]
	_ = [1]int{}[unsafe.Sizeof(Small256{})-256]
	_ = [1]int{}[unsafe.Sizeof(Small512{})-512]
	_ = [1]int{}[unsafe.Sizeof(Header600{})-600]
	_ = [1]int{}[unsafe.Sizeof(Header1024{})-1024]
	_ = [1]int{}[unsafe.Sizeof(Header4096{})-4096]
	_ = [1]int{}[unsafe.Sizeof(Header30000{})-30000]
	_ = [1]int{}[unsafe.Sizeof(Header32760{})-32760]
	_ = [1]int{}[unsafe.Sizeof(Large32768{})-32768]
	_ = [1]int{}[unsafe.Sizeof(LargePtr{})-40000]
	_ = [1]int{}[unsafe.Sizeof(LargeNoPtr{})-50000]
	_ = [1]int{}[unsafe.Sizeof([64]Pair{})-1024]
	_ = [1]int{}[unsafe.Sizeof([16384]Pair{})-262144]
)

const (
	nTiny   = 100
	nSmall  = 10
	nHeader = 4
	nLarge  = 2
	nPairs  = 4
)

var (
	Tinies  []*Tiny
	S24     []*Small24
	S48     []*Small48
	S128    []*Small128
	S256    []*Small256
	S512    []*Small512
	H600    []*Header600
	H1024   []*Header1024
	H4096   []*Header4096
	H30000  []*Header30000
	H32760  []*Header32760
	L32768  []*Large32768
	LPtr    []*LargePtr
	LNoPtr  []*LargeNoPtr
	Pairs64 []*[64]Pair
	BigArr  *[16384]Pair

	Big      []byte
	BoundBuf *byte
	TinyMid  *int32
)

const nBig = 70000 // bytes: a large object, slot rounded up to 8 KiB pages

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func build() {
	Tinies = make([]*Tiny, nTiny)
	for i := range Tinies {
		Tinies[i] = &Tiny{A: uint32(i), B: 0xC0FFEE}
	}
	S24 = make([]*Small24, nSmall)
	S48 = make([]*Small48, nSmall)
	S128 = make([]*Small128, nSmall)
	S256 = make([]*Small256, nSmall)
	S512 = make([]*Small512, nSmall)
	for i := 0; i < nSmall; i++ {
		var p24 *Small24
		var p48 *Small48
		var p128 *Small128
		var p256 *Small256
		var p512 *Small512
		if i > 0 {
			p24, p48, p128, p256, p512 = S24[i-1], S48[i-1], S128[i-1], S256[i-1], S512[i-1]
		}
		S24[i] = &Small24{Prev: p24, ID: 24000 + int64(i), Gen: 1}
		S48[i] = &Small48{Prev: p48, ID: 48000 + int64(i)}
		S128[i] = &Small128{Prev: p128, ID: 128000 + int64(i)}
		S256[i] = &Small256{Prev: p256, ID: 256000 + int64(i)}
		S512[i] = &Small512{Prev: p512, ID: 512000 + int64(i)}
	}
	H600 = make([]*Header600, nHeader)
	H1024 = make([]*Header1024, nHeader)
	H4096 = make([]*Header4096, nHeader)
	H30000 = make([]*Header30000, nHeader)
	H32760 = make([]*Header32760, nHeader)
	for i := 0; i < nHeader; i++ {
		var p600 *Header600
		var p1024 *Header1024
		var p4096 *Header4096
		var p30000 *Header30000
		var p32760 *Header32760
		if i > 0 {
			p600, p1024, p4096, p30000, p32760 = H600[i-1], H1024[i-1], H4096[i-1], H30000[i-1], H32760[i-1]
		}
		H600[i] = &Header600{Prev: p600, ID: 600000 + int64(i)}
		H1024[i] = &Header1024{Prev: p1024, ID: 1024000 + int64(i)}
		H4096[i] = &Header4096{Prev: p4096, ID: 4096000 + int64(i)}
		H30000[i] = &Header30000{Prev: p30000, ID: 30000000 + int64(i)}
		H32760[i] = &Header32760{Prev: p32760, ID: 32760000 + int64(i)}
	}
	L32768 = make([]*Large32768, nLarge)
	LPtr = make([]*LargePtr, nLarge)
	LNoPtr = make([]*LargeNoPtr, nLarge)
	for i := 0; i < nLarge; i++ {
		var p32768 *Large32768
		var pl *LargePtr
		if i > 0 {
			p32768, pl = L32768[i-1], LPtr[i-1]
		}
		L32768[i] = &Large32768{Prev: p32768, ID: 32768000 + int64(i)}
		LPtr[i] = &LargePtr{Prev: pl, ID: 40000000 + int64(i)}
		LNoPtr[i] = &LargeNoPtr{ID: 50000000 + int64(i)}
		LNoPtr[i].Data[len(LNoPtr[i].Data)-1] = 0x5A
	}
	// Every Pair of the small arrays points to its own Leaf in L.
	Pairs64 = make([]*[64]Pair, nPairs)
	for i := range Pairs64 {
		a := new([64]Pair)
		for j := range a {
			a[j].L = &Leaf{ID: int64(i), Slot: int64(j)}
		}
		Pairs64[i] = a
	}
	// In the big array only every 1024th Pair points to a Leaf, in R.
	BigArr = new([16384]Pair)
	for j := 0; j < len(BigArr); j += 1024 {
		BigArr[j].R = &Leaf{ID: 99, Slot: int64(j)}
	}
	Big = make([]byte, nBig)
	Big[nBig-1] = 0x5A
	BoundBuf = &make([]byte, nBig)[0]
	tp := &TinyPair{A: 0x7AA7, B: 0x7BB7}
	TinyMid = &tp.B
}

const nLeaf = nPairs*64 + 16384/1024

func typeName[T any]() string { return reflect.TypeOf((*T)(nil)).Elem().String() }

func sentinel[T any](m *manifest.M, p *T, root string, fields map[string]string) {
	m.Sentinel(unsafe.Pointer(p), typeName[T](), unsafe.Sizeof(*p), manifest.Global(root), fields)
}

func counts(m *manifest.M) {
	m.SetLive(typeName[Tiny](), len(Tinies))
	m.SetLive(typeName[Small24](), len(S24))
	m.SetLive(typeName[Small48](), len(S48))
	m.SetLive(typeName[Small128](), len(S128))
	m.SetLive(typeName[Small256](), len(S256))
	m.SetLive(typeName[Small512](), len(S512))
	m.SetLive(typeName[Header600](), len(H600))
	m.SetLive(typeName[Header1024](), len(H1024))
	m.SetLive(typeName[Header4096](), len(H4096))
	m.SetLive(typeName[Header30000](), len(H30000))
	m.SetLive(typeName[Header32760](), len(H32760))
	m.SetLive(typeName[Large32768](), len(L32768))
	m.SetLive(typeName[LargePtr](), len(LPtr))
	m.SetLive(typeName[LargeNoPtr](), len(LNoPtr))
	m.SetLive(typeName[[64]Pair](), len(Pairs64))
	m.SetLive(typeName[[16384]Pair](), 1)
	m.SetLive(typeName[Leaf](), nLeaf)
}

func manifest1() *manifest.M {
	m := manifest.New("sizeclasses")
	counts(m)

	// A tiny object that starts its 16-byte block.
	for i, t := range Tinies {
		if uintptr(unsafe.Pointer(t))%16 == 0 {
			sentinel(m, t, "main.Tinies", map[string]string{"A": strconv.Itoa(i), "B": "12648430"})
			m.Sentinels[len(m.Sentinels)-1].Note = "tiny allocation: 8 bytes at the start of a shared 16-byte noscan block"
			break
		}
	}
	sentinel(m, S24[3], "main.S24", map[string]string{"ID": "24003", "Gen": "1"})
	sentinel(m, S48[3], "main.S48", map[string]string{"ID": "48003"})
	sentinel(m, S128[3], "main.S128", map[string]string{"ID": "128003"})
	sentinel(m, S256[3], "main.S256", map[string]string{"ID": "256003"})
	sentinel(m, S512[3], "main.S512", map[string]string{"ID": "512003"})
	sentinel(m, H600[1], "main.H600", map[string]string{"ID": "600001"})
	sentinel(m, H1024[1], "main.H1024", map[string]string{"ID": "1024001"})
	sentinel(m, H4096[1], "main.H4096", map[string]string{"ID": "4096001"})
	sentinel(m, H30000[1], "main.H30000", map[string]string{"ID": "30000001"})
	sentinel(m, H32760[1], "main.H32760", map[string]string{"ID": "32760001"})
	for i := range m.Sentinels[len(m.Sentinels)-5:] {
		m.Sentinels[len(m.Sentinels)-5+i].Note = "malloc-header object: addr is the Go pointer, 8 bytes past the slot start where the header holds the type"
	}
	sentinel(m, L32768[1], "main.L32768", map[string]string{"ID": "32768001"})
	sentinel(m, LPtr[1], "main.LPtr", map[string]string{"ID": "40000001"})
	sentinel(m, LNoPtr[1], "main.LNoPtr", map[string]string{"ID": "50000001"})
	sentinel(m, Pairs64[2], "main.Pairs64", nil)
	m.Sentinels[len(m.Sentinels)-1].Note = "malloc-header object: addr is the Go pointer, 8 bytes past the slot start where the header holds the type"
	sentinel(m, Pairs64[2][5].L, "main.Pairs64", map[string]string{"ID": "2", "Slot": "5"})
	sentinel(m, BigArr, "main.BigArr", nil)
	sentinel(m, BigArr[2048].R, "main.BigArr", map[string]string{"ID": "99", "Slot": "2048"})
	shapes(m)
	return m
}

// shapes: what goheap must name and resolve exactly (manifest.Shape).
func shapes(m *manifest.M) {
	slot := uintptr(nBig+8191) &^ 8191
	big := unsafe.Pointer(&Big[0])
	m.AddShape(manifest.Shape{Addr: manifest.Addr(unsafe.Add(big, 12345)), Object: manifest.Addr(big),
		Type: typeName[[nBig]byte](), Size: nBig, Slot: slot, Root: manifest.Global("main.Big"),
		Note: "a slice's capacity states the length; the slot is page-rounded"})
	buf := unsafe.Pointer(BoundBuf)
	m.AddShape(manifest.Shape{Addr: manifest.Addr(buf), Object: manifest.Addr(buf),
		Type: "[\u2264" + strconv.Itoa(int(slot)) + "]uint8", Size: nBig, Slot: slot, Bound: true,
		Root: manifest.Global("main.BoundBuf"), Note: "only a *byte points to it: the slot bounds the length"})
	mid := unsafe.Pointer(TinyMid)
	m.AddShape(manifest.Shape{Addr: manifest.Addr(unsafe.Add(mid, 2)), Object: manifest.Addr(mid),
		Type: typeName[int32](), Size: 4, Root: manifest.Global("main.TinyMid"),
		Note: "the second field of a tiny-allocated TinyPair, as its only pointer types it"})
	m.AddShape(manifest.Shape{Addr: manifest.Addr(unsafe.Add(mid, -4)), Object: "", Type: "tiny block",
		Size: 16, Slot: 16, Root: manifest.Global("main.TinyMid"),
		Note: "TinyPair.A: in the block, but no pointer says what lies there"})
}

// mutate is the live-mode change between stop 1 and stop 2.
func mutate() {
	clear(S48[4:])
	S48 = S48[:4]
	LPtr = nil
	for i := 0; i < 3; i++ {
		H4096 = append(H4096, &Header4096{Prev: H4096[len(H4096)-1], ID: 4096100 + int64(i)})
	}
}

func manifest2() *manifest.M {
	m := manifest.New("sizeclasses")
	m.Stop = 2
	counts(m)
	sentinel(m, S48[3], "main.S48", map[string]string{"ID": "48003"})
	sentinel(m, H4096[6], "main.H4096", map[string]string{"ID": "4096102"})
	return m
}

func main() {
	build()
	manifest.Finish(manifest1(), checkpoint)

	mutate()
	manifest.Finish(manifest2(), checkpoint)
}
