/* Words inside static objects that have no name of its own: the compiler
 * lays `var P = &T{...}` out in .data without a symbol or a DWARF variable
 * for the T. Such a word belongs to the named global whose pointer leads into
 * the object (and, through objects holding pointers to objects, to the same
 * global): root name = that global, via = the object's address. */
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "roots/globals_int.h"
#include "rtype/typemask.h"

#define MAX_PROBE 4096                  /* words between an object's start and a word in it */
#define MAX_NEAR 64                     /* candidates tried per word */
#define MAX_CHAIN 8                     /* objects reached through objects */
#define PROBE_BUDGET (UINT64_C(1) << 26) /* owner lookups per module */

/* What the pointer word at byte off of a value of DWARF type `type` (word
 * at word_addr) points to: the pointee's DWARF type, descriptor and size. */
typedef struct pointee {
    uint64_t dtype, rtype, size;
    int elem_array;
} pointee;

static int struct_member(gl_ctx *c, uint64_t type, const gh_dtype *t, uint64_t *off, uint64_t *ftype)
{
    gh_err e;
    for (size_t i = 0; i < t->nfields; i++) {
        gh_dfield f;
        gh_dtype ft;
        if (gh_dwarf_type_field(c->dv, type, i, &f, &e) != GH_OK || gh_dwarf_type(c->dv, f.type, &ft, &e) != GH_OK)
            return -1;
        if (*off >= f.offset && *off - f.offset < ft.size) {
            *off -= f.offset;
            *ftype = f.type;
            return 0;
        }
    }
    return -1;
}

static int pointee_at(gl_ctx *c, uint64_t type, int elem_array, uint64_t off, uint64_t word_addr, pointee *p)
{
    gh_err e;
    memset(p, 0, sizeof *p);
    for (int depth = 0; depth < GH_DWARF_MAX_DEPTH; depth++) {
        gh_dtype t, el;
        if (gh_dwarf_type(c->dv, type, &t, &e) != GH_OK)
            return -1;
        if (elem_array) { /* an array of type, of unknown length */
            if (!t.size)
                return -1;
            off %= t.size;
            elem_array = 0;
            continue;
        }
        switch (t.kind) {
        case GH_KIND_POINTER:
            if (off != 0 || !t.elem || gh_dwarf_type(c->dv, t.elem, &el, &e) != GH_OK)
                return -1;
            *p = (pointee){t.elem, el.rtype, el.size, 0};
            return 0;
        case GH_KIND_STRUCT:
            if (struct_member(c, type, &t, &off, &type) != 0)
                return -1;
            continue;
        case GH_KIND_ARRAY:
            if (!t.elem || gh_dwarf_type(c->dv, t.elem, &el, &e) != GH_OK || !el.size)
                return -1;
            off %= el.size;
            type = t.elem;
            continue;
        case GH_KIND_SLICE: { /* the backing array: cap elements */
            uint64_t cap;
            if (off != 0 || !t.elem || gh_dwarf_type(c->dv, t.elem, &el, &e) != GH_OK ||
                gl_read_word(c, word_addr + 16, &cap) != 0 || !el.size || cap > GL_MAX_REGION / el.size)
                return -1;
            *p = (pointee){t.elem, 0, cap * el.size, 1};
            return 0;
        }
        case GH_KIND_INTERFACE: { /* the data word: the type word before it says what it points to */
            gh_dfield f0;
            uint64_t tw, rt;
            gh_rtype d;
            if (off != 8 || gh_dwarf_type_field(c->dv, type, 0, &f0, &e) != GH_OK ||
                gl_read_word(c, word_addr - 8, &tw) != 0 || !tw)
                return -1;
            rt = tw; /* eface: *_type; iface: *itab, whose Type is at 8 */
            if (f0.name && !strcmp(f0.name, "tab") && gl_read_word(c, tw + 8, &rt) != 0)
                return -1;
            if (gh_rtype_read(c->env->rt->t, c->env->rt->ver.minor, rt, &d, &e) != GH_OK || d.direct_iface)
                return -1; /* a direct interface holds the value, not a pointer to it */
            *p = (pointee){0, rt, d.size, 0};
            return 0;
        }
        default:
            return -1;
        }
    }
    return -1;
}

