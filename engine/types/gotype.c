/* Object types: the interned table, descriptor facts goheap needs to walk
 * values (element, key, fields, map internals), and names. Walking lives in
 * typewalk.c. */
#include "types/gotype_int.h"

#include "base/vec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct nentry {
    uint64_t addr; /* UINT64_MAX: ambiguous */
    char *name;
} nentry;

#define RBLOCK 1024          /* rinfo per block */
#define MAX_NAMES (1u << 16) /* descriptors indexed by name */

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

gh_types *gh_types_new(const gh_types_env *env)
{
    gh_types *ty = calloc(1, sizeof *ty);
    if (!ty)
        return NULL;
    ty->env = *env;
    ty->t = env->rt->t;
    ty->minor = env->rt->ver.minor;
    ty->swiss = (env->rt->exps & GH_EXP_SWISSMAP) != 0;
    ty->ot = calloc(256, sizeof *ty->ot);
    ty->names = calloc(256, sizeof *ty->names);
    ty->otcap = ty->namescap = 256;
    ty->n = 1; /* id 0 is "unknown" */
    if (!ty->ot || !ty->names) {
        gh_types_free(ty);
        return NULL;
    }
    return ty;
}

const gh_types_env *gh_types_inputs(const gh_types *ty) { return &ty->env; }

void gh_types_free(gh_types *ty)
{
    if (!ty)
        return;
    for (size_t i = 0; i < ty->rn; i++)
        free(ty->rblocks[i / RBLOCK][i % RBLOCK].leaves);
    for (size_t b = 0; b < ty->nrblocks; b++)
        free(ty->rblocks[b]);
    free(ty->rblocks);
    gh_hmap_free(&ty->raddr);
    gh_types_dwarf_free(ty);
    gh_types_free_strs(ty);
    for (size_t i = 0; i < ty->nn; i++)
        free(ty->nv[i].name);
    free(ty->nv);
    gh_hmap_free(&ty->nidx);
    for (size_t i = 0; i < ty->n; i++)
        free(ty->names[i]);
    free(ty->names);
    for (size_t i = 0; i < ty->fnamescap; i++)
        free(ty->fnames[i]);
    free(ty->fnames);
    free(ty->ot);
    gh_hmap_free(&ty->idx);
    free(ty);
}

/* --- interning ---------------------------------------------------------- */

static uint64_t ot_hash(const gh_otype *o)
{
    return hash64(o->rtype ^ hash64(o->die + 0x9e37) ^ hash64(o->aux * 31 + o->syn) ^ hash64(o->count + 7 + ((uint64_t)o->bound << 62)));
}

static int ot_eq(const gh_otype *a, const gh_otype *b)
{
    return a->rtype == b->rtype && a->die == b->die && a->aux == b->aux && a->count == b->count && a->syn == b->syn &&
           a->bound == b->bound;
}

gh_tid gh_types_intern(gh_types *ty, const gh_otype *o)
{
    uint64_t h = ot_hash(o);
    for (size_t j = gh_hmap_first(&ty->idx, h); j != GH_HMAP_END; j = gh_hmap_next(&ty->idx, h, j))
        if (ot_eq(&ty->ot[ty->idx.vals[j]], o))
            return (gh_tid)ty->idx.vals[j];
    if (ty->n >= GH_TYPES_MAX)
        return 0;
    size_t had = ty->namescap;
    if (gh_grow(&ty->ot, &ty->otcap, ty->n + 1, sizeof *ty->ot) ||
        gh_grow(&ty->names, &ty->namescap, ty->n + 1, sizeof *ty->names))
        return 0;
    memset(ty->names + had, 0, (ty->namescap - had) * sizeof *ty->names); /* built on demand */
    gh_tid id = (gh_tid)ty->n;
    if (gh_hmap_add(&ty->idx, h, id))
        return 0;
    ty->n++;
    ty->ot[id] = *o;
    return id;
}

const gh_otype *gh_types_get(const gh_types *ty, gh_tid id)
{
    return id && id < ty->n ? &ty->ot[id] : NULL;
}

size_t gh_types_count(const gh_types *ty) { return ty->n - 1; }

