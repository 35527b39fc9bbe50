/* libgoheap: the heap of a Go program — which objects are live, of what
 * type, and what keeps them alive — read from a core file, a live process,
 * or a target a debugger supplies. docs/api.md is the reference; this header
 * is its summary.
 *
 * Concepts
 *   session   one open target with the models goheap builds from it: the
 *             heap (arenas, spans, slots), the roots (globals, goroutine
 *             stacks, finalizers, cleanups), and the object graph (marking
 *             from the roots, types, first reachers). Models are built on
 *             first use and kept until the target runs again (a live
 *             process that continued): every call checks that first.
 *   object    one allocated heap slot, or a typed sub-object of a tiny
 *             block. Its id (the heap-wide slot number) is stable while the
 *             model is; two sub-objects of one tiny block share their id.
 *   type      an object type: one Go type repeated count times ([]T's
 *             backing array of 8 T is T with count 8), named as Go prints
 *             it. Ids start at 1; 0 is "unknown". Ids are valid while the
 *             model is.
 *   root      a region the garbage collector scans first: a global, a
 *             goroutine's frame or registers, a finalizer or cleanup record.
 *
 * Ownership: strings and arrays a call returns through a pointer belong to
 *   the session and stay valid until the model changes (the target ran) or
 *   the session closes, unless the call says "free with". Structs the caller
 *   passes are filled.
 *
 * Threads: a session is not thread-safe; use one thread at a time per
 *   session (distinct sessions are independent). The interrupt callback may
 *   be called from the thread running a call; gh_set_interrupt_flag's flag
 *   may be set from a signal handler.
 *
 * Errors: every int-returning call gives GH_OK or a negative GH_E* code
 *   with a one-line message in *err (common.h). A core of a Go release
 *   goheap does not know gives GH_EVERSION, a damaged one GH_EFORMAT; no
 *   input makes the library crash or abort. */
#ifndef GOHEAP_GOHEAP_H
#define GOHEAP_GOHEAP_H

#include "goheap/command.h"
#include "goheap/common.h"
#include "goheap/target.h"
#include "goheap/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- opening ---------------------------------------------------------- */

/* A core file. exe_path may be NULL: the executable is then found from the
 * core's notes (NT_FILE). The executable must be the one that dumped (its Go
 * build id is checked). */
GH_API int gh_open_core(const char *core_path, const char *exe_path, gh_session **out, gh_err *err);

/* A live process, through /proc/PID. With GH_OPEN_ATTACH the process is
 * attached with ptrace and all its threads stopped until gh_close; without,
 * it must already be stopped (a debugger holds it) and only its memory is
 * read: give the debugger's registers with threads (may be NULL, n 0;
 * threads are matched by tid, and ones missing keep no registers). */
enum { GH_OPEN_ATTACH = 1 };
GH_API int gh_open_pid(int pid, unsigned flags, const gh_thread *threads, size_t nthreads, gh_session **out,
                       gh_err *err);

/* A snapshot: an ELF core of the running process pid written to path, with
 * the process stopped (ptrace) only while its memory is copied; the file is
 * written after it runs again. It holds what the kernel's core would (every
 * readable writable private or anonymous mapping, the vDSO, ELF header
 * pages), or with GH_SNAPSHOT_FULL every readable mapping; pages of zeros
 * are holes. It opens with gh_open_core, gdb and lldb. A process another
 * tracer holds, or that is not a Go program, is refused. stats may be NULL. */
enum { GH_SNAPSHOT_FULL = 1 };
typedef struct gh_snapshot_stats {
    double pause_ms;     /* first thread stopped to all resumed */
    double stop_ms;      /* of which stopping every thread and reading its registers */
    double copy_ms;      /* and reading the mappings and copying them */
    double pause_cpu_ms; /* CPU time goheap spent in the pause, all its threads */
    double write_ms;     /* writing the file, after the pause */
    size_t threads;      /* NT_PRSTATUS notes */
    size_t mappings;     /* PT_LOAD segments */
    uint64_t copied;     /* bytes copied from the process */
    uint64_t unreadable; /* bytes the process would not give, written as zeros */
    uint64_t size;       /* the file's apparent size */
    uint64_t disk;       /* the bytes it takes on disk */
} gh_snapshot_stats;
GH_API int gh_snapshot(int pid, const char *path, unsigned flags, gh_snapshot_stats *stats, gh_err *err);

