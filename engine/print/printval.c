/* Typed values as trees for the print command: scalars by kind, strings,
 * pointers, structs, arrays, slices, interfaces with their dynamic type,
 * channels, funcs, from a runtime descriptor or, for types that have none,
 * from DWARF. Maps are in printval_map.c. */
#include "base/vec.h"
#include "print/printval.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/gotype_int.h"

/* --- nodes ------------------------------------------------------------------- */

pv_node *pv_kid(pv_ctx *c, pv_node *n)
{
    if (c->nodes >= PV_MAX_NODES)
        return NULL;
    if (gh_grow(&n->kid, &n->kcap, (size_t)n->nkid + 1, sizeof *n->kid))
        return NULL;
    c->nodes++;
    pv_node *k = &n->kid[n->nkid++];
    memset(k, 0, sizeof *k);
    return k;
}

void pv_clear(pv_node *n)
{
    for (uint32_t i = 0; i < n->nkid; i++)
        pv_clear(&n->kid[i]);
    free(n->kid);
    free(n->type);
    free(n->name);
    free(n->text);
    memset(n, 0, sizeof *n);
}

void pv_set_type(pv_node *n, const char *type)
{
    free(n->type);
    n->type = type ? strdup(type) : NULL;
}

static void set_text(pv_node *n, const char *s, size_t len)
{
    free(n->text);
    n->text = malloc(len + 1);
    n->textlen = n->text ? len : 0;
    if (n->text) {
        memcpy(n->text, s, len);
        n->text[len] = 0;
    }
}

void pv_error(pv_node *n, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (uint32_t i = 0; i < n->nkid; i++)
        pv_clear(&n->kid[i]);
    n->nkid = 0;
    n->kind = PV_ERROR;
    set_text(n, buf, strlen(buf));
}

/* --- type facts ---------------------------------------------------------------- */

typedef pv_tinfo tinfo;

static gh_dwarf_vars *dv_of(pv_ctx *c)
{
    return c->ty->env.dv;
}

/* A DWARF type with a descriptor is printed from the descriptor. */
static pv_tref norm(pv_ctx *c, pv_tref t)
{
    if (!t.rt && t.die) {
        uint64_t r = gh_types_dwarf_rtype(c->ty, t.die);
        if (r)
            return (pv_tref){r, 0};
    }
    return t;
}

static int ti_get(pv_ctx *c, pv_tref t, tinfo *ti)
{
    memset(ti, 0, sizeof *ti);
    if (t.rt) {
        rinfo *ri = gh_types_rinfo(c->ty, t.rt);
        if (!ri)
            return -1;
        ti->rt = t.rt;
        ti->kind = ri->r.kind;
        ti->size = ri->r.size;
        ti->elem.rt = ri->elem;
        ti->key.rt = ri->key;
        ti->len = ri->len;
        ti->nfields = ri->nfields;
        ti->iface_empty = ri->iface_empty;
        ti->direct = ri->r.direct_iface;
        return 0;
    }
    gh_dwarf_vars *dv = dv_of(c);
    gh_dtype d;
    if (!dv || !t.die || gh_dwarf_type(dv, t.die, &d, NULL))
        return -1;
    ti->kind = d.kind;
    ti->size = d.size;
    ti->elem.die = d.elem;
    ti->key.die = d.key;
    ti->len = d.len;
    ti->nfields = d.nfields > GH_DWARF_MAX_FIELDS ? GH_DWARF_MAX_FIELDS : (uint32_t)d.nfields;
    if (d.kind == GH_KIND_INTERFACE) {
        gh_dfield f; /* runtime.eface starts with _type, runtime.iface with tab */
        ti->iface_empty = !gh_dwarf_type_field(dv, t.die, 0, &f, NULL) && f.name && !strcmp(f.name, "_type");
    }
    return 0;
}

