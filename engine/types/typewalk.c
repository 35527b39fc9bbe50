/* Walking typed values: which words hold pointers, and the type of what each
 * points to (hints for the marker), and how a word is named from its value
 * (".History[3]"). Descriptors are flattened once per type into "leaves"
 * (pointer-holding words with their element types), so walking an object is
 * a loop over a small array. */
#include "base/vec.h"
#include "types/gotype_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pclntab/pclntab.h"
#include "rtype/typename_int.h"

/* --- flattening ----------------------------------------------------------- */

typedef struct lvec {
    leaf *v;
    uint32_t n;
    size_t cap;
    int truncated;
} lvec;

static int push(lvec *lv, const leaf *l)
{
    if (lv->n >= GH_TYPES_MAX_LEAVES) {
        lv->truncated = 1;
        return -1;
    }
    if (gh_grow(&lv->v, &lv->cap, (size_t)lv->n + 1, sizeof *lv->v))
        return -1;
    lv->v[lv->n++] = *l;
    return 0;
}

static void field_name(gh_types *ty, uint64_t nameaddr, char *out, size_t cap);

static const char *tname(gh_types *ty, uint64_t t)
{
    gh_typenames *tn = ty->env.names;
    const char *name;
    if (!tn || gh_typename_ref(tn, t, &name, NULL))
        return "";
    return name;
}

/* A pointer to sync.node[K,V] (internal/sync's HashTrieMap, behind sync.Map
 * since 1.24): the node is the first field of either an entry[K,V] or an
 * indirect[K,V]. */
static int trie_node(gh_types *ty, leaf *l)
{
    const char *n = tname(ty, l->elem);
    if (strncmp(n, "sync.node[", 10))
        return 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "sync.entry[%s", n + 10);
    uint64_t entry = gh_types_by_name(ty, buf);
    snprintf(buf, sizeof buf, "sync.indirect[%s", n + 10);
    uint64_t ind = gh_types_by_name(ty, buf);
    if (!entry || !ind)
        return 0;
    l->kind = L_TRIENODE;
    l->elem = entry;
    l->alt = ind;
    return 1;
}

static int flatten(gh_types *ty, lvec *lv, uint64_t t, uint64_t base, int depth)
{
    rinfo *ri = gh_types_rinfo(ty, t);
    if (!ri || depth > GH_TYPES_MAX_DEPTH)
        return -1;
    if (ri->r.ptrbytes == 0)
        return 0;
    leaf l = {.off = base, .t = t};
    switch (ri->r.kind) {
    case GH_KIND_POINTER:
        l.kind = L_PTR;
        l.elem = ri->elem;
        trie_node(ty, &l);
        return push(lv, &l);
    case GH_KIND_SLICE:
        l.kind = L_SLICE;
        l.elem = ri->elem;
        return push(lv, &l);
    case GH_KIND_STRING: l.kind = L_STRING; return push(lv, &l);
    case GH_KIND_INTERFACE: l.kind = ri->iface_empty ? L_EFACE : L_IFACE; return push(lv, &l);
    case GH_KIND_MAP: l.kind = L_MAP; return push(lv, &l);
    case GH_KIND_CHAN: l.kind = L_CHAN; return push(lv, &l);
    case GH_KIND_FUNC: l.kind = L_FUNC; return push(lv, &l);
    case GH_KIND_ARRAY: {
        rinfo *el = gh_types_rinfo(ty, ri->elem);
        if (!el || !el->r.size)
            return el ? 0 : -1;
        for (uint64_t i = 0; i < ri->len; i++)
            if (flatten(ty, lv, ri->elem, base + i * el->r.size, depth + 1))
                return -1;
        return 0;
    }
    case GH_KIND_STRUCT: {
        const char *sn = tname(ty, t); /* valid until the next name asked for */
        int bucket = !strncmp(sn, "map.bucket[", 11);
        if (!strcmp(sn, "sync.Pool")) {
            /* local and victim: [localSize]poolLocal behind unsafe.Pointers. */
            uint64_t pl = gh_types_by_name(ty, "sync.poolLocal");
            for (uint32_t i = 0; pl && i < ri->nfields; i++) {
                uint64_t name, ft, off;
                char fname[16];
                if (gh_types_field_at(ty, ri, i, &name, &ft, &off))
                    return -1;
                field_name(ty, name, fname, sizeof fname);
                if (strcmp(fname, "local") && strcmp(fname, "victim"))
                    continue;
                l.kind = L_POOL;
                l.elem = pl;
                l.off = base + off; /* the size follows: localSize, victimSize */
                if (push(lv, &l))
                    return -1;
            }
        }
        /* atomic.Pointer[T] holds its pointer in an unsafe.Pointer and says
         * T in a zero-length [0]*T field. A classic map bucket's overflow
         * unsafe.Pointer points to another bucket of its type. */
        uint64_t zero_ptr_elem = 0;
        for (uint32_t i = 0; i < ri->nfields; i++) {
            uint64_t name, ft, off;
            if (gh_types_field_at(ty, ri, i, &name, &ft, &off))
                return -1;
            rinfo *fi = gh_types_rinfo(ty, ft);
            if (fi && fi->r.kind == GH_KIND_ARRAY && fi->len == 0) {
                rinfo *pe = gh_types_rinfo(ty, fi->elem);
                if (pe && pe->r.kind == GH_KIND_POINTER)
                    zero_ptr_elem = pe->elem;
                continue;
            }
            if (fi && fi->r.kind == GH_KIND_UNSAFEPOINTER && bucket && i + 1 == ri->nfields)
                zero_ptr_elem = t;
            if (fi && fi->r.kind == GH_KIND_UNSAFEPOINTER && zero_ptr_elem) {
                leaf p = {.off = base + off, .t = ft, .kind = L_PTR, .elem = zero_ptr_elem};
                trie_node(ty, &p);
                if (push(lv, &p))
                    return -1;
                continue;
            }
            if (flatten(ty, lv, ft, base + off, depth + 1))
                return -1;
        }
        return 0;
    }
    default:
        return 0; /* unsafe.Pointer: points somewhere, of no known type */
    }
}

