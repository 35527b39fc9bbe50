/* print ADDR: one heap object (any address inside it) or global, with its
 * typed fields nested to a depth limit. The object's type is the one the
 * object graph gave it (allocator records and propagation from typed
 * roots); a global's is its DWARF type. Objects without a type are shown as
 * raw words, the pointer words (heap bits) marked. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "heap/heapscan.h"
#include "print/printval.h"

typedef struct target {
    uint64_t addr;        /* where the value printed starts */
    uint64_t size;        /* heap: the slot size; global: its size */
    uint64_t object;      /* heap: the object's first byte */
    const char *kind;     /* "heap", "global" or "value" */
    const char *global;   /* the global's name */
    const char *expr;     /* a value an expression named, printed where it is stored */
    const char *type;
    gh_tid tid;           /* heap: the graph's type of the object printed, 0 none */
    char tbuf[160];
    int untyped;
    int tiny;             /* a typed sub-object of a tiny block */
    uint64_t gap;         /* the address asked for, in a tiny block but in none of its known objects */
    int bound;            /* an array whose length is only what fits the slot */
} target;

/* Pointer words of an untyped object, as a mask of its first 64 words. */
typedef struct ptrmask {
    uint64_t base, bits;
} ptrmask;

static int collect(void *ctx, uint64_t word_addr, uint64_t value)
{
    ptrmask *m = ctx;
    (void)value;
    uint64_t w = (word_addr - m->base) / 8;
    if (word_addr >= m->base && w < 64)
        m->bits |= UINT64_C(1) << w;
    return 0;
}

static int is_ptr(void *ctx, uint64_t off)
{
    const ptrmask *m = ctx;
    return off / 8 < 64 && (m->bits >> (off / 8) & 1);
}

/* An object whose pointer words cannot be told (its type descriptor is
 * unreadable or not one) is refused: its words would be shown as if they
 * held no pointers. One not yet typed (a malloc header still 0) is shown. */
static int untyped(pv_ctx *c, pv_node *root, target *t, const gh_obj *o, uint64_t data, gh_err *err)
{
    ptrmask m = {data, 0};
    gh_err e = {0};
    if (gh_heap_scan_object(c->g->h, gh_types_inputs(c->ty)->masks, o, collect, &m, NULL, &e))
        return gh_errorf(err, GH_EFORMAT, "print: %s", e.msg);
    snprintf(t->tbuf, sizeof t->tbuf, "unknown<%" PRIu64 ">", o->size);
    t->type = t->tbuf;
    t->untyped = 1;
    pv_words(c, root, data, o->addr + o->size - data, is_ptr, &m);
    return GH_OK;
}

static int heap_object(pv_ctx *c, pv_node *root, target *t, const gh_obj *o, uint64_t addr, gh_err *err)
{
    gh_graph *g = c->g;
    uint64_t data = gh_obj_data(o);
    gh_tid tid = g->type[o->id];
    t->kind = "heap";
    t->size = o->size;
    t->object = o->addr;
    t->addr = data;
    if (tid == GH_TID_TINY) {
        /* A tiny block: the typed sub-object holding addr. */
        size_t n, k = gh_graph_tiny_of(g, o->id, &n);
        for (size_t i = k; i < k + n; i++) {
            const gh_otype *ot = gh_types_get(g->types, gh_tiny_type(g->tiny[i]));
            uint64_t sz = ot ? gh_types_size(g->types, ot) * ot->count : 0;
            uint64_t at = o->addr + gh_tiny_off(g->tiny[i]);
            if (ot && addr >= at && addr < at + (sz ? sz : 1)) {
                t->addr = at;
                t->tiny = 1;
                t->type = gh_types_name(g->types, gh_tiny_type(g->tiny[i]));
                t->tid = gh_tiny_type(g->tiny[i]);
                pv_object(c, root, ot, at, sz);
                return GH_OK;
            }
        }
        int rc = untyped(c, root, t, o, data, err);
        t->type = "tiny block";
        t->gap = addr;
        return rc;
    }
    const gh_otype *ot = gh_types_get(g->types, tid);
    if (!ot)
        return untyped(c, root, t, o, data, err);
    t->type = gh_types_name(g->types, tid);
    t->tid = tid;
    t->bound = gh_types_length_bound(g->types, tid);
    pv_object(c, root, ot, data, o->addr + o->size - data);
    return GH_OK;
}