static int ti_field(pv_ctx *c, pv_tref t, uint32_t i, char *name, size_t cap, pv_tref *ft, uint64_t *off)
{
    name[0] = 0;
    *ft = (pv_tref){0, 0};
    if (t.rt) {
        rinfo *ri = gh_types_rinfo(c->ty, t.rt);
        uint64_t na, typ;
        if (!ri || gh_types_field_at(c->ty, ri, i, &na, &typ, off))
            return -1;
        gh_types_field_name(c->ty, na, name, cap);
        ft->rt = typ;
        return 0;
    }
    gh_dwarf_vars *dv = dv_of(c);
    gh_dfield f;
    if (!dv || gh_dwarf_type_field(dv, t.die, i, &f, NULL))
        return -1;
    snprintf(name, cap, "%s", f.name ? f.name : "");
    ft->die = f.type;
    *off = f.offset;
    return 0;
}

pv_tref pv_type_norm(pv_ctx *c, pv_tref t) { return norm(c, t); }

int pv_type_info(pv_ctx *c, pv_tref t, pv_tinfo *ti) { return ti_get(c, norm(c, t), ti); }

int pv_type_field(pv_ctx *c, pv_tref t, uint32_t i, char *name, size_t cap, pv_tref *ft, uint64_t *off)
{
    return ti_field(c, norm(c, t), i, name, cap, ft, off);
}

const char *pv_type_name(pv_ctx *c, pv_tref t, char *tmp, size_t cap)
{
    if (t.rt) {
        gh_typenames *tn = c->ty->env.names;
        const char *name;
        if (tn && gh_typename_ref(tn, t.rt, &name, NULL) == GH_OK)
            return name;
        snprintf(tmp, cap, "unknown<type 0x%" PRIx64 ">", t.rt);
        return tmp;
    }
    if (t.die)
        return gh_types_dwarf_name(c->ty, t.die, tmp, cap);
    return "?";
}

static void set_tname(pv_ctx *c, pv_node *n, pv_tref t)
{
    char tmp[128];
    pv_set_type(n, pv_type_name(c, t, tmp, sizeof tmp));
}

const char *pv_target_type(pv_ctx *c, uint64_t addr, char *tmp, size_t cap)
{
    gh_obj o;
    if (!c->g || !gh_heap_find(c->g->h, addr, &o) || gh_obj_data(&o) != addr)
        return NULL;
    gh_tid t = c->g->type[o.id];
    if (!t || t == GH_TID_TINY)
        return NULL;
    snprintf(tmp, cap, "%s", gh_types_name(c->ty, t));
    return tmp;
}

/* --- scalars --------------------------------------------------------------------- */

const gh_target *pv_target(const pv_ctx *c) { return c->t ? c->t : c->ty->t; }

static int rd(pv_ctx *c, uint64_t addr, void *buf, size_t n) { return gh_read(pv_target(c), addr, buf, n, NULL); }

static int rd64(pv_ctx *c, uint64_t addr, uint64_t *v) { return gh_read_u64(pv_target(c), addr, v, NULL); }

static void scalar(pv_ctx *c, pv_node *n, const tinfo *ti, uint64_t addr)
{
    uint8_t b[16] = {0};
    uint64_t sz = ti->size;
    if (sz > 16 || rd(c, addr, b, (size_t)sz)) {
        pv_error(n, "unreadable %" PRIu64 " bytes at 0x%" PRIx64, sz, addr);
        return;
    }
    uint64_t u = 0;
    for (uint64_t k = 0; k < sz && k < 8; k++)
        u |= (uint64_t)b[k] << (8 * k);
    switch (ti->kind) {
    case GH_KIND_BOOL:
        n->kind = PV_BOOL;
        n->u = b[0] != 0;
        return;
    case GH_KIND_INT: case GH_KIND_INT8: case GH_KIND_INT16: case GH_KIND_INT32: case GH_KIND_INT64:
        n->kind = PV_INT;
        if (sz && sz < 8 && (u >> (8 * sz - 1)) & 1)
            u |= ~UINT64_C(0) << (8 * sz); /* sign-extend */
        n->i = (int64_t)u;
        return;
    case GH_KIND_FLOAT32: case GH_KIND_FLOAT64: case GH_KIND_COMPLEX64: case GH_KIND_COMPLEX128: {
        char re[40], im[40], buf[96];
        int f32 = ti->kind == GH_KIND_FLOAT32 || ti->kind == GH_KIND_COMPLEX64;
        size_t half = f32 ? 4 : 8;
        double v[2];
        for (int k = 0; k < 2; k++) {
            if (f32) {
                float f;
                memcpy(&f, b + k * half, 4);
                v[k] = f;
            } else {
                memcpy(&v[k], b + k * half, 8);
            }
        }
        pv_format_float(v[0], f32, re, sizeof re);
        if (ti->kind == GH_KIND_FLOAT32 || ti->kind == GH_KIND_FLOAT64) {
            n->kind = PV_FLOAT;
            set_text(n, re, strlen(re));
            return;
        }
        pv_format_float(v[1], f32, im, sizeof im);
        snprintf(buf, sizeof buf, "(%s%s%si)", re, im[0] == '-' || im[0] == '+' ? "" : "+", im);
        n->kind = PV_COMPLEX;
        set_text(n, buf, strlen(buf));
        return;
    }
    default: /* the unsigned kinds */
        n->kind = PV_UINT;
        n->u = u;
        return;
    }
}

