/* The goroutine renderer: one goroutine (JSON, backtrace text with each
 * frame's pointer words), groups of goroutines, and their notes, for the
 * goroutines and goroutine commands. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"

const char *gh_render_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* What the status column shows: the wait reason of a waiting goroutine, as
 * the runtime's traceback header does. */
const char *gh_render_gstate(const gh_goroutine *g)
{
    return g->wait_reason ? g->wait_reason : g->status_name;
}

/* The state as the traceback header prints it: ", N minutes" when the
 * goroutine is known to have waited at least a minute. */
const char *gh_render_gstate_long(const gh_goroutine *g, char *buf, size_t cap)
{
    if (g->wait_minutes < 1)
        return gh_render_gstate(g);
    snprintf(buf, cap, "%s, %" PRId64 " minutes", gh_render_gstate(g), g->wait_minutes);
    return buf;
}

/* k=v pairs joined by spaces, a value quoted when it is empty or holds a
 * space, a quote or an '=': how listings show pprof labels. */
const char *gh_render_labels(const gh_goroutine *g, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < g->nlabels && at + 1 < cap; i++) {
        const char *k = g->labels[i].key, *v = g->labels[i].value;
        int quote = !*v || strpbrk(v, " \t\"=") != NULL;
        int n = snprintf(buf + at, cap - at, "%s%s=%s%s%s", i ? " " : "", k, quote ? "\"" : "", v, quote ? "\"" : "");
        if (n < 0 || (size_t)n >= cap - at) {
            if (cap > 4)
                memcpy(buf + cap - 4, "...", 4);
            break;
        }
        at += (size_t)n;
    }
    return buf;
}

static void json_frame_or_null(gh_json *j, const char *key, const gh_frame *f)
{
    gh_json_key(j, key);
    if (!f) {
        gh_json_null(j);
        return;
    }
    gh_json_obj(j);
    gh_json_kstr(j, "function", f->function);
    gh_json_kstr(j, "file", f->file);
    gh_json_ki64(j, "line", f->line);
    gh_json_end(j, '}');
}

static void json_labels(gh_json *j, const gh_goroutine *g)
{
    gh_json_key(j, "labels");
    gh_json_obj(j);
    for (size_t i = 0; i < g->nlabels; i++)
        gh_json_kstr(j, g->labels[i].key, g->labels[i].value);
    gh_json_end(j, '}');
    gh_json_key(j, "labels_error");
    if (g->labels_error)
        gh_json_str(j, g->labels_error);
    else
        gh_json_null(j);
}

static void json_i64_or_null(gh_json *j, const char *k, int64_t v, int known)
{
    gh_json_key(j, k);
    if (known)
        gh_json_i64(j, v);
    else
        gh_json_null(j);
}

/* --- pointer words of frames (goroutine ID) ---------------------------- */

/* What a pointer word's value is: a heap object (with its type), the
 * goroutine's stack, nil, or something else. */
typedef struct target {
    const char *points_to; /* "heap", "stack", "nil", "other" */
    uint64_t object;       /* heap: where the object's data starts */
    const char *type;      /* heap: its type name */
    char tmp[64];
} target;

static void classify(const gh_graph *gr, const gh_goroutine *g, uint64_t v, target *t)
{
    gh_obj o;
    t->object = 0;
    t->type = NULL;
    if (!v) {
        t->points_to = "nil";
    } else if (v >= g->stack_lo && v < g->stack_hi) {
        t->points_to = "stack";
    } else if (gr && gh_heap_find(gr->h, v, &o)) {
        t->points_to = "heap";
        t->object = gh_obj_data(&o);
        t->type = gh_graph_type_name(gr, o.id, o.size, t->tmp, sizeof t->tmp);
    } else {
        t->points_to = "other";
    }
}

/* Conservative words count only where they point into an object (and
 * without the heap nothing can be said of them). */
static int shown(const gh_gptr *p, const target *t)
{
    return !p->conservative || !strcmp(t->points_to, "heap");
}