/* Pointer words of a global without a known type: from the module's GC masks
 * (the global roots). */
typedef struct groots {
    const gh_roots *rs;
    uint64_t base;
} groots;

static int global_ptr(void *ctx, uint64_t off)
{
    const groots *gr = ctx;
    uint64_t a = gr->base + off;
    size_t n = gr->rs ? gh_roots_count(gr->rs) : 0;
    for (size_t i = 0; i < n; i++) {
        const gh_root *r = gh_roots_get(gr->rs, i);
        if (r->kind != GH_ROOT_GLOBAL || r->values || a < r->addr || a >= r->addr + r->size)
            continue;
        uint64_t w = (a - r->addr) / 8;
        if (!r->mask || (r->mask[w >> 3] >> (w & 7) & 1))
            return 1;
    }
    return 0;
}

static int global(gh_session *s, pv_ctx *c, pv_node *root, target *t, uint64_t addr)
{
    gh_dwarf_vars *dv = NULL;
    const gh_dglobal *gl = NULL;
    if (gh_session_dwarfvars(s, &dv, NULL) == GH_OK && dv)
        gl = gh_dwarf_global_at(dv, addr);
    t->kind = "global";
    if (gl && gl->type) {
        t->addr = t->object = gl->addr;
        t->size = gl->size;
        t->global = gl->name;
        pv_value(c, root, (pv_tref){0, gl->type}, gl->addr, 0);
        t->type = root->type ? root->type : "?";
        return 1;
    }
    const gh_sym *sym = gh_exe_sym_at(s->exe, addr - s->rt.bias);
    if (!sym || sym->is_func)
        return 0;
    t->addr = t->object = sym->addr + s->rt.bias;
    t->size = sym->size;
    t->global = sym->name;
    snprintf(t->tbuf, sizeof t->tbuf, "unknown<%" PRIu64 ">", sym->size);
    t->type = t->tbuf;
    t->untyped = 1;
    groots gr = {c->g->roots, t->addr};
    pv_words(c, root, t->addr, sym->size, global_ptr, &gr);
    return 1;
}

/* A value the expression names that is not a pointer to follow: printed
 * where it is stored, with its static type. */
static int value_of(gh_session *s, pv_ctx *c, pv_node *root, target *t, const gh_xval *v, const char *text)
{
    pv_tinfo ti;
    if (pv_type_info(c, v->type, &ti))
        return 0;
    t->kind = "value";
    t->addr = v->addr;
    t->size = ti.size;
    t->expr = text;
    gh_obj o;
    if (gh_heap_find(c->g->h, v->addr, &o))
        t->object = o.addr;
    pv_value(c, root, v->type, v->addr, 0);
    t->type = root->type ? root->type : "?";
    (void)s;
    return 1;
}

