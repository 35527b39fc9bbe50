/* The cancel and progress handle: interrupt polling and rate-limited progress. */
#include "base/cancel.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

int gh_cancelled(const gh_cancel *c)
{
    return c && ((c->flag && *c->flag) || (c->poll && c->poll(c->poll_ctx)));
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
    if (!c || !c->progress || !phase)
        return;
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
