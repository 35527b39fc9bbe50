/* Queries over the dominator tree (dominators.h): names of nodes' types,
 * the retained size of every type, what one node retains by type, and the
 * largest retainers. */
#ifndef GOHEAP_GRAPH_RETAINED_H
#define GOHEAP_GRAPH_RETAINED_H

#include "graph/dominators.h"

#define GH_DOM_NONAME UINT32_MAX
#define GH_DOM_TINY_NAME "tiny-allocator block" /* a 16-byte block of small pointer-free objects */

/* A type as heap names it, over the live slot objects of that name. */
typedef struct gh_dom_type {
    char *name;
    uint64_t count, bytes;   /* live objects and their slot bytes */
    uint64_t rbytes, robjs;  /* what removing every instance makes unreachable (exact only) */
    uint64_t ubytes, uobjs;  /* the union of the instances' dominated subtrees: a lower bound of the above */
    int exact;               /* rbytes, robjs computed (else over the work budget) */
} gh_dom_type;

/* The type-name index of every node (d->nameof, GH_DOM_NONAME for the root
 * and groups) and the names (d->names), built once. */
int gh_dom_names(gh_domtree *d, const gh_graph *g, gh_err *err);

/* Every type's retained size, sorted by name (built once; kept in d).
 * Exact where the walk is cheap (a share of one pass over the graph per
 * type, two passes in all); the rest keep the lower bound. cc may be NULL. */
int gh_dom_types(gh_domtree *d, const gh_graph *g, gh_cancel *cc, gh_err *err);
/* The exact retained size of one type, whatever the walk costs (up to one
 * pass over the graph). GH_ENOENT when no live object has the type. */
int gh_dom_type_exact(gh_domtree *d, const gh_graph *g, const char *name, gh_cancel *cc, gh_err *err);
const gh_dom_type *gh_dom_type_find(const gh_domtree *d, const char *name);
/* The exact retained size of the instances of name that keep(g, slot, ctx)
 * picks (two types of one short name, told apart by the caller): out's
 * count, bytes, rbytes, robjs (ubytes, uobjs = the same), exact = 1; name
 * points into d. GH_ENOENT when no live object has the name. */
int gh_dom_type_where(gh_domtree *d, const gh_graph *g, const char *name,
                      int (*keep)(const gh_graph *g, uint32_t slot, void *ctx), void *ctx, gh_cancel *cc,
                      gh_dom_type *out, gh_err *err);
/* A bit per node: set on each object no object of its own type dominates,
 * so summing their retained sizes counts every retained byte of a type
 * once. Free with free(). */
int gh_dom_type_tops(gh_domtree *d, const gh_graph *g, uint64_t **out, gh_err *err);

/* The type histogram of what node retains (its dominated subtree, itself
 * included), largest bytes first. rows[i].name points into d's names. Free
 * rows with free(). */
typedef struct gh_dom_hist {
    const char *name;
    uint32_t name_index; /* into d->names */
    uint64_t count, bytes;
} gh_dom_hist;
int gh_dom_histogram(gh_domtree *d, const gh_graph *g, uint32_t node, gh_cancel *cc, gh_dom_hist **rows, size_t *n,
                     gh_err *err);

/* The object nodes retaining the most bytes, up to limit, largest first (ties
 * by node). With fold (after gh_dom_names), an object whose immediate
 * dominator is an object of its own type (a list's or a tree's inner nodes),
 * or a map's internals below the map, is left out. Free with free(). */
int gh_dom_top(const gh_domtree *d, size_t limit, int fold, uint32_t **nodes, size_t *n, gh_err *err);

/* The type name of a node (after gh_dom_names) and its own slot size. */
const char *gh_dom_node_name(const gh_domtree *d, uint32_t node);
uint64_t gh_dom_node_size(const gh_domtree *d, const gh_graph *g, uint32_t node);
/* The address of an object node, 0 for the root and groups. */
uint64_t gh_dom_node_addr(const gh_domtree *d, const gh_graph *g, uint32_t node);

#endif
