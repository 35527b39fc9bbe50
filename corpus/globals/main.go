// globals: heap objects held by package-level variables of every kind.
//
// Each global below keeps its own types alive, so every root can be checked
// on its own:
//
//	Root     *RootObj              plain pointer in .bss
//	Items    []*Item               slice of pointers (heap backing array)
//	Greeting string                string built at run time (heap bytes)
//	Index    map[string]*Entry     map
//	Iface    any                   interface holding a pointer
//	Stringer fmt.Stringer          non-empty interface (itab) holding a *Named
//	IfaceVal any                   interface holding a struct value: convT
//	                               copies it into its own heap object
//	Arr      [4]*ArrElem           fixed array of pointers
//	Cfg      struct{A; B; c}       struct global with pointers inside
//	Q        *BssObj               pointer in .bss, set at run time
//	P        *StaticObj            pointer in .data: `var P = &StaticObj{...}`
//	                               is allocated by the compiler/linker, not
//	                               the heap; its Ref field is set at run time
//	                               to a heap object (HeapRef)
//	Static   any                   `= Pt{1, 2}` at package level: the value
//	                               is static data, not a heap object
//
// Whether StaticObj and Pt ended up in the heap is checked at run time from
// the executable's section table: they are counted only if they did. (With
// Go 1.22-1.27 both are static: StaticObj in .data, Pt in .noptrdata, and
// neither has a symbol of its own in the ELF symbol table.)
//
// Live mode, second stop: Root and Iface become nil, Items is cut to 10
// (the tail is cleared first), two keys are deleted from Index, Arr[0] and
// Arr[1] become nil, two CfgB are appended to Cfg.B, and Q points to a new
// BssObj (the old one is garbage).
package main

import (
	"debug/elf"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"unsafe"

	"corpus/manifest"
)

type RootObj struct {
	ID    int
	Label string
}

type Item struct {
	N    int
	Name string
}

type Entry struct {
	Key   string
	Value int
}

type IfaceObj struct {
	Kind string
	N    int
}

type Named struct {
	Title string
	Hits  int
}

func (n *Named) String() string { return n.Title }

type ValObj struct {
	A, B int
	S    string
}

type ArrElem struct {
	Slot int
	Tag  string
}

type CfgA struct {
	Host string
	Port int
}

type CfgB struct {
	Rule  string
	Order int
}

type CfgC struct {
	Secret string
	Level  int
}

type BssObj struct {
	Gen  int
	Note string
}

type StaticObj struct {
	ID   int
	Name string
	Ref  *HeapRef
}

type HeapRef struct {
	Seq  int
	Text string
}

type Pt struct{ X, Y int }

const (
	nItems = 20
	nIndex = 5
)

var (
	Root     *RootObj
	Items    []*Item
	Greeting string
	Index    map[string]*Entry
	Iface    any
	Stringer fmt.Stringer
	IfaceVal any
	Arr      [4]*ArrElem
	Cfg      struct {
		A *CfgA
		B []*CfgB
		c *CfgC
	}
	Q *BssObj
)

// Initialised statically: the compiler lays out the StaticObj and the Pt in
// the executable's data, not in the heap.
var P = &StaticObj{ID: 7, Name: "static"}

var Static any = Pt{X: 1, Y: 2}

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

// seed is 1, but not a constant: values built from it cannot be static.
var seed = one()

//go:noinline
func one() int { return 1 }

func build() {
	Root = &RootObj{ID: 1000 + seed, Label: "root"}

	Items = make([]*Item, nItems)
	for i := range Items {
		Items[i] = &Item{N: i, Name: "item"}
	}

	// 48 bytes exactly (a size class), built at run time.
	b := make([]byte, 48)
	for i := range b {
		b[i] = "greeting-from-globals-"[i%22]
	}
	Greeting = string(b)

	Index = make(map[string]*Entry)
	for i := 0; i < nIndex; i++ {
		k := "k" + strconv.Itoa(i)
		Index[k] = &Entry{Key: k, Value: 100 + i}
	}

	Iface = &IfaceObj{Kind: "iface", N: 41 + seed}
	Stringer = &Named{Title: "stringer", Hits: 3}
	IfaceVal = ValObj{A: 10 + seed, B: 20 + seed, S: "value"}

	for i := range Arr {
		Arr[i] = &ArrElem{Slot: i, Tag: "arr"}
	}

	Cfg.A = &CfgA{Host: "localhost", Port: 8080}
	Cfg.B = make([]*CfgB, 3)
	for i := range Cfg.B {
		Cfg.B[i] = &CfgB{Rule: "rule", Order: i}
	}
	Cfg.c = &CfgC{Secret: "hidden", Level: 9}

	Q = &BssObj{Gen: 1, Note: "bss"}
	P.Ref = &HeapRef{Seq: 77, Text: "via-static"}
}