/* --- composites ----------------------------------------------------------------- */

static void string_at(pv_ctx *c, pv_node *n, uint64_t addr)
{
    uint64_t p, len;
    if (rd64(c, addr, &p) || rd64(c, addr + 8, &len)) {
        pv_error(n, "unreadable string header at 0x%" PRIx64, addr);
        return;
    }
    if (len > (UINT64_C(1) << 40) || (len && !p)) {
        pv_error(n, "not a string: data 0x%" PRIx64 ", length %" PRIu64, p, len);
        return;
    }
    char buf[PV_STRMAX];
    size_t show = len < PV_STRMAX ? (size_t)len : PV_STRMAX;
    if (show && rd(c, p, buf, show)) {
        pv_error(n, "unreadable string bytes at 0x%" PRIx64 " (length %" PRIu64 ")", p, len);
        return;
    }
    n->kind = PV_STRING;
    n->len = len;
    n->addr = p;
    set_text(n, buf, show);
}

/* Bytes ([]byte, [N]uint8) are read as one block: at least PV_MIN_BYTES,
 * shown as a string or a hex dump. */
static void byte_elems(pv_ctx *c, pv_node *n, uint64_t addr, uint64_t count)
{
    uint64_t want = c->o.elems > PV_MIN_BYTES ? c->o.elems : PV_MIN_BYTES;
    size_t show = (size_t)(count < want ? count : want);
    char *buf = malloc(show ? show : 1);
    if (!buf || (show && rd(c, addr, buf, show))) {
        free(buf);
        pv_error(n, "unreadable %zu bytes at 0x%" PRIx64, show, addr);
        return;
    }
    n->bytes = 1;
    set_text(n, buf, show);
    free(buf);
}

/* count elements of type et from addr, the first ones up to the option. */
static void elems(pv_ctx *c, pv_node *n, pv_tref et, uint64_t addr, uint64_t count, int depth)
{
    tinfo ei;
    if (ti_get(c, et, &ei)) {
        pv_error(n, "unreadable element type");
        return;
    }
    if (ei.kind == GH_KIND_UINT8 && ei.size == 1) {
        byte_elems(c, n, addr, count);
        return;
    }
    uint64_t show = count < c->o.elems ? count : c->o.elems;
    for (uint64_t i = 0; i < show; i++) {
        pv_node *k = pv_kid(c, n);
        if (!k)
            return;
        pv_value(c, k, et, addr + i * ei.size, depth + 1);
        if (gh_cancelled(c->cc))
            return;
    }
}

static void struct_at(pv_ctx *c, pv_node *n, pv_tref t, const tinfo *ti, uint64_t addr, int depth)
{
    for (uint32_t i = 0; i < ti->nfields; i++) {
        char name[256];
        pv_tref ft;
        uint64_t off;
        if (ti_field(c, t, i, name, sizeof name, &ft, &off)) {
            pv_node *k = pv_kid(c, n);
            if (k)
                pv_error(k, "unreadable field %u", i);
            return;
        }
        pv_node *k = pv_kid(c, n);
        if (!k)
            return;
        k->name = strdup(name[0] ? name : "?");
        if (off > ti->size)
            pv_error(k, "field offset %" PRIu64 " past the struct's %" PRIu64 " bytes", off, ti->size);
        else
            pv_value(c, k, ft, addr + off, depth + 1);
    }
}

