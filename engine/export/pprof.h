/* A pprof profile (github.com/google/pprof, proto/profile.proto) built in
 * memory and written gzip'ed, as `go tool pprof` reads it: sample types,
 * samples whose stacks are names (a type, a field, a root), one function and
 * one location per distinct name. */
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
/* Writes the profile gzip'ed to path. */
int gh_pprof_write(gh_pprof *p, const char *path, gh_err *err);

#endif
