/* The expression language's evaluation (expr.h) over the target: globals
 * from DWARF (else the symbol table, untyped), fields through pointers as Go
 * selects them (embedded structs' fields promoted), indexing of arrays,
 * slices, strings and maps (string, integer and pointer keys, both map
 * implementations through pv_map_each), dereference, address-of, and
 * (*T)(x). Every read goes through gh_read*; errors name the text. */
#include "print/expr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/gotype_int.h"

#define MAX_KEY_STRING (UINT64_C(1) << 20) /* bytes of a string key compared */
#define MAX_PROMOTE 4                      /* embedded structs searched for a field */

typedef struct ev {
    gh_expr_env *env;
    const gh_expr *e;
    gh_err *err;
} ev;

static const gh_target *tg(ev *E) { return pv_target(E->env->c); }

/* The text of node k, for messages. */
#define TXT(E, k) (int)((E)->e->n[k].to - (E)->e->n[k].from), (E)->e->src + (E)->e->n[k].from

static const char *tname(ev *E, pv_tref t, char *tmp, size_t cap)
{
    return pv_type_name(E->env->c, t, tmp, cap);
}

static int info(ev *E, int k, const gh_xval *v, pv_tinfo *ti)
{
    if (v->kind != GX_V_MEM || (!v->type.rt && !v->type.die))
        return gh_errorf(E->err, GH_EARG, "%.*s: its type is unknown (no DWARF); write (*T)(address)", TXT(E, k));
    if (pv_type_info(E->env->c, v->type, ti))
        return gh_errorf(E->err, GH_EFORMAT, "%.*s: its type cannot be read", TXT(E, k));
    return GH_OK;
}

static int word(ev *E, int k, uint64_t addr, uint64_t *w)
{
    if (gh_read_u64(tg(E), addr, w, NULL))
        return gh_errorf(E->err, GH_EMEM, "%.*s: cannot read 8 bytes at 0x%" PRIx64, TXT(E, k), addr);
    return GH_OK;
}

static int is_ptrkind(int kind)
{
    return kind == GH_KIND_POINTER || kind == GH_KIND_UNSAFEPOINTER || kind == GH_KIND_MAP || kind == GH_KIND_CHAN ||
           kind == GH_KIND_FUNC;
}

static int is_intkind(int kind) { return kind >= GH_KIND_INT && kind <= GH_KIND_UINTPTR; }

static int is_signed(int kind) { return kind >= GH_KIND_INT && kind <= GH_KIND_INT64; }

/* An integer of kind and size at addr, sign- or zero-extended; -1 unreadable. */
static int int_at(const gh_target *t, uint64_t addr, uint64_t size, int kind, uint64_t *out)
{
    uint8_t b[8] = {0};
    if (size == 0 || size > 8 || (size & (size - 1)) || gh_read(t, addr, b, size, NULL))
        return -1;
    uint64_t v = 0;
    for (uint64_t i = 0; i < size; i++)
        v |= (uint64_t)b[i] << (8 * i);
    if (is_signed(kind) && size < 8 && (v >> (8 * size - 1) & 1))
        v |= ~UINT64_C(0) << (8 * size);
    *out = v;
    return 0;
}

static int read_int(ev *E, int k, uint64_t addr, uint64_t size, int kind, uint64_t *out)
{
    if (int_at(tg(E), addr, size, kind, out))
        return gh_errorf(E->err, GH_EMEM, "%.*s: cannot read an integer of %" PRIu64 " bytes at 0x%" PRIx64, TXT(E, k),
                         size, addr);
    return GH_OK;
}

static int eval(ev *E, int k, gh_xval *v);

/* A pointer-valued operand followed to what it points to: PTR, or a MEM
 * pointer (not unsafe.Pointer: nothing says what is there). */
static int follow(ev *E, int k, gh_xval *v, const char *doing)
{
    if (v->kind == GX_V_PTR) {
        if (!v->v)
            return gh_errorf(E->err, GH_ENOENT, "%.*s: nil pointer%s", TXT(E, k), doing);
        *v = (gh_xval){GX_V_MEM, 0, v->v, 0, v->type};
        return GH_OK;
    }
    pv_tinfo ti;
    int rc = info(E, k, v, &ti);
    if (rc || ti.kind != GH_KIND_POINTER)
        return rc;
    uint64_t w;
    if ((rc = word(E, k, v->addr, &w)))
        return rc;
    if (!w)
        return gh_errorf(E->err, GH_ENOENT, "%.*s: nil pointer%s", TXT(E, k), doing);
    *v = (gh_xval){GX_V_MEM, 0, w, 0, ti.elem};
    return GH_OK;
}

/* --- locals ------------------------------------------------------------------------- */

/* A DWARF register's name on the frame's machine, for messages. */
static const char *reg_name(const gh_expr_frame *f, int dreg, char *buf, size_t cap)
{
    int i = f->arch && dreg >= 0 && (size_t)dreg < f->arch->ndwarf ? f->arch->dwarf_regs[dreg] : -1;
    if (i >= 0 && (unsigned)i < f->arch->nregs)
        return f->arch->reg_names[i];
    snprintf(buf, cap, "DWARF register %d", dreg);
    return buf;
}

/* A variable whose parts are not one stack slot holding all of it: its
 * bytes assembled from its stack slots and the frame's registers, in the
 * overlay. 1 and *v, or -1 with the error set (messages start with txt,
 * the text asked) and *why its short reason. */
