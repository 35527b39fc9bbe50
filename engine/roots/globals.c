/* Global roots: every word of [data, edata) and [bss, ebss) whose bit is set
 * in the module's gcdatamask / gcbssmask, grouped into one root per
 * package-level variable (DWARF), else per ELF data symbol, else per static
 * object a named global leads to (globals_static.c), else per run of
 * unnamed words. Every module on the moduledata list is scanned; DWARF and
 * symbols name only the main executable's words. */
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "roots/globals_int.h"
#include "rtype/gcprog.h"
#include "runtime/moduledata.h"

#define MAX_MODULES 64
#define MAX_BULK (UINT64_C(64) << 20) /* read at once; larger regions word by word */

int gl_read_word(gl_ctx *c, uint64_t addr, uint64_t *v)
{
    for (int i = 0; i < 2; i++) {
        gl_region *r = &c->reg[i];
        if (r->bytes && addr >= r->lo && addr < r->hi && r->hi - addr >= 8) {
            memcpy(v, r->bytes + (addr - r->lo), 8);
            return 0;
        }
    }
    gh_err e;
    return gh_read_u64(c->env->rt->t, addr, v, &e) == GH_OK ? 0 : -1;
}

int gl_in_static(const gl_ctx *c, uint64_t a)
{
    return (a >= c->reg[0].lo && a < c->reg[0].hi) || (a >= c->reg[1].lo && a < c->reg[1].hi);
}

int gl_owner_of(gl_ctx *c, uint64_t addr, gl_owner *o)
{
    memset(o, 0, sizeof *o);
    if (!c->named)
        return OWN_NONE;
    const gh_dglobal *g = gh_dwarf_global_at(c->dv, addr);
    if (g && g->addr % 8 == 0 && g->size <= GL_MAX_REGION) {
        gh_dtype t;
        gh_err e;
        *o = (gl_owner){OWN_VAR, g->addr, g->size, g->name, g->type, 0, 0};
        if (gh_dwarf_type(c->dv, g->type, &t, &e) == GH_OK)
            o->rtype = t.rtype;
        return OWN_VAR;
    }
    uint64_t bias = c->env->rt->bias;
    const gh_sym *sym = gh_exe_sym_at(c->env->rt->exe, addr - bias);
    if (sym && !sym->is_func && sym->size && sym->size <= GL_MAX_REGION && (sym->addr + bias) % 8 == 0) {
        *o = (gl_owner){OWN_SYM, sym->addr + bias, sym->size, sym->name, 0, 0, 0};
        return OWN_SYM;
    }
    return OWN_NONE;
}

/* ---- roots ---- */

/* A root being built: one owner's words as a mask over its extent. */
typedef struct group {
    gl_owner o;
    uint64_t addr, size;
    uint8_t *mask;
} group;

static int flush(gl_ctx *c, group *g, gh_err *err)
{
    if (!g->mask)
        return GH_OK;
    gh_root r = {.kind = GH_ROOT_GLOBAL, .goid = -1, .addr = g->addr, .size = g->size, .mask = g->mask,
                 .name = g->o.name, .rtype = g->o.rtype, .dwarf_type = g->o.elem_array ? 0 : g->o.dtype};
    if (g->o.own == OWN_VIA) {
        r.via = g->o.base;
        r.via_rtype = g->o.rtype;
    }
    int rc = gh_roots_add(c->rs, &r, err);
    free(g->mask);
    g->mask = NULL;
    return rc;
}

static int same_owner(const gl_owner *a, const gl_owner *b)
{
    return a->own == b->own && a->base == b->base && a->name == b->name;
}

/* Adds word w of owner o to g (a new root when the owner changes). The
 * extent is o's, rounded to words; an owner of unknown size (a static object
 * of unknown type) grows up to its last word. */
static int add_word(gl_ctx *c, group *g, const gl_owner *o, uint64_t w, gh_err *err)
{
    int rc;
    /* An owner no real binary has (a symbol size from a corrupt table) or a
     * word outside it: the word is a root of its own, never an allocation
     * sized by the file. */
    if (o->size > GL_MAX_REGION || w < o->base || w - o->base >= (o->size ? o->size + 7 : GL_MAX_REGION)) {
        gh_root r = {.kind = GH_ROOT_GLOBAL, .goid = -1, .addr = w, .size = 8};
        return gh_roots_add(c->rs, &r, err);
    }
    if (g->mask && !same_owner(&g->o, o) && (rc = flush(c, g, err)))
        return rc;
    uint64_t size = (o->size + 7) & ~UINT64_C(7);
    if (!g->mask) {
        g->o = *o;
        g->addr = o->base;
        g->size = size ? size : w + 8 - o->base;
        g->mask = calloc(1, (g->size / 8 + 7) / 8);
        if (!g->mask)
            return gh_errorf(err, GH_ENOMEM, "out of memory for global roots");
    } else if (!size && w + 8 - g->addr > g->size) {
        uint64_t nsize = w + 8 - g->addr, old = (g->size / 8 + 7) / 8, need = (nsize / 8 + 7) / 8;
        uint8_t *m = realloc(g->mask, need);
        if (!m)
            return gh_errorf(err, GH_ENOMEM, "out of memory for global roots");
        memset(m + old, 0, need - old);
        g->mask = m;
        g->size = nsize;
    }
    uint64_t i = (w - g->addr) / 8;
    g->mask[i >> 3] |= (uint8_t)(1u << (i & 7));
    return GH_OK;
}