func typeName[T any]() string { return reflect.TypeOf((*T)(nil)).Elem().String() }

func sentinel[T any](m *manifest.M, p *T, root manifest.Root, fields map[string]string) {
	m.Sentinel(unsafe.Pointer(p), typeName[T](), unsafe.Sizeof(*p), root, fields)
}

// image describes where the executable's sections are in memory.
type image struct {
	sections []*elf.Section
	bias     uintptr
}

func loadImage() *image {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	f, err := elf.Open(exe)
	if err != nil {
		return nil
	}
	defer f.Close()
	img := &image{sections: f.Sections}
	// Load bias (PIE): the entry point's address in memory (AT_ENTRY in the
	// auxiliary vector) minus the one in the file.
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return nil
	}
	for i := 0; i+16 <= len(auxv); i += 16 {
		tag := *(*uint64)(unsafe.Pointer(&auxv[i]))
		val := *(*uint64)(unsafe.Pointer(&auxv[i+8]))
		if tag == 9 { // AT_ENTRY
			img.bias = uintptr(val - f.Entry)
			return img
		}
	}
	return nil
}

// section names the executable section holding addr, or "" (heap, stack...).
func (img *image) section(addr uintptr) string {
	if img == nil {
		return ""
	}
	for _, s := range img.sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Addr == 0 {
			continue
		}
		lo := uintptr(s.Addr) + img.bias
		if addr >= lo && addr < lo+uintptr(s.Size) {
			return s.Name
		}
	}
	return ""
}

func efaceData(p *any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(p))[1] }