int gh_types_length_bound(const gh_types *ty, gh_tid id)
{
    const gh_otype *o = gh_types_get(ty, id);
    return o && o->bound && o->count > 1;
}

/* --- descriptor facts ---------------------------------------------------- */

static int rd64(gh_types *ty, uint64_t addr, uint64_t *v) { return gh_read_u64(ty->t, addr, v, NULL); }

static int fill_rinfo(gh_types *ty, rinfo *ri, uint64_t addr)
{
    gh_err e;
    if (gh_rtype_read(ty->t, ty->minor, addr, &ri->r, &e))
        return -1;
    uint64_t v;
    switch (ri->r.kind) {
    case GH_KIND_POINTER:
    case GH_KIND_SLICE:
    case GH_KIND_CHAN:
        if (rd64(ty, addr + 48, &ri->elem))
            return -1;
        break;
    case GH_KIND_ARRAY:
        if (rd64(ty, addr + 48, &ri->elem) || rd64(ty, addr + 64, &ri->len))
            return -1;
        break;
    case GH_KIND_MAP:
        /* Key @48, Elem @56, then Bucket (classic) or Group (Swiss) @64. */
        if (rd64(ty, addr + 48, &ri->key) || rd64(ty, addr + 56, &ri->elem) || rd64(ty, addr + 64, &ri->bucket))
            return -1;
        break;
    case GH_KIND_STRUCT:
        if (rd64(ty, addr + 56, &ri->fields) || rd64(ty, addr + 64, &v))
            return -1;
        if (v > GH_TYPES_MAX_FIELDS)
            return -1;
        ri->nfields = (uint32_t)v;
        break;
    case GH_KIND_INTERFACE:
        if (rd64(ty, addr + 64, &v)) /* len(Methods) */
            return -1;
        ri->iface_empty = v == 0;
        break;
    default:
        break;
    }
    return 0;
}

rinfo *gh_types_rinfo_slow(gh_types *ty, uint64_t addr)
{
    if (!addr || addr & 7)
        return NULL;
    /* A few types make most of a heap: a small direct-mapped cache in front
     * of the table (rinfo never move, so the pointers stay good). */
    rinfo **hot = &ty->rhot[(addr >> 3) & (GH_TYPES_RHOT - 1)];
    const uint64_t *at = gh_hmap_get(&ty->raddr, addr);
    if (at) {
        rinfo *ri = &ty->rblocks[*at / RBLOCK][*at % RBLOCK];
        *hot = ri;
        return ri->state == RI_OK ? ri : NULL;
    }
    if (ty->rn >= GH_TYPES_MAX)
        return NULL;
    size_t i = ty->rn;
    if (i % RBLOCK == 0) {
        size_t cap = ty->nrblocks;
        rinfo *b = calloc(RBLOCK, sizeof *b);
        if (!b || gh_grow(&ty->rblocks, &cap, ty->nrblocks + 1, sizeof *ty->rblocks)) {
            free(b);
            return NULL;
        }
        ty->rblocks[ty->nrblocks++] = b;
    }
    if (gh_hmap_put(&ty->raddr, addr, i))
        return NULL;
    rinfo *ri = &ty->rblocks[i / RBLOCK][i % RBLOCK];
    ri->addr = addr;
    ty->rn++;
    ri->state = fill_rinfo(ty, ri, addr) ? RI_FAIL : RI_OK;
    return ri->state == RI_OK ? ri : NULL;
}

int gh_types_field_at(gh_types *ty, const rinfo *ri, uint32_t i, uint64_t *name, uint64_t *typ, uint64_t *off)
{
    if (i >= ri->nfields)
        return -1;
    uint64_t f = ri->fields + 24 * (uint64_t)i;
    return rd64(ty, f, name) || rd64(ty, f + 8, typ) || rd64(ty, f + 16, off) ? -1 : 0;
}

/* --- sizes and masks ----------------------------------------------------- */

static uint64_t syn_size(gh_types *ty, int syn)
{
    switch (syn) {
    case GH_SYN_HMAP: return ty->minor >= 24 ? 56 : 48; /* 1.24 added clearSeq before extra */
    case GH_SYN_MAPEXTRA: return 24;
    case GH_SYN_OVFSLICE: return 24;
    case GH_SYN_OVFARRAY: return 8;
    case GH_SYN_SWISSMAP: return 48;
    case GH_SYN_DIRECTORY: return 8;
    case GH_SYN_TABLE: return 32;
    case GH_SYN_HCHAN: return ty->minor >= 23 ? 104 : 96;
    case GH_SYN_STRING: return 1;
    default: return 0;
    }
}