/* The words of physical frame k: [*first, *end) of ps->v. */
static void frame_words(const gh_gptrs *ps, uint32_t k, size_t *first, size_t *end)
{
    size_t i = 0;
    while (i < ps->n && ps->v[i].pframe < k)
        i++;
    *first = i;
    while (i < ps->n && ps->v[i].pframe == k)
        i++;
    *end = i;
}

static void json_pointer(gh_json *j, const gh_gptr *p, const target *t)
{
    gh_json_obj(j);
    gh_json_key(j, "name");
    if (p->name)
        gh_json_str(j, p->name);
    else
        gh_json_null(j);
    if (p->var_addr)
        gh_json_ku64(j, "offset", p->addr - p->var_addr);
    gh_json_key(j, "addr");
    if (p->addr)
        gh_json_addr(j, p->addr);
    else
        gh_json_null(j); /* a register */
    gh_json_kaddr(j, "value", p->value);
    gh_json_kstr(j, "points_to", t->points_to);
    gh_json_key(j, "object");
    if (t->object)
        gh_json_addr(j, t->object);
    else
        gh_json_null(j);
    gh_json_key(j, "type");
    if (t->type)
        gh_json_str(j, t->type);
    else
        gh_json_null(j);
    gh_json_kbool(j, "conservative", p->conservative);
    gh_json_end(j, '}');
}

static void json_pointers(gh_json *j, const char *key, const gh_gptrs *ps, size_t first, size_t end,
                          const gh_graph *gr, const gh_goroutine *g)
{
    gh_json_key(j, key);
    gh_json_arr(j);
    for (size_t i = first; i < end; i++) {
        target t;
        classify(gr, g, ps->v[i].value, &t);
        if (shown(&ps->v[i], &t))
            json_pointer(j, &ps->v[i], &t);
    }
    gh_json_end(j, ']');
}

static void print_pointers(gh_out *out, const gh_gptrs *ps, size_t first, size_t end, const gh_graph *gr,
                           const gh_goroutine *g, uint64_t sp)
{
    for (size_t i = first; i < end; i++) {
        const gh_gptr *p = &ps->v[i];
        target t;
        classify(gr, g, p->value, &t);
        if (!shown(p, &t))
            continue;
        char name[160];
        if (p->name && p->var_addr && p->addr != p->var_addr)
            snprintf(name, sizeof name, "%s+%" PRIu64, p->name, p->addr - p->var_addr);
        else if (p->name)
            snprintf(name, sizeof name, "%s", p->name);
        else if (p->addr >= sp)
            snprintf(name, sizeof name, "sp+0x%" PRIx64, p->addr - sp);
        else
            snprintf(name, sizeof name, "0x%" PRIx64, p->addr);
        gh_printf(out, "\t    %s = ", name);
        if (!p->value)
            gh_puts(out, "nil");
        else
            gh_printf(out, "0x%" PRIx64, p->value);
        if (t.type && p->value == t.object)
            gh_printf(out, " (%s)", t.type);
        else if (t.type)
            gh_printf(out, " (%s, %" PRIu64 " bytes in)", t.type, p->value - t.object);
        else if (!strcmp(t.points_to, "stack"))
            gh_puts(out, " (stack)");
        gh_puts(out, p->conservative ? " [conservative]\n" : "\n");
    }
}

/* ps (may be NULL): each physical frame's pointer words go with the frame
 * the runtime prints with its pc (the one not inlined); the variables of
 * calls inlined into it are among them. */
void gh_render_frame_locals_json(gh_json *j, const struct gh_glocals *lv, uint32_t pframe)
{
    gh_json_key(j, "locals");
    gh_json_arr(j);
    for (size_t i = 0; lv && i < lv->n; i++) {
        const gh_glocal *l = &lv->v[i];
        if (l->pframe != pframe)
            continue;
        gh_json_obj(j);
        gh_json_kstr(j, "name", l->name);
        gh_json_kstr(j, "type", l->type);
        gh_json_kbool(j, "param", l->param);
        if (l->why) {
            gh_json_kstr(j, "error", l->why);
        } else {
            gh_json_kbool(j, "in_registers", l->in_registers);
            gh_json_key(j, "value");
            pv_render_json(&l->value, j);
        }
        gh_json_end(j, '}');
    }
    gh_json_end(j, ']');
}