/* A target the caller supplies (target.h). ops and ctx must stay valid
 * until gh_close, which calls ops->close(ctx). exe_path overrides the
 * executable the target names (ops->exe_path). On failure ops->close is
 * called too. */
GH_API int gh_open_target(const gh_target_ops *ops, void *ctx, const char *exe_path, gh_session **out,
                          gh_err *err);

/* Closes the target and frees everything the session holds. NULL is fine. */
GH_API void gh_close(gh_session *s);

/* What the session describes itself as in output ("core /x/core",
 * "process 1234"); the caller may set its own (copied). */
GH_API const char *gh_description(const gh_session *s);
GH_API void gh_set_description(gh_session *s, const char *desc);

/* The i-th warning about the target (a truncated core; a Go release newer
 * than the newest goheap was tested with), or NULL past the last. */
GH_API const char *gh_warning(const gh_session *s, size_t i);

/* What opening the target cost, when that is worth a line: a compressed
 * core's "decompressed zstd core: 44.3 MiB in 0.2 s (...)". NULL otherwise. */
GH_API const char *gh_target_note(const gh_session *s);

/* ---- interrupt and progress --------------------------------------------- */

/* Long calls (loading, marking, indexing) ask fn every thousand objects or
 * so; a non-zero answer stops them with GH_EINTR. NULL fn: never. */
typedef int (*gh_interrupt_fn)(void *ctx);
GH_API void gh_set_interrupt(gh_session *s, gh_interrupt_fn fn, void *ctx);
/* The same through a flag a signal handler sets (NULL: none). Both may be set. */
GH_API void gh_set_interrupt_flag(gh_session *s, const volatile int *flag);

/* Progress of long phases ("loading heap", "collecting roots", "marking",
 * "indexing references"): at most ten calls a second, none for a phase
 * shorter than a quarter second, and a last call with done == total when
 * one was made. total 0: unknown. NULL fn: none. */
typedef void (*gh_progress_fn)(void *ctx, const char *phase, uint64_t done, uint64_t total);
GH_API void gh_set_progress(gh_session *s, gh_progress_fn fn, void *ctx);

/* How many threads build the object graph: n, or (n < 1) the default
 * (GOHEAP_THREADS, else the cores online, at most 8). A target that cannot
 * be read from several threads at once (a caller-supplied one, a live
 * process read through its page cache) always uses one. Returns the number
 * in effect. Results do not depend on it. */
GH_API int gh_set_threads(gh_session *s, int n);

/* The graph index: the object graph of a core (what marking and typing
 * found) saved to a file after it is built, and loaded instead of built when
 * the same core is opened again with the same executable and the same
 * goheap. The file is checked against the heap and the roots read now and
 * by a checksum; one that does not match is not used (and is replaced).
 *   GH_INDEX_OFF     neither load nor save (a session's default)
 *   GH_INDEX_AUTO    load; save graphs that took a second or more to build
 *   GH_INDEX_ALWAYS  load; save every graph
 *   GH_INDEX_DEFAULT GOHEAP_INDEX (off, auto, always), else auto
 * dir: where the files go; NULL: GOHEAP_INDEX_DIR, else
 * $XDG_CACHE_HOME/goheap, else ~/.cache/goheap. The directory is kept under
 * GOHEAP_INDEX_MAX_MB (4096) by dropping the least recently used files.
 * Only core targets have an index. Call before the first query. */
enum { GH_INDEX_DEFAULT = -1, GH_INDEX_OFF = 0, GH_INDEX_AUTO = 1, GH_INDEX_ALWAYS = 2 };
GH_API int gh_set_index(gh_session *s, int mode, const char *dir, gh_err *err);