static int assemble(ev *E, int tl, const char *txt, const gh_fvar *p, size_t np, gh_xval *v, const char **why)
{
    const gh_expr_frame *f = E->env->frame;
    const char *name = p[0].name;
    uint64_t size = p[0].var_size;
    uint8_t buf[GH_OVERLAY_MAX];
    char regs[160] = "", rn[32];
    size_t ro = 0;
    int lost = 0, unknown = 0, vector = 0;
    uint64_t covered = 0;
    for (size_t i = 0; i < np; i++) {
        if (p[i].reg >= 0 && ro < sizeof regs)
            ro += (size_t)snprintf(regs + ro, sizeof regs - ro, "%s%s", ro ? ", " : "",
                                   reg_name(f, p[i].reg, rn, sizeof rn));
        if (p[i].reg == GH_FVAR_UNKNOWN)
            lost = 1;
        else if (p[i].reg >= 0) {
            int ri = f->arch && (size_t)p[i].reg < f->arch->ndwarf ? f->arch->dwarf_regs[p[i].reg] : -1;
            if (ri < 0 || p[i].size > 8)
                vector = 1;
            else if (!f->regs || ri >= 64 || !(f->known >> ri & 1))
                unknown = 1;
        }
    }
    if (lost)
        return *why = np > 1 ? "partly optimized out at this pc" : "optimized out at this pc",
               gh_errorf(E->err, GH_ENOENT, "%.*s: %s is optimized out at this pc in %s's frame (DWARF gives no "
                         "place for %s of it)", tl, txt, name, f->function, np > 1 ? "part" : "any"), -1;
    if (vector)
        return *why = "in a floating-point or vector register, not read",
               gh_errorf(E->err, GH_ENOENT, "%.*s: %s is in a floating-point or vector register at this pc in %s's "
                         "frame (%s), which goheap does not read", tl, txt, name, f->function, regs), -1;
    if (unknown)
        return *why = "in registers this frame no longer has",
               gh_errorf(E->err, GH_ENOENT, "%.*s: %s is in registers at this pc in %s's frame (%s), and this "
                         "frame's registers are gone: only a goroutine's innermost frame on a thread, or a frame "
                         "preemption interrupted, still has them", tl, txt, name, f->function, regs), -1;
    if (!size || size > sizeof buf || !f->overlay)
        return *why = "in registers, too large to read so",
               gh_errorf(E->err, GH_ENOENT, "%.*s: %s (%" PRIu64 " bytes) is in registers at this pc in %s's frame "
                         "(%s): goheap reads up to %d bytes so", tl, txt, name, size, f->function, regs,
                         GH_OVERLAY_MAX), -1;
    memset(buf, 0, sizeof buf);
    for (size_t i = 0; i < np; i++) {
        if (p[i].var_off > size || p[i].size > size - p[i].var_off)
            return *why = "DWARF's pieces do not fit it",
                   gh_errorf(E->err, GH_EFORMAT, "%.*s: %s: DWARF's pieces run past its %" PRIu64 " bytes", tl,
                             txt, name, size), -1;
        if (p[i].reg == GH_FVAR_STACK) {
            uint64_t at = f->fp + (uint64_t)p[i].cfa_off;
            if (gh_read(tg(E), at, buf + p[i].var_off, p[i].size, NULL))
                return *why = "not readable",
                       gh_errorf(E->err, GH_EMEM, "%.*s: part of %s is in the stack at 0x%" PRIx64 ", which is "
                                 "not readable", tl, txt, name, at), -1;
        } else {
            uint64_t r = f->regs[f->arch->dwarf_regs[p[i].reg]];
            memcpy(buf + p[i].var_off, &r, p[i].size); /* the register's low bytes (both machines are little-endian) */
        }
        covered += p[i].size;
    }
    if (covered != size)
        return *why = "DWARF places part of it only",
               gh_errorf(E->err, GH_ENOENT, "%.*s: DWARF places %" PRIu64 " of the %" PRIu64 " bytes of %s at this "
                         "pc in %s's frame", tl, txt, covered, size, name, f->function), -1;
    uint64_t addr = gh_overlay_put(f->overlay, buf, (size_t)size);
    if (!addr)
        return *why = "in registers, too many values read so",
               gh_errorf(E->err, GH_ENOMEM, "%.*s: too many values held in registers in one expression", tl, txt),
               -1;
    *v = (gh_xval){GX_V_MEM, 0, addr, size, {0, p[0].type}};
    if (p[0].type)
        v->type = pv_type_norm(E->env->c, v->type);
    return 1;
}

/* The variable whose parts start at vars[at]: 1 and *v, or -1 (set). */
static int var_at(ev *E, int tl, const char *txt, size_t at, gh_xval *v, const char **why)
{
    const gh_expr_frame *f = E->env->frame;
    size_t np = 1;
    while (at + np < f->nvars && f->vars[at + np].var == f->vars[at].var)
        np++;
    const gh_fvar *x = &f->vars[at];
    if (np == 1 && x->reg == GH_FVAR_STACK && x->whole) {
        *v = (gh_xval){GX_V_MEM, 0, f->fp + (uint64_t)x->cfa_off, x->size, {0, x->type}};
        if (x->type)
            v->type = pv_type_norm(E->env->c, v->type);
        return 1;
    }
    return assemble(E, tl, txt, x, np, v, why);
}

/* The local name[0, len) of the frame --frame named: 1 and *v when the
 * frame has it, in its stack or in registers it still holds, 0 when the
 * frame has no such variable, -1 on an error (set). The innermost scope's
 * variable of that name wins: the list runs from the function's own scope
 * inwards, each variable's parts adjacent. */
static int local_at(ev *E, int k, const char *name, size_t len, gh_xval *v)
{
    const gh_expr_frame *f = E->env->frame;
    size_t at = SIZE_MAX;
    for (size_t i = 0; f && i < f->nvars; i++) {
        const gh_fvar *x = &f->vars[i];
        if (x->name && strlen(x->name) == len && !memcmp(x->name, name, len) &&
            (at == SIZE_MAX || x->var != f->vars[at].var))
            at = i;
    }
    if (at == SIZE_MAX)
        return 0;
    const char *why;
    return var_at(E, TXT(E, k), at, v, &why);
}

