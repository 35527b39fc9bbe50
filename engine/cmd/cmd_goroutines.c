/* goroutines: every goroutine with its status, wait reason, where it is and
 * who created it, or (--group) one row per distinct stack; goroutine ID
 * (alias bt): one goroutine's full backtrace with the live pointer words of
 * each frame and the heap objects they point to. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "goroutine/goroutine.h"
#include "graph/graph.h"

#define GROUP_IDS 8       /* goroutine ids shown per group */
#define MAX_GROUP_SCAN 64 /* distinct stacks compared within one hash bucket */

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* What the status column shows: the wait reason of a waiting goroutine, as
 * the runtime's traceback header does. */
static const char *state(const gh_goroutine *g)
{
    return g->wait_reason ? g->wait_reason : g->status_name;
}

/* The state as the traceback header prints it: ", N minutes" when the
 * goroutine is known to have waited at least a minute. */
static const char *state_long(const gh_goroutine *g, char *buf, size_t cap)
{
    if (g->wait_minutes < 1)
        return state(g);
    snprintf(buf, cap, "%s, %" PRId64 " minutes", state(g), g->wait_minutes);
    return buf;
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
static void json_frames(gh_json *j, const gh_goroutine *g, const gh_gptrs *ps, const gh_graph *gr)
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
        gh_json_end(j, '}');
    }
    gh_json_end(j, ']');
}

/* ps (goroutine ID): the frames' pointer words, the others, and the notes
 * of their scan (with note, when not empty). */
static void json_one(gh_json *j, const gh_goroutine *g, int frames, const gh_gptrs *ps, const gh_graph *gr,
                     const char *note)
{
    gh_json_obj(j);
    gh_json_ki64(j, "id", g->goid);
    gh_json_kstr(j, "status", g->status_name);
    gh_json_key(j, "wait_reason");
    if (g->wait_reason)
        gh_json_str(j, g->wait_reason);
    else
        gh_json_null(j);
    gh_json_kstr(j, "state", state(g));
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
    gh_json_kstr(j, "from", gh_gfrom_name(g->from));
    gh_json_kbool(j, "truncated", g->truncated);
    gh_json_key(j, "stop");
    if (g->stop)
        gh_json_str(j, g->stop);
    else
        gh_json_null(j);
    if (frames)
        json_frames(j, g, ps, gr);
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
    gh_json_end(j, '}');
}

static void json_notes(gh_json *j, const gh_goroutines *gs)
{
    gh_json_key(j, "notes");
    gh_json_arr(j);
    for (size_t i = 0; i < gs->nnotes; i++)
        gh_json_str(j, gs->notes[i]);
    gh_json_end(j, ']');
}

static void json_now(gh_json *j, const gh_goroutines *gs)
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

static int matches(const gh_goroutine *g, const char *status, const regex_t *re)
{
    if (status && strcmp(status, g->status_name) && (!g->wait_reason || strcmp(status, g->wait_reason)))
        return 0;
    if (!re)
        return 1;
    for (size_t i = 0; i < g->nframes; i++)
        if (!regexec(re, g->frames[i].function, 0, NULL, 0))
            return 1;
    return 0;
}

