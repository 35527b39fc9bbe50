package manifest

// Shape is an address goheap must resolve to one object exactly as given:
// an array named by what states its length (a slice's capacity) or marked
// as bounded by its slot, a sub-object of a tiny block reached by a pointer
// into the block. Addr is the address asked about (it may lie inside the
// object); Object is where the object starts, "" when no object is known
// to lie there (a tiny block's bytes no typed pointer reaches); Slot is the
// object's slot size (0 for a tiny sub-object: it shares a 16-byte block);
// Bound says the name's length is only what fits the slot.
type Shape struct {
	Addr   string  `json:"addr"`
	Object string  `json:"object"`
	Type   string  `json:"type"`
	Size   uintptr `json:"size"`
	Slot   uintptr `json:"slot"`
	Bound  bool    `json:"bound,omitempty"`
	Root   Root    `json:"root"`
	Note   string  `json:"note,omitempty"`
}

func (m *M) AddShape(s Shape) { m.Shapes = append(m.Shapes, s) }
