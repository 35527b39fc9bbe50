// C side of the Go callbacks (callbacks.go) and of command output
// (command.go). The Go callbacks are reached through a runtime/cgo.Handle
// carried as the C callback's context pointer.
#include <string.h>

#include "bridge.h"
#include "_cgo_export.h"

static int interrupt_trampoline(void *ctx) { return goheapInterrupt((uintptr_t)ctx); }

static void progress_trampoline(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    goheapProgress((uintptr_t)ctx, (char *)phase, done, total);
}

void goheap_set_interrupt(gh_session *s, uintptr_t handle)
{
    gh_set_interrupt(s, handle ? interrupt_trampoline : NULL, (void *)handle);
}

void goheap_set_progress(gh_session *s, uintptr_t handle)
{
    gh_set_progress(s, handle ? progress_trampoline : NULL, (void *)handle);
}

static void buf_write(void *ctx, const char *s, size_t n)
{
    goheap_buf *b = ctx;
    if (b->oom || n == 0)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

int goheap_command_run(gh_session *s, int argc, char **argv, goheap_buf *b, gh_err *err)
{
    gh_out out = {.write = buf_write, .ctx = b, .cols = 0};
    return gh_command_run(s, argc, argv, &out, err);
}

int goheap_command_help(const char *name, goheap_buf *b, gh_err *err)
{
    gh_out out = {.write = buf_write, .ctx = b, .cols = 0};
    return gh_command_help(name, &out, err);
}