/* Every command's text names types by their full import paths
 * ("go/scanner.Scanner"), not only where two packages share a short name:
 * the CLI's --full-names, given to the whole session. JSON always carries
 * both names (type, full_type). */
GH_API void gh_set_full_names(gh_session *s, int on);
/* What the index did in this session ("loaded PATH", "saved PATH", "not
 * used PATH: why", "not saved: why"), or NULL when it was not asked. */
GH_API const char *gh_index_status(const gh_session *s);

/* ---- the target --------------------------------------------------------- */

/* The Go release of the target as its binary states it ("go1.25.14
 * X:greenteagc"); each int pointer may be NULL. */
GH_API const char *gh_go_version(const gh_session *s, int *major, int *minor, int *patch);
/* The executable's path. */
GH_API const char *gh_executable(const gh_session *s);
/* Times the heap model was built in this session (1 after the first query;
 * more when a live target ran between calls). */
GH_API unsigned gh_heap_loads(const gh_session *s);

/* Where the session's time went: phase i's name ("open", "heap", "roots",
 * "edges", "mark", "types", "index", "command"; "index": loading or saving
 * the graph index), and its wall and CPU seconds summed
 * over the session (CPU of the whole process: more than wall when a phase
 * ran on several cores). Returns 1, or 0 past the last phase. */
GH_API int gh_phase_time(const gh_session *s, size_t i, const char **phase, double *wall, double *cpu);

/* ---- the heap ----------------------------------------------------------- */

typedef struct gh_heap_summary {
    uint64_t objects, bytes;                 /* allocated slots, their bytes */
    uint64_t live_objects, live_bytes;       /* reachable from a root */
    uint64_t garbage_objects, garbage_bytes; /* allocated, unreachable */
    uint64_t typed_objects, typed_bytes;     /* live ones whose type is known */
    uint64_t spans, arenas;
} gh_heap_summary;

/* Marks the heap (first call) and sums it up. */
GH_API int gh_heap_summary_get(gh_session *s, gh_heap_summary *out, gh_err *err);

/* A truncated core (shorter than its program headers say) holds only part of
 * the heap: the model takes the in-use spans whose record, pages and
 * allocation bits are all in the file, and every count is over those (never
 * more than the truth). Where reach_partial is set, an object no root
 * reached through readable memory may be live through memory that is
 * missing: what gh_heap_summary and GH_OBJECTS_GARBAGE call garbage is then
 * "not reached", not garbage, nothing is pending finalization, and retained
 * sizes are refused (GH_EMEM). A complete core: truncated 0, percent 100,
 * complete 1, reach_partial 0. Marks the heap (first call). */
typedef struct gh_heap_coverage {
    int truncated;                  /* the file is shorter than its program headers say */
    uint64_t file_bytes, file_bytes_expected; /* when truncated; 0 otherwise */
    double percent;                 /* of in-use span bytes the model holds, 0 to 100 */
    int complete;                   /* every in-use span is in the model */
    int reach_partial;              /* roots or spans are missing: not reached is not garbage */
    uint64_t in_use_span_bytes;     /* mheap_.pagesInUse x 8 KiB, or what the records say when more */
    uint64_t readable_span_bytes, readable_spans; /* in the model */
    uint64_t unreadable_spans;      /* their record read, their pages or allocation bits missing */
    uint64_t missing_span_records;  /* mspan records (or the allspans entries naming them) missing */
} gh_heap_coverage;
GH_API int gh_heap_coverage_get(gh_session *s, gh_heap_coverage *out, gh_err *err);

#define GH_NO_OBJECT UINT32_MAX

typedef struct gh_object {
    uint64_t addr;       /* first byte (a tiny sub-object: its own first byte) */
    uint64_t size;       /* the slot's size (a tiny sub-object: its type's size) */
    uint32_t id;         /* heap-wide slot number */
    uint32_t type;       /* gh_type id, 0 when unknown */
    uint8_t live;        /* reachable from a root */
    uint8_t span_class;  /* the span's size class << 1 | noscan */
    uint8_t tiny;        /* a typed sub-object of a tiny block */
} gh_object;

