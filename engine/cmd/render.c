/* Renderers shared by commands: the JSON envelope and roots. */
#include "cmd/render.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void gh_render_begin(gh_json *j, gh_out *out, const gh_session *s)
{
    gh_json_init(j, out);
    gh_json_obj(j);
    gh_json_kstr(j, "go_version", s->rt.ver.text);
    gh_render_coverage_json(j, s);
}

uint64_t gh_root_pointer_words(const gh_root *r)
{
    uint64_t n = r->size / 8;
    if (r->conservative || !r->mask)
        return n;
    uint64_t c = 0;
    for (uint64_t i = 0; i < n; i++)
        c += r->mask[i >> 3] >> (i & 7) & 1;
    return c;
}

static int value_json(void *ctx, uint64_t index, uint64_t addr, uint64_t value)
{
    (void)index, (void)addr;
    if (value)
        gh_json_addr(ctx, value);
    return 0;
}

void gh_render_root_json(gh_json *j, const gh_root *r, const gh_target *t, int detail)
{
    gh_json_obj(j);
    gh_json_kstr(j, "kind", gh_root_kind_name(r->kind));
    if (r->name)
        gh_json_kstr(j, "name", r->name);
    if (r->kind == GH_ROOT_STACK) {
        gh_json_ki64(j, "goroutine", r->goid);
        if (r->function)
            gh_json_kstr(j, "function", r->function);
        if (r->variable)
            gh_json_kstr(j, "variable", r->variable);
    }
    if (r->values)
        gh_json_kstr(j, "where", "registers");
    else
        gh_json_kaddr(j, "addr", r->addr);
    if (r->object)
        gh_json_kaddr(j, "object", r->object);
    if (detail) {
        gh_json_ku64(j, "size", r->size);
        gh_json_ku64(j, "pointer_words", gh_root_pointer_words(r));
        gh_json_kbool(j, "conservative", r->conservative);
        if (r->rtype)
            gh_json_kaddr(j, "rtype", r->rtype);
        if (r->dwarf_type)
            gh_json_kaddr(j, "dwarf_type", r->dwarf_type);
        if (r->via)
            gh_json_kaddr(j, "via", r->via);
        /* The pointer values themselves, so tests can find a sentinel. */
        gh_json_key(j, "values");
        gh_json_arr(j);
        gh_root_each_word(r, t, value_json, j);
        gh_json_end(j, ']');
    }
    gh_json_end(j, '}');
}

void gh_render_root_title(const gh_root *r, char *buf, size_t cap)
{
    if (r->kind == GH_ROOT_STACK)
        snprintf(buf, cap, "stack: goroutine %" PRId64 " %s%s%s%s", r->goid, r->function ? r->function : "?",
                 r->variable ? " (" : "", r->variable ? r->variable : "", r->variable ? ")" : "");
    else if (r->name)
        snprintf(buf, cap, "%s %s", gh_root_kind_name(r->kind), r->name);
    else
        snprintf(buf, cap, "%s at 0x%" PRIx64, gh_root_kind_name(r->kind), r->addr);
}

void gh_render_root_cell(const gh_root *r, char *buf, size_t cap)
{
    if (r->kind == GH_ROOT_STACK)
        snprintf(buf, cap, "goroutine %" PRId64 " %s%s%s", r->goid, r->function ? r->function : "?",
                 r->variable ? " " : "", r->variable ? r->variable : "");
    else if (r->object)
        snprintf(buf, cap, "%s (object 0x%" PRIx64 ")", r->name ? r->name : "?", r->object);
    else
        snprintf(buf, cap, "%s", r->name ? r->name : "(unnamed)");
}

/* --- root groups and paths with retained sizes ------------------------------ */

/* The function a goroutine group is known by: its outermost frame outside
 * the runtime (the highest stack address: the goroutine's own function),
 * else its first root's. */