int gh_expr_frame_var(gh_expr_env *env, size_t at, gh_xval *v, const char **why, gh_err *err)
{
    ev E = {env, NULL, err};
    *why = NULL;
    memset(v, 0, sizeof *v);
    if (!env->frame || at >= env->frame->nvars || !env->frame->vars[at].name)
        return gh_errorf(err, GH_EARG, "no such variable");
    const char *name = env->frame->vars[at].name;
    return var_at(&E, (int)strlen(name), name, at, v, why) == 1 ? GH_OK : (err && err->code ? err->code : GH_ENOENT);
}

static int local(ev *E, int k, gh_xval *v)
{
    const gx_node *n = &E->e->n[k];
    if (!E->env->frame && E->env->no_frame)
        return gh_errorf(E->err, GH_EARG, "%s: %s", n->str, E->env->no_frame);
    if (!E->env->frame)
        return gh_errorf(E->err, GH_EARG, "%s: not a global (a global is package.name); for a local, name its frame: "
                         "--frame GOROUTINE:FUNCTION", n->str);
    int r = local_at(E, k, n->str, strlen(n->str), v);
    if (r < 0)
        return E->err ? E->err->code : GH_ENOENT;
    if (!r) { /* name what is there: each variable once, innermost scope last */
        const gh_expr_frame *f = E->env->frame;
        char have[300] = "";
        size_t o = 0, shown = 0;
        for (size_t i = 0; i < f->nvars && o < sizeof have; i++) {
            const gh_fvar *x = &f->vars[i];
            if ((i && x->var == f->vars[i - 1].var) || !x->name || !x->name[0] || x->name[0] == '.' ||
                x->name[0] == '~')
                continue;
            if (shown == 8) {
                o += (size_t)snprintf(have + o, sizeof have - o, ", ...");
                break;
            }
            o += (size_t)snprintf(have + o, sizeof have - o, "%s%s", shown++ ? ", " : "", x->name);
        }
        return gh_errorf(E->err, GH_ENOENT, "%s: no local %s in %s's frame at this pc (none of that name, or DWARF "
                         "gives it no place there); there: %s", n->str, n->str, f->function, shown ? have : "none");
    }
    return GH_OK;
}

static int select_field(ev *E, int k, int ka, gh_xval *v, const char *name);

/* --- globals ------------------------------------------------------------------------ */

static int global(ev *E, int k, gh_xval *v)
{
    const gx_node *n = &E->e->n[k];
    gh_dwarf_vars *dv = E->env->dv;
    const char *dot = strchr(n->str, '.');
    if (E->env->frame && !n->quoted && dot) { /* held.Items: a local hides a package of its name */
        int r = local_at(E, k, n->str, (size_t)(dot - n->str), v);
        if (r < 0)
            return E->err ? E->err->code : GH_ENOENT;
        if (r)
            return select_field(E, k, k, v, dot + 1);
    }
    const gh_dglobal *hit = NULL, *other = NULL;
    size_t ng = dv ? gh_dwarf_nglobals(dv) : 0, nl = strlen(n->str);
    for (size_t i = 0; i < ng && !hit; i++) {
        const gh_dglobal *g = gh_dwarf_global(dv, i);
        if (g && g->name && !strcmp(g->name, n->str))
            hit = g;
    }
    /* pkg.name also names a global of a package whose import path ends in /pkg */
    for (size_t i = 0; i < ng && !hit && !n->quoted && !other; i++) {
        const gh_dglobal *g = gh_dwarf_global(dv, i);
        size_t gl = g && g->name ? strlen(g->name) : 0;
        if (gl > nl && g->name[gl - nl - 1] == '/' && !strcmp(g->name + gl - nl, n->str)) {
            for (size_t j = i + 1; j < ng && !other; j++) {
                const gh_dglobal *h = gh_dwarf_global(dv, j);
                size_t hl = h && h->name ? strlen(h->name) : 0;
                if (hl > nl && h->name[hl - nl - 1] == '/' && !strcmp(h->name + hl - nl, n->str))
                    other = h;
            }
            if (other)
                return gh_errorf(E->err, GH_EARG, "%.*s: ambiguous: %s or %s (write \"import/path\".name)",
                                 TXT(E, k), g->name, other->name);
            hit = g;
        }
    }
    if (hit) {
        *v = (gh_xval){GX_V_MEM, 0, hit->addr, hit->size, {0, hit->type}};
        if (hit->type)
            v->type = pv_type_norm(E->env->c, v->type);
        return GH_OK;
    }
    const gh_sym *sym = E->env->exe ? gh_exe_sym(E->env->exe, n->str) : NULL;
    if (sym && sym->is_func)
        return gh_errorf(E->err, GH_EARG, "%s is a function, not a global", n->str);
    if (sym) {
        *v = (gh_xval){GX_V_MEM, 0, sym->addr + E->env->bias, sym->size, {0, 0}};
        return GH_OK;
    }
    return gh_errorf(E->err, GH_ENOENT, "%s: no such global", n->str);
}

/* --- fields ------------------------------------------------------------------------- */

/* Go names an embedded field after its type: main.Base and *main.Base give Base. */
static int embeds(const char *fname, const char *type)
{
    const char *t = type + strspn(type, "*");
    const char *br = strchr(t, '[');
    size_t tl = br ? (size_t)(br - t) : strlen(t);
    const char *dot = NULL;
    for (size_t i = 0; i < tl; i++)
        if (t[i] == '.')
            dot = t + i;
    const char *base = dot ? dot + 1 : t;
    size_t bl = (size_t)(t + tl - base);
    return strlen(fname) == bl && !strncmp(fname, base, bl);
}

/* The field name of struct type t at addr, searching embedded structs to
 * depth; 1 found (*out set), 0 not, -1 error. */