int gl_add_cand(gl_ctx *c, uint64_t word, uint64_t v, const gl_owner *o, gh_err *err)
{
    if (c->nk >= GL_MAX_CANDS) {
        c->cands_full = 1;
        return GH_OK;
    }
    if (gh_grow(&c->k, &c->capk, c->nk + 1, sizeof *c->k))
        return gh_errorf(err, GH_ENOMEM, "out of memory for global roots");
    gl_cand k = {.v = v, .word = word, .from = *o};
    pointee pt;
    k.typed = o->dtype && c->dv && pointee_at(c, o->dtype, o->elem_array, word - o->base, word, &pt) == 0;
    if (!k.typed)
        memset(&pt, 0, sizeof pt);
    k.obj = (gl_owner){OWN_VIA, v, k.typed ? pt.size : 0, o->name, pt.dtype, pt.rtype, pt.elem_array};
    c->k[c->nk++] = k;
    return GH_OK;
}

typedef struct vi {
    uint64_t v;
    uint32_t i;
} vi;

static int cmp_vi(const void *a, const void *b)
{
    const vi *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

typedef struct span_cache {
    uint64_t v, upto; /* [v, upto] known to hold no named owner */
    uint64_t budget;
} span_cache;

/* Whether [v, w] holds no named variable or symbol: one static object. */
static int unnamed_span(gl_ctx *c, span_cache *sc, uint64_t v, uint64_t w)
{
    if ((w - v) / 8 > MAX_PROBE)
        return 0;
    uint64_t a = v;
    if (sc->v == v && sc->upto >= v) {
        if (w <= sc->upto)
            return 1;
        a = sc->upto + 8;
    }
    for (; a <= w; a += 8) {
        gl_owner o;
        if (!sc->budget)
            return 0;
        sc->budget--;
        if (gl_owner_of(c, a, &o) != OWN_NONE)
            return 0;
    }
    sc->v = v;
    sc->upto = w;
    return 1;
}

int gl_attribute_static(gl_ctx *c, gh_err *err)
{
    if (!c->nu || !c->nk)
        return GH_OK;
    vi *s = NULL;
    size_t caps = 0;
    span_cache sc = {0, 0, PROBE_BUDGET};
    int rc = GH_OK;
    for (int pass = 0; pass < MAX_CHAIN && rc == GH_OK; pass++) {
        size_t nk = c->nk;
        if (gh_grow(&s, &caps, nk, sizeof *s)) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory for global roots");
            break;
        }
        for (size_t i = 0; i < nk; i++)
            s[i] = (vi){c->k[i].v, (uint32_t)i};
        qsort(s, nk, sizeof *s, cmp_vi);
        int changed = 0;
        for (size_t i = 0; i < c->nu && rc == GH_OK; i++) {
            gl_uword *u = &c->u[i];
            if (u->cand)
                continue;
            size_t lo = 0, hi = nk; /* candidates with v <= addr, nearest first */
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (s[mid].v <= u->addr)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t j = lo; j-- > 0 && lo - j <= MAX_NEAR;) {
                const gl_cand *k = &c->k[s[j].i];
                if (k->typed && k->obj.size && u->addr - k->v >= k->obj.size)
                    continue;
                if (!unnamed_span(c, &sc, k->v, u->addr))
                    break;
                u->cand = s[j].i + 1;
                changed = 1;
                /* Its value may lead to a further static object. */
                uint64_t v;
                gl_owner obj = k->obj;
                if (gl_read_word(c, u->addr, &v) == 0 && v % 8 == 0 && gl_in_static(c, v))
                    rc = gl_add_cand(c, u->addr, v, &obj, err);
                break;
            }
        }
        if (!changed)
            break;
    }
    if (!sc.budget)
        gh_roots_note(c->rs, "static objects: lookup budget spent, some words stay unnamed");
    free(s);
    return rc;
}