static int layout(gh_session *s, const gh_goroutines *gs, int json, gh_out *out)
{
    gh_glayout L;
    char src[96];
    gh_err e;
    if (gh_glayout_resolve(&s->rt, &L, src, sizeof src, &e))
        snprintf(src, sizeof src, "none: %.80s", e.msg);
    const char *type, *path;
    uint64_t off, size;
    if (json) {
        gh_json j;
        gh_json_init(&j, out);
        gh_json_obj(&j);
        gh_json_kstr(&j, "layout_source", src);
        gh_json_kaddr(&j, "allgs", gs->allgs);
        gh_json_kstr(&j, "allgs_source", gs->allgs_source);
        gh_json_ku64(&j, "wait_reasons", gs->nwaitreasons);
        gh_json_key(&j, "fields");
        gh_json_arr(&j);
        for (size_t i = 0; gh_glayout_describe(i, &type, &path); i++) {
            gh_glayout_get(&L, i, &off, &size);
            gh_json_obj(&j);
            gh_json_kstr(&j, "type", type);
            gh_json_kstr(&j, "field", path);
            gh_json_ku64(&j, "offset", off);
            gh_json_ku64(&j, "size", size);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
        return GH_OK;
    }
    gh_printf(out, "layouts from %s; runtime.allgs 0x%" PRIx64 " from %s; %zu wait reasons\n\n", src, gs->allgs,
              gs->allgs_source, gs->nwaitreasons);
    gh_printf(out, "%-16s %-16s %8s %6s\n", "TYPE", "FIELD", "OFFSET", "SIZE");
    for (size_t i = 0; gh_glayout_describe(i, &type, &path); i++) {
        gh_glayout_get(&L, i, &off, &size);
        gh_printf(out, "%-16s %-16s %8" PRIu64 " %6" PRIu64 "\n", type, *path ? path : "(whole struct)", off, size);
    }
    return GH_OK;
}


/* --- groups of goroutines with one stack -------------------------------- */

typedef struct group {
    size_t first;     /* index of its first goroutine (in allgs order) */
    uint64_t count;
    int64_t ids[GROUP_IDS]; /* the lowest ids, ascending */
    size_t nids;
    int64_t min_wait, max_wait; /* wait_minutes over the members that have one; -1 none */
} group;

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull;
}

/* Over what makes two goroutines one group: status, wait reason, and the
 * frames (function, file, line), and where a walk stopped early. */
static uint64_t stack_hash(const gh_goroutine *g)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = hash_str(h, g->status_name);
    h = hash_str(h, g->wait_reason);
    h = hash_str(h, g->stop);
    for (size_t i = 0; i < g->nframes; i++) {
        h = hash_str(h, g->frames[i].function);
        h = hash_str(h, g->frames[i].file);
        h = (h ^ (uint64_t)(uint32_t)g->frames[i].line ^ ((uint64_t)g->frames[i].inlined << 32)) * 0x100000001b3ull;
    }
    return h;
}

static int str_eq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static int same_stack(const gh_goroutine *a, const gh_goroutine *b)
{
    if (a->status != b->status || !str_eq(a->wait_reason, b->wait_reason) || !str_eq(a->stop, b->stop) ||
        a->truncated != b->truncated || a->nframes != b->nframes)
        return 0;
    for (size_t i = 0; i < a->nframes; i++) {
        const gh_frame *x = &a->frames[i], *y = &b->frames[i];
        if (x->line != y->line || x->inlined != y->inlined || !str_eq(x->function, y->function) ||
            !str_eq(x->file, y->file))
            return 0;
    }
    return 1;
}

typedef struct hkey {
    uint64_t h;
    size_t i;
} hkey;