/* The leaves of one value of descriptor t; NULL when it cannot be read. A
 * value too big to flatten keeps the leaves found so far. */
static const leaf *leaves_of(gh_types *ty, uint64_t t, uint32_t *n)
{
    rinfo *ri = gh_types_rinfo(ty, t);
    if (!ri)
        return NULL;
    if (ri->leaves_state == RI_EMPTY) {
        lvec lv = {0};
        int rc = flatten(ty, &lv, t, 0, 0);
        ri = gh_types_rinfo(ty, t); /* the table may have grown */
        ri->leaves = lv.v;
        ri->nleaves = lv.n;
        ri->leaves_truncated = (uint8_t)lv.truncated;
        ri->leaves_state = rc && !lv.truncated ? RI_FAIL : RI_OK;
    }
    *n = ri->nleaves;
    return ri->leaves_state == RI_OK ? ri->leaves : NULL;
}

const leaf *gh_types_rtype_leaves(gh_types *ty, uint64_t t, uint32_t *n) { return leaves_of(ty, t, n); }

/* --- reading words ---------------------------------------------------------- */

typedef struct mem {
    gh_types *ty;
    uint64_t addr, size;
    const uint8_t *direct;  /* host copy of [addr, addr+size) when mapped */
    const uint64_t *words;  /* or explicit words (a direct interface's data) */
} mem;

static int word(const mem *m, uint64_t off, uint64_t *v)
{
    if (off + 8 > m->size)
        return -1;
    if (m->words) {
        *v = m->words[off / 8];
        return 0;
    }
    if (m->direct) {
        memcpy(v, m->direct + off, 8);
        return 0;
    }
    return gh_read_u64(m->ty->t, m->addr + off, v, NULL);
}

/* --- hints ------------------------------------------------------------------ */

typedef struct walker {
    gh_types *ty;
    gh_hint_fn fn;
    void *ctx;
    int depth;
} walker;

static int emit(walker *w, uint64_t word_addr, uint64_t value, gh_otype ot, uint64_t min_size)
{
    if (!value)
        return 0;
    gh_hint h = {.value = value, .type = ot, .min_size = min_size};
    return w->fn(w->ctx, word_addr, &h);
}

static int map_hint(walker *w, uint64_t word_addr, uint64_t v, uint64_t maptype)
{
    gh_otype ot = {.syn = w->ty->swiss ? GH_SYN_SWISSMAP : GH_SYN_HMAP, .aux = maptype, .count = 1};
    return emit(w, word_addr, v, ot, 8);
}

static int walk_leaves(walker *w, const leaf *lv, uint32_t n, const mem *m, uint64_t base);

