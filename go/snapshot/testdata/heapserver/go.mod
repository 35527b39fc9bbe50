module heapserver

go 1.22

require (
	corpus v0.0.0
	github.com/goheap/goheap/go/snapshot v0.0.0
)

replace (
	corpus => ../../../../corpus
	github.com/goheap/goheap/go/snapshot => ../..
)