static int find_field(ev *E, int k, pv_tref t, uint64_t addr, const char *name, int depth, gh_xval *out)
{
    pv_ctx *c = E->env->c;
    pv_tinfo ti;
    if (pv_type_info(c, t, &ti) || ti.kind != GH_KIND_STRUCT)
        return 0;
    char fn[256], tmp[128];
    pv_tref ft;
    uint64_t off;
    for (uint32_t i = 0; i < ti.nfields; i++) {
        if (pv_type_field(c, t, i, fn, sizeof fn, &ft, &off))
            return gh_errorf(E->err, GH_EFORMAT, "%.*s: field %u of its type cannot be read", TXT(E, k), i), -1;
        if (!strcmp(fn, name)) {
            *out = (gh_xval){GX_V_MEM, 0, addr + off, 0, pv_type_norm(c, ft)};
            return 1;
        }
    }
    if (depth >= MAX_PROMOTE)
        return 0;
    for (uint32_t i = 0; i < ti.nfields; i++) {
        if (pv_type_field(c, t, i, fn, sizeof fn, &ft, &off))
            return -1;
        const char *tn = tname(E, ft, tmp, sizeof tmp);
        if (!embeds(fn, tn))
            continue;
        pv_tinfo fi;
        if (pv_type_info(c, ft, &fi))
            continue;
        uint64_t at = addr + off;
        if (fi.kind == GH_KIND_POINTER) {
            uint64_t w;
            if (gh_read_u64(tg(E), at, &w, NULL) || !w)
                continue; /* a nil embedded pointer promotes nothing we can reach */
            at = w;
            ft = fi.elem;
        }
        int r = find_field(E, k, ft, at, name, depth + 1, out);
        if (r)
            return r;
    }
    return 0;
}

static int field(ev *E, int k, gh_xval *v)
{
    const gx_node *n = &E->e->n[k];
    int rc = eval(E, n->a, v);
    return rc ? rc : select_field(E, k, n->a, v, n->str);
}

/* v.name, v being operand ka's value (a struct, or a pointer to one). */
static int select_field(ev *E, int k, int ka, gh_xval *v, const char *name)
{
    char doing[300];
    snprintf(doing, sizeof doing, " (selecting .%s)", name);
    int rc = follow(E, ka, v, doing);
    if (rc)
        return rc;
    pv_tinfo ti;
    if ((rc = info(E, ka, v, &ti)))
        return rc;
    char tmp[128];
    if (ti.kind != GH_KIND_STRUCT)
        return gh_errorf(E->err, GH_EARG, "%.*s: %s is not a struct", TXT(E, k), tname(E, v->type, tmp, sizeof tmp));
    gh_xval out;
    int r = find_field(E, k, v->type, v->addr, name, 0, &out);
    if (r < 0)
        return E->err ? E->err->code : GH_EFORMAT;
    if (!r)
        return gh_errorf(E->err, GH_ENOENT, "%.*s: %s has no field %s", TXT(E, k), tname(E, v->type, tmp, sizeof tmp),
                         name);
    *v = out;
    return GH_OK;
}

/* --- indexing ----------------------------------------------------------------------- */

/* An index or key operand: a number, a string literal, or a value in memory
 * (integer, pointer or string). */
typedef struct key {
    int is_str;
    uint64_t v;          /* integers and pointers */
    char *s;             /* strings (owned) */
    size_t slen;
    int is_val;          /* any other comparable value in memory (a struct, an array, a float, a bool, an
                          * interface): compared with the map's keys as Go compares them */
    uint64_t addr;
    pv_tref type;
} key;

static int string_at(ev *E, int k, uint64_t addr, char **s, size_t *len)
{
    uint64_t p, l;
    int rc;
    if ((rc = word(E, k, addr, &p)) || (rc = word(E, k, addr + 8, &l)))
        return rc;
    if (l > MAX_KEY_STRING)
        return gh_errorf(E->err, GH_EARG, "%.*s: a string of %" PRIu64 " bytes", TXT(E, k), l);
    char *b = malloc(l + 1);
    if (!b)
        return gh_errorf(E->err, GH_ENOMEM, "out of memory");
    if (l && gh_read(tg(E), p, b, l, NULL)) {
        free(b);
        return gh_errorf(E->err, GH_EMEM, "%.*s: cannot read the string's %" PRIu64 " bytes at 0x%" PRIx64, TXT(E, k),
                         l, p);
    }
    b[l] = 0;
    *s = b;
    *len = l;
    return GH_OK;
}

static int key_of(ev *E, int k, key *out)
{
    memset(out, 0, sizeof *out);
    const gx_node *n = &E->e->n[k];
    if (n->op == GX_STR) {
        out->is_str = 1;
        out->slen = n->slen;
        if (!(out->s = malloc(n->slen + 1)))
            return gh_errorf(E->err, GH_ENOMEM, "out of memory");
        memcpy(out->s, n->str, n->slen + 1);
        return GH_OK;
    }
    gh_xval v;
    int rc = eval(E, k, &v);
    if (rc)
        return rc;
    if (v.kind != GX_V_MEM) {
        out->v = v.v;
        return GH_OK;
    }
    pv_tinfo ti;
    if ((rc = info(E, k, &v, &ti)))
        return rc;
    if (ti.kind == GH_KIND_STRING) {
        out->is_str = 1;
        return string_at(E, k, v.addr, &out->s, &out->slen);
    }
    if (is_intkind(ti.kind))
        return read_int(E, k, v.addr, ti.size, ti.kind, &out->v);
    if (is_ptrkind(ti.kind))
        return word(E, k, v.addr, &out->v);
    switch (ti.kind) {
    case GH_KIND_BOOL:
    case GH_KIND_FLOAT32:
    case GH_KIND_FLOAT64:
    case GH_KIND_COMPLEX64:
    case GH_KIND_COMPLEX128:
    case GH_KIND_ARRAY:
    case GH_KIND_STRUCT:
    case GH_KIND_INTERFACE:
        out->is_val = 1;
        out->addr = v.addr;
        out->type = pv_type_norm(E->env->c, v.type);
        return GH_OK;
    default:
        break;
    }
    char tmp[128];
    return gh_errorf(E->err, GH_EARG, "%.*s: a %s is no index or key (numbers, strings, pointers and comparable "
                     "values in memory are)", TXT(E, k), tname(E, v.type, tmp, sizeof tmp));
}

