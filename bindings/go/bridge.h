// Declarations shared by the package's Go files and bridge.c: C helpers
// for what cgo cannot express directly (C function pointers, a growing
// output buffer).
#ifndef GOHEAP_GO_BRIDGE_H
#define GOHEAP_GO_BRIDGE_H

#include <stdint.h>
#include <stdlib.h>

#include <goheap/goheap.h>

// Sets (handle != 0) or removes the Go interrupt or progress callback; the
// handle is a runtime/cgo.Handle of the session's callbacks.
void goheap_set_interrupt(gh_session *s, uintptr_t handle);
void goheap_set_progress(gh_session *s, uintptr_t handle);

// Command output collected in C memory: p (malloc'd, may be NULL) holds n
// bytes; oom is set when it could not grow. Free p with free.
typedef struct goheap_buf {
    char *p;
    size_t n, cap;
    int oom;
} goheap_buf;

// gh_command_run and gh_command_help with their output in b.
int goheap_command_run(gh_session *s, int argc, char **argv, goheap_buf *b, gh_err *err);
int goheap_command_help(const char *name, goheap_buf *b, gh_err *err);

#endif