static const char *group_function(const gh_domtree *d, const gh_roots *rs, uint32_t group)
{
    const gh_dom_group *gr = &d->groups[group];
    const char *fn = gh_roots_get(rs, gr->first)->function;
    uint64_t top = 0;
    size_t nr = gh_roots_count(rs);
    uint32_t seen = 0;
    for (size_t i = gr->first; i < nr && seen < gr->nroots; i++) {
        if (d->group_of[i] != group)
            continue;
        seen++;
        const gh_root *r = gh_roots_get(rs, i);
        if (r->function && r->addr && r->addr > top && strncmp(r->function, "runtime.", 8)) {
            fn = r->function;
            top = r->addr;
        }
    }
    return fn;
}

void gh_render_group_json(gh_json *j, const gh_domtree *d, const gh_roots *rs, const gh_target *t, uint32_t group)
{
    const gh_root *r = gh_roots_get(rs, d->groups[group].first);
    if (r->kind == GH_ROOT_STACK) {
        gh_json_obj(j);
        gh_json_kstr(j, "kind", "stack");
        gh_json_ki64(j, "goroutine", r->goid);
        const char *fn = group_function(d, rs, group);
        if (fn)
            gh_json_kstr(j, "function", fn);
        gh_json_ku64(j, "regions", d->groups[group].nroots);
        gh_json_end(j, '}');
    } else if (r->kind == GH_ROOT_GLOBAL && r->name) {
        gh_json_obj(j);
        gh_json_kstr(j, "kind", "global");
        gh_json_kstr(j, "name", r->name);
        gh_json_ku64(j, "regions", d->groups[group].nroots);
        gh_json_end(j, '}');
    } else {
        gh_render_root_json(j, r, t, 0);
    }
}

void gh_render_group_title(const gh_domtree *d, const gh_roots *rs, uint32_t group, char *buf, size_t cap)
{
    const gh_root *r = gh_roots_get(rs, d->groups[group].first);
    if (r->kind == GH_ROOT_STACK) {
        const char *fn = group_function(d, rs, group);
        snprintf(buf, cap, "goroutine %" PRId64 " %s", r->goid, fn ? fn : "?");
    } else if (r->kind == GH_ROOT_GLOBAL && r->name) {
        snprintf(buf, cap, "global %s", r->name);
    } else {
        char cell[512];
        gh_render_root_cell(r, cell, sizeof cell);
        snprintf(buf, cap, "%s %s", gh_root_kind_name(r->kind), cell);
    }
}

static void retained_json(gh_json *j, const gh_domtree *d, const gh_graph *g, uint32_t node)
{
    gh_json_ku64(j, "retained_bytes", d->rbytes[node]);
    gh_json_ku64(j, "retained_objects", d->robjs[node]);
    gh_json_kdouble(j, "percent", g->live_bytes ? 100.0 * (double)d->rbytes[node] / (double)g->live_bytes : 0);
}

void gh_render_retained_json(gh_json *j, const gh_domtree *d, const gh_graph *g, uint32_t node)
{
    retained_json(j, d, g, node);
}

const char *gh_render_share(const gh_domtree *d, const gh_graph *g, uint32_t node, char *buf, size_t cap)
{
    char h[32];
    gh_human(d->rbytes[node], h, sizeof h);
    double pct = g->live_bytes ? 100.0 * (double)d->rbytes[node] / (double)g->live_bytes : 0;
    if (pct >= 0.1 || pct == 0)
        snprintf(buf, cap, "%s, %.1f%%", h, pct);
    else
        snprintf(buf, cap, "%s, <0.1%%", h);
    return buf;
}

/* A hop's type with import paths, where the hop is its slot's whole
 * object (not a tiny sub-object, a note or a block). */
static const char *hop_full(const gh_graph *g, const gh_path_hop *h)
{
    if (h->note || h->id == UINT32_MAX || h->id >= g->h->nslots)
        return h->type;
    gh_tid t = g->type[h->id];
    if (!t || t == GH_TID_TINY || strcmp(gh_types_name(g->types, t), h->type))
        return h->type;
    return gh_types_full_name(g->types, t);
}

