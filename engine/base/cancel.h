/* A command's cancel and progress handle: how a long phase in any layer asks
 * whether the user wants it stopped (Ctrl-C, a debugger's interrupt) and
 * reports how far it got. The session owns one and hands it down; no layer
 * needs the session for this. */
#ifndef GOHEAP_BASE_CANCEL_H
#define GOHEAP_BASE_CANCEL_H

#include <stdint.h>

typedef struct gh_cancel {
    const volatile int *flag;         /* set by a signal handler, or NULL */
    int (*poll)(void *ctx);           /* or asked of the front end (LLDB) */
    void *poll_ctx;
    /* Progress of long phases, for a front end that shows it. Called at most
     * ten times a second, and only once a phase has run for a quarter of a
     * second; total is 0 when unknown. NULL: nothing is reported. */
    void (*progress)(void *ctx, const char *phase, uint64_t done, uint64_t total);
    void *progress_ctx;
    const char *phase;                /* the phase gh_progress last named, while it runs */
    uint64_t start_ns, last_ns;
} gh_cancel;

/* Whether the user asked to stop. c may be NULL: never. */
int gh_cancelled(const gh_cancel *c);

/* Reports progress of a phase (a string constant: "marking"), rate-limited;
 * cheap enough to call every thousand objects. done == total ends the phase
 * (passed on only when it was shown). c may be NULL. */
void gh_progress(gh_cancel *c, const char *phase, uint64_t done, uint64_t total);

/* Forgets a phase an interrupt left open, at the start of a command. */
void gh_progress_reset(gh_cancel *c);

#endif