#define MAX_KEY_DEPTH 32              /* nesting of a key's type compared */
#define MAX_KEY_BYTES (UINT64_C(1) << 20) /* bytes of one key compared */

static int same_type(pv_tref a, pv_tref b) { return a.rt ? a.rt == b.rt : !b.rt && a.die == b.die; }

/* Two values of type t, at a and b, equal as Go's == says: floats by value
 * (+0 == -0, NaN never), strings by bytes, structs field by field (blank
 * fields left out), arrays element by element, interfaces by dynamic type
 * and value. 1 equal, 0 not, -1 unreadable or not comparable. */
static int equal_at(ev *E, pv_tref t, uint64_t a, uint64_t b, int depth)
{
    const gh_target *tgt = tg(E);
    pv_tinfo ti;
    if (depth > MAX_KEY_DEPTH || pv_type_info(E->env->c, t, &ti) || ti.size > MAX_KEY_BYTES)
        return -1;
    switch (ti.kind) {
    case GH_KIND_FLOAT32: {
        float x, y;
        if (gh_read(tgt, a, &x, 4, NULL) || gh_read(tgt, b, &y, 4, NULL))
            return -1;
        return x == y;
    }
    case GH_KIND_FLOAT64: {
        double x, y;
        if (gh_read(tgt, a, &x, 8, NULL) || gh_read(tgt, b, &y, 8, NULL))
            return -1;
        return x == y;
    }
    case GH_KIND_COMPLEX64:
    case GH_KIND_COMPLEX128: {
        pv_tref part = {gh_types_by_name(E->env->c->ty, ti.kind == GH_KIND_COMPLEX64 ? "float32" : "float64"), 0};
        if (!part.rt)
            return -1;
        int re = equal_at(E, part, a, b, depth + 1);
        return re != 1 ? re : equal_at(E, part, a + ti.size / 2, b + ti.size / 2, depth + 1);
    }
    case GH_KIND_STRING: {
        uint64_t pa, la, pb, lb;
        if (gh_read_u64(tgt, a, &pa, NULL) || gh_read_u64(tgt, a + 8, &la, NULL) || gh_read_u64(tgt, b, &pb, NULL) ||
            gh_read_u64(tgt, b + 8, &lb, NULL))
            return -1;
        if (la != lb)
            return 0;
        if (la > MAX_KEY_STRING)
            return -1;
        char x[256], y[256];
        for (uint64_t o = 0; o < la; o += sizeof x) {
            size_t c = la - o < sizeof x ? (size_t)(la - o) : sizeof x;
            if (gh_read(tgt, pa + o, x, c, NULL) || gh_read(tgt, pb + o, y, c, NULL))
                return -1;
            if (memcmp(x, y, c))
                return 0;
        }
        return 1;
    }
    case GH_KIND_ARRAY: {
        pv_tinfo ei;
        if (!ti.len)
            return 1;
        if (pv_type_info(E->env->c, ti.elem, &ei) || !ei.size || ti.len > MAX_KEY_BYTES / ei.size)
            return -1;
        for (uint64_t i = 0; i < ti.len; i++) {
            int r = equal_at(E, ti.elem, a + i * ei.size, b + i * ei.size, depth + 1);
            if (r != 1)
                return r;
        }
        return 1;
    }
    case GH_KIND_STRUCT:
        for (uint32_t i = 0; i < ti.nfields; i++) {
            char name[128];
            pv_tref ft;
            uint64_t off;
            if (pv_type_field(E->env->c, t, i, name, sizeof name, &ft, &off))
                return -1;
            if (!strcmp(name, "_"))
                continue; /* Go's == leaves blank fields out */
            int r = equal_at(E, ft, a + off, b + off, depth + 1);
            if (r != 1)
                return r;
        }
        return 1;
    case GH_KIND_INTERFACE: {
        uint64_t ta, tb, da, db;
        if (gh_read_u64(tgt, a, &ta, NULL) || gh_read_u64(tgt, b, &tb, NULL) ||
            gh_read_u64(tgt, a + 8, &da, NULL) || gh_read_u64(tgt, b + 8, &db, NULL))
            return -1;
        if (ta != tb) /* the type words (or itabs, one per dynamic type of an interface type) differ */
            return 0;
        if (!ta)
            return 1; /* both nil */
        uint64_t dyn = ta;
        if (!ti.iface_empty && gh_read_u64(tgt, ta + 8, &dyn, NULL)) /* itab.Type */
            return -1;
        pv_tinfo di;
        pv_tref dt = {dyn, 0};
        if (pv_type_info(E->env->c, dt, &di))
            return -1;
        if (di.direct)
            return da == db;
        return equal_at(E, dt, da, db, depth + 1);
    }
    case GH_KIND_BOOL:
    case GH_KIND_POINTER:
    case GH_KIND_UNSAFEPOINTER:
    case GH_KIND_CHAN:
    default:
        if (is_intkind(ti.kind) || is_ptrkind(ti.kind) || ti.kind == GH_KIND_BOOL) {
            if (ti.kind == GH_KIND_FUNC || ti.size == 0 || ti.size > 8)
                return -1;
            uint8_t x[8], y[8];
            if (gh_read(tgt, a, x, ti.size, NULL) || gh_read(tgt, b, y, ti.size, NULL))
                return -1;
            return !memcmp(x, y, ti.size);
        }
        return -1; /* maps, slices, funcs: not comparable */
    }
}