/* Which objects to iterate. */
enum { GH_OBJECTS_LIVE = 1, GH_OBJECTS_GARBAGE = 2, GH_OBJECTS_ALL = 3 };

/* Objects in address order. Free the iterator with gh_objects_end. */
typedef struct gh_object_iter gh_object_iter;
GH_API int gh_objects_begin(gh_session *s, unsigned which, gh_object_iter **out, gh_err *err);
/* Fills up to max objects; returns how many (0 at the end). */
GH_API size_t gh_objects_next(gh_object_iter *it, gh_object *buf, size_t max);
GH_API void gh_objects_end(gh_object_iter *it);

/* The object holding addr (interior pointers included; in a tiny block, the
 * typed sub-object holding it, else the block): GH_ENOENT when addr is in no
 * allocated object. */
GH_API int gh_object_at(gh_session *s, uint64_t addr, gh_object *out, gh_err *err);

/* One pointer word of an object, as the garbage collector sees it. */
typedef struct gh_edge {
    uint64_t offset;     /* of the word, from the object's first byte */
    uint64_t value;      /* the pointer */
    uint32_t target;     /* object id it points into, GH_NO_OBJECT when none */
    char field[192];     /* ".Next", "[3].Name", "+16" when the type is unknown */
} gh_edge;

/* The non-nil pointer words of object id from the start-th on: fills up to
 * max and returns how many (0 past the last), or a negative GH_E* code. */
GH_API int gh_object_edges(gh_session *s, uint32_t id, size_t start, gh_edge *buf, size_t max, gh_err *err);

/* ---- types -------------------------------------------------------------- */

/* Go's reflect kinds, and GH_KIND_RUNTIME for a runtime-internal shape that
 * has no Go type of its own (a map's buckets, a channel's hchan, a
 * closure's context, a string's bytes). */
enum {
    GH_KIND_INVALID = 0, GH_KIND_BOOL, GH_KIND_INT, GH_KIND_INT8, GH_KIND_INT16, GH_KIND_INT32,
    GH_KIND_INT64, GH_KIND_UINT, GH_KIND_UINT8, GH_KIND_UINT16, GH_KIND_UINT32, GH_KIND_UINT64,
    GH_KIND_UINTPTR, GH_KIND_FLOAT32, GH_KIND_FLOAT64, GH_KIND_COMPLEX64, GH_KIND_COMPLEX128,
    GH_KIND_ARRAY, GH_KIND_CHAN, GH_KIND_FUNC, GH_KIND_INTERFACE, GH_KIND_MAP, GH_KIND_POINTER,
    GH_KIND_SLICE, GH_KIND_STRING, GH_KIND_STRUCT, GH_KIND_UNSAFEPOINTER,
    GH_KIND_MAX = GH_KIND_UNSAFEPOINTER,
    GH_KIND_RUNTIME = 32,
};
/* "struct", "map", ..., "runtime". */
GH_API const char *gh_kind_name(int kind);

typedef struct gh_type {
    uint32_t id;
    const char *name;    /* "main.Entry", "[8]*main.Node", "map.group[string]int" */
    int kind;            /* GH_KIND_* of one value */
    uint64_t size;       /* bytes of one value; 0 when unknown (closures, string bytes) */
    uint64_t count;      /* values in one object of this type */
    uint64_t rtype;      /* the runtime type descriptor's address, 0 when none */
    size_t nfields;      /* fields of one value when it is a struct */
} gh_type;

/* Type ids run 1..count (the graph is marked first). */
GH_API int gh_type_count(gh_session *s, size_t *count, gh_err *err);
GH_API int gh_type_get(gh_session *s, uint32_t id, gh_type *out, gh_err *err);

typedef struct gh_type_field {
    const char *name;
    uint64_t offset;     /* in one value */
    uint64_t size;
    const char *type;    /* the field's type's name */
    int kind;
    int embedded;
} gh_type_field;
GH_API int gh_type_field_get(gh_session *s, uint32_t id, size_t i, gh_type_field *out, gh_err *err);

