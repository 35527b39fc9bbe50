//go:build !linux

package snapshot

func allowTracer(pid int) error { return ErrUnsupported }

type facts struct{}

func probe(error) facts { return facts{} }

func (facts) reason() string { return "snapshots need linux" }