/* The data word of an interface whose dynamic type is t. */
static int iface_data(walker *w, const mem *m, uint64_t off, uint64_t t)
{
    uint64_t d;
    if (word(m, off, &d) || !d)
        return 0;
    rinfo *ri = gh_types_rinfo(w->ty, t);
    if (!ri)
        return 0;
    uint64_t waddr = m->words ? 0 : m->addr + off;
    if (!ri->r.direct_iface) /* the data word points to a copy of the value */
        return emit(w, waddr, d, (gh_otype){.rtype = t, .count = 1}, ri->r.size);
    /* Pointer-shaped: the data word is the value itself. */
    if (w->depth > 4)
        return 0;
    uint32_t nl;
    const leaf *lv = leaves_of(w->ty, t, &nl);
    if (!lv)
        return 0;
    uint64_t one[1] = {d};
    mem dm = {.ty = w->ty, .size = 8, .words = one};
    w->depth++;
    int rc = walk_leaves(w, lv, nl, &dm, 0);
    w->depth--;
    return rc;
}

static int walk_leaf(walker *w, const leaf *l, const mem *m, uint64_t off)
{
    gh_types *ty = w->ty;
    uint64_t v, x;
    if (word(m, off, &v))
        return 0;
    uint64_t waddr = m->words ? 0 : m->addr + off;
    switch (l->kind) {
    case L_PTR: {
        if (!v)
            return 0;
        gh_otype ot = {.rtype = l->elem, .die = l->elem ? 0 : l->edie, .count = 1};
        if (!ot.rtype && !ot.die)
            return 0;
        return emit(w, waddr, v, ot, gh_types_size(ty, &ot));
    }
    case L_SLICE: {
        if (!v || word(m, off + 16, &x) || !x)
            return 0;
        gh_otype ot = {.rtype = l->elem, .die = l->elem ? 0 : l->edie, .count = x};
        uint64_t es = gh_types_size(ty, &ot);
        if ((!ot.rtype && !ot.die) || !es || x > (UINT64_C(1) << 40) / es)
            return 0;
        return emit(w, waddr, v, ot, es * x);
    }
    case L_STRING:
        if (!v || word(m, off + 8, &x) || !x || x > (UINT64_C(1) << 40))
            return 0;
        return emit(w, waddr, v, (gh_otype){.syn = GH_SYN_STRING, .count = x}, x);
    case L_EFACE:
        return v ? iface_data(w, m, off + 8, v) : 0;
    case L_IFACE:
        if (!v || gh_read_u64(ty->t, v + 8, &x, NULL) || !x) /* itab.Type */
            return 0;
        return iface_data(w, m, off + 8, x);
    case L_MAP: {
        uint64_t mt = l->dwarf ? gh_types_dwarf_rtype(ty, l->t) : l->t;
        return mt ? map_hint(w, waddr, v, mt) : 0;
    }
    case L_CHAN: {
        uint64_t ct = l->dwarf ? gh_types_dwarf_rtype(ty, l->t) : l->t;
        return ct ? emit(w, waddr, v, (gh_otype){.syn = GH_SYN_HCHAN, .aux = ct, .count = 1}, 8) : 0;
    }
    case L_POOL: {
        if (!v || word(m, off + 8, &x) || !x || x > 4096)
            return 0;
        return emit(w, waddr, v, (gh_otype){.rtype = l->elem, .count = x}, 0);
    }
    case L_CLEANUPARG: {
        uint64_t fv, rt, die;
        if (word(m, l->alt, &fv) || (l->elem && gh_read_u64(ty->t, fv, &fv, NULL)) ||
            gh_types_cleanup_arg(ty, fv, &rt, &die))
            return 0;
        if (!rt && die)
            rt = gh_types_dwarf_rtype(ty, die);
        if (l->edie) /* captured by reference: the word points to the variable */
            return v ? emit(w, waddr, v, (gh_otype){.rtype = rt, .die = rt ? 0 : die, .count = 1}, 0) : 0;
        uint32_t nl;
        const leaf *al = rt ? leaves_of(ty, rt, &nl) : gh_types_dwarf_leaves(ty, die, &nl);
        if (!al || w->depth > 4)
            return 0;
        w->depth++;
        int rc = walk_leaves(w, al, nl, m, off);
        w->depth--;
        return rc;
    }
    case L_TRIENODE: {
        uint8_t is_entry;
        if (!v || gh_read_u8(ty->t, v, &is_entry, NULL))
            return 0;
        uint64_t t = is_entry ? l->elem : l->alt;
        return emit(w, waddr, v, (gh_otype){.rtype = t, .count = 1}, 0);
    }
    case L_FUNC: {
        /* A func value points to a funcval: code pointer, then what the
         * closure captured. */
        uint64_t pc;
        if (!v || gh_read_u64(ty->t, v, &pc, NULL) || !pc)
            return 0;
        const gh_pclntab *tab = ty->env.tab;
        gh_func f;
        if (!tab || gh_func_find(tab, pc, &f, NULL) || f.entry != pc)
            return 0;
        return emit(w, waddr, v, (gh_otype){.syn = GH_SYN_CLOSURE, .aux = pc, .count = 1}, 8);
    }
    }
    return 0;
}

