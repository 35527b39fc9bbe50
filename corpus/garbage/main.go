// garbage: live objects next to unreachable garbage that is still allocated
// and unswept.
//
// Live (reachable from globals, exact):
//   - main.LiveSmall (1000, 32 bytes) from main.smalls; main.LiveBig (50, a
//     pointerful object above 512 bytes, so it has a malloc header) from
//     main.bigs, each pointing to a LiveSmall; main.Mixed32 (500, 32 bytes)
//     from main.mixed, allocated after the last collection interleaved with
//     main.Trash32 garbage of the same size class, so live objects and garbage
//     share spans.
//
// Garbage (allocated after m.Settle() turned the GC off, then dropped; lower
// bounds, live count 0):
//   - main.Trash32 (2000, 32 bytes, pointerful, no header)
//   - main.Trash2K (200, 2048 bytes, pointer-free)
//   - main.TrashHdr (100, 1024 bytes with pointers: malloc header), each
//     pointing to 8 Trash32 (garbage pointing to garbage)
//   - main.TrashLarge (4, 40 KiB with pointers: a large object with its own span)
//
// The garbage is built in helper functions whose frames are gone, and a stack
// scrubber overwrites the dead stack below main before the dump.
//
// Live mode, second stop: every second entry of main.smalls is set to nil,
// m2.Settle() collects (all stop-1 garbage and the dropped LiveSmall objects
// are freed, slots are reused), and then 1000 new main.Trash32 are allocated
// and dropped. LiveSmall 500, LiveBig 50 (their LiveSmall pointers point only
// to even entries, which stay), Mixed32 500, garbage Trash32 >= 1000.
package main

import (
	"fmt"
	"reflect"
	"strconv"
	"unsafe"

	"corpus/manifest"
)

type LiveSmall struct {
	ID   int
	Name string
	Next *LiveSmall
}

type LiveBig struct {
	Small *LiveSmall
	ID    int
	Data  [1000]byte
}

type Mixed32 struct {
	ID  int
	Tag string
	X   uint64
}

type Trash32 struct {
	Next    *Trash32
	A, B, C uint64
}

type Trash2K struct {
	Buf [2048]byte
}

type TrashHdr struct {
	Refs [8]*Trash32
	Pad  [960]byte
}

type TrashLarge struct {
	Refs [8]*Trash32
	Buf  [40 << 10]byte
}

const (
	nSmall   = 1000
	nBig     = 50
	nMixed   = 500
	nTrash32 = 2000
	nTrash2K = 200
	nHdr     = 100
	nLarge   = 4
)

var (
	smalls []*LiveSmall
	bigs   []*LiveBig
	mixed  []*Mixed32
)

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func typeName(p any) string { return reflect.TypeOf(p).Elem().String() }

//go:noinline
func buildLive() {
	smalls = make([]*LiveSmall, 0, nSmall)
	for i := 0; i < nSmall; i++ {
		smalls = append(smalls, &LiveSmall{ID: i, Name: "small-" + strconv.Itoa(i)})
	}
	bigs = make([]*LiveBig, 0, nBig)
	for i := 0; i < nBig; i++ {
		b := &LiveBig{Small: smalls[2*i], ID: 5000 + i}
		b.Data[0] = byte(i)
		bigs = append(bigs, b)
	}
	mixed = make([]*Mixed32, 0, nMixed) // no reallocation later
}

// buildGarbage allocates the garbage (and the interleaved Mixed32 objects).
// It keeps nothing but the Mixed32 objects.
//
//go:noinline
func buildGarbage() {
	var hdrRefs []*Trash32
	for i := 0; i < nTrash32; i++ {
		t := &Trash32{A: uint64(i), B: 0xDEAD, C: 0xBEEF}
		if i%4 == 0 && len(mixed) < nMixed {
			mixed = append(mixed, &Mixed32{ID: i, Tag: "mixed", X: uint64(i)})
		}
		if i < nHdr*8 {
			hdrRefs = append(hdrRefs, t) // the slice's arrays are garbage too
		}
	}
	for i := 0; i < nTrash2K; i++ {
		t := &Trash2K{}
		t.Buf[0] = byte(i)
		manifest.Sink = t
	}
	for i := 0; i < nHdr; i++ {
		h := &TrashHdr{}
		copy(h.Refs[:], hdrRefs[i*8:])
		manifest.Sink = h
	}
	for i := 0; i < nLarge; i++ {
		l := &TrashLarge{}
		copy(l.Refs[:], hdrRefs[i*8:])
		manifest.Sink = l
	}
	manifest.Sink = nil
}