static void iface_at(pv_ctx *c, pv_node *n, const tinfo *ti, uint64_t addr, int depth)
{
    uint64_t w0, data, dyn;
    if (rd64(c, addr, &w0) || rd64(c, addr + 8, &data)) {
        pv_error(n, "unreadable interface at 0x%" PRIx64, addr);
        return;
    }
    if (!w0) {
        n->kind = PV_NIL;
        return;
    }
    dyn = w0;
    if (!ti->iface_empty && rd64(c, w0 + 8, &dyn)) { /* itab.Type */
        pv_error(n, "unreadable itab at 0x%" PRIx64, w0);
        return;
    }
    char tmp[128];
    pv_tref dt = {dyn, 0};
    const char *dn = pv_type_name(c, dt, tmp, sizeof tmp);
    n->kind = PV_IFACE;
    set_text(n, dn, strlen(dn));
    pv_node *k = pv_kid(c, n);
    if (!k)
        return;
    tinfo di;
    if (ti_get(c, dt, &di)) {
        pv_error(k, "unreadable dynamic type 0x%" PRIx64, dyn);
        return;
    }
    /* Pointer-shaped types are the data word itself; others are behind it. */
    pv_value(c, k, dt, di.direct ? addr + 8 : data, depth + 1);
}

static void chan_at(pv_ctx *c, pv_node *n, pv_tref elem, uint64_t hchan)
{
    uint64_t qcount, dataqsiz;
    uint32_t closed;
    n->addr = hchan;
    if (rd64(c, hchan, &qcount) || rd64(c, hchan + 8, &dataqsiz) || gh_read_u32(pv_target(c), hchan + 28, &closed, NULL)) {
        pv_error(n, "unreadable runtime.hchan at 0x%" PRIx64, hchan);
        return;
    }
    char tmp[128];
    const char *en = pv_type_name(c, elem, tmp, sizeof tmp);
    n->kind = PV_CHAN;
    n->len = qcount;
    n->cap = dataqsiz;
    n->closed = closed != 0;
    set_text(n, en, strlen(en));
}

static void func_at(pv_ctx *c, pv_node *n, uint64_t fv)
{
    uint64_t pc;
    char tmp[512];
    n->addr = fv;
    if (rd64(c, fv, &pc)) {
        pv_error(n, "unreadable func value at 0x%" PRIx64, fv);
        return;
    }
    const char *name = gh_types_funcname(c->ty, pc, tmp, sizeof tmp);
    n->kind = PV_FUNC;
    set_text(n, name, strlen(name));
}

