/* The dominator tree's type index by full name: d->nameof (graph/retained.h)
 * keys nodes by reflect's short name, so go/scanner.Scanner and
 * text/scanner.Scanner share one index. Here a short name two import paths
 * share (types/shortnames.h) is split into one key per full
 * name, as heap keeps its rows apart; every other key is d's own name index.
 * What aggregates the tree by type (suspects, pprof, diff, graph,
 * dominators, retains) goes through these keys. */
#ifndef GOHEAP_GRAPH_DOMKEYS_H
#define GOHEAP_GRAPH_DOMKEYS_H

#include "base/hmap.h"
#include "base/out.h"
#include "graph/aggregate.h"
#include "graph/retained.h"
#include "types/shortnames.h"

/* A key's type: the names, a type of that name (0 for unknown<N> and the
 * tiny block), and d's name index. */
typedef struct gh_domkey {
    const char *name;   /* reflect's short name (JSON "type") */
    const char *full;   /* with import paths (JSON "full_type"); NULL until a node of the key was seen */
    gh_tid tid;
    uint32_t ni;
} gh_domkey;

/* A key's totals over the live objects (gh_domkeys_types). */
typedef struct gh_domkey_type {
    uint64_t count, bytes;  /* live objects and their slot bytes */
    uint64_t rbytes, robjs; /* what removing every instance frees: exact, else the lower bound */
    int exact;
} gh_domkey_type;

typedef struct gh_domkeys {
    gh_domtree *d;
    gh_graph *g;
    gh_shortnames sn;       /* the shared short names: text names them in full */
    uint32_t nnames;        /* d->nnames: keys below it are d's name indexes */
    gh_domkey *k;           /* per key */
    uint32_t n;
    size_t cap;
    uint8_t *split;         /* per name index: its nodes are keyed by full name */
    uint8_t *seen;          /* per name index: k[ni].tid and full are set */
    int any_split;
    gh_hmap bytid;          /* type id of a split name: its key */
    gh_domkey_type *types;  /* gh_domkeys_types' answer, per key */
    int types_retained;     /* with retained sizes */
    int oom;                /* a key could not be made: the caller fails with GH_ENOMEM */
} gh_domkeys;

/* Keys over d (names built if needed). Cheap: the types' names only; keys
 * of a split name are made as nodes ask for them. Free with gh_domkeys_free. */
int gh_domkeys_make(gh_domkeys *k, gh_domtree *d, gh_graph *g, gh_err *err);
void gh_domkeys_free(gh_domkeys *k);

/* The key of node w; GH_DOM_NONAME for the root and root groups. */
uint32_t gh_domkey_of(gh_domkeys *k, uint32_t w);
/* The key whose full name is full (go/scanner.Scanner), GH_DOM_NONAME when
 * no live object has it (or k->oom). One pass over the nodes at most. */
uint32_t gh_domkeys_find_full(gh_domkeys *k, const char *full);
/* A pick for gh_dom_type_where and gh_graph_aggregate_where: the slot's
 * type has the full name ctx (a const char *). */
int gh_domkey_same_full(const gh_graph *g, uint32_t slot, void *ctx);
/* Its names; full is the short name where no node of the key was seen. */
const char *gh_domkey_name(const gh_domkeys *k, uint32_t key);
const char *gh_domkey_full(const gh_domkeys *k, uint32_t key);
/* JSON's keys "type" and "full_type" of a key. */
void gh_domkey_json(gh_json *j, const gh_domkeys *k, uint32_t key);

/* What the nodes retain together (their dominated subtrees, themselves
 * included), by key, largest bytes first; rows' name_index is the key.
 * Nodes inside another's subtree are counted twice: give disjoint ones. */
int gh_domkeys_histogram(gh_domkeys *k, const uint32_t *nodes, size_t nn, gh_cancel *cc, gh_dom_hist **rows,
                         size_t *nrows, gh_err *err);

/* Every key's totals (k->types, indexed by key; built once): count and
 * bytes, one pass over the nodes; with retained also the retained size: a
 * key of an unsplit name has its name's (gh_dom_types), a split one is
 * counted over its own instances, exact where the walk is cheap, else the
 * lower bound (the union of its instances' subtrees). */
int gh_domkeys_types(gh_domkeys *k, int retained, gh_cancel *cc, gh_err *err);

/* A bit per node: set on each object no object of its own key dominates
 * (gh_dom_type_tops by key). Free with free(). */
int gh_domkeys_tops(gh_domkeys *k, uint64_t **out, gh_err *err);

/* gh_dom_top with fold by key: an object whose immediate dominator is of
 * the same short name but another full name is not inside a chain of its
 * own type, and stays a candidate. Free with free(). */
int gh_domkeys_top(gh_domkeys *k, size_t limit, int fold, uint32_t **nodes, size_t *n, gh_err *err);

/* gh_graph_aggregate_all with rows by key (rows' name is the key). */
int gh_domkeys_aggregate_all(gh_domkeys *k, const uint64_t *tops, gh_cancel *cc, gh_agg_all *out, gh_err *err);

#endif
