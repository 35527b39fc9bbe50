/* The cancel and progress handle: interrupt polling and rate-limited progress. */
#include "base/cancel.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int requested(const gh_cancel *c)
{
    return (c->flag && *c->flag) || (c->poll && c->poll(c->poll_ctx));
}

/* GOHEAP_TEST_SLOW_PHASE=PREFIX:N: every poll made while a phase whose
 * name starts with PREFIX runs (gh_progress names it) reports the phase
 * and sleeps N microseconds, or until a stop is asked, so tests can
 * interrupt that phase of a small core once it shows
 * (tests/integration/test_cli.py). */
static void slow_phase(const gh_cancel *c)
{
    const char *v = c->phase ? getenv("GOHEAP_TEST_SLOW_PHASE") : NULL;
    const char *colon = v ? strrchr(v, ':') : NULL;
    if (!colon || strncmp(c->phase, v, (size_t)(colon - v)))
        return;
    long n = strtol(colon + 1, NULL, 10);
    if (n <= 0 || n > 60000000)
        return;
    if (c->progress)
        c->progress(c->progress_ctx, c->phase, 0, 0);
    for (long slept = 0; slept < n && !requested(c); slept += 10000)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
}

int gh_cancelled(const gh_cancel *c)
{
    if (!c)
        return 0;
    slow_phase(c);
    return requested(c);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define PROGRESS_DELAY_NS 250000000u /* a phase shorter than this is never shown */
#define PROGRESS_EVERY_NS 100000000u

void gh_progress(gh_cancel *c, const char *phase, uint64_t done, uint64_t total)
{
    if (!c || !phase)
        return;
    if (!c->progress) { /* the phase is still known, for GOHEAP_TEST_SLOW_PHASE */
        c->phase = total && done >= total ? NULL : phase;
        return;
    }
    uint64_t now = now_ns();
    if (!c->phase || strcmp(phase, c->phase)) {
        c->phase = phase;
        c->start_ns = now;
        c->last_ns = 0;
    }
    if (total && done >= total) {
        if (c->last_ns)
            c->progress(c->progress_ctx, phase, done, total);
        c->phase = NULL;
        return;
    }
    if (now - c->start_ns < PROGRESS_DELAY_NS || (c->last_ns && now - c->last_ns < PROGRESS_EVERY_NS))
        return;
    c->last_ns = now;
    c->progress(c->progress_ctx, phase, done, total);
}

void gh_progress_reset(gh_cancel *c)
{
    if (c)
        c->phase = NULL;
}