// newTrash32 allocates n Trash32 and drops them.
//
//go:noinline
func newTrash32(n int) {
	for i := 0; i < n; i++ {
		manifest.Sink = &Trash32{A: uint64(i), B: 0xDEAD, C: 0xBEEF}
	}
	manifest.Sink = nil
}

// scrub overwrites the dead part of the stack below the caller, so no stale
// pointer to garbage survives in a dead slot.
//
//go:noinline
func scrub() int {
	var buf [16 << 10]byte
	for i := range buf {
		buf[i] = 0
	}
	return int(buf[len(buf)-1])
}

//go:noinline
func describe(m *manifest.M, small int) {
	m.SetLive("main.LiveSmall", small)
	m.SetLive("main.LiveBig", nBig)
	m.SetLive("main.Mixed32", nMixed)
	for _, t := range []string{"main.Trash32", "main.Trash2K", "main.TrashHdr", "main.TrashLarge"} {
		m.SetLive(t, 0)
	}
	s := smalls[42]
	m.Sentinel(unsafe.Pointer(s), typeName(s), unsafe.Sizeof(*s), manifest.Global("main.smalls"),
		map[string]string{"ID": "42", "Name": "small-42"})
	b := bigs[7]
	m.Sentinel(unsafe.Pointer(b), typeName(b), unsafe.Sizeof(*b), manifest.Global("main.bigs"),
		map[string]string{"ID": strconv.Itoa(5000 + 7)})
	m.Sentinels[len(m.Sentinels)-1].Note = "has a malloc header: addr is the Go pointer, 8 bytes after the heap slot's start"
	x := mixed[10]
	m.Sentinel(unsafe.Pointer(x), typeName(x), unsafe.Sizeof(*x), manifest.Global("main.mixed"),
		map[string]string{"ID": strconv.Itoa(x.ID), "Tag": "mixed"})
	m.Note(fmt.Sprintf("sizes: LiveSmall %d, LiveBig %d, Mixed32 %d, Trash32 %d, Trash2K %d, TrashHdr %d, TrashLarge %d",
		unsafe.Sizeof(LiveSmall{}), unsafe.Sizeof(LiveBig{}), unsafe.Sizeof(Mixed32{}), unsafe.Sizeof(Trash32{}),
		unsafe.Sizeof(Trash2K{}), unsafe.Sizeof(TrashHdr{}), unsafe.Sizeof(TrashLarge{})))
}

func main() {
	buildLive()
	m := manifest.New("garbage")
	m.Settle() // GC off: everything below stays allocated
	buildGarbage()
	scrub()
	m.AddGarbage("main.Trash32", nTrash32)
	m.AddGarbage("main.Trash2K", nTrash2K)
	m.AddGarbage("main.TrashHdr", nHdr)
	m.AddGarbage("main.TrashLarge", nLarge)
	describe(m, nSmall)
	m.Note("garbage was allocated after the last collection and is unswept; Mixed32 shares spans with Trash32")
	manifest.Finish(m, checkpoint)

	// Live mode, second stop.
	for i := 1; i < nSmall; i += 2 {
		smalls[i] = nil
	}
	m2 := manifest.New("garbage")
	m2.Stop = 2
	m2.Settle() // frees the stop-1 garbage and the dropped LiveSmall objects
	newTrash32(1000)
	scrub()
	m2.AddGarbage("main.Trash32", 1000)
	describe(m2, nSmall/2)
	m2.Note("odd main.smalls entries dropped and collected with all stop-1 garbage; 1000 new Trash32 allocated and dropped")
	manifest.Finish(m2, checkpoint)
}