typedef struct mfind {
    ev *E;
    int k;
    const key *want;
    pv_tinfo kt;
    pv_tref ktype;
    uint64_t found, elem_addr;
    int failed;
} mfind;

static int match(void *ctx, uint64_t ka, uint64_t va)
{
    mfind *m = ctx;
    const gh_target *t = tg(m->E);
    if (m->want->is_val) {
        int r = equal_at(m->E, m->ktype, ka, m->want->addr, 0);
        if (r < 0)
            m->failed = 1;
        if (r != 1)
            return 0;
    } else if (m->want->is_str) {
        uint64_t p, l;
        if (gh_read_u64(t, ka, &p, NULL) || gh_read_u64(t, ka + 8, &l, NULL) || l != m->want->slen)
            return 0;
        char buf[256];
        for (uint64_t o = 0; o < l; o += sizeof buf) {
            size_t c = l - o < sizeof buf ? (size_t)(l - o) : sizeof buf;
            if (gh_read(t, p + o, buf, c, NULL) || memcmp(buf, m->want->s + o, c))
                return 0;
        }
    } else {
        uint64_t v;
        if (is_intkind(m->kt.kind)) {
            if (int_at(t, ka, m->kt.size, m->kt.kind, &v))
                return 0;
            uint64_t w = m->want->v;
            if (m->kt.size < 8) { /* compare in the key's width */
                uint64_t mask = (UINT64_C(1) << (8 * m->kt.size)) - 1;
                if ((v & mask) != (w & mask))
                    return 0;
                /* a constant that does not fit the key type matches nothing */
                uint64_t ext = is_signed(m->kt.kind) && (w >> (8 * m->kt.size - 1) & 1) ? (w | ~mask) : (w & mask);
                if (ext != w)
                    return 0;
            } else if (v != w) {
                return 0;
            }
        } else if (gh_read_u64(t, ka, &v, NULL) || v != m->want->v) {
            return 0;
        }
    }
    m->found = ka;
    m->elem_addr = va;
    return 1;
}

static int map_index(ev *E, int k, gh_xval *v, const pv_tinfo *mi, int kk)
{
    char tmp[128];
    if (!mi->rt)
        return gh_errorf(E->err, GH_EUNSUPP, "%.*s: the map type %s has no runtime descriptor to read it with",
                         TXT(E, E->e->n[k].a), tname(E, v->type, tmp, sizeof tmp));
    pv_tinfo kt;
    if (pv_type_info(E->env->c, mi->key, &kt))
        return gh_errorf(E->err, GH_EFORMAT, "%.*s: the map's key type cannot be read", TXT(E, E->e->n[k].a));
    key want;
    int rc = key_of(E, kk, &want);
    if (rc)
        return rc;
    int a = E->e->n[k].a;
    if (want.is_val && !same_type(want.type, pv_type_norm(E->env->c, mi->key))) {
        char have[128]; /* copied: a name may live in a buffer the next one reuses */
        snprintf(have, sizeof have, "%s", tname(E, want.type, tmp, sizeof tmp));
        return gh_errorf(E->err, GH_EARG, "%.*s: the key %.*s is a %s, not a %s", TXT(E, k), TXT(E, kk), have,
                         tname(E, mi->key, tmp, sizeof tmp));
    }
    if (!want.is_val && kt.kind != GH_KIND_STRING && !is_intkind(kt.kind) && !is_ptrkind(kt.kind)) {
        free(want.s);
        return gh_errorf(E->err, GH_EUNSUPP, "%.*s: a %s key is looked up by a value of its type in memory, not by "
                         "%.*s", TXT(E, k), tname(E, mi->key, tmp, sizeof tmp), TXT(E, kk));
    }
    if (want.is_str != (kt.kind == GH_KIND_STRING)) {
        free(want.s);
        return gh_errorf(E->err, GH_EARG, "%.*s: the key %.*s is not a %s", TXT(E, k), TXT(E, kk),
                         tname(E, mi->key, tmp, sizeof tmp));
    }
    uint64_t hdr;
    if ((rc = word(E, a, v->addr, &hdr))) {
        free(want.s);
        return rc;
    }
    if (!hdr) {
        free(want.s);
        return gh_errorf(E->err, GH_ENOENT, "no key %.*s in %.*s (a nil map)", TXT(E, kk), TXT(E, a));
    }
    mfind m = {.E = E, .k = k, .want = &want, .kt = kt, .ktype = pv_type_norm(E->env->c, mi->key)};
    uint64_t kd, ed;
    char why[256];
    if (pv_map_each(E->env->c, mi->rt, hdr, match, &m, &kd, &ed, why, sizeof why)) {
        free(want.s);
        return gh_errorf(E->err, GH_EFORMAT, "%.*s: %s", TXT(E, a), why);
    }
    free(want.s);
    if (!m.found && m.failed)
        return gh_errorf(E->err, GH_EMEM, "%.*s: a key of the map could not be read or compared with %.*s", TXT(E, a),
                         TXT(E, kk));
    if (!m.found)
        return gh_errorf(E->err, GH_ENOENT, "no key %.*s in %.*s", TXT(E, kk), TXT(E, a));
    *v = (gh_xval){GX_V_MEM, 0, m.elem_addr, 0, {ed, 0}};
    return GH_OK;
}