static void json_frames(gh_json *j, const gh_goroutine *g, const gh_gptrs *ps, const gh_graph *gr,
                        const gh_glocals *lv)
{
    gh_json_key(j, "frames");
    gh_json_arr(j);
    for (size_t i = 0; i < g->nframes; i++) {
        const gh_frame *f = &g->frames[i];
        const gh_pframe *p = &g->pframes[f->pframe];
        gh_json_obj(j);
        gh_json_kstr(j, "function", f->function);
        gh_json_kstr(j, "file", f->file);
        gh_json_ki64(j, "line", f->line);
        gh_json_kaddr(j, "pc", p->pc);
        gh_json_kaddr(j, "sp", p->sp);
        gh_json_kaddr(j, "fp", p->fp);
        gh_json_kbool(j, "inlined", f->inlined);
        if (ps) {
            size_t first = 0, end = 0;
            if (!f->inlined)
                frame_words(ps, f->pframe, &first, &end);
            json_pointers(j, "pointers", ps, first, end, gr, g);
        }
        if (lv && !f->inlined)
            gh_render_frame_locals_json(j, lv, f->pframe);
        gh_json_end(j, '}');
    }
    gh_json_end(j, ']');
}

/* ps (goroutine ID): the frames' pointer words, the others, and the notes
 * of their scan (with note, when not empty). */
void gh_render_goroutine_fields(gh_json *j, const gh_goroutine *g, int frames, const gh_gptrs *ps,
                                const gh_graph *gr, const char *note, const struct gh_glocals *lv)
{
    gh_json_ki64(j, "id", g->goid);
    gh_json_kstr(j, "status", g->status_name);
    gh_json_key(j, "wait_reason");
    if (g->wait_reason)
        gh_json_str(j, g->wait_reason);
    else
        gh_json_null(j);
    gh_json_kstr(j, "state", gh_render_gstate(g));
    json_i64_or_null(j, "waitsince", g->waitsince, g->waitsince != 0);
    json_i64_or_null(j, "wait_minutes", g->wait_minutes, g->wait_minutes >= 0);
    gh_json_kbool(j, "system", g->system);
    gh_json_kaddr(j, "gp", g->g);
    gh_json_key(j, "thread");
    if (g->tid)
        gh_json_i64(j, g->tid);
    else
        gh_json_null(j);
    if (g->start)
        gh_json_kstr(j, "start", g->start);
    gh_json_key(j, "creator");
    if (g->creator) {
        gh_json_obj(j);
        gh_json_kstr(j, "function", g->creator);
        gh_json_kstr(j, "file", g->creator_file);
        gh_json_ki64(j, "line", g->creator_line);
        gh_json_ki64(j, "goroutine", g->parent_goid);
        gh_json_end(j, '}');
    } else {
        gh_json_null(j);
    }
    const gh_frame *w = gh_goroutine_where(g);
    json_frame_or_null(j, "where", w);
    json_frame_or_null(j, "user_frame", w);
    json_frame_or_null(j, "top_frame", gh_goroutine_top(g));
    json_frame_or_null(j, "start_frame", gh_goroutine_start_frame(g));
    json_labels(j, g);
    gh_json_kstr(j, "from", gh_gfrom_name(g->from));
    gh_json_kbool(j, "truncated", g->truncated);
    gh_json_key(j, "stop");
    if (g->stop)
        gh_json_str(j, g->stop);
    else
        gh_json_null(j);
    if (frames)
        json_frames(j, g, ps, gr, lv);
    if (ps) {
        size_t first, end;
        frame_words(ps, GH_GPTR_NOFRAME, &first, &end);
        json_pointers(j, "other_pointers", ps, first, end, gr, g);
        gh_json_key(j, "notes");
        gh_json_arr(j);
        for (size_t i = 0; i < ps->nnotes; i++)
            gh_json_str(j, ps->notes[i]);
        if (note && *note)
            gh_json_str(j, note);
        gh_json_end(j, ']');
    }
}

void gh_render_goroutine_json(gh_json *j, const gh_goroutine *g, int frames, const gh_gptrs *ps,
                              const gh_graph *gr, const char *note)
{
    gh_json_obj(j);
    gh_render_goroutine_fields(j, g, frames, ps, gr, note, NULL);
    gh_json_end(j, '}');
}