void pv_value(pv_ctx *c, pv_node *n, pv_tref t, uint64_t addr, int depth)
{
    t = norm(c, t);
    set_tname(c, n, t);
    tinfo ti;
    if (ti_get(c, t, &ti)) {
        pv_error(n, "unreadable type");
        return;
    }
    uint64_t w = 0;
    switch (ti.kind) {
    case GH_KIND_STRING:
        string_at(c, n, addr);
        return;
    case GH_KIND_POINTER: case GH_KIND_UNSAFEPOINTER: case GH_KIND_MAP: case GH_KIND_CHAN: case GH_KIND_FUNC:
        if (rd64(c, addr, &w)) {
            pv_error(n, "unreadable word at 0x%" PRIx64, addr);
            return;
        }
        if (!w) {
            n->kind = PV_NIL;
            return;
        }
        break;
    default:
        break;
    }
    char tmp[128];
    const char *tn;
    int deep = depth >= c->o.depth; /* composites past the depth limit are not expanded */
    switch (ti.kind) {
    case GH_KIND_POINTER:
        n->kind = PV_PTR;
        n->addr = w;
        tn = pv_type_name(c, ti.elem, tmp, sizeof tmp);
        set_text(n, tn, strlen(tn));
        return;
    case GH_KIND_UNSAFEPOINTER:
        n->kind = PV_PTR;
        n->addr = w;
        if ((tn = pv_target_type(c, w, tmp, sizeof tmp)))
            set_text(n, tn, strlen(tn));
        return;
    case GH_KIND_CHAN:
        chan_at(c, n, ti.elem, w);
        return;
    case GH_KIND_FUNC:
        func_at(c, n, w);
        return;
    case GH_KIND_MAP:
        if (!ti.rt) {
            n->kind = PV_PTR; /* no descriptor: the map cannot be walked */
            n->addr = w;
            return;
        }
        pv_map(c, n, ti.rt, w, depth);
        return;
    case GH_KIND_INTERFACE:
        if (deep) {
            uint64_t w0 = 0;
            if (rd64(c, addr, &w0) || w0) {
                n->kind = PV_IFACE;
                n->elided = 1;
            } else {
                n->kind = PV_NIL;
            }
            return;
        }
        iface_at(c, n, &ti, addr, depth);
        return;
    case GH_KIND_STRUCT:
        n->kind = PV_STRUCT;
        if (deep)
            n->elided = 1;
        else
            struct_at(c, n, t, &ti, addr, depth);
        return;
    case GH_KIND_ARRAY:
        n->kind = PV_ARRAY;
        n->len = ti.len;
        if (deep)
            n->elided = 1;
        else
            elems(c, n, ti.elem, addr, ti.len, depth);
        return;
    case GH_KIND_SLICE: {
        uint64_t p, len, cap;
        if (rd64(c, addr, &p) || rd64(c, addr + 8, &len) || rd64(c, addr + 16, &cap)) {
            pv_error(n, "unreadable slice header at 0x%" PRIx64, addr);
            return;
        }
        if (len > cap || cap > (UINT64_C(1) << 40) || (cap && !p)) {
            pv_error(n, "not a slice: data 0x%" PRIx64 ", len %" PRIu64 ", cap %" PRIu64, p, len, cap);
            return;
        }
        n->kind = PV_SLICE;
        n->addr = p;
        n->len = len;
        n->cap = cap;
        if (deep)
            n->elided = 1;
        else
            elems(c, n, ti.elem, p, len, depth);
        return;
    }
    case GH_KIND_BOOL: case GH_KIND_INT: case GH_KIND_INT8: case GH_KIND_INT16: case GH_KIND_INT32:
    case GH_KIND_INT64: case GH_KIND_UINT: case GH_KIND_UINT8: case GH_KIND_UINT16: case GH_KIND_UINT32:
    case GH_KIND_UINT64: case GH_KIND_UINTPTR: case GH_KIND_FLOAT32: case GH_KIND_FLOAT64:
    case GH_KIND_COMPLEX64: case GH_KIND_COMPLEX128:
        scalar(c, n, &ti, addr);
        return;
    default:
        pv_error(n, "type of kind %d", ti.kind);
        return;
    }
}

/* --- objects --------------------------------------------------------------------- */

void pv_words(pv_ctx *c, pv_node *n, uint64_t addr, uint64_t size, int (*ptrword)(void *ctx, uint64_t off),
              void *ctx)
{
    n->kind = PV_WORDS;
    n->len = size / 8;
    for (uint64_t off = 0; off + 8 <= size && off / 8 < PV_MAX_WORDS; off += 8) {
        pv_node *k = pv_kid(c, n);
        if (!k)
            return;
        k->off = off;
        uint64_t v;
        if (rd64(c, addr + off, &v)) {
            pv_error(k, "unreadable at 0x%" PRIx64, addr + off);
            continue;
        }
        char tmp[128];
        const char *tn;
        if (ptrword && ptrword(ctx, off)) {
            k->kind = v ? PV_PTR : PV_NIL;
            k->addr = v;
            if (v && (tn = pv_target_type(c, v, tmp, sizeof tmp)))
                set_text(k, tn, strlen(tn));
        } else {
            k->kind = PV_UINT;
            k->u = v;
        }
    }
}

/* Words of a runtime shape, named as paths names them. */
static int syn_ptr(void *ctx, uint64_t off)
{
    const uint64_t *mask = ctx;
    return off / 8 < 64 && (*mask >> (off / 8) & 1);
}

