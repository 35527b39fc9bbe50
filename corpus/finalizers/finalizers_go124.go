//go:build go1.24

// Go 1.24+ part of finalizers: runtime.AddCleanup and weak.Pointer. See the
// header of main.go for the shapes and what the second live stop changes.

package main

import (
	"fmt"
	"runtime"
	"strconv"
	"unsafe"
	"weak"

	"corpus/manifest"
)

const modernFeatures = "runtime.AddCleanup; weak.Pointer"

type CleanKept struct {
	ID   int
	Name string
	Pad  [1]uint64
}

type CleanArg struct {
	ID   int
	Name string
	Pad  [3]uint64
}

type CleanOrphan struct {
	ID   int
	Name string
	Pad  [5]uint64
}

type CleanOrphanArg struct {
	ID   int
	Name string
	Pad  [7]uint64
}

type WeakStrong struct {
	ID   int
	Name string
	Pad  [9]uint64
}

type WeakOnly struct {
	ID   int
	Name string
	Pad  [11]uint64
}

var (
	cleanKept  []*CleanKept
	weakStrong []*WeakStrong
	weakRefs   []weak.Pointer[WeakStrong]
	weakOnly   []weak.Pointer[WeakOnly]
)

var (
	cleanArgAddr       [nObj]uintptr
	cleanOrphanArgAddr [nObj]uintptr
	cleanOrphanAddr    [nObj]uintptr
	weakOnlyAddr       [nObj]uintptr
)

func cleanArg(a *CleanArg)             { cleanRan.Add(1) }
func cleanOrphanArg(a *CleanOrphanArg) { cleanRan.Add(1) }

// buildModernLive runs before the last collection: reachable objects only.
//
//go:noinline
func buildModernLive() {
	cleanKept = make([]*CleanKept, 0, nObj)
	weakStrong = make([]*WeakStrong, 0, nObj)
	weakRefs = make([]weak.Pointer[WeakStrong], 0, nObj)
	for i := 0; i < nObj; i++ {
		k := &CleanKept{ID: 600 + i, Name: "cleankept-" + strconv.Itoa(i)}
		a := &CleanArg{ID: 700 + i, Name: "cleanarg-" + strconv.Itoa(i)}
		cleanArgAddr[i] = uintptr(unsafe.Pointer(a))
		runtime.AddCleanup(k, cleanArg, a)
		cleanKept = append(cleanKept, k)

		w := &WeakStrong{ID: 1000 + i, Name: "weakstrong-" + strconv.Itoa(i)}
		weakStrong = append(weakStrong, w)
		weakRefs = append(weakRefs, weak.Make(w))
	}
	weakOnly = make([]weak.Pointer[WeakOnly], 0, nObj)
}

// buildModernGarbage runs after the last collection: unreachable objects.
//
//go:noinline
func buildModernGarbage() {
	for i := 0; i < nObj; i++ {
		o := &CleanOrphan{ID: 800 + i, Name: "cleanorphan-" + strconv.Itoa(i)}
		a := &CleanOrphanArg{ID: 900 + i, Name: "cleanorphanarg-" + strconv.Itoa(i)}
		cleanOrphanAddr[i] = uintptr(unsafe.Pointer(o))
		cleanOrphanArgAddr[i] = uintptr(unsafe.Pointer(a))
		runtime.AddCleanup(o, cleanOrphanArg, a)

		w := &WeakOnly{ID: 1100 + i, Name: "weakonly-" + strconv.Itoa(i)}
		weakOnlyAddr[i] = uintptr(unsafe.Pointer(w))
		weakOnly = append(weakOnly, weak.Make(w))
	}
}

// changeModern is the second live stop's change: weakStrong keeps only its
// first half.
//
//go:noinline
func changeModern() {
	for i := nObj / 2; i < nObj; i++ {
		weakStrong[i] = nil
	}
}

//go:noinline
func describeModern(m *manifest.M, stop int) {
	cleanFn := funcName(cleanArg)
	cleanOrphanFn := funcName(cleanOrphanArg)
	m.SetLive("main.CleanKept", nObj)
	m.SetLive("main.CleanArg", nObj)
	m.SetLive("main.CleanOrphan", 0)
	m.SetLive("main.WeakOnly", 0)

	k := cleanKept[pick]
	m.Sentinel(unsafe.Pointer(k), typeName(k), unsafe.Sizeof(*k), manifest.Global("main.cleanKept"),
		map[string]string{"ID": strconv.Itoa(600 + pick), "Name": "cleankept-" + strconv.Itoa(pick)})
	addSentinel(m, cleanArgAddr[pick], "main.CleanArg", unsafe.Sizeof(CleanArg{}),
		manifest.Root{Kind: "cleanup", Name: cleanFn},
		map[string]string{"ID": strconv.Itoa(700 + pick), "Name": "cleanarg-" + strconv.Itoa(pick)},
		"arg of the cleanup attached to main.cleanKept["+strconv.Itoa(pick)+"], held by the cleanup's closure")
	w := weakStrong[pick]
	m.Sentinel(unsafe.Pointer(w), typeName(w), unsafe.Sizeof(*w), manifest.Global("main.weakStrong"),
		map[string]string{"ID": strconv.Itoa(1000 + pick), "Name": "weakstrong-" + strconv.Itoa(pick)})

	if stop == 1 {
		m.SetLive("main.CleanOrphanArg", nObj)
		m.SetPending("main.CleanOrphan", nObj)
		m.PendingObjects = append(m.PendingObjects, manifest.Pending{Addr: fmt.Sprintf("%#x", cleanOrphanAddr[pick]),
			Type: "main.CleanOrphan", Kind: "cleanup", Function: cleanOrphanFn})
		m.AddGarbage("main.WeakOnly", nObj)
		m.SetLive("main.WeakStrong", nObj)
		addSentinel(m, cleanOrphanArgAddr[pick], "main.CleanOrphanArg", unsafe.Sizeof(CleanOrphanArg{}),
			manifest.Root{Kind: "cleanup", Name: cleanOrphanFn},
			map[string]string{"ID": strconv.Itoa(900 + pick), "Name": "cleanorphanarg-" + strconv.Itoa(pick)},
			fmt.Sprintf("arg of the cleanup attached to the unreachable main.CleanOrphan at %#x", cleanOrphanAddr[pick]))
		m.Note(fmt.Sprintf("main.weakOnly[%d] is a weak pointer to the unreachable main.WeakOnly at %#x", pick, weakOnlyAddr[pick]))
		return
	}
	m.SetLive("main.WeakStrong", nObj/2)
	nilStrong, nilOnly := 0, 0
	for _, p := range weakRefs {
		if p.Value() == nil {
			nilStrong++
		}
	}
	for _, p := range weakOnly {
		if p.Value() == nil {
			nilOnly++
		}
	}
	m.Note(fmt.Sprintf("after collection: %d of %d main.weakRefs and %d of %d main.weakOnly weak pointers are nil (want %d and %d)",
		nilStrong, nObj, nilOnly, nObj, nObj/2, nObj))
}
