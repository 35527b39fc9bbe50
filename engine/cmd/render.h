/* Renderers several commands share: the JSON envelope every command's JSON
 * document opens with, a root (in paths, roots and goroutine output), and
 * human-readable root titles. */
#ifndef GOHEAP_CMD_RENDER_H
#define GOHEAP_CMD_RENDER_H

#include "base/out.h"
#include "goroutine/group.h"
#include "graph/dominators.h"
#include "graph/domkeys.h"
#include "graph/paths.h"
#include "roots/roots.h"
#include "session/session.h"
#include "types/shortnames.h"

/* Starts a command's JSON document: {"go_version": ... The command adds its
 * keys and ends with gh_json_end(j, '}'). */
void gh_render_begin(gh_json *j, gh_out *out, const gh_session *s);

/* --- a truncated core's heap (render_coverage.c, heap/coverage.h) --- */

/* The "coverage" object, when the session's heap is a truncated core's
 * (gh_render_begin adds it); nothing otherwise. */
void gh_render_coverage_json(gh_json *j, const gh_session *s);
/* The coverage line, and why reachability is partial when it is. */
void gh_render_coverage_text(gh_out *out, const gh_session *s);
/* Whether objects no root reached are "not reached through readable
 * memory" rather than garbage (a truncated core's). */
int gh_render_reach_partial(const gh_session *s);
/* GH_EMEM saying that addr is in heap memory the core lost, when it may
 * be; GH_OK otherwise. */
int gh_render_missing(const gh_session *s, uint64_t addr, const char *cmd, gh_err *err);

/* A root as a JSON object: kind, name, goroutine/function/variable (stack
 * roots), addr or "where": "registers", object (finalizers). With detail
 * (roots --list): size, pointer_words, conservative, rtype, dwarf_type, via
 * and the non-zero pointer values, read through t. */
void gh_render_root_json(gh_json *j, const gh_root *r, const gh_target *t, int detail);

/* "global main.X", "stack: goroutine 7 main.f (v)", "finalizer at 0x...":
 * a path's first line. */
void gh_render_root_title(const gh_root *r, char *buf, size_t cap);
/* "goroutine 7 main.f v", "main.X", "fn (object 0x...)": a roots --list cell. */
void gh_render_root_cell(const gh_root *r, char *buf, size_t cap);
/* The note for objects the graph could not scan (what only they reach is
 * counted as garbage), or "" when it scanned every one. */
const char *gh_render_scan_note(const gh_graph *g, char *buf, size_t cap);

/* Pointer words of a root region (all of a conservative or unmasked one). */
uint64_t gh_root_pointer_words(const gh_root *r);

/* The allocation stack of the sampled object in the slot at slot (size
 * bytes), when the runtime's memory profiler sampled one there: a JSON key
 * "alloc_stack" into j, else text lines into out. Nothing otherwise. */
void gh_render_alloc_stack(gh_session *s, uint64_t slot, uint64_t size, gh_json *j, gh_out *out);

/* --- retained sizes --- */

/* A root group of the dominator tree: {"kind":"global","name":...},
 * {"kind":"stack","goroutine":N,"function":...}, else its root's JSON. */
void gh_render_group_json(gh_json *j, const gh_domtree *d, const gh_roots *rs, const gh_target *t, uint32_t group);
/* "global main.cache", "goroutine 17 main.worker", "finalizer f (object 0x...)". */
void gh_render_group_title(const gh_domtree *d, const gh_roots *rs, uint32_t group, char *buf, size_t cap);
/* The keys retained_bytes, retained_objects and percent (of live bytes). */
void gh_render_retained_json(gh_json *j, const gh_domtree *d, const gh_graph *g, uint32_t node);
/* "1.9 GiB, 93.0%": a node's retained bytes and share of live bytes. */
const char *gh_render_share(const gh_domtree *d, const gh_graph *g, uint32_t node, char *buf, size_t cap);
/* One path (graph/paths.h), as paths prints it; with d, each hop's retained
 * size. */
