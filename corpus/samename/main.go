// samename: two packages of one name. go/scanner and text/scanner are both
// package scanner and both declare a type Scanner: reflect (and the runtime's
// type names) call each "scanner.Scanner"; only the import path tells them
// apart ("go/scanner.Scanner", "text/scanner.Scanner").
//
//	GoScanners   []*goscanner.Scanner    5, allocated here (new)
//	TextScanners []*textscanner.Scanner  3, allocated here (new)
//	Holders      []*Holder               4, each pointing to one of each
//
// The manifest's live counts are keyed by reflect's names, which cannot key
// the two Scanner types apart: it lists main.Holder there, and the Scanner
// counts by import path in notes ("live by import path: go/scanner.Scanner
// 5"). Nothing else in the program (or the packages it links) allocates
// either Scanner type.
//
// Live mode, second stop: GoScanners is cut to 2 (the tail cleared first) and
// the last Holder dropped, so 3 go/scanner.Scanner remain (2 + Holders[0..2]
// point to GoScanners[0..2]) and 3 text/scanner.Scanner (the slice holds them).
package main

import (
	goscanner "go/scanner"
	"reflect"
	textscanner "text/scanner"
	"unsafe"

	"corpus/manifest"
)

type Holder struct {
	Go   *goscanner.Scanner
	Text *textscanner.Scanner
	N    int
}

const (
	nGo     = 5
	nText   = 3
	nHolder = 4
)

var (
	GoScanners   []*goscanner.Scanner
	TextScanners []*textscanner.Scanner
	Holders      []*Holder
)

//go:noinline
func checkpoint(stop int) { manifest.Touch(stop) }

func build() {
	for i := 0; i < nGo; i++ {
		s := new(goscanner.Scanner)
		s.ErrorCount = 100 + i
		GoScanners = append(GoScanners, s)
	}
	for i := 0; i < nText; i++ {
		s := new(textscanner.Scanner)
		s.ErrorCount = 200 + i
		TextScanners = append(TextScanners, s)
	}
	for i := 0; i < nHolder; i++ {
		Holders = append(Holders, &Holder{Go: GoScanners[i], Text: TextScanners[i%nText], N: i})
	}
}

func typeName[T any]() string { return reflect.TypeOf((*T)(nil)).Elem().String() }

// fullName is the type's name with its import path, as DWARF writes it.
func fullName[T any]() string {
	t := reflect.TypeOf((*T)(nil)).Elem()
	return t.PkgPath() + "." + t.Name()
}

func liveByPath[T any](m *manifest.M, n int) {
	m.Note("live by import path: " + fullName[T]() + " " + itoa(n))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func distinctGo() int {
	seen := map[*goscanner.Scanner]bool{}
	for _, s := range GoScanners {
		seen[s] = true
	}
	for _, h := range Holders {
		seen[h.Go] = true
	}
	return len(seen)
}

func manifest1() *manifest.M {
	m := manifest.New("samename")
	m.SetLive(typeName[Holder](), len(Holders))
	liveByPath[goscanner.Scanner](m, distinctGo())
	liveByPath[textscanner.Scanner](m, len(TextScanners))
	m.Sentinel(unsafe.Pointer(GoScanners[3]), typeName[goscanner.Scanner](), unsafe.Sizeof(goscanner.Scanner{}),
		manifest.Global("main.GoScanners"), map[string]string{"ErrorCount": "103"})
	m.Sentinel(unsafe.Pointer(TextScanners[1]), typeName[textscanner.Scanner](), unsafe.Sizeof(textscanner.Scanner{}),
		manifest.Global("main.TextScanners"), map[string]string{"ErrorCount": "201"})
	m.Sentinel(unsafe.Pointer(Holders[2]), typeName[Holder](), unsafe.Sizeof(Holder{}),
		manifest.Global("main.Holders"), map[string]string{"N": "2"})
	return m
}

func mutate() {
	clear(GoScanners[2:])
	GoScanners = GoScanners[:2]
	Holders[nHolder-1] = nil
	Holders = Holders[:nHolder-1]
}

func manifest2() *manifest.M {
	m := manifest.New("samename")
	m.Stop = 2
	m.SetLive(typeName[Holder](), len(Holders))
	liveByPath[goscanner.Scanner](m, distinctGo())
	liveByPath[textscanner.Scanner](m, len(TextScanners))
	return m
}

func main() {
	build()
	manifest.Finish(manifest1(), checkpoint)

	mutate()
	manifest.Finish(manifest2(), checkpoint)
}
