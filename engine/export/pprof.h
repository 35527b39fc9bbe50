/* A pprof profile (github.com/google/pprof, proto/profile.proto) built in
 * memory and written gzip'ed, as `go tool pprof` reads it: sample types,
 * samples whose stacks are names (a type, a field, a root: one function and
 * one location per distinct name) or code locations (function, file, line,
 * inlined frames). */
#ifndef GOHEAP_EXPORT_PPROF_H
#define GOHEAP_EXPORT_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define GH_PPROF_MAX_VALUES 4

typedef struct gh_pprof gh_pprof;

gh_pprof *gh_pprof_new(void); /* NULL when out of memory */
void gh_pprof_free(gh_pprof *p);

/* A sample type ("inuse_space", "bytes"), in the order of the values. */
int gh_pprof_sample_type(gh_pprof *p, const char *type, const char *unit, gh_err *err);
/* A comment line (pprof -comments). */
int gh_pprof_comment(gh_pprof *p, const char *text, gh_err *err);
/* One sample: frames leaf first (pprof's order), one value per sample type. */
int gh_pprof_add(gh_pprof *p, const char *const *frames, size_t nframes, const int64_t *values, gh_err *err);
/* A frame of code: function, file, line (for profiles of code locations). */
typedef struct gh_pprof_line {
    const char *func;
    const char *file;
    int64_t line;
    int64_t start_line;
} gh_pprof_line;

/* The location of a code address with its frames, innermost (inlined)
 * first; one per address (addr 0: always a new one). */
int gh_pprof_location(gh_pprof *p, uint64_t addr, const gh_pprof_line *lines, size_t n, uint64_t *id, gh_err *err);
/* One sample of locations (leaf first), with a numeric label (label NULL:
 * none), as the runtime's heap profile labels each sample with "bytes". */
int gh_pprof_add_locs(gh_pprof *p, const uint64_t *locs, size_t n, const int64_t *values, const char *label,
                      int64_t num, gh_err *err);
/* The profile's period ("space", "bytes", the sampling rate). */
int gh_pprof_period(gh_pprof *p, const char *type, const char *unit, int64_t period, gh_err *err);
/* Writes the profile gzip'ed to path. */
int gh_pprof_write(gh_pprof *p, const char *path, gh_err *err);

#endif