void gh_render_path_json(gh_json *j, const gh_session *s, const gh_graph *g, const gh_gpath *p, const gh_domtree *d);
/* Text: Go terms (map internals as [key], render_gopath.c) unless raw has
 * GH_PATH_RAW; types with import paths where a shared short name is in
 * them, or everywhere with GH_PATH_FULLNAMES (--full-names). */
#define GH_PATH_RAW 1
#define GH_PATH_FULLNAMES 2
void gh_render_path_text(gh_out *out, const gh_graph *g, const gh_gpath *p, const gh_domtree *d, const char *indent,
                         int raw);

/* A path's hops in Go terms: a map's header, directory, tables and groups
 * or buckets collapse into one hop to what the slot holds, whose field is
 * the key as Go prints it ("[\"user-0042\"]", "[42]", ".cache[7].Payload").
 * NULL when out of memory; free with gh_gohops_free. */
typedef struct gh_gohop {
    const gh_path_hop *hop; /* the object reached */
    const char *field;      /* how, in Go terms */
    char *own;              /* field, when made here */
} gh_gohop;
gh_gohop *gh_render_gopath(gh_cancel *cc, const gh_graph *g, const gh_gpath *p, size_t *n);
void gh_gohops_free(gh_gohop *h, size_t n);

/* --- type names in text (render_typename.c) --- */

/* How text names type id (short name name): the full name under
 * --full-names (s may be NULL: not asked) or when a shared short name is
 * part of it, else name. */
const char *gh_render_tname(const gh_session *s, const gh_shortnames *sn, gh_types *ty, gh_tid id, const char *name);
/* A type key of the dominator tree (graph/domkeys.h) as text names it: in
 * full where a shared short name is in it, or with --full-names (s may be
 * NULL). */
const char *gh_domkey_text(const gh_domkeys *k, const gh_session *s, uint32_t key);

/* --- goroutines (render_goroutines.c) --- */

/* The last element of a path. */
const char *gh_render_basename(const char *path);
/* What a status column shows: the wait reason of a waiting goroutine, else
 * its status; _long adds ", N minutes" as the traceback header does. */
const char *gh_render_gstate(const gh_goroutine *g);
const char *gh_render_gstate_long(const gh_goroutine *g, char *buf, size_t cap);
/* Its pprof labels as "k=v k2=\"a b\"" (empty when none). */
const char *gh_render_labels(const gh_goroutine *g, char *buf, size_t cap);
/* One goroutine as a JSON object; with frames, its frames; with ps (the
 * goroutine command), each frame's pointer words and the others, typed from
 * gr (may be NULL), and the scan's notes with note appended. */
void gh_render_goroutine_json(gh_json *j, const gh_goroutine *g, int frames, const gh_gptrs *ps,
                              const gh_graph *gr, const char *note);
/* The same keys into an object the caller opened (the goroutine command's
 * document, after the envelope). */
struct gh_glocals;
void gh_render_goroutine_fields(gh_json *j, const gh_goroutine *g, int frames, const gh_gptrs *ps,
                                const gh_graph *gr, const char *note, const struct gh_glocals *lv);
/* A frame's "locals" key (goroutine ID --locals; lv: cmd.h's gh_glocals). */
void gh_render_frame_locals_json(gh_json *j, const struct gh_glocals *lv, uint32_t pframe);
/* The "notes" and "now" keys of a goroutine listing. */
void gh_render_goroutines_notes(gh_json *j, const gh_goroutines *gs);
void gh_render_goroutines_now(gh_json *j, const gh_goroutines *gs);
/* Up to limit groups (goroutine/group.h) as the "groups" key, or as text. */
void gh_render_groups_json(gh_json *j, const gh_goroutines *gs, const gh_ggroup *groups, size_t ng,
                           uint64_t limit);
void gh_render_groups_text(gh_out *out, const gh_goroutines *gs, const gh_ggroup *groups, size_t ng,
                           uint64_t limit);
/* A traceback with each frame's pointer words (goroutine ID), and with lv
 * (may be NULL) each frame's variables. */
void gh_render_backtrace(const gh_goroutine *g, const gh_gptrs *ps, const gh_graph *gr,
                         const struct gh_glocals *lv, gh_out *out);

#endif