uint64_t gh_types_size(gh_types *ty, const gh_otype *ot)
{
    if (ot->syn)
        return syn_size(ty, ot->syn);
    if (ot->rtype) {
        rinfo *ri = gh_types_rinfo(ty, ot->rtype);
        return ri ? ri->r.size : 0;
    }
    if (ot->die)
        return gh_types_dwarf_size(ty, ot->die);
    return 0;
}

int gh_types_has_pointers(gh_types *ty, const gh_otype *ot)
{
    switch (ot->syn) {
    case GH_SYN_NONE: break;
    case GH_SYN_STRING: return 0;
    case GH_SYN_CLOSURE: return -1;
    case GH_SYN_HCHAN: return -1; /* pointer-free elements: hchan and buffer are one noscan object */
    default: return 1;
    }
    if (ot->rtype) {
        rinfo *ri = gh_types_rinfo(ty, ot->rtype);
        return ri ? ri->r.ptrbytes != 0 : -1;
    }
    if (ot->die) {
        uint32_t n;
        const leaf *lv = gh_types_dwarf_leaves(ty, ot->die, &n);
        return lv || !n ? n != 0 : -1;
    }
    return -1;
}

/* Pointer words of the fixed runtime shapes (1 bit per word). */
static int syn_mask(gh_types *ty, int syn, uint64_t *m)
{
    switch (syn) {
    case GH_SYN_HMAP: /* buckets, oldbuckets, extra */
        *m = 1u << 2 | 1u << 3 | (ty->minor >= 24 ? 1u << 6 : 1u << 5);
        return 0;
    case GH_SYN_MAPEXTRA: *m = 7; return 0;                          /* overflow, oldoverflow, nextOverflow */
    case GH_SYN_OVFSLICE: *m = 1; return 0;
    case GH_SYN_OVFARRAY: *m = 1; return 0;
    case GH_SYN_SWISSMAP: *m = 1u << 2; return 0;                    /* dirPtr */
    case GH_SYN_DIRECTORY: *m = 1; return 0;
    case GH_SYN_TABLE: *m = 1u << 2; return 0;                       /* groups.data */
    case GH_SYN_STRING: *m = 0; return 0;
    default: return -1;
    }
}

int gh_types_mask64(gh_types *ty, const gh_otype *ot, uint64_t *mask, gh_err *err)
{
    uint64_t one;
    *mask = 0;
    if (ot->syn) {
        if (syn_mask(ty, ot->syn, &one))
            return gh_errorf(err, GH_EUNSUPP, "no mask for this shape");
        uint64_t sz = syn_size(ty, ot->syn), words = sz / 8;
        if (ot->syn == GH_SYN_STRING || !one)
            return GH_OK;
        if (!words || ot->count * words > 64)
            return gh_errorf(err, GH_EUNSUPP, "over 64 words");
        for (uint64_t i = 0; i < ot->count; i++)
            *mask |= one << (i * words);
        return GH_OK;
    }
    if (!ot->rtype && ot->die)
        return gh_types_dwarf_mask64(ty, ot->die, ot->count, mask) ? gh_errorf(err, GH_EUNSUPP, "no mask")
                                                                  : GH_OK;
    if (!ot->rtype)
        return gh_errorf(err, GH_EUNSUPP, "no descriptor");
    rinfo *ri = gh_types_rinfo(ty, ot->rtype);
    if (!ri || (ri->r.size % 8 && ri->r.ptrbytes))
        return gh_errorf(err, GH_EFORMAT, "unreadable descriptor");
    if (ri->r.ptrbytes == 0)
        return GH_OK;
    uint64_t words = ri->r.size / 8;
    if (!words || ot->count > 64 || ot->count * words > 64)
        return gh_errorf(err, GH_EUNSUPP, "over 64 words");
    gh_typemask_cache *tc = ty->env.masks;
    const gh_ptrmask *pm;
    if (!tc)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    int rc = gh_typemask_get(tc, ot->rtype, &pm, err);
    if (rc)
        return rc;
    one = 0;
    for (uint64_t w = 0; w < words; w++)
        if (gh_ptrmask_tile(pm, ri->r.size, w))
            one |= UINT64_C(1) << w;
    for (uint64_t i = 0; i < ot->count; i++)
        *mask |= one << (i * words);
    return GH_OK;
}