void gh_render_goroutines_notes(gh_json *j, const gh_goroutines *gs)
{
    gh_json_key(j, "notes");
    gh_json_arr(j);
    for (size_t i = 0; i < gs->nnotes; i++)
        gh_json_str(j, gs->notes[i]);
    gh_json_end(j, ']');
}

void gh_render_goroutines_now(gh_json *j, const gh_goroutines *gs)
{
    gh_json_key(j, "now");
    if (gs->now > 0) {
        gh_json_obj(j);
        gh_json_ki64(j, "nanotime", gs->now);
        gh_json_kstr(j, "source", gs->now_source);
        gh_json_end(j, '}');
    } else {
        gh_json_null(j);
    }
}

void gh_render_groups_json(gh_json *j, const gh_goroutines *gs, const gh_ggroup *groups, size_t ng,
                           uint64_t limit)
{
    gh_json_key(j, "groups");
    gh_json_arr(j);
    for (size_t k = 0; k < ng && k < limit; k++) {
        const gh_ggroup *gr = &groups[k];
        const gh_goroutine *g = &gs->v[gr->first];
        gh_json_obj(j);
        gh_json_ku64(j, "count", gr->count);
        gh_json_kstr(j, "status", g->status_name);
        gh_json_key(j, "wait_reason");
        if (g->wait_reason)
            gh_json_str(j, g->wait_reason);
        else
            gh_json_null(j);
        gh_json_kstr(j, "state", gh_render_gstate(g));
        gh_json_key(j, "wait_minutes");
        if (gr->min_wait >= 0) {
            gh_json_obj(j);
            gh_json_ki64(j, "min", gr->min_wait);
            gh_json_ki64(j, "max", gr->max_wait);
            gh_json_end(j, '}');
        } else {
            gh_json_null(j);
        }
        const gh_frame *w = gh_goroutine_where(g);
        gh_json_key(j, "where");
        if (w) {
            gh_json_obj(j);
            gh_json_kstr(j, "function", w->function);
            gh_json_kstr(j, "file", w->file);
            gh_json_ki64(j, "line", w->line);
            gh_json_end(j, '}');
        } else {
            gh_json_null(j);
        }
        gh_json_key(j, "frames");
        gh_json_arr(j);
        for (size_t i = 0; i < g->nframes; i++) {
            gh_json_obj(j);
            gh_json_kstr(j, "function", g->frames[i].function);
            gh_json_kstr(j, "file", g->frames[i].file);
            gh_json_ki64(j, "line", g->frames[i].line);
            gh_json_kbool(j, "inlined", g->frames[i].inlined);
            gh_json_end(j, '}');
        }
        gh_json_end(j, ']');
        gh_json_key(j, "stop");
        if (g->stop)
            gh_json_str(j, g->stop);
        else
            gh_json_null(j);
        gh_json_key(j, "goroutines");
        gh_json_arr(j);
        for (size_t i = 0; i < gr->nids; i++)
            gh_json_i64(j, gr->ids[i]);
        gh_json_end(j, ']');
        gh_json_end(j, '}');
    }
    gh_json_end(j, ']');
}

void gh_render_groups_text(gh_out *out, const gh_goroutines *gs, const gh_ggroup *groups, size_t ng,
                           uint64_t limit)
{
    gh_printf(out, "%8s  %-32s %s\n", "COUNT", "STATE", "GOROUTINES");
    char st[128];
    for (size_t k = 0; k < ng && k < limit; k++) {
        const gh_ggroup *gr = &groups[k];
        const gh_goroutine *g = &gs->v[gr->first];
        if (gr->min_wait >= 1 && gr->min_wait == gr->max_wait)
            snprintf(st, sizeof st, "%s, %" PRId64 " minutes", gh_render_gstate(g), gr->min_wait);
        else if (gr->max_wait >= 1)
            snprintf(st, sizeof st, "%s, up to %" PRId64 " minutes", gh_render_gstate(g), gr->max_wait);
        else
            snprintf(st, sizeof st, "%s", gh_render_gstate(g));
        gh_printf(out, "%8" PRIu64 "  %-32s", gr->count, st);
        for (size_t i = 0; i < gr->nids; i++)
            gh_printf(out, " %" PRId64, gr->ids[i]);
        gh_puts(out, gr->count > gr->nids ? " ...\n" : "\n");
        for (size_t i = 0; i < g->nframes; i++)
            gh_printf(out, "          %s%s %s:%d\n", g->frames[i].function, g->frames[i].inlined ? " (inlined)" : "",
                      gh_render_basename(g->frames[i].file), g->frames[i].line);
        if (g->stop)
            gh_printf(out, "          ...%s: %s\n", g->truncated ? " truncated" : "", g->stop);
    }
}

