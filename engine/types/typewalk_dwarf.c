/* DWARF-typed values: roots whose type has no runtime descriptor (a global
 * [4]*T, a struct only ever held by value), and closure contexts, whose
 * captured variables only DWARF describes (Go 1.23+ records where each one
 * is). A DWARF type with a descriptor is walked through the descriptor. */
#include "base/vec.h"
#include "types/gotype_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf/dwarfvars.h"

#define CLOSURE_KEY (UINT64_C(1) << 63)
#define MAX_ARRAY_UNROLL 4096

typedef struct dentry {
    uint64_t key; /* DIE offset, or entry pc | CLOSURE_KEY */
    int state;    /* RI_* */
    leaf *leaves;
    uint32_t n;
} dentry;

typedef struct dcache {
    dentry *v;     /* in the order asked */
    size_t n, cap;
    gh_hmap index; /* key -> index into v */
} dcache;

static gh_dwarf_vars *dv_of(gh_types *ty)
{
    return ty->env.dv;
}

static int dtype(gh_types *ty, uint64_t die, gh_dtype *out)
{
    gh_dwarf_vars *dv = dv_of(ty);
    return dv && die ? gh_dwarf_type(dv, die, out, NULL) : -1;
}

uint64_t gh_types_dwarf_size(gh_types *ty, uint64_t die)
{
    gh_dtype d;
    return dtype(ty, die, &d) ? 0 : d.size;
}

uint64_t gh_types_dwarf_rtype(gh_types *ty, uint64_t die)
{
    gh_dtype d;
    return dtype(ty, die, &d) ? 0 : d.rtype;
}

const char *gh_types_dwarf_name(gh_types *ty, uint64_t die, char *tmp, size_t cap)
{
    gh_dtype d;
    if (!dtype(ty, die, &d) && d.name)
        return d.name;
    snprintf(tmp, cap, "unknown<dwarf type 0x%" PRIx64 ">", die);
    return tmp;
}

/* --- leaves ----------------------------------------------------------------- */

typedef struct lvec {
    leaf *v;
    uint32_t n;
    size_t cap;
} lvec;

static int push(lvec *lv, const leaf *l)
{
    if (lv->n >= GH_TYPES_MAX_LEAVES)
        return -1;
    if (gh_grow(&lv->v, &lv->cap, (size_t)lv->n + 1, sizeof *lv->v))
        return -1;
    lv->v[lv->n++] = *l;
    return 0;
}

static const leaf *rtype_leaves(gh_types *ty, uint64_t rtype, uint32_t *n);

