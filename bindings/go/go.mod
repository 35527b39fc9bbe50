module github.com/goheap/goheap/bindings/go

go 1.22
