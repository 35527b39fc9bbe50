/* Renderers shared by commands: the JSON envelope and roots. */
#include "cmd/render.h"

#include <inttypes.h>
#include <stdio.h>

void gh_render_begin(gh_json *j, gh_out *out, const gh_session *s)
{
    gh_json_init(j, out);
    gh_json_obj(j);
    gh_json_kstr(j, "go_version", s->rt.ver.text);
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
