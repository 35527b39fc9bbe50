/* A session: one target (core or process), its executable, and the models
 * built from them, kept and reused by every command until the target runs. */
#ifndef GOHEAP_SESSION_H
#define GOHEAP_SESSION_H

#include "goheap/dwarfvars.h"
#include "goheap/heap.h"
#include "goheap/out.h"
#include "goheap/pclntab.h"
#include "goheap/roots.h"
#include "goheap/runtime.h"
#include "goheap/target.h"
#include "goheap/typemask.h"
#include "goheap/typename.h"

typedef struct gh_session {
    gh_target *t;
    gh_exe *exe;
    gh_runtime rt;
    gh_heap *heap;
    uint64_t heap_generation;
    unsigned heap_loads;            /* times the heap model was built */
    gh_typemask_cache *typemasks;   /* pointer masks per type descriptor */
    gh_typenames *typenames;        /* Go names per type descriptor */
    uint64_t typenames_generation;
    gh_pclntab *pclntab;            /* the main module's function table */
    gh_roots *roots;                /* gh_session_roots */
    uint64_t roots_generation;
    gh_dwarf_vars *dwarfvars;       /* gh_session_dwarfvars (dwarfvars.h) */
    int dwarfvars_tried;
    struct gh_graph *graph;         /* gh_session_graph (graph.h) */
    uint64_t graph_generation;
    const volatile int *interrupt;  /* set by the front end on Ctrl-C */
    int (*poll_interrupt)(void *ctx); /* or asked of the front end (LLDB) */
    void *poll_ctx;
    /* Progress of long phases (heap load, roots, marking, the reverse index),
     * for a front end that shows it (the CLI when stderr is a terminal).
     * Called through gh_session_progress, at most ten times a second, and
     * only once a phase has run for a quarter of a second; total is 0 when
     * unknown. NULL: nothing is reported. */
    void (*progress)(void *ctx, const char *phase, uint64_t done, uint64_t total);
    void *progress_ctx;
    const char *progress_phase;     /* gh_session_progress's rate limit */
    uint64_t progress_start_ns, progress_last_ns;
    char desc[600];                 /* "core /x/core" or "process 1234" */
} gh_session;

/* Takes ownership of t (closed on failure too). exe_path overrides the
 * executable the target names. */
int gh_session_open(gh_target *t, const char *exe_path, const char *desc, gh_session **out, gh_err *err);
void gh_session_close(gh_session *s);

/* Whether the user asked to stop the current command. */
int gh_session_interrupted(const gh_session *s);

/* Reports progress of a long phase (a string constant: "marking") to the
 * front end's callback, rate-limited; cheap enough to call every thousand
 * objects. done == total ends the phase (passed on only when it was shown). */
void gh_session_progress(gh_session *s, const char *phase, uint64_t done, uint64_t total);

/* The heap model, built on first use and rebuilt when the target's
 * generation changed (a live process ran). */
int gh_session_heap(gh_session *s, gh_heap **out, gh_err *err);

/* The session's type-mask cache (created on first use), or NULL when out of memory. */
gh_typemask_cache *gh_session_typemasks(gh_session *s);

/* The session's type-name cache, opened on first use and renewed when a live
 * target ran (reflect can make new types at old addresses). */
int gh_session_typenames(gh_session *s, gh_typenames **out, gh_err *err);

/* The main module's function table, opened on first use (it lives in the
 * executable's read-only data, so it never changes under a live target). */
int gh_session_pclntab(gh_session *s, gh_pclntab **out, gh_err *err);

/* Runs one command line (argv[0] is the command name, without "go-").
 * Output goes to out; on failure returns non-zero with err set. */
int gh_command_run(gh_session *s, int argc, char **argv, gh_out *out, gh_err *err);

/* The i-th command's name and one-line summary, or NULL past the last: front
 * ends register their commands (go-NAME) from this list. */
const char *gh_command_name(size_t i, const char **summary);
const char *gh_command_usage(size_t i); /* "breakdown [--json]" */

/* Help for every command, or for one. */
int gh_command_help(const char *name, gh_out *out, gh_err *err);

#endif