static int walk_leaves(walker *w, const leaf *lv, uint32_t n, const mem *m, uint64_t base)
{
    for (uint32_t i = 0; i < n; i++) {
        int rc = walk_leaf(w, &lv[i], m, base + lv[i].off);
        if (rc)
            return rc;
    }
    return 0;
}

/* count values of descriptor t at base in m. Arrays are walked as their
 * elements so a big array is not flattened whole. */
static int walk_values(walker *w, uint64_t t, uint64_t count, const mem *m)
{
    rinfo *ri = gh_types_rinfo(w->ty, t);
    for (int d = 0; ri && ri->r.kind == GH_KIND_ARRAY && d < 8; d++) {
        if (ri->len && count > UINT64_MAX / ri->len)
            return 0;
        count *= ri->len;
        t = ri->elem;
        ri = gh_types_rinfo(w->ty, t);
    }
    if (!ri || !ri->r.ptrbytes || !ri->r.size)
        return 0;
    uint32_t n;
    const leaf *lv = leaves_of(w->ty, t, &n);
    if (!lv)
        return 0;
    uint64_t size = ri->r.size;
    if (count > m->size / size)
        count = m->size / size;
    for (uint64_t i = 0; i < count; i++) {
        int rc = walk_leaves(w, lv, n, m, i * size);
        if (rc)
            return rc;
    }
    return 0;
}

static int walk_syn(walker *w, const gh_otype *o, const mem *m)
{
    gh_types *ty = w->ty;
    uint64_t v, x;
    rinfo *mt = (o->syn != GH_SYN_HCHAN && o->syn != GH_SYN_CLOSURE) ? gh_types_rinfo(ty, o->aux) : NULL;
    uint64_t bucket = mt ? mt->bucket : 0;
    gh_otype b = {.rtype = bucket, .count = 1};
    int rc = 0;
    switch (o->syn) {
    case GH_SYN_HMAP: {
        uint8_t B;
        if (!bucket || gh_read_u8(ty->t, m->addr + 9, &B, NULL) || B > 40)
            return 0;
        if (!word(m, 16, &v) && (rc = emit(w, m->addr + 16, v, (gh_otype){.rtype = bucket, .count = 0}, 0)))
            return rc;
        if (!word(m, 24, &v) && (rc = emit(w, m->addr + 24, v, (gh_otype){.rtype = bucket, .count = 0}, 0)))
            return rc;
        uint64_t xo = ty->minor >= 24 ? 48 : 40; /* extra: after clearSeq from 1.24 */
        if (!word(m, xo, &v))
            rc = emit(w, m->addr + xo, v, (gh_otype){.syn = GH_SYN_MAPEXTRA, .aux = o->aux, .count = 1}, 24);
        return rc;
    }
    case GH_SYN_MAPEXTRA:
        for (uint64_t off = 0; off < 16 && !rc; off += 8)
            if (!word(m, off, &v))
                rc = emit(w, m->addr + off, v, (gh_otype){.syn = GH_SYN_OVFSLICE, .aux = o->aux, .count = 1}, 24);
        if (!rc && bucket && !word(m, 16, &v))
            rc = emit(w, m->addr + 16, v, b, 0);
        return rc;
    case GH_SYN_OVFSLICE:
        if (word(m, 0, &v) || word(m, 16, &x) || !x || x > (1u << 30))
            return 0;
        return emit(w, m->addr, v, (gh_otype){.syn = GH_SYN_OVFARRAY, .aux = o->aux, .count = x}, 8 * x);
    case GH_SYN_OVFARRAY:
        for (uint64_t off = 0; off + 8 <= m->size && off / 8 < o->count && !rc; off += 8)
            if (bucket && !word(m, off, &v))
                rc = emit(w, m->addr + off, v, b, 0);
        return rc;
    case GH_SYN_SWISSMAP:
        if (!bucket || word(m, 16, &v) || word(m, 24, &x))
            return 0;
        if (x == 0) /* a small map: dirPtr is its one group */
            return emit(w, m->addr + 16, v, b, 0);
        if (x > (1u << 30))
            return 0;
        return emit(w, m->addr + 16, v, (gh_otype){.syn = GH_SYN_DIRECTORY, .aux = o->aux, .count = x}, 8 * x);
    case GH_SYN_DIRECTORY:
        /* Tables repeat in the directory; each is typed once by the marker. */
        for (uint64_t off = 0; off + 8 <= m->size && off / 8 < o->count && !rc; off += 8)
            if (!word(m, off, &v))
                rc = emit(w, m->addr + off, v, (gh_otype){.syn = GH_SYN_TABLE, .aux = o->aux, .count = 1}, 32);
        return rc;
    case GH_SYN_TABLE:
        if (!bucket || word(m, 16, &v) || word(m, 24, &x) || x >= (1u << 30))
            return 0;
        return emit(w, m->addr + 16, v, (gh_otype){.rtype = bucket, .count = x + 1}, 0);
    case GH_SYN_HCHAN: {
        rinfo *ct = gh_types_rinfo(ty, o->aux);
        if (!ct || word(m, 8, &x) || word(m, 16, &v) || !x || x > (1u << 30))
            return 0;
        if (v >= m->addr && v < m->addr + m->size)
            return 0; /* pointer-free elements share the hchan's allocation */
        return emit(w, m->addr + 16, v, (gh_otype){.rtype = ct->elem, .count = x}, 0);
    }
    case GH_SYN_CLOSURE:
        return gh_types_walk_closure(ty, o->aux, m->addr, m->size, w->fn, w->ctx);
    default:
        return 0;
    }
}

