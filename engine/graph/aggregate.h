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
/* The same for the objects of that short name that keep(g, slot, ctx)
 * picks (one of two types that share it, told apart by the caller). */
int gh_graph_aggregate_where(gh_domtree *d, const gh_graph *g, const char *type,
                             int (*keep)(const gh_graph *g, uint32_t slot, void *ctx), void *ctx, gh_cancel *cc,
                             gh_agg *out, gh_err *err);
void gh_agg_free(gh_agg *a);

/* Every live object at once, for exports: rows of (chain of steps, type)
 * with the objects' count and slot bytes, and with tops (a bitset by node,
 * may be NULL) the retained bytes of the nodes it marks. A chain is a list
 * of steps linked to its parent (NONE at the top, where the group is). */
typedef struct gh_agg_chain {
    uint32_t parent;       /* UINT32_MAX at a root group's top */
    uint32_t group;
    char *step;            /* NULL at the top */
} gh_agg_chain;

typedef struct gh_agg_all_row {
    uint32_t chain, name;  /* chain index; type name index (d->names) */
    uint64_t count, bytes, rbytes;
} gh_agg_all_row;

typedef struct gh_agg_all {
    gh_agg_all_row *rows;  /* largest bytes first */
    size_t n;
    gh_agg_chain *chains;
    size_t nchains;
    uint64_t count, bytes;
} gh_agg_all;

int gh_graph_aggregate_all(gh_domtree *d, const gh_graph *g, const uint64_t *tops, gh_cancel *cc, gh_agg_all *out,
                           gh_err *err);
void gh_agg_all_free(gh_agg_all *a);

/* 1 when a type name is one of the runtime's map internals (hmap, buckets,
 * swiss tables and groups). */
int gh_is_map_internal(const char *type);

#endif