static int flatten(gh_types *ty, lvec *lv, uint64_t die, uint64_t base, int depth)
{
    gh_dtype d;
    if (depth > GH_TYPES_MAX_DEPTH || dtype(ty, die, &d))
        return -1;
    if (d.rtype) {
        /* The descriptor is exact: use its leaves. */
        uint32_t n;
        const leaf *rl = rtype_leaves(ty, d.rtype, &n);
        if (!rl)
            return n ? -1 : 0;
        for (uint32_t i = 0; i < n; i++) {
            leaf l = rl[i];
            l.off += base;
            if (push(lv, &l))
                return -1;
        }
        return 0;
    }
    if (d.name && strstr(d.name, "go.shape."))
        return 0; /* a generic shape: the real type is in a dictionary goheap does not read */
    leaf l = {.off = base, .t = die, .dwarf = 1};
    gh_dtype e;
    switch (d.kind) {
    case GH_KIND_POINTER:
    case GH_KIND_SLICE:
        l.kind = d.kind == GH_KIND_POINTER ? L_PTR : L_SLICE;
        if (d.elem && !dtype(ty, d.elem, &e)) {
            l.elem = e.rtype;
            l.edie = e.rtype ? 0 : d.elem;
        }
        return push(lv, &l);
    case GH_KIND_STRING: l.kind = L_STRING; return push(lv, &l);
    case GH_KIND_MAP: l.kind = L_MAP; return push(lv, &l);
    case GH_KIND_CHAN: l.kind = L_CHAN; return push(lv, &l);
    case GH_KIND_FUNC: l.kind = L_FUNC; return push(lv, &l);
    case GH_KIND_INTERFACE: {
        /* runtime.eface starts with _type, runtime.iface with tab. */
        gh_dwarf_vars *dv = dv_of(ty);
        gh_dfield f;
        l.kind = L_IFACE;
        if (dv && !gh_dwarf_type_field(dv, die, 0, &f, NULL) && f.name && !strcmp(f.name, "_type"))
            l.kind = L_EFACE;
        return push(lv, &l);
    }
    case GH_KIND_ARRAY: {
        if (!d.elem || dtype(ty, d.elem, &e) || !e.size)
            return 0;
        uint64_t n = d.len < MAX_ARRAY_UNROLL ? d.len : MAX_ARRAY_UNROLL;
        for (uint64_t i = 0; i < n; i++)
            if (flatten(ty, lv, d.elem, base + i * e.size, depth + 1))
                return -1;
        return 0;
    }
    case GH_KIND_STRUCT: {
        gh_dwarf_vars *dv = dv_of(ty);
        /* atomic.Pointer[T]: a [0]*T field says what the unsafe.Pointer after
         * it points to (as in typewalk.c for descriptors). */
        uint64_t zero_elem = 0, zero_edie = 0;
        for (size_t i = 0; dv && i < d.nfields; i++) {
            gh_dfield f;
            gh_dtype ft, pe, te;
            if (gh_dwarf_type_field(dv, die, i, &f, NULL))
                return -1;
            if (!dtype(ty, f.type, &ft) && ft.kind == GH_KIND_ARRAY && ft.len == 0 && ft.elem &&
                !dtype(ty, ft.elem, &pe) && pe.kind == GH_KIND_POINTER && pe.elem && !dtype(ty, pe.elem, &te)) {
                zero_elem = te.rtype;
                zero_edie = te.rtype ? 0 : pe.elem;
                continue;
            }
            if ((zero_elem || zero_edie) && !dtype(ty, f.type, &ft) && ft.kind == GH_KIND_UNSAFEPOINTER) {
                leaf p = {.off = base + f.offset, .t = f.type, .dwarf = 1, .kind = L_PTR, .elem = zero_elem,
                          .edie = zero_edie};
                if (push(lv, &p))
                    return -1;
                continue;
            }
            if (flatten(ty, lv, f.type, base + f.offset, depth + 1))
                return -1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* The entry of key, added (empty) when new; NULL when out of memory. The
 * pointer is valid until the next lookup. */
static dentry *lookup(gh_types *ty, uint64_t key)
{
    dcache *c = ty->dwarf;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        ty->dwarf = c;
    }
    const uint64_t *at = gh_hmap_get(&c->index, key);
    if (at)
        return &c->v[*at];
    if (gh_grow(&c->v, &c->cap, c->n + 1, sizeof *c->v) || gh_hmap_put(&c->index, key, c->n))
        return NULL;
    c->v[c->n] = (dentry){.key = key};
    return &c->v[c->n++];
}

const leaf *gh_types_dwarf_leaves(gh_types *ty, uint64_t die, uint32_t *n)
{
    *n = 0;
    if (!die)
        return NULL;
    dentry *e = lookup(ty, die);
    if (!e)
        return NULL;
    if (e->state == RI_EMPTY) {
        lvec lv = {0};
        int rc = flatten(ty, &lv, die, 0, 0);
        e = lookup(ty, die);
        e->leaves = lv.v;
        e->n = lv.n;
        e->state = rc && !lv.n ? RI_FAIL : RI_OK;
    }
    *n = e->n;
    return e->state == RI_OK ? e->leaves : NULL;
}

/* Leaves of a descriptor, through the walk's own flattening: a one-word
 * value at offset 0 is how typewalk.c exposes them. */
static const leaf *rtype_leaves(gh_types *ty, uint64_t rtype, uint32_t *n)
{
    rinfo *ri = gh_types_rinfo(ty, rtype);
    *n = 0;
    if (!ri)
        return NULL;
    if (ri->r.ptrbytes == 0)
        return NULL;
    return gh_types_rtype_leaves(ty, rtype, n);
}

void gh_types_dwarf_free(gh_types *ty)
{
    dcache *c = ty->dwarf;
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].leaves);
    free(c->v);
    gh_hmap_free(&c->index);
    free(c);
    ty->dwarf = NULL;
}

/* --- names of words --------------------------------------------------------- */

static void append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

static void dpath(gh_types *ty, uint64_t die, uint64_t off, char *buf, size_t cap, int depth)
{
    gh_dtype d, e;
    if (depth > GH_TYPES_MAX_DEPTH || dtype(ty, die, &d))
        return;
    if (d.rtype) {
        char sub[512];
        gh_types_value_field(ty, d.rtype, 0, off, sub, sizeof sub);
        append(buf, cap, "%s", sub);
        return;
    }
    if (d.kind == GH_KIND_ARRAY && d.elem && !dtype(ty, d.elem, &e) && e.size) {
        append(buf, cap, "[%" PRIu64 "]", off / e.size);
        dpath(ty, d.elem, off % e.size, buf, cap, depth + 1);
    } else if (d.kind == GH_KIND_STRUCT) {
        gh_dwarf_vars *dv = dv_of(ty);
        for (size_t i = 0; dv && i < d.nfields; i++) {
            gh_dfield f;
            if (gh_dwarf_type_field(dv, die, i, &f, NULL))
                return;
            uint64_t fs = gh_types_dwarf_size(ty, f.type);
            if (fs && f.offset <= off && off < f.offset + fs) { /* zero-size fields ([0]*T, noCopy) hold nothing */
                append(buf, cap, ".%s", f.name ? f.name : "?");
                dpath(ty, f.type, off - f.offset, buf, cap, depth + 1);
                return;
            }
        }
    }
}

void gh_types_dwarf_path(gh_types *ty, uint64_t die, uint64_t off, char *buf, size_t cap)
{
    dpath(ty, die, off, buf, cap, 0);
}

/* --- closures --------------------------------------------------------------- */

/* A method value's closure ("pkg.(*T).M-fm", "pkg.T.M-fm") holds its
 * receiver at offset 8; DWARF describes no captures for these wrappers, but
 * the name says the receiver's type. The package path becomes the package
 * name, as reflect prints types. */
static int method_value(gh_types *ty, uint64_t pc, lvec *lv)
{
    char fn[512], recv[1100];
    gh_types_funcname(ty, pc, fn, sizeof fn);
    size_t len = strlen(fn);
    if (len < 4 || strcmp(fn + len - 3, "-fm"))
        return -1;
    fn[len - 3] = 0;
    char *dot = strrchr(fn, '.'); /* before the method name */
    if (!dot || strchr(fn, '['))
        return -1; /* generic receivers are shapes here */
    *dot = 0;
    /* fn is now "path/pkg.(*T)" or "path/pkg.T". */
    char *slash = strrchr(fn, '/');
    char *pkg = slash ? slash + 1 : fn;
    char *sep = strchr(pkg, '.');
    if (!sep)
        return -1;
    *sep = 0;
    const char *t = sep + 1;
    if (!strncmp(t, "(*", 2) && t[strlen(t) - 1] == ')')
        snprintf(recv, sizeof recv, "*%s.%.*s", pkg, (int)(strlen(t) - 3), t + 2);
    else
        snprintf(recv, sizeof recv, "%s.%s", pkg, t);
    uint64_t rt = gh_types_by_name(ty, recv);
    rinfo *ri = rt ? gh_types_rinfo(ty, rt) : NULL;
    if (!ri)
        return -1;
    uint32_t n;
    const leaf *rl = rtype_leaves(ty, rt, &n);
    for (uint32_t i = 0; rl && i < n; i++) {
        leaf l = rl[i];
        l.off += 8;
        if (push(lv, &l))
            return -1;
    }
    if (ri->r.kind == GH_KIND_POINTER) {
        /* rtype_leaves gives nothing for a bare pointer type: say it. */
        leaf l = {.off = 8, .t = rt, .kind = L_PTR, .elem = ri->elem};
        if (!rl && push(lv, &l))
            return -1;
    }
    return 0;
}

static const leaf *closure_leaves(gh_types *ty, uint64_t pc, uint32_t *n)
{
    *n = 0;
    dentry *e = lookup(ty, pc | CLOSURE_KEY);
    if (!e)
        return NULL;
    if (e->state == RI_EMPTY) {
        lvec lv = {0};
        gh_dwarf_vars *dv = dv_of(ty);
        const gh_dclosure_var *vars;
        size_t nv = 0;
        int rc = -1;
        char fname[256];
        gh_types_funcname(ty, pc, fname, sizeof fname);
        int cleanup_wrapper = !strncmp(fname, "runtime.AddCleanup[", 19);
        if (dv && gh_dwarf_closure_vars(dv, pc, &vars, &nv, NULL) == GH_OK && nv) {
            rc = 0;
            uint64_t fn_off = UINT64_MAX, arg_off = UINT64_MAX, byref = 0, argref = 0;
            for (size_t i = 0; i < nv && !rc; i++) {
                if (cleanup_wrapper && vars[i].name &&
                    (!strcmp(vars[i].name, "cleanup") || !strcmp(vars[i].name, "&cleanup"))) {
                    fn_off = vars[i].offset;
                    byref = vars[i].name[0] == '&'; /* 1.25 captures it by reference */
                }
                if (cleanup_wrapper && vars[i].name &&
                    (!strcmp(vars[i].name, "arg") || !strcmp(vars[i].name, "&arg"))) {
                    arg_off = vars[i].offset; /* shape-typed: typed at walk time */
                    argref = vars[i].name[0] == '&';
                    continue;
                }
                rc = flatten(ty, &lv, vars[i].type, vars[i].offset, 0);
            }
            /* AddCleanup's wrapper (1.24-1.25) captures cleanup and its arg:
             * the arg's type is the cleanup function's parameter type. */
            if (!rc && fn_off != UINT64_MAX && arg_off != UINT64_MAX) {
                leaf l = {.off = arg_off, .kind = L_CLEANUPARG, .alt = fn_off, .elem = byref, .edie = argref};
                rc = push(&lv, &l);
            }
        } else {
            rc = method_value(ty, pc, &lv);
        }
        e = lookup(ty, pc | CLOSURE_KEY);
        e->leaves = lv.v;
        e->n = lv.n;
        e->state = rc && !lv.n ? RI_FAIL : RI_OK;
    }
    *n = e->n;
    return e->state == RI_OK ? e->leaves : NULL;
}

const leaf *gh_types_closure_leaves(gh_types *ty, uint64_t pc, uint32_t *n) { return closure_leaves(ty, pc, n); }

int gh_types_walk_closure(gh_types *ty, uint64_t pc, uint64_t addr, uint64_t size, gh_hint_fn fn, void *ctx)
{
    uint32_t n;
    const leaf *lv = closure_leaves(ty, pc, &n);
    return lv && n ? gh_types_walk_leaves(ty, lv, n, addr, size, fn, ctx) : 0;
}

void gh_types_closure_field(gh_types *ty, uint64_t pc, uint64_t off, char *buf, size_t cap)
{
    gh_dwarf_vars *dv = dv_of(ty);
    const gh_dclosure_var *vars;
    size_t nv = 0;
    buf[0] = 0;
    if (!dv || gh_dwarf_closure_vars(dv, pc, &vars, &nv, NULL))
        return;
    for (size_t i = 0; i < nv; i++)
        if (vars[i].offset <= off && off < vars[i].offset + (vars[i].size ? vars[i].size : 8)) {
            append(buf, cap, ".%s", vars[i].name ? vars[i].name : "?");
            dpath(ty, vars[i].type, off - vars[i].offset, buf, cap, 0);
            return;
        }
}

/* Masks of DWARF-only values, for checking them against heap bits. */
int gh_types_dwarf_mask64(gh_types *ty, uint64_t die, uint64_t count, uint64_t *mask)
{
    uint32_t n;
    uint64_t es = gh_types_dwarf_size(ty, die);
    const leaf *lv = gh_types_dwarf_leaves(ty, die, &n);
    *mask = 0;
    if (!es || es % 8 || count * es > 512 || (!lv && n))
        return -1;
    for (uint64_t i = 0; i < count; i++)
        for (uint32_t k = 0; k < n; k++) {
            uint64_t w = (i * es + lv[k].off) / 8;
            *mask |= UINT64_C(1) << w;
            if (lv[k].kind == L_EFACE || lv[k].kind == L_IFACE)
                *mask |= UINT64_C(1) << (w + 1);
        }
    return 0;
}

/* The argument type of a cleanup: the first parameter of the function the
 * funcval at fv runs (AddCleanup's cleanup func(S)). 0 when unknown. */
int gh_types_cleanup_arg(gh_types *ty, uint64_t fv, uint64_t *rtype, uint64_t *die)
{
    uint64_t pc, t;
    gh_dwarf_vars *dv = dv_of(ty);
    *rtype = *die = 0;
    if (!dv || !fv || gh_read_u64(ty->t, fv, &pc, NULL) || gh_dwarf_func_param_type(dv, pc, 0, &t, NULL))
        return -1;
    gh_dtype d;
    if (dtype(ty, t, &d) || (d.name && strstr(d.name, "go.shape.")))
        return -1; /* a shape says nothing of the real type */
    *rtype = d.rtype;
    *die = d.rtype ? 0 : t;
    return 0;
}
