/* What holds the memory: the dominator tree of the live graph, and the
 * retained size of every object and root group.
 *
 * The live graph has a virtual root (node 1) that points to every root
 * group (each global variable by name, each goroutine with all its frames
 * and registers, each finalizer and cleanup record, each runtime root), and
 * each group points to the objects its roots reach, exactly as the marker
 * reaches them (a finalizer's group reaches what its object points to, not
 * the object). X dominates Y when every path from the virtual root to Y
 * passes through X; X retains what it dominates, itself included, counted
 * in slot sizes as heap counts them.
 *
 * Built with semi-NCA (Georgiadis): an iterative depth-first numbering, the
 * semidominators by Lengauer-Tarjan's path compression, then each immediate
 * dominator as a nearest common ancestor on the DFS tree. No recursion, flat
 * arrays by node number: 20 bytes per node and 4 per heap slot are kept; the
 * build needs 24 per node at its peak, with the predecessor lists (4 bytes
 * per node and per edge) beside the graph. */
#ifndef GOHEAP_GRAPH_DOMINATORS_H
#define GOHEAP_GRAPH_DOMINATORS_H

#include <stdint.h>

#include "base/cancel.h"
#include "graph/graph.h"

#define GH_DOM_ROOT 1u              /* the virtual root's node */
#define GH_DOM_GROUP 0x80000000u    /* vertex[] flag: a root group, not a slot */

/* A root group: roots with one name (a global), one goroutine, or one
 * record. first is the index of its first root (for its name). */
typedef struct gh_dom_group {
    uint32_t first;     /* root index */
    uint32_t nroots;
} gh_dom_group;

typedef struct gh_domtree {
    uint32_t n;         /* nodes, numbered 1..n in depth-first preorder */
    uint32_t *num;      /* per heap slot: its node, 0 when not live */
    uint32_t *vertex;   /* per node: heap slot, or GH_DOM_GROUP | group; vertex[1] unused */
    uint32_t *idom;     /* per node: its immediate dominator (idom[1] = 0) */
    uint64_t *rbytes;   /* per node: retained bytes */
    uint32_t *robjs;    /* per node: retained objects */
    gh_dom_group *groups;
    uint32_t ngroups;
    uint32_t *group_of; /* per root index: its group */
    uint32_t *gnum;     /* per group: its node */
    /* Who points to each node (CSR by node: pred[pstart[w] .. pstart[w+1])),
     * self-pointers left out. Freed after the build, made again for the
     * retained size of a type. */
    uint32_t *pstart, *pred;
    /* What each group reaches (CSR by group, heap slots); made again on use
     * for a tree loaded from the index. */
    uint32_t *gstart, *gto;
    /* The tree's children (CSR by node), built on first use (gh_dom_children). */
    uint32_t *cstart, *child;
    uint64_t nedges;    /* in the live graph, group edges included */
    uint64_t *ws_in, *ws_seen, *ws_out; /* gh_dom_set_retained's bitsets, zero between calls */
    struct gh_dom_type *types;          /* gh_dom_types' answer, once computed (retained.h) */
    size_t ntypes;
    uint32_t *nameof;                   /* per node: index into names (retained.h) */
    char **names;
    size_t nnames;
    double seconds;     /* to build */
    uint64_t peak_bytes;/* the most the build held at once, beyond the graph */
} gh_domtree;

/* The dominator tree of g (built once, kept with g; a loaded graph gets its
 * edges first). GH_EINTR when cc says stop, GH_EUNSUPP for a partial graph. */
int gh_graph_dominators(gh_graph *g, gh_cancel *cc, gh_domtree **out, gh_err *err);
void gh_domtree_free(gh_domtree *d);

static inline int gh_dom_is_group(const gh_domtree *d, uint32_t node)
{
    return node > GH_DOM_ROOT && (d->vertex[node] & GH_DOM_GROUP);
}

/* The node of a live slot, 0 when it is not live. */
static inline uint32_t gh_dom_node(const gh_domtree *d, uint32_t slot) { return d->num[slot]; }

/* The children of node in the dominator tree: count, and *first set to the
 * first of them in d->child. Built on first use (GH_ENOMEM). */
int gh_dom_children(gh_domtree *d, uint32_t node, const uint32_t **first, uint32_t *count, gh_err *err);

/* Who points to node in the live graph (nodes; a root group for roots),
 * self-pointers left out. Built on first use. */
int gh_dom_preds(gh_domtree *d, const gh_graph *g, uint32_t node, gh_cancel *cc, const uint32_t **first,
                 uint32_t *count, gh_err *err);

/* A tree read back from the index (graph/store.h) holds n, ngroups,
 * vertex, idom, groups and group_of: this checks them against g and makes
 * the rest (the slot and group maps, retained sizes). GH_EFORMAT when they
 * are not a tree of g's live graph. */
int gh_dom_finish_loaded(gh_domtree *d, const gh_graph *g, gh_err *err);

/* What becomes unreachable if every node in set (object nodes) were
 * removed: bytes and objects, set included. Exact: a walk of what the set
 * reaches, less what is reached from outside it. budget: the most nodes and
 * edges to visit, 0 for no limit; past it res->exact is 0. cc may be NULL
 * (GH_EINTR). */
typedef struct gh_dom_setsize {
    uint64_t bytes, objects;
    uint64_t work;  /* nodes and edges visited */
    int exact;      /* 0: over budget, bytes and objects unknown */
} gh_dom_setsize;
int gh_dom_set_retained(gh_domtree *d, const gh_graph *g, const uint32_t *set, size_t nset, uint64_t budget,
                        gh_cancel *cc, gh_dom_setsize *res, gh_err *err);

#endif
