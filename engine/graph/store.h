/* The object graph saved to a file and loaded back: what marking and typing
 * found (marks, first reachers, types, the type table, tiny sub-objects,
 * totals), so that a second look at the same core skips the work. The
 * pointer edges are not saved; paths --max builds them again on use.
 *
 * A saved graph is only taken back for the same heap and roots: the file
 * holds the caller's key (which files, which goheap) and fingerprints of the
 * heap's spans and allocation bits and of every root, all compared on load,
 * and a checksum of its contents. Every value is bounds-checked before use,
 * so a damaged or foreign file is refused with a reason, never trusted. */
#ifndef GOHEAP_GRAPH_STORE_H
#define GOHEAP_GRAPH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"

#define GH_STORE_KEY_WORDS 16

/* Writes g (complete, not partial) to path, through a temporary file
 * renamed into place. key: up to GH_STORE_KEY_WORDS words the loader must
 * give again. */
int gh_graph_save(const gh_graph *g, const char *path, const uint64_t *key, size_t nkey, gh_err *err);

/* Loads the graph saved at path for heap h and roots rs, typed with tenv.
 * GH_EIO when there is no such file; GH_EFORMAT, with the reason, when it
 * is for another key, heap or roots, or damaged. threads: for building its
 * edges later. */
int gh_graph_load(const gh_heap *h, const gh_roots *rs, const gh_types_env *tenv, int threads, const char *path,
                  const uint64_t *key, size_t nkey, gh_graph **out, gh_err *err);

/* The fingerprints a saved file is bound to: every span and allocated slot
 * of the heap, every field of every root. */
uint64_t gh_store_heap_fingerprint(const gh_heap *h);
uint64_t gh_store_roots_fingerprint(const gh_roots *rs);

/* The dominator tree of g saved beside its graph (domstore.c): the node
 * order, the immediate dominators and the root groups; what follows from
 * them (the slot map, retained sizes) is made again on load and checked. */
struct gh_domtree;
int gh_dom_save(const gh_graph *g, const struct gh_domtree *d, const char *path, const uint64_t *key, size_t nkey,
                gh_err *err);
/* The tree saved at path for g (complete, marked and typed as when it was
 * saved). GH_ENOENT when there is no such file, GH_EFORMAT with the reason
 * when it is for another key, heap or roots, or damaged. */
int gh_dom_load(gh_graph *g, const char *path, const uint64_t *key, size_t nkey, struct gh_domtree **out,
                gh_err *err);

#endif