/* Whether the value is a whole heap object, of the type the graph gave it. */
static int whole_object(pv_ctx *c, const gh_xval *v)
{
    gh_obj o;
    char tmp[160];
    if (!gh_heap_find(c->g->h, v->addr, &o) || gh_obj_data(&o) != v->addr)
        return 0;
    gh_tid tid = c->g->type[o.id];
    if (!tid || tid == GH_TID_TINY)
        return 0;
    const gh_otype *ot = gh_types_get(c->g->types, tid);
    if (!ot || ot->count != 1)
        return 0;
    /* The object's name first: building it may reuse the buffer the
     * value's name is returned in. */
    const char *object_type = gh_types_name(c->g->types, tid);
    return !strcmp(object_type, pv_type_name(c, v->type, tmp, sizeof tmp));
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr = 0, depth = 3, elems = 8;
    int json = a->val[0] != NULL, rc;
    if ((a->val[1] && (rc = gh_parse_u64(a->val[1], "--depth", &depth, err))) ||
        (a->val[2] && (rc = gh_parse_u64(a->val[2], "--elems", &elems, err))))
        return rc;
    if (depth < 1 || depth > PV_MAX_DEPTH)
        return gh_errorf(err, GH_EARG, "print: --depth takes 1 to %d", PV_MAX_DEPTH);
    if (elems > PV_MAX_ELEMS)
        return gh_errorf(err, GH_EARG, "print: --elems takes 0 to %u", PV_MAX_ELEMS);
    gh_graph *g;
    if ((rc = gh_session_graph(s, &g, err)))
        return rc;
    pv_ctx c = {.cc = &s->cancel, .g = g, .ty = g->types, .o = {(int)depth, elems}};
    /* ADDR: a number, or an expression whose value is printed: a pointer's
     * object (as for its address), a global, or any other value where it is
     * stored */
    gh_xval v;
    gh_overlay ov; /* a local held in registers is read from here */
    if ((rc = gh_cmd_eval(s, a->pos[0], "print", g->types, &ov, &v, err)))
        return rc;
    c.t = &ov.t;
    pv_node root;
    memset(&root, 0, sizeof root);
    target t;
    memset(&t, 0, sizeof t);
    int as_value = 0;
    pv_tinfo ti;
    gh_dwarf_vars *dv = NULL;
    const gh_dglobal *gl = NULL;
    if (v.kind == GX_V_MEM && gh_session_dwarfvars(s, &dv, NULL) == GH_OK && dv)
        gl = gh_dwarf_global_at(dv, v.addr);
    if (v.kind != GX_V_MEM) {
        addr = v.v;
    } else if (!v.type.rt && !v.type.die) { /* an untyped global */
        addr = v.addr;
    } else if (gl && gl->addr == v.addr && gl->type &&
               pv_type_norm(&c, (pv_tref){0, gl->type}).rt == v.type.rt &&
               pv_type_norm(&c, (pv_tref){0, gl->type}).die == v.type.die) {
        addr = v.addr; /* a whole global (main.config): printed as a global, as by its address */
    } else if (pv_type_info(&c, v.type, &ti)) {
        return gh_errorf(err, GH_EFORMAT, "print: %.200s: its type cannot be read", a->pos[0]);
    } else if (ti.kind == GH_KIND_POINTER && !gh_read_u64(&ov.t, v.addr, &addr, NULL) && addr) {
        /* a pointer: the object it points to, as print ADDR with its value */
    } else if (whole_object(&c, &v)) {
        addr = v.addr; /* a whole heap object of its own type (*main.config): printed as the object */
    } else {
        as_value = value_of(s, &c, &root, &t, &v, a->pos[0]);
        if (!as_value)
            addr = v.addr;
    }
    gh_obj o;
    if (as_value)
        ;
    else if (gh_heap_find(g->h, addr, &o)) {
        if ((rc = heap_object(&c, &root, &t, &o, addr, err))) {
            pv_clear(&root);
            return rc;
        }
    } else if (!global(s, &c, &root, &t, addr))
        return gh_render_missing(s, addr, "print", err)
                   ? GH_EMEM
                   : gh_errorf(err, GH_EARG,
                               "print: 0x%" PRIx64 " is not inside an allocated heap object or a global (see whatis)",
                               addr);
    if (gh_session_interrupted(s)) {
        pv_clear(&root);
        return gh_errorf(err, GH_EINTR, "print: interrupted");
    }
    /* A heap object's type in full where its short name is shared, or
     * with --full-names (docs/typenames.md); the value's own types stay
     * as the value printer names them. */
    const char *full = t.tid && t.type ? gh_types_full_name(c.g->types, t.tid) : NULL;
    if (full && !json) {
        gh_shortnames sn;
        if (gh_typenames_shared(c.g->types, &sn) == 0) {
            t.type = gh_render_tname(s, &sn, c.g->types, t.tid, t.type);
            gh_shortnames_free(&sn);
        }
    }
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        int in_regs = t.expr && gh_overlay_addr(t.addr);
        if (in_regs) {
            gh_json_key(&j, "addr");
            gh_json_null(&j);
        } else {
            gh_json_kaddr(&j, "addr", t.addr);
        }
        gh_json_kstr(&j, "type", t.type ? t.type : "?");
        if (full)
            gh_json_kstr(&j, "full_type", full);
        gh_json_ku64(&j, "size", t.size);
        gh_json_kstr(&j, "kind", t.kind);
        gh_json_kaddr(&j, "object", t.object);
        if (t.global)
            gh_json_kstr(&j, "global", t.global);
        if (t.expr)
            gh_json_kstr(&j, "expr", t.expr);
        if (in_regs)
            gh_json_kbool(&j, "in_registers", 1);
        if (t.tiny)
            gh_json_kbool(&j, "tiny", 1);
        if (t.gap)
            gh_json_kaddr(&j, "no_object_at", t.gap);
        if (t.bound)
            gh_json_kbool(&j, "length_bound", 1);
        gh_json_kbool(&j, "untyped", t.untyped);
        if (root.kind == PV_STRING)
            gh_json_ku64(&j, "len", root.len);
        gh_json_key(&j, "value");
        pv_render_json(&root, &j);
        if (t.object && !t.global && !t.expr)
            gh_render_alloc_stack(s, t.object, t.tiny ? 16 : t.size, &j, NULL);
        gh_json_end(&j, '}');
    } else {
        if (t.expr && t.object)
            gh_printf(out, "0x%" PRIx64 " %s %s (%" PRIu64 " bytes, +%" PRIu64 " in the heap object at 0x%" PRIx64 ")\n",
                      t.addr, t.expr, t.type, t.size, t.addr - t.object, t.object);
        else if (t.expr && gh_overlay_addr(t.addr))
            gh_printf(out, "registers %s %s (%" PRIu64 " bytes, held in registers at this pc)\n", t.expr, t.type,
                      t.size);
        else if (t.expr)
            gh_printf(out, "0x%" PRIx64 " %s %s (%" PRIu64 " bytes)\n", t.addr, t.expr, t.type, t.size);
        else if (t.global)
            gh_printf(out, "0x%" PRIx64 " global %s %s (%" PRIu64 " bytes)\n", t.addr, t.global, t.type, t.size);
        else if (t.tiny)
            gh_printf(out, "0x%" PRIx64 " %s (in the 16-byte tiny block at 0x%" PRIx64 ")\n", t.addr, t.type,
                      t.object);
        else if (t.gap)
            gh_printf(out, "0x%" PRIx64 " tiny block (16 bytes, shared by pointer-free objects under 16 bytes): "
                           "no object known in it holds 0x%" PRIx64 " (+%" PRIu64 "); its words:\n",
                      t.object, t.gap, t.gap - t.object);
        else
            gh_printf(out, "0x%" PRIx64 " %s (slot size %" PRIu64 ")\n", t.addr, t.type, t.size);
        pv_render_text(&root, out, 0);
        if (t.object && !t.global && !t.expr)
            gh_render_alloc_stack(s, t.object, t.tiny ? 16 : t.size, NULL, out);
    }
    pv_clear(&root);
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--depth", 1, "levels of nested values expanded (default 3)"},
    {"--elems", 1, "elements of arrays, slices and maps shown (default 8)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_print = {
    .name = "print",
    .summary = "one heap object (any address in it), global or value an expression names, with its typed fields",
    .usage = "print ADDR|EXPR [--depth N] [--elems N] [--json]",
    .opts = opts,
    .example = "print 'main.sessions[\"user-0042\"]' --depth 2",
    .addr_arg = 1,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
