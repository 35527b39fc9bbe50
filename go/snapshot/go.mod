module github.com/goheap/goheap/go/snapshot

go 1.22
