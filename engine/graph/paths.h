/* Paths from GC roots to an object, resolved for printing: the shortest
 * from the marker's first reachers, and more from distinct roots by a
 * breadth-first walk backwards over a reverse index of the live graph (built
 * on first use, kept with the graph). Each hop names the field of the
 * previous hop that points to it. */
#ifndef GOHEAP_GRAPH_PATHS_H
#define GOHEAP_GRAPH_PATHS_H

#include "base/cancel.h"
#include "graph/graph.h"

#define GH_PATHS_MAX 1000      /* paths asked for at once */
#define GH_PATH_MAX_HOPS (1u << 20)

typedef struct gh_path_hop {
    uint64_t addr, size;
    uint32_t id;        /* slot; UINT32_MAX for a note hop */
    char *type;         /* the object's type name ("unknown<N>" when untyped) */
    char *field;        /* of the previous hop (or the root) pointing here; "" unknown */
    const char *note;   /* a hop off the heap graph: "(static data)", "(object with the finalizer: ...)" */
} gh_path_hop;

typedef struct gh_gpath {
    uint32_t root;      /* index into g->roots */
    gh_path_hop *hops;  /* root side first; the target last */
    size_t n;
} gh_gpath;

/* Up to max paths to slot target (live), the marker's shortest first, the
 * others each from a root with a different name. cc may be NULL. Free with
 * gh_gpaths_free. */
int gh_graph_paths(gh_graph *g, uint32_t target, size_t max, gh_cancel *cc, gh_gpath **out, size_t *n,
                   gh_err *err);
void gh_gpaths_free(gh_gpath *p, size_t n);

/* Ends p, a path to a tiny block, at the block's typed sub-object [at,
 * at + size) named type: its last hop named by the field that points into
 * the sub-object; when what reached the block points to another of its
 * objects, the block stays a hop ("tiny block") and the sub-object follows
 * it as "(same tiny block)". */
int gh_gpath_narrow(const gh_graph *g, gh_gpath *p, uint64_t at, uint64_t size, const char *type, gh_err *err);

/* The field of object parent (slot) whose pointer goes into c, into buf
 * ("+off" when the type does not say; "" when no word does). */
void gh_graph_field_to(const gh_graph *g, uint32_t parent, const gh_obj *c, char *buf, size_t cap);
/* The field of root (index into g->roots) whose word points into slot. */
void gh_graph_root_field(const gh_graph *g, uint32_t root, uint32_t slot, char *buf, size_t cap);

/* The dynamic type of the interface through which hop i of p is reached
 * ("*main.Handler": the type word, or the itab's type, beside the data word
 * that points to it), "" when it is not reached through an interface or the
 * type cannot be named. */
void gh_graph_iface_type(const gh_graph *g, const gh_gpath *p, size_t i, char *buf, size_t cap);

#endif
