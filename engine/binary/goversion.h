/* Go release and experiments, as the binary's runtime.buildVersion and
 * .go.buildinfo state them. */
#ifndef GOHEAP_BINARY_GOVERSION_H
#define GOHEAP_BINARY_GOVERSION_H

#include "base/error.h"

/* Experiments that change the runtime layouts goheap reads. */
enum {
    GH_EXP_ALLOCHEADERS = 1u << 0,   /* 1.22 default on; always on later */
    GH_EXP_SWISSMAP = 1u << 1,       /* 1.24-1.25 default on; always 1.26+ */
    GH_EXP_GREENTEAGC = 1u << 2,     /* 1.25 default off; 1.26+ default on */
    GH_EXP_MAPSPLITGROUP = 1u << 3,  /* 1.27 */
    GH_EXP_RANDHEAPBASE = 1u << 4,   /* randomizedheapbase64, 1.26+ default on */
};

/* The oldest and newest minor releases goheap is tested with. */
#define GH_GO_MINOR_MIN 22
#define GH_GO_MINOR_TESTED 27

typedef struct gh_goversion {
    int major, minor, patch; /* 1, 25, 14; patch is 0 for rc, beta and devel builds */
    int devel;               /* "devel ..." or an rc/beta: not a release */
    unsigned exp_on;         /* experiments named in the version string */
    unsigned exp_off;        /* experiments named with a "no" prefix */
    char text[96];           /* the string as found, truncated */
} gh_goversion;

/* Parses "go1.25.14", "go1.25.0 X:greenteagc", "go1.26.0-X:nogreenteagc",
 * "go1.27rc1", "devel go1.27-abcdef Tue ...". */
int gh_goversion_parse(const char *s, gh_goversion *v, gh_err *err);

/* The effective experiment set: version defaults plus the string's overrides. */
unsigned gh_goversion_experiments(const gh_goversion *v);

/* GH_OK, or GH_EVERSION with a message naming the version and the range.
 * *newer is set when the version is newer than the newest tested one. */
int gh_goversion_check(const gh_goversion *v, int *newer, gh_err *err);

#endif