/* --- names --------------------------------------------------------------- */

static const char *rname_f(gh_types *ty, uint64_t rtype, int full, char *tmp, size_t cap)
{
    gh_typenames *tn = ty->env.names;
    const char *name;
    gh_err e;
    if (tn && (full ? gh_typename_full_ref(tn, rtype, &name, &e) : gh_typename_ref(tn, rtype, &name, &e)) == GH_OK)
        return name;
    snprintf(tmp, cap, "unknown<type 0x%" PRIx64 ">", rtype);
    return tmp;
}

static const char *rname(gh_types *ty, uint64_t rtype, char *tmp, size_t cap)
{
    return rname_f(ty, rtype, 0, tmp, cap);
}

static const char *map_part(gh_types *ty, uint64_t map, int full, char *tmp, size_t cap)
{
    rinfo *ri = gh_types_rinfo(ty, map);
    return ri && ri->bucket ? rname_f(ty, ri->bucket, full, tmp, cap) : "?";
}

static char *build_name(gh_types *ty, gh_tid id, int full);

const char *gh_types_name(gh_types *ty, gh_tid id)
{
    if (!id || id >= ty->n)
        return "unknown";
    if (!ty->names[id])
        ty->names[id] = build_name(ty, id, 0);
    return ty->names[id] ? ty->names[id] : "unknown";
}

const char *gh_types_full_name(gh_types *ty, gh_tid id)
{
    if (!id || id >= ty->n)
        return "unknown";
    if (id >= ty->fnamescap) {
        size_t had = ty->fnamescap;
        if (gh_grow(&ty->fnames, &ty->fnamescap, ty->n, sizeof *ty->fnames))
            return gh_types_name(ty, id);
        memset(ty->fnames + had, 0, (ty->fnamescap - had) * sizeof *ty->fnames);
    }
    if (!ty->fnames[id]) {
        ty->fnames[id] = build_name(ty, id, 1);
    }
    return ty->fnames[id] ? ty->fnames[id] : gh_types_name(ty, id);
}

static char *build_name(gh_types *ty, gh_tid id, int full)
{
    const gh_otype *o = &ty->ot[id];
    char tmp[128], buf[4096], arr[32] = "";
    const char *base;
    if (o->count > 1) /* a length from the slot's size is a bound: said so */
        snprintf(arr, sizeof arr, "[%s%" PRIu64 "]", o->bound ? "\xe2\x89\xa4" : "", o->count);
    switch (o->syn) {
    case GH_SYN_HMAP: base = "runtime.hmap"; break;
    case GH_SYN_MAPEXTRA: base = "runtime.mapextra"; break;
    case GH_SYN_OVFSLICE:
        snprintf(buf, sizeof buf, "%s[]*%s", arr, map_part(ty, o->aux, full, tmp, sizeof tmp));
        goto done;
    case GH_SYN_OVFARRAY:
        snprintf(buf, sizeof buf, "%s*%s", o->count > 1 ? arr : "", map_part(ty, o->aux, full, tmp, sizeof tmp));
        goto done;
    case GH_SYN_SWISSMAP: base = "maps.Map"; break;
    case GH_SYN_DIRECTORY:
        snprintf(buf, sizeof buf, "%s*maps.table", arr);
        goto done;
    case GH_SYN_TABLE: base = "maps.table"; break;
    case GH_SYN_HCHAN: base = "runtime.hchan"; break;
    case GH_SYN_STRING:
        base = "string";
        arr[0] = 0;
        break;
    case GH_SYN_CLOSURE:
        snprintf(buf, sizeof buf, "closure %s", gh_types_funcname(ty, o->aux, tmp, sizeof tmp));
        goto done;
    default:
        if (o->rtype)
            base = rname_f(ty, o->rtype, full, tmp, sizeof tmp);
        else if (o->die)
            base = gh_types_dwarf_name(ty, o->die, tmp, sizeof tmp);
        else
            base = "unknown";
    }
    snprintf(buf, sizeof buf, "%s%s", arr, base);
done:
    return strdup(buf);
}