/* Live (and, with GH_OBJECTS_GARBAGE, unreachable) objects per type, most
 * bytes first. Untyped objects are counted per slot size as "unknown<N>"
 * with type 0. Free with gh_type_stats_free. */
typedef struct gh_type_stat {
    uint32_t type;       /* 0: unknown */
    const char *name;
    uint64_t count, bytes;
} gh_type_stat;
GH_API int gh_type_stats(gh_session *s, unsigned which, gh_type_stat **out, size_t *n, gh_err *err);
GH_API void gh_type_stats_free(gh_type_stat *v);

/* ---- roots -------------------------------------------------------------- */

enum {
    GH_ROOT_GLOBAL = 0, /* a package-level variable (data, bss) */
    GH_ROOT_STACK,      /* a goroutine's frame, or its registers */
    GH_ROOT_FINALIZER,  /* a finalizer: the object's referents and the function */
    GH_ROOT_CLEANUP,    /* a cleanup: its function and argument */
    GH_ROOT_RUNTIME,    /* anything else the runtime holds */
    GH_ROOT_NKINDS
};
/* "global", "stack", "finalizer", "cleanup", "runtime". */
GH_API const char *gh_root_kind_str(int kind);

typedef struct gh_root_info {
    int kind;             /* GH_ROOT_* */
    const char *name;     /* global: the Go variable ("main.Index") or ELF symbol; finalizer and
                             cleanup: the function; NULL when unnamed */
    int64_t goroutine;    /* stack: the goroutine id; -1 otherwise */
    const char *function; /* stack: the frame's function */
    const char *variable; /* stack: the variable, where DWARF names it */
    uint64_t addr, size;  /* the region in target memory; addr 0 for registers */
    int registers;        /* a goroutine's registers, not memory */
    int conservative;     /* every word counts when it points into an object */
    uint64_t object;      /* finalizer: the object it is set on (not kept alive by it) */
} gh_root_info;

GH_API int gh_root_count(gh_session *s, size_t *n, gh_err *err);
GH_API int gh_root_get(gh_session *s, size_t i, gh_root_info *out, gh_err *err);

/* One pointer word of a root. */
typedef struct gh_root_word {
    uint64_t addr;        /* where it is (0 for a register) */
    uint64_t value;
    uint32_t target;      /* object id it points into, GH_NO_OBJECT when none */
} gh_root_word;
/* Root i's non-zero pointer words from the start-th on: fills up to max,
 * returns how many (0 past the last), or a negative GH_E* code. */
GH_API int gh_root_words(gh_session *s, size_t i, size_t start, gh_root_word *buf, size_t max, gh_err *err);

/* ---- paths -------------------------------------------------------------- */

typedef struct gh_hop {
    uint64_t addr, size;
    uint32_t id;          /* object id; GH_NO_OBJECT for a note hop */
    const char *type;
    const char *field;    /* of the previous hop (or the root) that points here; "" when unknown */
    const char *note;     /* a hop that is not a heap object on the way: a finalizer's object
                             (not kept alive by it) or static data; NULL otherwise */
} gh_hop;

typedef struct gh_path {
    gh_root_info root;
    gh_hop *hops;         /* root side first; the last is the target */
    size_t nhops;
} gh_path;

/* How the object holding addr is kept alive: the shortest path from any root
 * first, then up to max - 1 more, each from a different root. *n is 0 when
 * the object is garbage. GH_ENOENT when addr is in no object. Free with
 * gh_paths_free. */
GH_API int gh_paths(gh_session *s, uint64_t addr, size_t max, gh_path **out, size_t *n, gh_err *err);
GH_API void gh_paths_free(gh_path *paths, size_t n);

/* ---- retention: what holds the memory ------------------------------------ */