static int index_(ev *E, int k, gh_xval *v)
{
    const gx_node *n = &E->e->n[k];
    int rc = eval(E, n->a, v);
    if (rc)
        return rc;
    pv_tinfo ti;
    if (v->kind == GX_V_PTR || ((rc = info(E, n->a, v, &ti)) == GH_OK && ti.kind == GH_KIND_POINTER)) {
        /* Go indexes a pointer to an array */
        if ((rc = follow(E, n->a, v, " (indexing)")))
            return rc;
    }
    if (rc || (rc = info(E, n->a, v, &ti)))
        return rc;
    if (ti.kind == GH_KIND_MAP)
        return map_index(E, k, v, &ti, n->b);
    char tmp[128];
    uint64_t base, len;
    pv_tref et = ti.elem;
    switch (ti.kind) {
    case GH_KIND_ARRAY:
        base = v->addr;
        len = ti.len;
        break;
    case GH_KIND_SLICE:
        if ((rc = word(E, n->a, v->addr, &base)) || (rc = word(E, n->a, v->addr + 8, &len)))
            return rc;
        break;
    case GH_KIND_STRING:
        if ((rc = word(E, n->a, v->addr, &base)) || (rc = word(E, n->a, v->addr + 8, &len)))
            return rc;
        et = (pv_tref){gh_types_by_name(E->env->c->ty, "uint8"), 0};
        if (!et.rt)
            return gh_errorf(E->err, GH_EUNSUPP, "%.*s: the program has no uint8 type descriptor", TXT(E, k));
        break;
    default:
        return gh_errorf(E->err, GH_EARG, "%.*s: cannot index a %s", TXT(E, k), tname(E, v->type, tmp, sizeof tmp));
    }
    key i;
    if ((rc = key_of(E, n->b, &i)))
        return rc;
    free(i.s);
    if (i.is_str || i.is_val)
        return gh_errorf(E->err, GH_EARG, "%.*s: the index %.*s is not a number", TXT(E, k), TXT(E, n->b));
    int neg = E->e->n[n->b].op == GX_NUM && E->e->n[n->b].neg && E->e->n[n->b].num;
    if (neg || i.v >= len)
        return gh_errorf(E->err, GH_ENOENT, "%.*s: index %s%" PRIu64 " out of range [0:%" PRIu64 "]", TXT(E, k),
                         neg ? "-" : "", neg ? E->e->n[n->b].num : i.v, len);
    pv_tinfo ei;
    if (pv_type_info(E->env->c, et, &ei))
        return gh_errorf(E->err, GH_EFORMAT, "%.*s: the element type cannot be read", TXT(E, k));
    if (ei.size && i.v > (UINT64_MAX - base) / ei.size)
        return gh_errorf(E->err, GH_EFORMAT, "%.*s: element %" PRIu64 " lies past the address space", TXT(E, k), i.v);
    *v = (gh_xval){GX_V_MEM, 0, base + i.v * ei.size, 0, pv_type_norm(E->env->c, et)};
    return GH_OK;
}

/* --- the rest ----------------------------------------------------------------------- */

/* The descriptor of the type named text: reflect's name (main.Session), or
 * the full one with import paths (go/scanner.Scanner, also written
 * "go/scanner".Scanner); 0 with the error set. */
static uint64_t type_named(ev *E, int k, const char *text)
{
    uint64_t t = gh_types_by_name(E->env->c->ty, text);
    if (t)
        return t;
    char name[512], why[700];
    size_t o = 0;
    for (const char *p = text; *p && o + 1 < sizeof name; p++)
        if (*p != '"')
            name[o++] = *p;
    name[o] = 0;
    if ((t = gh_types_find(E->env->c->ty, name, why, sizeof why)))
        return t;
    gh_errorf(E->err, GH_ENOENT, "%.*s: %s", TXT(E, k), why);
    return 0;
}

/* x.(T): the interface's dynamic type word (eface) or its itab's type
 * (abi.ITab{Inter, Type, ...}) must be T's descriptor; the value is in the
 * data word itself for a pointer-shaped T, else where the data word points. */
static int assert_(ev *E, int k, gh_xval *v)
{
    const gx_node *n = &E->e->n[k];
    int rc = eval(E, n->a, v);
    pv_tinfo ti;
    char tmp[128];
    if (rc || (rc = info(E, n->a, v, &ti)))
        return rc;
    if (ti.kind != GH_KIND_INTERFACE)
        return gh_errorf(E->err, GH_EARG, "%.*s: %s is not an interface", TXT(E, k), tname(E, v->type, tmp, sizeof tmp));
    uint64_t t = type_named(E, k, n->str), w0, w1, dyn;
    if (!t)
        return E->err ? E->err->code : GH_ENOENT;
    if ((rc = word(E, n->a, v->addr, &w0)) || (rc = word(E, n->a, v->addr + 8, &w1)))
        return rc;
    if (!w0)
        return gh_errorf(E->err, GH_ENOENT, "%.*s: %.*s is a nil interface", TXT(E, k), TXT(E, n->a));
    if (ti.iface_empty)
        dyn = w0;
    else if ((rc = word(E, n->a, w0 + 8, &dyn)))
        return rc;
    if (dyn != t)
        return gh_errorf(E->err, GH_EARG, "%.*s: %.*s holds %s, not %s", TXT(E, k), TXT(E, n->a),
                         tname(E, (pv_tref){dyn, 0}, tmp, sizeof tmp), n->str);
    pv_tinfo di;
    if (pv_type_info(E->env->c, (pv_tref){t, 0}, &di))
        return gh_errorf(E->err, GH_EFORMAT, "%.*s: the type %s cannot be read", TXT(E, k), n->str);
    *v = (gh_xval){GX_V_MEM, 0, di.direct ? v->addr + 8 : w1, 0, {t, 0}};
    return GH_OK;
}