func manifest1() *manifest.M {
	img := loadImage()
	m := manifest.New("globals")
	m.SetLive(typeName[RootObj](), 1)
	m.SetLive(typeName[Item](), nItems)
	m.SetLive(typeName[Entry](), nIndex)
	m.SetLive(typeName[IfaceObj](), 1)
	m.SetLive(typeName[Named](), 1)
	m.SetLive(typeName[ValObj](), 1)
	m.SetLive(typeName[ArrElem](), len(Arr))
	m.SetLive(typeName[CfgA](), 1)
	m.SetLive(typeName[CfgB](), len(Cfg.B))
	m.SetLive(typeName[CfgC](), 1)
	m.SetLive(typeName[BssObj](), 1)
	m.SetLive(typeName[HeapRef](), 1)

	// Statically allocated objects are not heap objects. If the executable
	// cannot be read, whether they are is unknown: they are not listed.
	staticObj := img.section(uintptr(unsafe.Pointer(P)))
	switch {
	case img == nil:
		m.Note("could not read the executable's sections: main.StaticObj and main.Pt are not listed")
	case staticObj != "":
		m.SetLive(typeName[StaticObj](), 0)
		m.Note(fmt.Sprintf("main.P points to a statically allocated main.StaticObj at %#x in %s (no symbol of its own), not a heap object", uintptr(unsafe.Pointer(P)), staticObj))
	default:
		m.SetLive(typeName[StaticObj](), 1)
		m.Note("main.P points to a heap-allocated main.StaticObj")
	}
	switch sec := img.section(uintptr(efaceData(&Static))); {
	case img == nil:
	case sec != "":
		m.SetLive(typeName[Pt](), 0)
		m.Note(fmt.Sprintf("main.Static holds a main.Pt in static data (%s), not a heap object", sec))
	default:
		m.SetLive(typeName[Pt](), 1)
		m.Note("main.Static holds a heap-allocated main.Pt")
	}

	sentinel(m, Root, manifest.Global("main.Root"), map[string]string{"ID": "1001", "Label": "root"})
	sentinel(m, Items[7], manifest.Global("main.Items"), map[string]string{"N": "7", "Name": "item"})
	m.Sentinel(unsafe.Pointer(unsafe.StringData(Greeting)), "string", uintptr(len(Greeting)), manifest.Global("main.Greeting"), nil)
	m.Sentinels[len(m.Sentinels)-1].Note = "backing bytes of the string main.Greeting (" + Greeting + "), a 48-byte noscan heap object"
	sentinel(m, Index["k3"], manifest.Global("main.Index"), map[string]string{"Key": "k3", "Value": "103"})
	sentinel(m, Iface.(*IfaceObj), manifest.Global("main.Iface"), map[string]string{"Kind": "iface", "N": "42"})
	sentinel(m, Stringer.(*Named), manifest.Global("main.Stringer"), map[string]string{"Title": "stringer", "Hits": "3"})
	sentinel(m, (*ValObj)(efaceData(&IfaceVal)), manifest.Global("main.IfaceVal"), map[string]string{"A": "11", "B": "21", "S": "value"})
	sentinel(m, Arr[2], manifest.Global("main.Arr"), map[string]string{"Slot": "2", "Tag": "arr"})
	sentinel(m, Cfg.A, manifest.Global("main.Cfg"), map[string]string{"Host": "localhost", "Port": "8080"})
	sentinel(m, Cfg.B[1], manifest.Global("main.Cfg"), map[string]string{"Rule": "rule", "Order": "1"})
	sentinel(m, Cfg.c, manifest.Global("main.Cfg"), map[string]string{"Secret": "hidden", "Level": "9"})
	sentinel(m, Q, manifest.Global("main.Q"), map[string]string{"Gen": "1", "Note": "bss"})

	// HeapRef is reached through the StaticObj: when that is static, the
	// pointer word is in .data but outside every named symbol.
	sentinel(m, P.Ref, manifest.Global("main.P"), map[string]string{"Seq": "77", "Text": "via-static"})
	if staticObj != "" {
		m.Sentinels[len(m.Sentinels)-1].Note = fmt.Sprintf("held by main.P through the statically allocated main.StaticObj: the pointer word (P.Ref, at %#x in %s) belongs to no named symbol", uintptr(unsafe.Pointer(&P.Ref)), staticObj)
	}
	return m
}

// mutate is the live-mode change between stop 1 and stop 2.
func mutate() {
	Root = nil
	clear(Items[10:])
	Items = Items[:10]
	delete(Index, "k0")
	delete(Index, "k1")
	Iface = nil
	Arr[0], Arr[1] = nil, nil
	Cfg.B = append(Cfg.B, &CfgB{Rule: "late", Order: 3}, &CfgB{Rule: "late", Order: 4})
	Q = &BssObj{Gen: 2, Note: "bss-2"}
}

func manifest2() *manifest.M {
	m := manifest.New("globals")
	m.Stop = 2
	m.SetLive(typeName[RootObj](), 0)
	m.SetLive(typeName[Item](), 10)
	m.SetLive(typeName[Entry](), nIndex-2)
	m.SetLive(typeName[IfaceObj](), 0)
	m.SetLive(typeName[Named](), 1)
	m.SetLive(typeName[ValObj](), 1)
	m.SetLive(typeName[ArrElem](), 2)
	m.SetLive(typeName[CfgA](), 1)
	m.SetLive(typeName[CfgB](), 5)
	m.SetLive(typeName[CfgC](), 1)
	m.SetLive(typeName[BssObj](), 1)
	m.SetLive(typeName[HeapRef](), 1)
	sentinel(m, Q, manifest.Global("main.Q"), map[string]string{"Gen": "2", "Note": "bss-2"})
	sentinel(m, Cfg.B[4], manifest.Global("main.Cfg"), map[string]string{"Rule": "late", "Order": "4"})
	sentinel(m, Items[9], manifest.Global("main.Items"), map[string]string{"N": "9", "Name": "item"})
	return m
}

func main() {
	build()
	manifest.Finish(manifest1(), checkpoint)

	mutate()
	manifest.Finish(manifest2(), checkpoint)
}