void gh_render_path_json(gh_json *j, const gh_session *s, const gh_graph *g, const gh_gpath *p, const gh_domtree *d)
{
    const gh_root *r = gh_roots_get(g->roots, p->root);
    gh_json_obj(j);
    gh_json_key(j, "root");
    gh_render_root_json(j, r, s->t, 0);
    gh_json_key(j, "hops");
    gh_json_arr(j);
    for (size_t i = 0; i < p->n; i++) {
        const gh_path_hop *h = &p->hops[i];
        gh_json_obj(j);
        gh_json_kaddr(j, "addr", h->addr);
        gh_json_kstr(j, "type", h->type);
        if (!h->note)
            gh_json_ku64(j, "size", h->size);
        gh_json_kstr(j, "field", h->field);
        if (h->note)
            gh_json_kstr(j, "note", h->note);
        uint32_t w = d && h->id != UINT32_MAX && h->id < g->h->nslots ? gh_dom_node(d, h->id) : 0;
        if (w) {
            gh_json_ku64(j, "retained_bytes", d->rbytes[w]);
            gh_json_ku64(j, "retained_objects", d->robjs[w]);
        }
        gh_json_end(j, '}');
    }
    gh_json_end(j, ']');
    /* The same in Go terms: map internals as one hop per key. */
    size_t n = 0;
    gh_gohop *go = gh_render_gopath(NULL, g, p, &n);
    if (go) {
        gh_json_key(j, "go");
        gh_json_arr(j);
        for (size_t i = 0; i < n; i++) {
            gh_json_obj(j);
            gh_json_kaddr(j, "addr", go[i].hop->addr);
            gh_json_kstr(j, "type", go[i].hop->type);
            gh_json_kstr(j, "full_type", hop_full(g, go[i].hop));
            gh_json_kstr(j, "field", go[i].field);
            gh_json_end(j, '}');
        }
        gh_json_end(j, ']');
        gh_gohops_free(go, n);
    }
    gh_json_end(j, '}');
}

void gh_render_path_text(gh_out *out, const gh_graph *g, const gh_gpath *p, const gh_domtree *d, const char *indent,
                         int raw)
{
    gh_shortnames sn;
    if (gh_typenames_shared(g->types, &sn))
        memset(&sn, 0, sizeof sn); /* out of memory: short names */
    const gh_root *r = gh_roots_get(g->roots, p->root);
    char title[600];
    gh_render_root_title(r, title, sizeof title);
    gh_printf(out, "%s%s\n", indent, title);
    size_t n = 0;
    gh_gohop *go = raw & GH_PATH_RAW ? NULL : gh_render_gopath(NULL, g, p, &n);
    if (!go) /* raw, or out of memory: the runtime's hops */
        n = p->n;
    for (size_t i = 0; i < n; i++) {
        const gh_path_hop *h = go ? go[i].hop : &p->hops[i];
        const char *field = go ? go[i].field : h->field;
        uint32_t w = d && h->id != UINT32_MAX && h->id < g->h->nslots ? gh_dom_node(d, h->id) : 0;
        char share[64] = "";
        if (w) {
            char b[48];
            snprintf(share, sizeof share, "  (retains %s)", gh_render_share(d, g, w, b, sizeof b));
        }
        const char *type = h->type;
        if (!h->note && hop_full(g, h) != h->type)
            type = raw & GH_PATH_FULLNAMES ? hop_full(g, h) : gh_render_tname(NULL, &sn, g->types, g->type[h->id], h->type);
        if (h->note)
            gh_printf(out, "%s  -> %-24s 0x%" PRIx64 " %s %s\n", indent, field, h->addr, type, h->note);
        else
            gh_printf(out, "%s  -> %-24s 0x%" PRIx64 " %s%s\n", indent, field, h->addr, type, share);
    }
    gh_gohops_free(go, n);
    gh_shortnames_free(&sn);
}

const char *gh_render_scan_note(const gh_graph *g, char *buf, size_t cap)
{
    buf[0] = 0;
    if (g->scan_errors)
        snprintf(buf, cap, "%" PRIu64 " object%s could not be scanned, so what only %s reach%s counts as garbage "
                 "(first: %s)", g->scan_errors, g->scan_errors == 1 ? "" : "s", g->scan_errors == 1 ? "it" : "they",
                 g->scan_errors == 1 ? "es" : "", g->first_scan_error);
    return buf;
}