static int cmp_hkey(const void *a, const void *b)
{
    const hkey *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int cmp_group(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static void group_add(group *gr, const gh_goroutine *g)
{
    gr->count++;
    if (g->wait_minutes >= 0) {
        if (gr->min_wait < 0 || g->wait_minutes < gr->min_wait)
            gr->min_wait = g->wait_minutes;
        if (g->wait_minutes > gr->max_wait)
            gr->max_wait = g->wait_minutes;
    }
    size_t k = gr->nids;
    if (k == GROUP_IDS && g->goid >= gr->ids[k - 1])
        return;
    if (k == GROUP_IDS)
        k--; /* the largest drops out */
    while (k > 0 && gr->ids[k - 1] > g->goid) {
        gr->ids[k] = gr->ids[k - 1];
        k--;
    }
    gr->ids[k] = g->goid;
    if (gr->nids < GROUP_IDS)
        gr->nids++;
}

/* Groups of the goroutines sel[0..n), largest first. */
static int make_groups(const gh_goroutines *gs, const size_t *sel, size_t n, group **out, size_t *ngroups,
                       gh_err *err)
{
    *out = NULL;
    *ngroups = 0;
    hkey *keys = malloc((n ? n : 1) * sizeof *keys);
    group *groups = malloc((n ? n : 1) * sizeof *groups);
    if (!keys || !groups) {
        free(keys);
        free(groups);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (hkey){stack_hash(&gs->v[sel[i]]), sel[i]};
    qsort(keys, n, sizeof *keys, cmp_hkey);
    size_t ng = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && keys[b].h == keys[a].h)
            b++;
        size_t g0 = ng; /* groups of this hash */
        for (size_t i = a; i < b; i++) {
            const gh_goroutine *g = &gs->v[keys[i].i];
            size_t k = g0;
            while (k < ng && k - g0 < MAX_GROUP_SCAN && !same_stack(&gs->v[groups[k].first], g))
                k++;
            if (k == ng || k - g0 == MAX_GROUP_SCAN) {
                k = ng++;
                groups[k] = (group){.first = keys[i].i, .min_wait = -1, .max_wait = -1};
            }
            group_add(&groups[k], g);
        }
        a = b;
    }
    free(keys);
    qsort(groups, ng, sizeof *groups, cmp_group);
    *out = groups;
    *ngroups = ng;
    return GH_OK;
}

static void json_groups(gh_json *j, const gh_goroutines *gs, const group *groups, size_t ng, uint64_t limit)
{
    gh_json_key(j, "groups");
    gh_json_arr(j);
    for (size_t k = 0; k < ng && k < limit; k++) {
        const group *gr = &groups[k];
        const gh_goroutine *g = &gs->v[gr->first];
        gh_json_obj(j);
        gh_json_ku64(j, "count", gr->count);
        gh_json_kstr(j, "status", g->status_name);
        gh_json_key(j, "wait_reason");
        if (g->wait_reason)
            gh_json_str(j, g->wait_reason);
        else
            gh_json_null(j);
        gh_json_kstr(j, "state", state(g));
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

static void print_groups(gh_out *out, const gh_goroutines *gs, const group *groups, size_t ng, uint64_t limit)
{
    gh_printf(out, "%8s  %-32s %s\n", "COUNT", "STATE", "GOROUTINES");
    char st[128];
    for (size_t k = 0; k < ng && k < limit; k++) {
        const group *gr = &groups[k];
        const gh_goroutine *g = &gs->v[gr->first];
        if (gr->min_wait >= 1 && gr->min_wait == gr->max_wait)
            snprintf(st, sizeof st, "%s, %" PRId64 " minutes", state(g), gr->min_wait);
        else if (gr->max_wait >= 1)
            snprintf(st, sizeof st, "%s, up to %" PRId64 " minutes", state(g), gr->max_wait);
        else
            snprintf(st, sizeof st, "%s", state(g));
        gh_printf(out, "%8" PRIu64 "  %-32s", gr->count, st);
        for (size_t i = 0; i < gr->nids; i++)
            gh_printf(out, " %" PRId64, gr->ids[i]);
        gh_puts(out, gr->count > gr->nids ? " ...\n" : "\n");
        for (size_t i = 0; i < g->nframes; i++)
            gh_printf(out, "          %s%s %s:%d\n", g->frames[i].function, g->frames[i].inlined ? " (inlined)" : "",
                      base(g->frames[i].file), g->frames[i].line);
        if (g->stop)
            gh_printf(out, "          ...%s: %s\n", g->truncated ? " truncated" : "", g->stop);
    }
}

static int run_list(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    const char *status = a->val[1], *fre = a->val[2];
    uint64_t limit = UINT64_MAX;
    int rc;
    if (a->val[3] && (rc = gh_parse_u64(a->val[3], "--limit", &limit, err)))
        return rc;
    regex_t re;
    if (fre) {
        if (regcomp(&re, fre, REG_EXTENDED | REG_NOSUB))
            return gh_errorf(err, GH_EARG, "goroutines: bad --function regular expression \"%.100s\"", fre);
    }
    gh_goroutines *gs;
    if ((rc = gh_session_goroutines(s, &gs, err))) {
        if (fre)
            regfree(&re);
        return rc;
    }
    size_t *sel = NULL, nsel = 0, ngroups = 0;
    group *groups = NULL;
    if (a->val[4]) {
        rc = layout(s, gs, a->val[0] != NULL, out);
        goto done;
    }
    /* Counts by status over every goroutine, filters or not. */
    const char *names[64];
    uint64_t counts[64];
    size_t nnames = 0;
    for (size_t i = 0; i < gs->n; i++) {
        const char *st = gs->v[i].status_name;
        size_t k = 0;
        while (k < nnames && strcmp(names[k], st))
            k++;
        if (k == nnames && nnames < 64) {
            names[nnames] = st;
            counts[nnames++] = 0;
        }
        if (k < nnames)
            counts[k]++;
    }
    sel = malloc((gs->n ? gs->n : 1) * sizeof *sel);
    if (!sel) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < gs->n; i++)
        if (matches(&gs->v[i], status, fre ? &re : NULL))
            sel[nsel++] = i;
    if (a->val[5] && (rc = make_groups(gs, sel, nsel, &groups, &ngroups, err)))
        goto done;
    uint64_t shown = a->val[5] ? (ngroups < limit ? ngroups : limit) : (nsel < limit ? nsel : limit);
    if (a->val[0]) {
        gh_json j;
        gh_json_init(&j, out);
        gh_json_obj(&j);
        gh_json_kstr(&j, "go_version", s->rt.ver.text);
        gh_json_ku64(&j, "total", gs->n);
        gh_json_ku64(&j, "user", gs->nuser);
        gh_json_ku64(&j, "system", gs->nsystem);
        gh_json_ku64(&j, "dead", gs->ndead);
        gh_json_key(&j, "counts");
        gh_json_obj(&j);
        for (size_t k = 0; k < nnames; k++)
            gh_json_ku64(&j, names[k], counts[k]);
        gh_json_end(&j, '}');
        json_now(&j, gs);
        gh_json_ku64(&j, "matched", nsel);
        if (a->val[5]) {
            json_groups(&j, gs, groups, ngroups, limit);
            gh_json_ku64(&j, "ngroups", ngroups);
        } else {
            gh_json_key(&j, "goroutines");
            gh_json_arr(&j);
            for (uint64_t i = 0; i < shown; i++)
                json_one(&j, &gs->v[sel[i]], 1, NULL, NULL, NULL);
            gh_json_end(&j, ']');
        }
        gh_json_ku64(&j, "shown", shown);
        json_notes(&j, gs);
        gh_json_end(&j, '}');
        goto done;
    }
    if (a->val[5]) {
        print_groups(out, gs, groups, ngroups, limit);
        gh_printf(out, "\n%zu goroutines (%zu user, %zu runtime), %zu dead; %zu matched in %zu groups, shown %" PRIu64
                       ":",
                  gs->n, gs->nuser, gs->nsystem, gs->ndead, nsel, ngroups, shown);
    } else {
        gh_printf(out, "%8s  %-24s %7s  %-50s %s\n", "ID", "STATUS", "THREAD", "WHERE", "CREATED BY");
        char where[512], tid[16], st[128];
        for (uint64_t i = 0; i < shown; i++) {
            const gh_goroutine *g = &gs->v[sel[i]];
            const gh_frame *w = gh_goroutine_where(g);
            if (!w && g->nframes)
                w = &g->frames[0];
            if (w)
                snprintf(where, sizeof where, "%s %s:%d", w->function, base(w->file), w->line);
            else
                snprintf(where, sizeof where, "? (%s)", g->stop ? g->stop : "no frames");
            snprintf(tid, sizeof tid, "%d", g->tid);
            gh_printf(out, "%8" PRId64 "  %-24s %7s  %-50s %s\n", g->goid, state_long(g, st, sizeof st),
                      g->tid ? tid : "", where, g->creator && g->goid != 1 ? g->creator : "");
        }
        gh_printf(out, "\n%zu goroutines (%zu user, %zu runtime), %zu dead; shown %" PRIu64 ":", gs->n, gs->nuser,
                  gs->nsystem, gs->ndead, shown);
    }
    for (size_t k = 0; k < nnames; k++)
        gh_printf(out, " %s %" PRIu64 "%s", names[k], counts[k], k + 1 < nnames ? "," : "");
    gh_puts(out, "\n");
    for (size_t i = 0; i < gs->nnotes; i++)
        gh_printf(out, "note: %s\n", gs->notes[i]);
done:
    free(sel);
    free(groups);
    if (fre)
        regfree(&re);
    gh_goroutines_free(gs);
    return rc;
}

/* Like the runtime's traceback: function, then file:line +offset; under
 * each physical frame its live pointer words. */
static void print_bt(const gh_goroutine *g, const gh_gptrs *ps, const gh_graph *gr, gh_out *out)
{
    char st[128];
    gh_printf(out, "goroutine %" PRId64 " [%s]", g->goid, state_long(g, st, sizeof st));
    if (g->tid)
        gh_printf(out, " thread %d", g->tid);
    gh_printf(out, " gp=0x%" PRIx64 " (frames from %s):\n", g->g, gh_gfrom_name(g->from));
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

static int run_one(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t id;
    int rc = gh_parse_u64(a->pos[0], "goroutine id", &id, err);
    if (rc)
        return rc;
    gh_goroutines *gs;
    if ((rc = gh_session_goroutines(s, &gs, err)))
        return rc;
    const gh_goroutine *g = gh_goroutine_find(gs, (int64_t)id);
    gh_gptrs *ps = NULL;
    gh_graph *gr = NULL;
    char graph_note[640] = "";
    if (!g) {
        rc = gh_errorf(err, GH_EARG, "no live goroutine %" PRIu64 " (%zu live, %zu dead)", id, gs->n, gs->ndead);
        goto done;
    }
    /* The heap graph types what the words point to; without it (a heap that
     * cannot be read) the backtrace and the words are still shown. */
    if ((rc = gh_session_graph(s, &gr, err))) {
        if (rc == GH_ENOMEM || rc == GH_EINTR)
            goto done;
        snprintf(graph_note, sizeof graph_note, "heap objects are not known (%s): pointers are shown without "
                                                "types, conservative words not at all", err->msg);
        gh_err_clear(err);
        gr = NULL;
        rc = GH_OK;
    }
    gh_roots_env env;
    if ((rc = gh_session_roots_env(s, &env, err)) || (rc = gh_goroutine_pointers(&env, g, &ps, err)))
        goto done;
    if (a->val[0]) {
        gh_json j;
        gh_json_init(&j, out);
        json_one(&j, g, 1, ps, gr, graph_note);
    } else {
        print_bt(g, ps, gr, out);
        for (size_t i = 0; i < ps->nnotes; i++)
            gh_printf(out, "note: %s\n", ps->notes[i]);
        if (*graph_note)
            gh_printf(out, "note: %s\n", graph_note);
    }
done:
    gh_gptrs_free(ps);
    gh_goroutines_free(gs);
    return rc;
}

static const gh_optspec list_opts[] = {
    {"--json", 0, "one JSON document (every frame of every goroutine shown)"},
    {"--status", 1, "only goroutines in this status or wait reason (waiting, \"chan receive\", ...)"},
    {"--function", 1, "only goroutines with a frame whose function matches this regular expression"},
    {"--limit", 1, "show at most N goroutines"},
    {"--layout", 0, "the runtime.g/m layouts and globals the reader uses, and where they came from"},
    {"--group", 0, "one row per distinct stack (status, wait reason, every frame's function and file:line), "
                   "largest group first; --limit counts groups"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_goroutines = {
    .name = "goroutines",
    .summary = "goroutines: status, wait reason, where they are, who created them",
    .usage = "goroutines [--status S] [--function REGEX] [--limit N] [--group] [--json]",
    .opts = list_opts,
    .example = "goroutines --function 'main\\.' --limit 20",
    .min_pos = 0,
    .max_pos = 0,
    .run = run_list,
};

static const gh_optspec one_opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_goroutine = {
    .name = "goroutine",
    .alias = "bt",
    .summary = "one goroutine's full backtrace, runtime frames included, with each frame's live pointers",
    .usage = "goroutine ID [--json]",
    .opts = one_opts,
    .example = "goroutine 1",
    .min_pos = 1,
    .max_pos = 1,
    .run = run_one,
};