static void closure(pv_ctx *c, pv_node *n, uint64_t pc, uint64_t addr, uint64_t size)
{
    char tmp[512], name[600];
    snprintf(name, sizeof name, "closure %s", gh_types_funcname(c->ty, pc, tmp, sizeof tmp));
    pv_set_type(n, name);
    n->kind = PV_STRUCT;
    pv_node *k = pv_kid(c, n);
    if (!k)
        return;
    k->name = strdup("F");
    pv_set_type(k, "func");
    func_at(c, k, addr);
    gh_dwarf_vars *dv = dv_of(c);
    const gh_dclosure_var *vars;
    size_t nv = 0;
    if (!dv || gh_dwarf_closure_vars(dv, pc, &vars, &nv, NULL))
        nv = 0;
    for (size_t i = 0; i < nv; i++) {
        if (vars[i].offset + vars[i].size > size)
            continue;
        if (!(k = pv_kid(c, n)))
            return;
        k->name = strdup(vars[i].name ? vars[i].name : "?");
        pv_value(c, k, (pv_tref){0, vars[i].type}, addr + vars[i].offset, 1);
    }
}

void pv_object(pv_ctx *c, pv_node *n, const gh_otype *ot0, uint64_t addr, uint64_t size)
{
    gh_otype ot = *ot0; /* the type table may move while printing */
    char tmp[128];
    switch (ot.syn) {
    case GH_SYN_NONE:
        break;
    case GH_SYN_HMAP:
    case GH_SYN_SWISSMAP:
        pv_set_type(n, pv_type_name(c, (pv_tref){ot.aux, 0}, tmp, sizeof tmp));
        pv_map(c, n, ot.aux, addr, 0);
        return;
    case GH_SYN_TABLE:
        pv_set_type(n, pv_type_name(c, (pv_tref){ot.aux, 0}, tmp, sizeof tmp));
        pv_map_table(c, n, ot.aux, addr, 0);
        return;
    case GH_SYN_HCHAN: {
        rinfo *ri = gh_types_rinfo(c->ty, ot.aux);
        pv_set_type(n, pv_type_name(c, (pv_tref){ot.aux, 0}, tmp, sizeof tmp));
        chan_at(c, n, (pv_tref){ri ? ri->elem : 0, 0}, addr);
        return;
    }
    case GH_SYN_STRING: {
        char buf[PV_STRMAX];
        uint64_t len = ot.count && ot.count <= size ? ot.count : size;
        size_t show = len < PV_STRMAX ? (size_t)len : PV_STRMAX;
        pv_set_type(n, "string");
        if (rd(c, addr, buf, show)) {
            pv_error(n, "unreadable at 0x%" PRIx64, addr);
            return;
        }
        n->kind = PV_STRING;
        n->len = len;
        n->addr = addr;
        set_text(n, buf, show);
        return;
    }
    case GH_SYN_CLOSURE:
        closure(c, n, ot.aux, addr, size);
        return;
    default: {
        /* The map's overflow lists and directories: words, pointers marked,
         * named as paths names them. */
        uint64_t mask = 0;
        gh_tid id = gh_types_intern(c->ty, &ot);
        if (gh_types_mask64(c->ty, &ot, &mask, NULL))
            mask = 0;
        pv_words(c, n, addr, size, syn_ptr, &mask);
        if (!id)
            return;
        pv_set_type(n, gh_types_name(c->ty, id));
        for (uint32_t i = 0; i < n->nkid; i++) {
            char f[256];
            gh_types_field(c->ty, id, n->kid[i].off, f, sizeof f);
            if (f[0])
                n->kid[i].name = strdup(f);
        }
        return;
    }
    }
    pv_tref t = norm(c, (pv_tref){ot.rtype, ot.rtype ? 0 : ot.die});
    if (ot.count <= 1) {
        pv_value(c, n, t, addr, 0);
        return;
    }
    /* count values: an array of them. */
    tinfo ti;
    if (ti_get(c, t, &ti) || !ti.size) {
        pv_error(n, "unreadable type");
        return;
    }
    uint64_t count = ot.count <= size / ti.size ? ot.count : size / ti.size;
    char name[160];
    snprintf(name, sizeof name, "[%s%" PRIu64 "]%s", ot.bound ? "\xe2\x89\xa4" : "", ot.count,
             pv_type_name(c, t, tmp, sizeof tmp));
    pv_set_type(n, name);
    n->kind = PV_ARRAY;
    n->len = count;
    elems(c, n, t, addr, count, 0);
}