/* The live graph has a virtual root pointing to every root group (a global
 * variable, a goroutine, a finalizer or cleanup record, a runtime root),
 * each pointing to what its roots reach. An object X dominates Y when every
 * path from the virtual root to Y passes through X; X retains what it
 * dominates, itself included, counted in slot sizes. The first of these
 * calls on a session builds the dominator tree (about as long as marking);
 * later ones are immediate. */
typedef struct gh_retained {
    gh_object object;     /* the object (its slot) */
    uint64_t bytes;       /* what it retains, itself included; 0 for garbage */
    uint64_t objects;
    uint64_t dominator;   /* the address of its immediate dominator; 0 when that is not an object */
    int64_t dominator_root; /* when its immediate dominator is a root group: one of its roots
                             * (index for gh_root_get); -1 when it is an object or several
                             * roots together */
} gh_retained;

/* What the object holding addr retains. GH_ENOENT when addr is in no object. */
GH_API int gh_retained_get(gh_session *s, uint64_t addr, gh_retained *out, gh_err *err);

/* The limit objects retaining the most, largest first (no folding). Free
 * with gh_retainers_free. */
GH_API int gh_retainers(gh_session *s, size_t limit, gh_retained **out, size_t *n, gh_err *err);
GH_API void gh_retainers_free(gh_retained *v);

/* What removing every live object of the type named type (as gh_type_stats
 * names it) would make unreachable: exact (*exact is 1), computed by a walk
 * of what the instances reach (up to one pass over the graph). type may
 * also be a full name with import paths ("go/scanner.Scanner"): where two
 * packages share the short name, only that package's type's instances.
 * GH_ENOENT when no live object has that type. */
GH_API int gh_type_retained(gh_session *s, const char *type, uint64_t *bytes, uint64_t *objects, int *exact,
                            gh_err *err);

/* What the root group of root i (gh_root_get) alone keeps alive. */
GH_API int gh_root_retained(gh_session *s, size_t i, uint64_t *bytes, uint64_t *objects, gh_err *err);

/* The dominator tree below an object (1.1): the objects the object holding
 * addr immediately dominates (it alone keeps each alive, with no other
 * object between), largest retained first; up to limit of them (0: all),
 * *total how many there are. *n 0 for garbage and for a leaf. GH_ENOENT
 * when addr is in no object. Free with gh_retainers_free. */
GH_API int gh_dominated(gh_session *s, uint64_t addr, size_t limit, gh_retained **out, size_t *n, size_t *total,
                        gh_err *err);
/* The same below the root group of root i (a global, a goroutine, a
 * finalizer record): what it alone keeps alive, one level down. */
GH_API int gh_root_dominated(gh_session *s, size_t i, size_t limit, gh_retained **out, size_t *n, size_t *total,
                             gh_err *err);

/* ---- goroutines --------------------------------------------------------- */

typedef struct gh_goroutine_info {
    int64_t id, parent_id;
    uint64_t g;               /* address of the runtime.g */
    const char *status;       /* "waiting", "runnable", ... */
    const char *wait_reason;  /* "chan receive", NULL when not waiting */
    int64_t wait_minutes;     /* as the runtime would print it, -1 when not known */
    int system;               /* a runtime goroutine (not counted by runtime.NumGoroutine) */
    const char *creator;      /* "created by" function, NULL when none */
    const char *creator_file;
    int creator_line;
    size_t nframes;           /* inlined calls are frames of their own */
    const char *stop;         /* why the stack walk ended early, NULL when it reached the top */
} gh_goroutine_info;

typedef struct gh_frame_info {
    const char *function;     /* as a traceback prints it */
    const char *file;
    int line;
    int inlined;              /* inlined into the next frame */
    uint64_t pc, sp;
} gh_frame_info;

/* A live pointer of a frame, as the garbage collector scans it. */
typedef struct gh_variable {
    size_t frame;             /* index of its frame (the innermost, for an inlined call's) */
    const char *name;         /* the DWARF variable, a register, "(closure context)", NULL */
    uint64_t addr;            /* the word; 0 for a register */
    uint64_t value;
    uint32_t target;          /* object id it points into, GH_NO_OBJECT when none */
    const char *type;         /* the target's type name, NULL when unknown */
    int conservative;
} gh_variable;