/* Unnamed words: one root per run of adjacent words (every word a pointer). */
static int emit_runs(gl_ctx *c, const gl_uword *u, size_t n, gh_err *err)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && u[j].addr == u[j - 1].addr + 8 && j - i < GL_MAX_REGION / 8)
            j++;
        gh_root r = {.kind = GH_ROOT_GLOBAL, .goid = -1, .addr = u[i].addr, .size = 8 * (j - i)};
        int rc = gh_roots_add(c->rs, &r, err);
        if (rc)
            return rc;
        i = j;
    }
    return GH_OK;
}

static int cmp_uword(const void *a, const void *b)
{
    const gl_uword *x = a, *y = b;
    if (x->cand != y->cand)
        return x->cand < y->cand ? -1 : 1;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The unnamed words after attribution: per static object, then runs. */
static int emit_unnamed(gl_ctx *c, gh_err *err)
{
    if (!c->nu)
        return GH_OK;
    qsort(c->u, c->nu, sizeof *c->u, cmp_uword); /* unattributed (0) first, each in address order */
    size_t i = 0;
    while (i < c->nu && !c->u[i].cand)
        i++;
    int rc = emit_runs(c, c->u, i, err);
    group g = {0};
    for (; i < c->nu && rc == GH_OK; i++)
        rc = add_word(c, &g, &c->k[c->u[i].cand - 1].obj, c->u[i].addr, err);
    if (rc == GH_OK)
        rc = flush(c, &g, err);
    free(g.mask);
    c->nu = 0;
    return rc;
}

static int push_unnamed(gl_ctx *c, uint64_t w, gh_err *err)
{
    if (c->nu == GL_MAX_UNNAMED) { /* too many to hold: these stay unnamed runs */
        gh_roots_note(c->rs, "over %u unnamed global words: not matched to static objects", GL_MAX_UNNAMED);
        int rc = emit_runs(c, c->u, c->nu, err);
        c->nu = 0;
        if (rc)
            return rc;
    }
    if (gh_grow(&c->u, &c->capu, c->nu + 1, sizeof *c->u))
        return gh_errorf(err, GH_ENOMEM, "out of memory for global roots");
    c->u[c->nu++] = (gl_uword){w, 0};
    return GH_OK;
}

/* The set bits of one bitvector over [lo, hi): named words into roots as
 * they come (address order), unnamed ones held for attribution. */
/* The bitmap from the module's GC program (md.gcdata or md.gcbss in the
 * executable), when the runtime's copy of it is unreadable (it is
 * persistentalloc'd high in the address space, where a truncated core is
 * cut first). n bits into bits; GH_OK or why not in e. */
static int bits_from_prog(gl_ctx *c, uint64_t prog, uint64_t n, uint8_t *bits, gh_err *e)
{
    if (!prog)
        return gh_errorf(e, GH_EFORMAT, "no GC program");
    /* Its length is unknown: the largest readable piece up to 1 MiB. */
    size_t len = 1u << 20;
    uint8_t *p = malloc(len);
    if (!p)
        return gh_errorf(e, GH_ENOMEM, "out of memory");
    while (len >= 64 && gh_read(c->env->rt->t, prog, p, len, NULL))
        len /= 2;
    uint64_t got = 0;
    int rc = len >= 64 ? gh_gcprog_run(p, len, bits, n, &got, e) : gh_errorf(e, GH_EMEM, "GC program unreadable");
    free(p);
    if (!rc && got != n)
        rc = gh_errorf(e, GH_EFORMAT, "GC program gives %llu bits for %llu words", (unsigned long long)got,
                       (unsigned long long)n);
    return rc;
}

static int collect(gl_ctx *c, const char *what, uint64_t lo, uint64_t hi, gh_slice mask, uint64_t prog, gh_err *err)
{
    if (hi <= lo)
        return GH_OK;
    uint64_t words = (hi - lo) / 8, n = mask.len < words ? mask.len : words;
    if (mask.len != words)
        gh_roots_note(c->rs, "%s: the GC bitmap has %llu bits for %llu words", what, (unsigned long long)mask.len,
                      (unsigned long long)words);
    if (!n)
        return GH_OK;
    uint8_t *bits = malloc((n + 7) / 8);
    if (!bits)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the %s bitmap", what);
    gh_err e, pe;
    const gh_target *t = c->env->rt->t;
    /* A truncated core that lost the runtime's copy: not read (not a loss). */
    int lost = gh_core_lost(t, mask.ptr, (n + 7) / 8);
    if (lost)
        gh_errorf(&e, GH_EMEM, "the truncated core lost it");
    if ((lost || gh_read(t, mask.ptr, bits, (n + 7) / 8, &e) != GH_OK) &&
        bits_from_prog(c, prog, n, bits, &pe) != GH_OK) {
        gh_roots_note(c->rs, "%s: the GC bitmap at 0x%llx is unreadable (%s), and so is its GC program (%s)", what,
                      (unsigned long long)mask.ptr, e.msg, pe.msg);
        free(bits);
        return GH_OK;
    }
    group g = {0};
    int rc = GH_OK;
    for (uint64_t i = 0; i < n && rc == GH_OK; i++) {
        if ((i & 0xffff) == 0 && gh_cancelled(c->env->cc)) { /* up to 2^27 words */
            rc = gh_errorf(err, GH_EINTR, "interrupted while scanning %s", what);
            break;
        }
        if (!(bits[i >> 3] >> (i & 7) & 1))
            continue;
        uint64_t w = lo + 8 * i, v;
        gl_owner o;
        if (gl_owner_of(c, w, &o) == OWN_NONE) {
            rc = push_unnamed(c, w, err);
            continue;
        }
        if ((rc = add_word(c, &g, &o, w, err)))
            break;
        if (gl_read_word(c, w, &v) == 0 && v % 8 == 0 && gl_in_static(c, v))
            rc = gl_add_cand(c, w, v, &o, err);
    }
    if (rc == GH_OK)
        rc = flush(c, &g, err);
    free(g.mask);
    free(bits);
    return rc;
}

static void read_region(gl_ctx *c, gl_region *r, uint64_t lo, uint64_t hi)
{
    r->lo = lo;
    r->hi = hi;
    r->bytes = NULL;
    if (hi <= lo || hi - lo > MAX_BULK)
        return;
    r->bytes = malloc(hi - lo);
    gh_err e;
    if (r->bytes && gh_read(c->env->rt->t, lo, r->bytes, hi - lo, &e) != GH_OK) {
        free(r->bytes); /* part of it unreadable: word by word */
        r->bytes = NULL;
    }
}

static int module_roots(gl_ctx *c, const gh_moduledata *md, gh_err *err)
{
    if (md->edata < md->data || md->edata - md->data > GL_MAX_REGION || md->ebss < md->bss ||
        md->ebss - md->bss > GL_MAX_REGION) {
        gh_roots_note(c->rs, "module at 0x%llx: implausible data [0x%llx, 0x%llx) or bss [0x%llx, 0x%llx)",
                      (unsigned long long)md->addr, (unsigned long long)md->data, (unsigned long long)md->edata,
                      (unsigned long long)md->bss, (unsigned long long)md->ebss);
        return GH_OK;
    }
    c->nu = c->nk = 0;
    c->cands_full = 0;
    read_region(c, &c->reg[0], md->data, md->edata);
    read_region(c, &c->reg[1], md->bss, md->ebss);
    int rc;
    if ((rc = collect(c, "data", md->data, md->edata, md->gcdatamask, md->gcdata, err)) ||
        (rc = collect(c, "bss", md->bss, md->ebss, md->gcbssmask, md->gcbss, err)) || (rc = gl_attribute_static(c, err)) ||
        (rc = emit_unnamed(c, err)))
        goto out;
    if (c->cands_full)
        gh_roots_note(c->rs, "over %u global words point into static data: the rest lead to no static object",
                      GL_MAX_CANDS);
out:
    free(c->reg[0].bytes);
    free(c->reg[1].bytes);
    c->reg[0].bytes = c->reg[1].bytes = NULL;
    return rc;
}

int gh_roots_globals(const gh_roots_env *env, gh_roots *rs, gh_err *err)
{
    const gh_runtime *rt = env->rt;
    gl_ctx c = {.env = env, .rs = rs, .dv = env->dv};
    if (!c.dv && env->dv_error)
        gh_roots_note(rs, "globals are not named from DWARF: %s", env->dv_error);
    if (!rt->firstmoduledata)
        return gh_errorf(err, GH_ENOTGO, "no runtime.firstmoduledata: global roots cannot be found");
    uint64_t addr = rt->firstmoduledata;
    int rc = GH_OK;
    for (int i = 0; addr && rc == GH_OK; i++) {
        if (i == MAX_MODULES) {
            gh_roots_note(rs, "more than %d modules on the moduledata list: the rest are not scanned", MAX_MODULES);
            break;
        }
        gh_moduledata md;
        if ((rc = gh_moduledata_read_at(rt, addr, &md, err))) {
            if (i == 0)
                break; /* the main module's globals are the ones that matter */
            gh_roots_note(rs, "module at 0x%llx: %s", (unsigned long long)addr, err->msg);
            rc = GH_OK;
            break;
        }
        c.named = i == 0; /* DWARF and symbols describe the main executable only */
        rc = module_roots(&c, &md, err);
        addr = md.next == addr ? 0 : md.next;
    }
    free(c.u);
    free(c.k);
    return rc;
}