int gh_types_walk(gh_types *ty, gh_tid id, uint64_t addr, uint64_t size, gh_hint_fn fn, void *ctx, gh_err *err)
{
    return gh_types_walk_at(ty, id, addr, size, NULL, fn, ctx, err);
}

int gh_types_walk_at(gh_types *ty, gh_tid id, uint64_t addr, uint64_t size, const uint8_t *host, gh_hint_fn fn,
                     void *ctx, gh_err *err)
{
    (void)err;
    const gh_otype *o = gh_types_get(ty, id);
    if (!o)
        return GH_OK;
    gh_otype ot = *o; /* the table may move while walking */
    walker w = {.ty = ty, .fn = fn, .ctx = ctx};
    mem m = {.ty = ty, .addr = addr, .size = size, .direct = host ? host : gh_direct(ty->t, addr, size)};
    if (ot.syn)
        return walk_syn(&w, &ot, &m);
    if (ot.rtype)
        return walk_values(&w, ot.rtype, ot.count ? ot.count : 1, &m);
    if (ot.die) {
        uint32_t n;
        const leaf *lv = gh_types_dwarf_leaves(ty, ot.die, &n);
        uint64_t es = gh_types_dwarf_size(ty, ot.die);
        if (!lv || !es)
            return GH_OK;
        for (uint64_t i = 0; i < (ot.count ? ot.count : 1) && (i + 1) * es <= size; i++) {
            int rc = walk_leaves(&w, lv, n, &m, i * es);
            if (rc)
                return rc;
        }
    }
    return GH_OK;
}

int gh_types_walk_value(gh_types *ty, uint64_t rtype, uint64_t die, uint64_t addr, uint64_t size, gh_hint_fn fn,
                        void *ctx, gh_err *err)
{
    (void)err;
    walker w = {.ty = ty, .fn = fn, .ctx = ctx};
    mem m = {.ty = ty, .addr = addr, .size = size, .direct = gh_direct(ty->t, addr, size)};
    if (!rtype && die)
        rtype = gh_types_dwarf_rtype(ty, die);
    if (rtype)
        return walk_values(&w, rtype, 1, &m);
    if (die) {
        uint32_t n;
        const leaf *lv = gh_types_dwarf_leaves(ty, die, &n);
        if (lv)
            return walk_leaves(&w, lv, n, &m, 0);
    }
    return GH_OK;
}