GH_API int gh_goroutine_count(gh_session *s, size_t *n, gh_err *err);
GH_API int gh_goroutine_get(gh_session *s, size_t i, gh_goroutine_info *out, gh_err *err);
GH_API int gh_goroutine_frame(gh_session *s, size_t i, size_t frame, gh_frame_info *out, gh_err *err);
/* The pointer words of goroutine i's frames and registers. Free with
 * gh_variables_free. */
GH_API int gh_goroutine_variables(gh_session *s, size_t i, gh_variable **out, size_t *n, gh_err *err);
GH_API void gh_variables_free(gh_variable *v);

/* Goroutines as Delve lists them (1.1). gh_goroutine_get's index i runs over
 * the goroutines sorted by id, as the goroutines command lists them. */

/* The index of the goroutine with id id: GH_ENOENT when there is none (or
 * it is dead). */
GH_API int gh_goroutine_index(gh_session *s, int64_t id, size_t *i, gh_err *err);

/* The user frame of goroutine i: the first frame not in the runtime (Delve's
 * (*G).UserCurrent rule, docs/api.md), an index for gh_goroutine_frame.
 * GH_ENOENT when every frame is the runtime's (its own goroutines). */
GH_API int gh_goroutine_user_frame(gh_session *s, size_t i, size_t *frame, gh_err *err);

/* The frame goroutine i started in: the outermost below runtime.goexit and
 * the compiler's go-statement wrappers. GH_ENOENT when it has no frames. */
GH_API int gh_goroutine_entry_frame(gh_session *s, size_t i, size_t *frame, gh_err *err);

/* One pprof label (runtime/pprof.Do, SetGoroutineLabels). */
typedef struct gh_label {
    const char *key, *value;
} gh_label;

/* The pprof labels of goroutine i, sorted by key: *n of them at *out (NULL
 * when none; the session's memory, valid as long as the goroutine's other
 * strings). incomplete (may be NULL) gets why they could not all be read,
 * NULL when they were: then *out holds those that could. */
GH_API int gh_goroutine_labels(gh_session *s, size_t i, const gh_label **out, size_t *n, const char **incomplete,
                               gh_err *err);

/* ---- objects pending finalization (1.1) ---------------------------------- */

/* An object with a finalizer or cleanup (runtime.SetFinalizer, AddCleanup)
 * that no root reaches is pending finalization: the next collection queues
 * its finalizer and keeps it until that ran, or frees it and queues its
 * cleanup. gh_object and gh_heap_summary count it as garbage (not live);
 * these calls tell it apart. One record per finalizer or cleanup: an object
 * with several cleanups has several, next to each other (the records are
 * sorted by the object's id). */
typedef struct gh_pending_info {
    gh_object object;     /* the object pending finalization */
    int kind;             /* GH_ROOT_FINALIZER or GH_ROOT_CLEANUP */
    const char *function; /* the finalizer's or cleanup's function, NULL when unnamed */
    uint64_t record;      /* the runtime's record of it (its special's address) */
    size_t root;          /* that record as a root, an index for gh_root_get */
} gh_pending_info;

/* How many records there are (*n), and the distinct objects and their bytes
 * (objects, bytes may be NULL). Marks the graph on first use. */
GH_API int gh_pending_count(gh_session *s, size_t *n, uint64_t *objects, uint64_t *bytes, gh_err *err);
/* Record i. GH_ENOENT past the last. */
GH_API int gh_pending_get(gh_session *s, size_t i, gh_pending_info *out, gh_err *err);
/* Whether the object holding addr is pending finalization: *n records of
 * it from index *first (*n 0 when it is not pending). GH_ENOENT when addr
 * is in no allocated object. */
GH_API int gh_pending_find(gh_session *s, uint64_t addr, size_t *first, size_t *n, gh_err *err);

/* ---- the memory profile (1.1) -------------------------------------------- */

