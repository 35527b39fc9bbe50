/* The session: one target (core or process), its executable, and the models
 * built from them (heap, roots, graph, type tables, function table, DWARF
 * variables), kept and reused by every command until the target runs. It is
 * the top of the model: it hands each layer explicit inputs and no layer
 * calls back into it. Freshness is checked once, where a command or a public
 * API call starts (gh_session_refresh). */
#ifndef GOHEAP_SESSION_SESSION_H
#define GOHEAP_SESSION_SESSION_H

#include "base/cancel.h"
#include "base/clock.h"
#include "base/out.h"
#include "dwarf/dwarf_index.h"
#include "dwarf/dwarfvars.h"
#include "dwarf/framevars.h"
#include "goroutine/goroutine.h"
#include "graph/graph.h"
#include "heap/heap.h"
#include "pclntab/pclntab.h"
#include "roots/roots.h"
#include "rtype/typemask.h"
#include "rtype/typename.h"
#include "runtime/runtime.h"
#include "target/target.h"
#include "types/gotype.h"

/* Phases of the work a session does, timed for --stats and gh_phase_time. */
enum {
    GH_PHASE_OPEN,    /* the executable and the runtime model */
    GH_PHASE_HEAP,    /* arenas, spans, slots */
    GH_PHASE_ROOTS,   /* globals, stacks, finalizers */
    GH_PHASE_EDGES,   /* every object's pointer words, resolved to objects */
    GH_PHASE_MARK,    /* reachability from the roots */
    GH_PHASE_TYPES,   /* types propagated to objects the allocator did not type */
    GH_PHASE_INDEX,   /* the graph loaded from, or saved to, the index (index.h) */
    GH_PHASE_DOMINATORS, /* the dominator tree and retained sizes */
    GH_PHASE_COMMAND, /* the rest of the commands: queries and output */
    GH_NPHASES
};
extern const char *const gh_phase_names[GH_NPHASES];

typedef struct gh_session {
    gh_target *t;
    gh_exe *exe;
    gh_runtime rt;
    uint64_t generation;            /* the target's, when the caches were made */
    gh_heap *heap;
    unsigned heap_loads;            /* times the heap model was built */
    gh_typemask_cache *typemasks;   /* pointer masks per type descriptor */
    gh_typenames *typenames;        /* Go names per type descriptor */
    gh_pclntab *pclntab;            /* the main module's function table */
    char *pclntab_error;            /* why it could not be opened (tried once) */
    gh_dwarf_vars *dwarfvars;       /* NULL without DWARF */
    gh_framevars *framevars;        /* frames' variables by pc (--frame), opened on first use; NULL without DWARF */
    char *dwarfvars_error;
    int dwarfvars_tried;
    gh_roots *roots;
    gh_graph *graph;
    gh_goroutines *goroutines;      /* gh_session_goroutines_cached */
    struct gh_memprof *memprof;     /* gh_session_memprof */
    gh_cancel cancel;               /* the front end's interrupt and progress */
    gh_clock phase[GH_NPHASES];     /* time spent in each phase, summed over the session */
    int threads;                    /* for the pointer graph; 1 when the target reads from one thread only */
    int free_target;                /* t was allocated by gh_open_target: free it after closing */
    char warnings[2][600];          /* about the target: truncated core, newer Go release */
    size_t nwarnings;
    char desc[600];                 /* "core /x/core" or "process 1234" */
    int index_mode;                 /* GH_INDEX_*: the graph index (index.h) */
    char index_dir[512];
    char index_note[900];           /* what the index did, for --stats */
    int full_names;                 /* --full-names: every type by its import path in text (docs/typenames.md) */
    const char *frame;              /* --frame GOROUTINE:FRAME of the running command: where its locals are, or NULL */
    uint64_t roots_lost_reads;      /* a truncated core: reads of missing bytes while collecting the roots */
} gh_session;

/* Takes ownership of t (closed on failure too). exe_path overrides the
 * executable the target names. */
int gh_session_open(gh_target *t, const char *exe_path, const char *desc, gh_session **out, gh_err *err);
/* The same over an executable already parsed, which the session shares (one
 * more reference, gh_exe_ref) instead of parsing the file and indexing its
 * DWARF again: for many sessions over one executable in one thread (the
 * fuzzing harness). Every model of the target is made anew. */
int gh_session_open_exe(gh_target *t, gh_exe *exe, const char *desc, gh_session **out, gh_err *err);
void gh_session_close(gh_session *s);

/* Drops every model made before the target last ran (a live process that
 * continued). Called once where a command or an API call starts. */
void gh_session_refresh(gh_session *s);

/* Whether the user asked to stop the current command. */
static inline int gh_session_interrupted(const gh_session *s) { return gh_cancelled(&s->cancel); }

/* The heap model, built on first use. */
int gh_session_heap(gh_session *s, gh_heap **out, gh_err *err);

/* The type-mask cache (created on first use), or NULL when out of memory. */
gh_typemask_cache *gh_session_typemasks(gh_session *s);

/* The type-name cache, opened on first use. */
int gh_session_typenames(gh_session *s, gh_typenames **out, gh_err *err);

/* The main module's function table, opened on first use (it lives in the
 * executable's read-only data, so it never changes under a live target). */
int gh_session_pclntab(gh_session *s, gh_pclntab **out, gh_err *err);

/* The DWARF variable index: *out NULL and GH_OK when the binary has none. */
int gh_session_dwarfvars(gh_session *s, gh_dwarf_vars **out, gh_err *err);

/* The variables of frames by pc (--frame's locals), opened on first use and
 * kept: they depend on the executable only. NULL without DWARF or memory. */
gh_framevars *gh_session_framevars(gh_session *s);

/* What root providers and type tables are given (roots.h, gotype.h). The
 * roots env's heap is the session's, if loaded (gh_session_heap first for
 * gh_roots_specials); it fails only when out of memory. */
int gh_session_roots_env(gh_session *s, gh_roots_env *env, gh_err *err);
void gh_session_types_env(gh_session *s, gh_types_env *env);

/* All roots, collected once. */
int gh_session_roots(gh_session *s, const gh_roots **out, gh_err *err);

/* The object graph: marks from all roots. GH_EINTR when interrupted. */
int gh_session_graph(gh_session *s, gh_graph **out, gh_err *err);
/* The same, but an interrupted marking hands back the graph marked so far
 * with partial set instead of GH_EINTR. A partial graph is not kept by the
 * session (the next command marks again): the caller frees it with
 * gh_graph_free. A complete graph belongs to the session as usual. */
int gh_session_graph_partial(gh_session *s, gh_graph **out, gh_err *err);
/* The graph and its dominator tree (graph/dominators.h), built once. */
struct gh_domtree;
int gh_session_dominators(gh_session *s, gh_graph **g, struct gh_domtree **out, gh_err *err);

/* The process's own heap profile (memprof/memprof.h), read once; with
 * live set, each bucket's live objects are counted on the graph and the
 * sites made (the graph is built if it is not yet). GH_EUNSUPP when the
 * binary cannot give it (stripped). */
struct gh_memprof;
int gh_session_memprof(gh_session *s, int live, struct gh_memprof **out, gh_err *err);

/* Every goroutine, read now (not cached). Free with gh_goroutines_free. */
int gh_session_goroutines(gh_session *s, gh_goroutines **out, gh_err *err);
/* The same, read once and kept with the other models (the public API). */
int gh_session_goroutines_cached(gh_session *s, const gh_goroutines **out, gh_err *err);

#endif
