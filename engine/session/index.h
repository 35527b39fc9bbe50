/* The graph index (index.c): a core's object graph saved after it is built
 * and loaded instead of built next time (graph/store.h holds the format). */
#ifndef GOHEAP_SESSION_INDEX_H
#define GOHEAP_SESSION_INDEX_H

#include "goheap/goheap.h"
#include "session/session.h"

/* GOHEAP_INDEX as a mode: auto when unset. */
int gh_index_mode_default(void);

/* Mode (GH_INDEX_*) and directory (NULL: the default, see goheap.h). */
int gh_session_set_index(gh_session *s, int mode, const char *dir, gh_err *err);

/* The graph of the session's core from its index: 1 and *out, or 0 (none,
 * stale, damaged: index_note says which) and the caller builds it. */
int gh_session_index_load(gh_session *s, const gh_heap *h, const gh_roots *rs, const gh_types_env *tenv,
                          gh_graph **out);

/* Saves a graph just built, as the mode says. Failures only go to
 * index_note: the graph is good without its file. */
void gh_session_index_save(gh_session *s, const gh_graph *g);

/* The dominator tree of g from the index (saved beside the graph): 1 and
 * *out, or 0 and the caller builds it. */
struct gh_domtree;
int gh_session_index_dom_load(gh_session *s, gh_graph *g, struct gh_domtree **out);
/* Saves a tree just built, as the mode says (auto: when it took a second or
 * more). */
void gh_session_index_dom_save(gh_session *s, const gh_graph *g, const struct gh_domtree *d);

#endif