/* Exported for typewalk_dwarf.c: walks DWARF leaves over a region. */
int gh_types_walk_leaves(gh_types *ty, const leaf *lv, uint32_t n, uint64_t addr, uint64_t size, gh_hint_fn fn,
                         void *ctx)
{
    walker w = {.ty = ty, .fn = fn, .ctx = ctx};
    mem m = {.ty = ty, .addr = addr, .size = size, .direct = gh_direct(ty->t, addr, size)};
    return walk_leaves(&w, lv, n, &m, 0);
}

const char *gh_types_funcname(gh_types *ty, uint64_t pc, char *tmp, size_t cap)
{
    const gh_pclntab *tab = ty->env.tab;
    gh_func f;
    if (!tab || gh_func_find(tab, pc, &f, NULL)) {
        snprintf(tmp, cap, "0x%" PRIx64, pc);
        return tmp;
    }
    gh_funcname_for_print(gh_func_name(tab, &f), tmp, cap);
    return tmp;
}

/* --- field names --------------------------------------------------------- */

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

static void field_name(gh_types *ty, uint64_t nameaddr, char *out, size_t cap)
{
    gh_typenames *tn = ty->env.names;
    tn_name n;
    out[0] = 0;
    if (!tn || tn_read_name(tn, nameaddr, 0, &n, NULL) || n.name_len >= cap)
        return;
    if (gh_read(ty->t, n.name_addr, out, n.name_len, NULL))
        out[0] = 0;
    else
        out[n.name_len] = 0;
}

void gh_types_field_name(gh_types *ty, uint64_t nameaddr, char *out, size_t cap)
{
    field_name(ty, nameaddr, out, cap);
}

/* Appends the path to off inside a value of descriptor t. */
static void rpath(gh_types *ty, uint64_t t, uint64_t off, char *buf, size_t cap, int depth)
{
    rinfo *ri = gh_types_rinfo(ty, t);
    if (!ri || depth > GH_TYPES_MAX_DEPTH)
        return;
    switch (ri->r.kind) {
    case GH_KIND_ARRAY: {
        rinfo *el = gh_types_rinfo(ty, ri->elem);
        if (!el || !el->r.size)
            return;
        append(buf, cap, "[%" PRIu64 "]", off / el->r.size);
        rpath(ty, ri->elem, off % el->r.size, buf, cap, depth + 1);
        return;
    }
    case GH_KIND_STRUCT: {
        uint64_t best = UINT64_MAX, bestoff = 0, bestname = 0;
        for (uint32_t i = 0; i < ri->nfields; i++) {
            uint64_t name, ft, fo;
            if (gh_types_field_at(ty, ri, i, &name, &ft, &fo))
                return;
            rinfo *fi = gh_types_rinfo(ty, ft);
            if (fi && fi->r.size && fo <= off && off < fo + fi->r.size) { /* zero-size fields hold nothing */
                best = ft;
                bestoff = fo;
                bestname = name;
            }
        }
        if (best == UINT64_MAX)
            return;
        char name[256];
        field_name(ty, bestname, name, sizeof name);
        append(buf, cap, ".%s", name[0] ? name : "?");
        rpath(ty, best, off - bestoff, buf, cap, depth + 1);
        return;
    }
    case GH_KIND_SLICE:
    case GH_KIND_STRING:
    case GH_KIND_INTERFACE:
        if (off == 8 && ri->r.kind == GH_KIND_INTERFACE)
            append(buf, cap, ".(data)");
        return;
    default:
        return;
    }
}

void gh_types_value_field(gh_types *ty, uint64_t rtype, uint64_t die, uint64_t off, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!rtype && die)
        rtype = gh_types_dwarf_rtype(ty, die);
    if (rtype)
        rpath(ty, rtype, off, buf, cap, 0);
    else if (die)
        gh_types_dwarf_path(ty, die, off, buf, cap);
}