static int conv(ev *E, int k, gh_xval *v)
{
    const gx_node *n = &E->e->n[k];
    char conv_text[600];
    snprintf(conv_text, sizeof conv_text, "(*%s)", n->str);
    uint64_t t = gh_types_by_name(E->env->c->ty, n->str);
    if (!t) {
        char name[512], why[700];
        size_t o = 0;
        for (const char *p = n->str; *p && o + 1 < sizeof name; p++)
            if (*p != '"')
                name[o++] = *p;
        name[o] = 0;
        if (!(t = gh_types_find(E->env->c->ty, name, why, sizeof why)))
            return gh_errorf(E->err, GH_ENOENT, "%s: %s", conv_text, why);
    }
    int rc = eval(E, n->a, v);
    if (rc)
        return rc;
    uint64_t p = v->v;
    if (v->kind == GX_V_NUM && E->e->n[n->a].op == GX_NUM && E->e->n[n->a].neg)
        return gh_errorf(E->err, GH_EARG, "%.*s: a negative address", TXT(E, n->a));
    if (v->kind == GX_V_MEM) {
        pv_tinfo ti;
        if ((rc = info(E, n->a, v, &ti)))
            return rc;
        if (ti.kind == GH_KIND_POINTER || ti.kind == GH_KIND_UNSAFEPOINTER || ti.kind == GH_KIND_UINTPTR)
            rc = word(E, n->a, v->addr, &p);
        else
            rc = gh_errorf(E->err, GH_EARG, "%.*s: only numbers and pointers convert to (*%s)", TXT(E, k), n->str);
        if (rc)
            return rc;
    }
    *v = (gh_xval){GX_V_PTR, p, 0, 0, {t, 0}};
    return GH_OK;
}

static int eval(ev *E, int k, gh_xval *v)
{
    const gx_node *n = &E->e->n[k];
    int rc;
    memset(v, 0, sizeof *v);
    switch (n->op) {
    case GX_NUM:
        *v = (gh_xval){GX_V_NUM, n->neg ? (uint64_t)0 - n->num : n->num, 0, 0, {0, 0}};
        return GH_OK;
    case GX_STR:
        return gh_errorf(E->err, GH_EARG, "%.*s: a string is no address (strings are map keys)", TXT(E, k));
    case GX_GLOBAL:
        return global(E, k, v);
    case GX_LOCAL:
        return local(E, k, v);
    case GX_FIELD:
        return field(E, k, v);
    case GX_INDEX:
        return index_(E, k, v);
    case GX_DEREF:
        if ((rc = eval(E, n->a, v)))
            return rc;
        if (v->kind == GX_V_NUM)
            return gh_errorf(E->err, GH_EARG, "%.*s: a number has no type to dereference; write (*T)(%.*s)", TXT(E, k),
                             TXT(E, n->a));
        if (v->kind == GX_V_MEM) {
            pv_tinfo ti;
            char tmp[128];
            if ((rc = info(E, n->a, v, &ti)))
                return rc;
            if (ti.kind != GH_KIND_POINTER)
                return gh_errorf(E->err, GH_EARG, "%.*s: %s is not a pointer", TXT(E, k),
                                 tname(E, v->type, tmp, sizeof tmp));
        }
        return follow(E, n->a, v, " dereference");
    case GX_ADDR:
        if ((rc = eval(E, n->a, v)))
            return rc;
        if (v->kind != GX_V_MEM)
            return gh_errorf(E->err, GH_EARG, "%.*s: %.*s is not stored anywhere", TXT(E, k), TXT(E, n->a));
        if (gh_overlay_addr(v->addr))
            return gh_errorf(E->err, GH_EARG, "%.*s: %.*s is held in registers at this pc: it has no address",
                             TXT(E, k), TXT(E, n->a));
        *v = (gh_xval){GX_V_PTR, v->addr, 0, 0, v->type};
        return GH_OK;
    case GX_CONV:
        return conv(E, k, v);
    case GX_ASSERT:
        return assert_(E, k, v);
    }
    return gh_errorf(E->err, GH_EARG, "bad expression node");
}

int gh_expr_eval(const gh_expr *e, gh_expr_env *env, gh_xval *out, gh_err *err)
{
    ev E = {env, e, err};
    memset(out, 0, sizeof *out);
    return eval(&E, e->root, out);
}

int gh_expr_address(gh_expr_env *env, const gh_xval *v, const char *text, uint64_t *addr, gh_err *err)
{
    *addr = 0;
    if (v->kind != GX_V_MEM) {
        *addr = v->v;
        return GH_OK;
    }
    if (!v->type.rt && !v->type.die) { /* an untyped global: where it is */
        *addr = v->addr;
        return GH_OK;
    }
    pv_tinfo ti;
    if (pv_type_info(env->c, v->type, &ti))
        return gh_errorf(err, GH_EFORMAT, "%.200s: its type cannot be read", text);
    uint64_t w = 0, off;
    const char *what;
    switch (ti.kind) {
    case GH_KIND_POINTER: case GH_KIND_UNSAFEPOINTER: case GH_KIND_MAP: case GH_KIND_CHAN: case GH_KIND_FUNC:
        off = 0, what = "nil";
        break;
    case GH_KIND_SLICE: case GH_KIND_STRING:
        off = 0, what = "empty: its data pointer is nil";
        break;
    case GH_KIND_INTERFACE:
        off = 8, what = "a nil interface";
        break;
    default:
        if (gh_overlay_addr(v->addr))
            return gh_errorf(err, GH_EARG, "%.200s is held in registers at this pc: it has no address (print shows "
                             "it)", text);
        *addr = v->addr;
        return GH_OK;
    }
    if (gh_read_u64(pv_target(env->c), v->addr + off, &w, NULL))
        return gh_errorf(err, GH_EMEM, "%.200s: cannot read 8 bytes at 0x%" PRIx64, text, v->addr + off);
    if (!w)
        return gh_errorf(err, GH_ENOENT, "%.200s is %s", text, what);
    *addr = w;
    return GH_OK;
}
