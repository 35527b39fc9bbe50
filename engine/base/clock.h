/* Wall and CPU clocks for the phase timings a session reports (--stats,
 * gh_phase_time): CPU time is the whole process's, so a phase that uses
 * both cores shows more CPU than wall time. */
#ifndef GOHEAP_BASE_CLOCK_H
#define GOHEAP_BASE_CLOCK_H

#include <time.h>

typedef struct gh_clock {
    double wall, cpu; /* seconds */
} gh_clock;

static inline gh_clock gh_clock_now(void)
{
    struct timespec w, c;
    clock_gettime(CLOCK_MONOTONIC, &w);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
    return (gh_clock){(double)w.tv_sec + (double)w.tv_nsec / 1e9, (double)c.tv_sec + (double)c.tv_nsec / 1e9};
}

/* Adds the time since start to *acc. */
static inline void gh_clock_add(gh_clock *acc, gh_clock start)
{
    gh_clock now = gh_clock_now();
    acc->wall += now.wall - start.wall;
    acc->cpu += now.cpu - start.cpu;
}

#endif