/* --- descriptors by name --------------------------------------------------- */

/* The runtime keeps no index of its types by name, so goheap makes one, on
 * first use, by reading every 8-byte-aligned candidate of each module's type
 * section and keeping those that decode as a descriptor whose name resolves
 * inside the module. A name held by two descriptors is ambiguous and never
 * answered. Only runtime-internal shapes ask (sync.Pool's per-P arrays, the
 * nodes of sync.Map's trie), by exact reflect name. */

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

static nentry *name_find(gh_types *ty, const char *name, uint64_t h)
{
    for (size_t j = gh_hmap_first(&ty->nidx, h); j != GH_HMAP_END; j = gh_hmap_next(&ty->nidx, h, j))
        if (!strcmp(ty->nv[ty->nidx.vals[j]].name, name))
            return &ty->nv[ty->nidx.vals[j]];
    return NULL;
}

static void name_put(gh_types *ty, const char *name, uint64_t addr)
{
    uint64_t h = str_hash(name);
    nentry *e = name_find(ty, name, h);
    if (e) {
        if (e->addr != addr)
            e->addr = UINT64_MAX;
        return;
    }
    if (ty->nn >= MAX_NAMES)
        return; /* full: the index stays partial rather than growing without bound */
    char *copy = strdup(name);
    if (!copy || gh_grow(&ty->nv, &ty->ncap, ty->nn + 1, sizeof *ty->nv) || gh_hmap_add(&ty->nidx, h, ty->nn)) {
        free(copy);
        return;
    }
    ty->nv[ty->nn++] = (nentry){addr, copy};
}

/* Calls fn for every plausible type descriptor of every module. */
static void each_descriptor(gh_types *ty, void (*fn)(gh_types *ty, uint64_t a, void *ctx), void *ctx)
{
    gh_module_types mods[8];
    size_t nm = 0;
    if (gh_typename_modules(ty->env.rt, mods, 8, &nm, NULL))
        return;
    for (size_t k = 0; k < nm; k++) {
        uint64_t lo = mods[k].types, hi = mods[k].etypes;
        if (hi <= lo || hi - lo > (UINT64_C(256) << 20))
            continue;
        for (uint64_t a = (lo + 7) & ~UINT64_C(7); a + GH_RTYPE_SIZE <= hi; a += 8) {
            gh_rtype r;
            if (gh_rtype_read(ty->t, ty->minor, a, &r, NULL) || r.kind == 0 || r.kind > GH_KIND_MAX)
                continue;
            if (r.ptrbytes > r.size || r.size > (UINT64_C(1) << 40) || r.tflag >= 64 || !r.align ||
                (r.align & (r.align - 1)) || r.align > 8 || !r.field_align || r.field_align > 8 || r.str <= 0 ||
                (uint64_t)r.str >= hi - lo)
                continue;
            fn(ty, a, ctx);
        }
    }
}

static void put_short(gh_types *ty, uint64_t a, void *ctx)
{
    const char *name;
    (void)ctx;
    if (gh_typename_ref(ty->env.names, a, &name, NULL) == GH_OK)
        name_put(ty, name, a);
}

static void build_name_index(gh_types *ty)
{
    ty->nbuilt = 1;
    if (ty->env.names)
        each_descriptor(ty, put_short, NULL);
}

typedef struct finder {
    const char *want;
    uint64_t hit[2];     /* distinct descriptors named want */
    char full[2][256];   /* their full names */
    size_t n;
} finder;

static void find_one(gh_types *ty, uint64_t a, void *ctx)
{
    finder *f = ctx;
    const char *shortn, *fulln;
    if (gh_typename_ref(ty->env.names, a, &shortn, NULL) != GH_OK)
        return;
    int m = !strcmp(shortn, f->want);
    if (gh_typename_full_ref(ty->env.names, a, &fulln, NULL) != GH_OK)
        fulln = NULL;
    m = m || (fulln && !strcmp(fulln, f->want));
    if (!m || (f->n && f->hit[0] == a) || (f->n > 1 && f->hit[1] == a))
        return;
    if (f->n < 2) {
        f->hit[f->n] = a;
        snprintf(f->full[f->n], sizeof f->full[0], "%s", fulln ? fulln : shortn);
    }
    f->n++;
}