void gh_types_field(gh_types *ty, gh_tid id, uint64_t off, char *buf, size_t cap)
{
    buf[0] = 0;
    const gh_otype *o = gh_types_get(ty, id);
    if (!o)
        return;
    gh_otype ot = *o;
    static const char *const hmap_f[] = {"count", "flags", "buckets", "oldbuckets", "nevacuate", "extra", "extra"};
    switch (ot.syn) {
    case GH_SYN_NONE:
        break;
    case GH_SYN_HMAP:
        if (off / 8 < 7 && !(ty->minor >= 24 && off == 40))
            append(buf, cap, ".%s", hmap_f[off / 8]);
        return;
    case GH_SYN_MAPEXTRA:
        append(buf, cap, "%s", off == 0 ? ".overflow" : off == 8 ? ".oldoverflow" : ".nextOverflow");
        return;
    case GH_SYN_SWISSMAP:
        append(buf, cap, "%s", off == 16 ? ".dirPtr" : "");
        return;
    case GH_SYN_TABLE:
        append(buf, cap, "%s", off == 16 ? ".groups.data" : "");
        return;
    case GH_SYN_HCHAN:
        append(buf, cap, "%s", off == 16 ? ".buf" : "");
        return;
    case GH_SYN_DIRECTORY:
    case GH_SYN_OVFARRAY:
        append(buf, cap, "[%" PRIu64 "]", off / 8);
        return;
    case GH_SYN_CLOSURE:
        gh_types_closure_field(ty, ot.aux, off, buf, cap);
        return;
    default:
        return;
    }
    uint64_t es = gh_types_size(ty, &ot);
    if (!es)
        return;
    if (ot.count > 1) {
        append(buf, cap, "[%" PRIu64 "]", off / es);
        off %= es;
    }
    if (ot.rtype)
        rpath(ty, ot.rtype, off, buf, cap, 0);
    else if (ot.die)
        gh_types_dwarf_path(ty, ot.die, off, buf, cap);
}

static int iface_leaf(const leaf *lv, uint32_t n, uint64_t off)
{
    for (uint32_t k = 0; lv && k < n; k++)
        if ((lv[k].kind == L_EFACE || lv[k].kind == L_IFACE) && lv[k].off + 8 == off)
            return lv[k].kind == L_EFACE ? GH_IFACE_EMPTY : GH_IFACE_ITAB;
    return 0;
}

int gh_types_iface_at(gh_types *ty, gh_tid id, uint64_t rtype, uint64_t die, uint64_t off)
{
    uint32_t n = 0;
    const leaf *lv = NULL;
    if (id) {
        const gh_otype *o = gh_types_get(ty, id);
        if (!o)
            return 0;
        if (o->syn == GH_SYN_CLOSURE)
            return iface_leaf(gh_types_closure_leaves(ty, o->aux, &n), n, off);
        if (o->syn != GH_SYN_NONE)
            return 0;
        uint64_t es = gh_types_size(ty, o);
        if (!es)
            return 0;
        off %= es; /* an array of count values: any of them */
        rtype = o->rtype;
        die = o->die;
    }
    if (rtype)
        lv = leaves_of(ty, rtype, &n);
    else if (die)
        lv = gh_types_dwarf_leaves(ty, die, &n);
    return iface_leaf(lv, n, off);
}

uint64_t gh_types_field_rtype(gh_types *ty, gh_tid id, uint64_t off)
{
    const gh_otype *o = gh_types_get(ty, id);
    if (!o || o->syn != GH_SYN_NONE || !o->rtype)
        return 0;
    uint64_t t = o->rtype, es = gh_types_size(ty, o);
    if (!es)
        return 0;
    off %= es; /* an array of count values: any of them */
    for (int depth = 0; depth <= GH_TYPES_MAX_DEPTH; depth++) {
        rinfo *ri = gh_types_rinfo(ty, t);
        if (!ri)
            return 0;
        if (ri->r.kind == GH_KIND_ARRAY) {
            rinfo *el = gh_types_rinfo(ty, ri->elem);
            if (!el || !el->r.size)
                return t;
            t = ri->elem;
            off %= el->r.size;
        } else if (ri->r.kind == GH_KIND_STRUCT) {
            uint64_t next = 0, at = 0;
            for (uint32_t i = 0; i < ri->nfields; i++) {
                uint64_t name, ft, fo;
                if (gh_types_field_at(ty, ri, i, &name, &ft, &fo))
                    return 0;
                rinfo *fi = gh_types_rinfo(ty, ft);
                if (fi && fi->r.size && fo <= off && off < fo + fi->r.size)
                    next = ft, at = fo;
            }
            if (!next)
                return 0; /* padding */
            t = next;
            off -= at;
        } else {
            return t;
        }
    }
    return 0;
}

int gh_types_walk_funcval(gh_types *ty, uint64_t word_addr, gh_hint_fn fn, void *ctx)
{
    static const leaf l = {.kind = L_FUNC};
    return gh_types_walk_leaves(ty, &l, 1, word_addr, 8, fn, ctx);
}