/* The process's own heap profile, read from the target (runtime.mbuckets:
 * one record per allocation stack and object size, and the profile special
 * the runtime puts on each object it sampled), with what the object graph
 * says about each sampled object: how many are live now. GH_EUNSUPP when the
 * binary cannot give it (no symbol table: stripped). */
typedef struct gh_profile_info {
    int64_t rate;         /* runtime.MemProfileRate at the dump; -1 when unreadable */
    int disabled;         /* the linker turned sampling off (the program never asks for a profile) */
    size_t nsites, nstacks;
    uint64_t live_objects, live_bytes;       /* sampled objects reachable now */
    uint64_t sampled_objects, sampled_bytes; /* sampled objects still allocated */
    const char *note;     /* the first trouble met reading it, NULL when none */
} gh_profile_info;
GH_API int gh_profile_get(gh_session *s, gh_profile_info *out, gh_err *err);

/* An allocation site: the first frame of a stack outside the runtime, as
 * pprof shows heap profiles; sites 0..nsites-1, in no particular order. */
typedef struct gh_site {
    const char *function, *file;
    int line;
    uint64_t pc;          /* the call's pc */
    size_t nstacks;       /* allocation stacks that reach it */
    uint64_t live_objects, live_bytes;       /* sampled, reachable now */
    uint64_t sampled_objects, sampled_bytes; /* sampled, still allocated */
    uint64_t alloc_objects, alloc_bytes;     /* as runtime.MemProfile publishes them */
    uint64_t free_objects, free_bytes;
} gh_site;
GH_API int gh_site_get(gh_session *s, size_t i, gh_site *out, gh_err *err);

/* An allocation stack (one per stack and object size; 0..nstacks-1). */
typedef struct gh_profile_stack {
    size_t site;          /* its site, an index for gh_site_get */
    uint64_t size;        /* bytes per object, as the runtime recorded them */
    uint64_t live_objects, sampled_objects;
    uint64_t alloc_objects, free_objects;
    size_t nframes;       /* inlined calls expanded */
    size_t user;          /* the first frame outside the runtime (the site's) */
} gh_profile_stack;
GH_API int gh_profile_stack_get(gh_session *s, size_t k, gh_profile_stack *out, gh_err *err);
/* Stack k's frames from the start-th on, innermost first (the runtime's
 * own leading frames included; pc is the call's, sp 0): fills up to max and
 * returns how many (0 past the last), or a negative GH_E* code. */
GH_API int gh_profile_stack_frames(gh_session *s, size_t k, size_t start, gh_frame_info *buf, size_t max,
                                   gh_err *err);

#define GH_NO_STACK SIZE_MAX
/* The allocation stack of the object holding addr when the runtime sampled
 * it (an index for gh_profile_stack_get), GH_NO_STACK when it did not.
 * GH_ENOENT when addr is in no allocated object. */
GH_API int gh_object_alloc_stack(gh_session *s, uint64_t addr, size_t *stack, gh_err *err);

/* ---- breakdown ---------------------------------------------------------- */

/* Memory by class, and the checks against the runtime's own statistics. */
typedef struct gh_breakdown_row {
    const char *group;        /* "binary", "heap", "manual", "arena", "runtime" */
    const char *what;
    uint64_t bytes;
    uint64_t count;           /* objects or spans, 0 when not meaningful */
} gh_breakdown_row;

typedef struct gh_breakdown_check {
    const char *what;
    int64_t goheap, runtime;
    const char *explanation;  /* why they may differ, NULL when they must not */
} gh_breakdown_check;

#define GH_BREAKDOWN_ROWS 14
#define GH_BREAKDOWN_CHECKS 5
typedef struct gh_breakdown {
    gh_breakdown_row rows[GH_BREAKDOWN_ROWS];
    gh_breakdown_check checks[GH_BREAKDOWN_CHECKS];
} gh_breakdown;

GH_API int gh_breakdown_get(gh_session *s, gh_breakdown *out, gh_err *err);

#ifdef __cplusplus
}
#endif

#endif