uint64_t gh_types_find(gh_types *ty, const char *name, char *why, size_t cap)
{
    finder f;
    memset(&f, 0, sizeof f);
    f.want = name;
    if (ty->env.names)
        each_descriptor(ty, find_one, &f);
    if (f.n == 1)
        return f.hit[0];
    int swap = f.n > 1 && strcmp(f.full[0], f.full[1]) > 0; /* in a stable order */
    if (why && cap)
        snprintf(why, cap, f.n ? "%s names %zu types (%s, %s%s): write the import path" : "%s names no type of the program",
                 name, f.n, f.full[swap], f.full[!swap], f.n > 2 ? ", ..." : "");
    return 0;
}

uint64_t gh_types_by_name(gh_types *ty, const char *name)
{
    if (!ty->nbuilt)
        build_name_index(ty);
    const nentry *e = name_find(ty, name, str_hash(name));
    return e && e->addr != UINT64_MAX ? e->addr : 0;
}

int gh_types_is_shape(gh_types *ty, uint64_t rtype)
{
    rinfo *ri = gh_types_rinfo(ty, rtype);
    if (!ri)
        return 0;
    if (!ri->shape) {
        char tmp[64];
        const char *n = rname(ty, rtype, tmp, sizeof tmp);
        ri = gh_types_rinfo(ty, rtype);
        ri->shape = strstr(n, "go.shape.") ? 2 : 1;
    }
    return ri->shape == 2;
}

/* The concrete type a shape stands for, when the program made exactly one:
 * "main.Box[go.shape.float64]" is main.Box[float64] if that is the only
 * instance of main.Box with the same size, pointer bytes and kind, and the
 * shape's basic type names it. 0 otherwise: a shape is never printed as a
 * type. */
uint64_t gh_types_concrete(gh_types *ty, uint64_t shape)
{
    static const char *const basic[] = {"bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8",
                                        "uint16", "uint32", "uint64", "uintptr", "float32", "float64",
                                        "complex64", "complex128", "string", NULL};
    char tmp[64], want[1024];
    const char *n = rname(ty, shape, tmp, sizeof tmp);
    const char *br = strchr(n, '[');
    if (!br || strlen(n) >= sizeof want)
        return 0;
    /* Replace go.shape.B with B for basic B; any other shape: give up. */
    size_t o = 0;
    for (const char *p = n; *p;) {
        if (!strncmp(p, "go.shape.", 9)) {
            p += 9;
            size_t k = 0;
            while (p[k] && p[k] != ',' && p[k] != ']')
                k++;
            int ok = 0;
            for (int i = 0; basic[i]; i++)
                if (strlen(basic[i]) == k && !strncmp(p, basic[i], k))
                    ok = 1;
            if (!ok)
                return 0;
            memcpy(want + o, p, k);
            o += k;
            p += k;
        } else {
            want[o++] = *p++;
        }
    }
    want[o] = 0;
    uint64_t c = gh_types_by_name(ty, want);
    rinfo *sr = gh_types_rinfo(ty, shape), *cr = c ? gh_types_rinfo(ty, c) : NULL;
    if (!sr || !cr)
        return 0;
    gh_rtype a = sr->r;
    cr = gh_types_rinfo(ty, c);
    if (a.size != cr->r.size || a.ptrbytes != cr->r.ptrbytes || a.kind != cr->r.kind)
        return 0;
    /* Unique among the instances of the generic type with that layout. */
    size_t plen = (size_t)(br - n) + 1, same = 0;
    for (size_t j = 0; j < ty->nn; j++) {
        const nentry *e = &ty->nv[j];
        if (strncmp(e->name, want, plen) || strstr(e->name, "go.shape."))
            continue;
        if (e->addr == UINT64_MAX)
            return 0;
        rinfo *x = gh_types_rinfo(ty, e->addr);
        if (x && x->r.size == a.size && x->r.ptrbytes == a.ptrbytes && x->r.kind == a.kind)
            same++;
    }
    return same == 1 ? c : 0;
}