/* Under a frame: each variable, "name type = value" or why it has none,
 * after the --frame that names the frame (GOROUTINE:N). */
static void print_locals(gh_out *out, const gh_glocals *lv, uint32_t pframe, int64_t goid, size_t frame)
{
    int head = 0;
    for (size_t i = 0; lv && i < lv->n; i++) {
        const gh_glocal *l = &lv->v[i];
        if (l->pframe != pframe)
            continue;
        if (!head++)
            gh_printf(out, "\t  locals (--frame %" PRId64 ":%zu):\n", goid, frame);
        if (l->why)
            gh_printf(out, "\t    %s %s: %s\n", l->name, l->type, l->why);
        else
            gh_printf(out, "\t    %s %s = %s%s\n", l->name, l->type, l->line ? l->line : "?",
                      l->in_registers ? " (in registers)" : "");
    }
}

void gh_render_backtrace(const gh_goroutine *g, const gh_gptrs *ps, const gh_graph *gr, const gh_glocals *lv,
                         gh_out *out)
{
    char st[128];
    gh_printf(out, "goroutine %" PRId64 " [%s]", g->goid, gh_render_gstate_long(g, st, sizeof st));
    if (g->tid)
        gh_printf(out, " thread %d", g->tid);
    gh_printf(out, " gp=0x%" PRIx64 " (frames from %s):\n", g->g, gh_gfrom_name(g->from));
    if (g->nlabels || g->labels_error) {
        char lb[1024];
        gh_printf(out, "labels: %s%s%s\n", gh_render_labels(g, lb, sizeof lb), g->labels_error ? "; " : "",
                  g->labels_error ? g->labels_error : "");
    }
    for (size_t i = 0; i < g->nframes; i++) {
        const gh_frame *f = &g->frames[i];
        const gh_pframe *p = &g->pframes[f->pframe];
        gh_printf(out, "%s(%s)\n\t%s:%d", f->function, f->inlined ? "..." : "", f->file, f->line);
        if (!f->inlined)
            gh_printf(out, " +0x%" PRIx64 " pc=0x%" PRIx64 " sp=0x%" PRIx64 " fp=0x%" PRIx64, p->pc - p->fn.entry,
                      p->pc, p->sp, p->fp);
        gh_puts(out, "\n");
        if (ps && !f->inlined) {
            size_t first, end;
            frame_words(ps, f->pframe, &first, &end);
            print_pointers(out, ps, first, end, gr, g, p->sp);
        }
        if (lv && !f->inlined)
            print_locals(out, lv, f->pframe, g->goid, i);
    }
    if (g->stop)
        gh_printf(out, "...%s: %s\n", g->truncated ? " truncated" : "", g->stop);
    if (g->creator && g->goid != 1) { /* main was started by the runtime itself */
        gh_printf(out, "created by %s", g->creator);
        if (g->parent_goid)
            gh_printf(out, " in goroutine %" PRId64, g->parent_goid);
        gh_printf(out, "\n\t%s:%d\n", g->creator_file, g->creator_line);
    }
    if (ps) {
        size_t first, end, n = 0;
        frame_words(ps, GH_GPTR_NOFRAME, &first, &end);
        for (size_t i = first; i < end; i++) {
            target t;
            classify(gr, g, ps->v[i].value, &t);
            n += shown(&ps->v[i], &t);
        }
        if (n) {
            gh_puts(out, "registers and runtime words:\n");
            print_pointers(out, ps, first, end, gr, g, 0);
        }
    }
}

