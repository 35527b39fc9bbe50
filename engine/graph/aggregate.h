/* Reference paths aggregated by type, as goref shows them: every live
 * instance of a type reaches its root along its first-reacher path (the
 * marker's parents); paths with the same root group and the same chain of
 * field names are one row, with the instances' count, bytes and what they
 * retain. Array indexes are dropped ("[]") and a map's internals fold into
 * one step ("[map value]", "[map key]"). */
#ifndef GOHEAP_GRAPH_AGGREGATE_H
#define GOHEAP_GRAPH_AGGREGATE_H

#include "graph/retained.h"

typedef struct gh_agg_row {
    uint32_t group;        /* root group (d->groups) */
    char **steps;          /* field names from the root down, normalized */
    size_t nsteps;
    uint64_t count, bytes; /* instances and their slot bytes */
    uint64_t rbytes, robjs;/* what they retain (an instance inside another's dominated set counts once) */
} gh_agg_row;

typedef struct gh_agg {
    gh_agg_row *rows;      /* largest retained first */
    size_t n;
    uint64_t count, bytes, rbytes, robjs; /* over all instances */
} gh_agg;

/* The rows for every live object whose type name is type. GH_ENOENT when
 * there is none. cc may be NULL. Free with gh_agg_free. */
int gh_graph_aggregate(gh_domtree *d, const gh_graph *g, const char *type, gh_cancel *cc, gh_agg *out, gh_err *err);
void gh_agg_free(gh_agg *a);

/* 1 when a type name is one of the runtime's map internals (hmap, buckets,
 * swiss tables and groups). */
int gh_is_map_internal(const char *type);

#endif
