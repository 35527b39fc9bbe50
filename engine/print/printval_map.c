/* The entries of a map for print, in both implementations. Where keys and
 * elems sit in a bucket or group is read from the bucket's (group's)
 * descriptor, a struct the compiler made: classic buckets are {topbits
 * [8]uint8; keys [8]K; elems [8]V; overflow}, Swiss groups {ctrl uint64;
 * slots [8]struct{key K; elem V}} (or keys and elems arrays). A key or elem
 * stored out of line (over 128 bytes) has a slot of type *K (*V) there. */
#include "print/printval.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "types/gotype_int.h"

#define MAX_BUCKETS (UINT64_C(1) << 22) /* buckets or groups read for one map */
#define MAX_DIR (UINT64_C(1) << 24)     /* directory entries of a Swiss map */

typedef struct glayout {
    uint64_t size;                  /* bytes of one bucket or group */
    uint64_t ctrl_off;              /* topbits / ctrl */
    uint64_t key_off, key_stride;   /* slot i's key at key_off + i * key_stride */
    uint64_t elem_off, elem_stride;
    uint64_t overflow_off;          /* classic: the overflow pointer; 0 none */
    uint64_t key, elem;             /* the map's key and elem descriptors */
    int key_ind, elem_ind;          /* slots hold *K / *V */
} glayout;

typedef struct mwalk {
    pv_ctx *c;
    pv_node *n;
    glayout L;
    int depth;
    uint64_t shown, visited;
    int done;  /* enough shown, out of budget, or an error */
    pv_map_fn each; /* pv_map_each: called per entry instead of building nodes */
    void *ectx;
    int stopped;    /* each returned non-zero */
} mwalk;

static int rd64(pv_ctx *c, uint64_t a, uint64_t *v) { return gh_read_u64(pv_target(c), a, v, NULL); }

/* The field named name of struct descriptor st: its offset and type. */
static int field(pv_ctx *c, uint64_t st, const char *name, uint64_t *off, uint64_t *typ)
{
    rinfo *ri = gh_types_rinfo(c->ty, st);
    if (!ri || ri->r.kind != GH_KIND_STRUCT)
        return -1;
    uint32_t nf = ri->nfields;
    for (uint32_t i = 0; i < nf; i++) {
        uint64_t na;
        char fn[32];
        ri = gh_types_rinfo(c->ty, st);
        if (!ri || gh_types_field_at(c->ty, ri, i, &na, typ, off))
            return -1;
        gh_types_field_name(c->ty, na, fn, sizeof fn);
        if (!strcmp(fn, name))
            return 0;
    }
    return -1;
}

/* Elem and size of an array descriptor. */
static int array_of(pv_ctx *c, uint64_t at, uint64_t *elem, uint64_t *esize)
{
    rinfo *ri = gh_types_rinfo(c->ty, at);
    if (!ri || ri->r.kind != GH_KIND_ARRAY)
        return -1;
    *elem = ri->elem;
    rinfo *ei = gh_types_rinfo(c->ty, *elem);
    if (!ei)
        return -1;
    *esize = ei->r.size;
    return 0;
}

/* Whether slot type st holds want directly (0), through a pointer (1), or neither (-1). */
static int indirect(pv_ctx *c, uint64_t st, uint64_t want)
{
    if (st == want)
        return 0;
    rinfo *ri = gh_types_rinfo(c->ty, st);
    return ri && ri->r.kind == GH_KIND_POINTER && ri->elem == want ? 1 : -1;
}

/* The layout of bucket or group descriptor group; with slot_types set, the
 * key and elem types are the slots' own (no map descriptor to say whether
 * they are stored out of line). */
static int group_layout(pv_ctx *c, uint64_t group, glayout *L, int slot_types, const char **why);

static int layout(pv_ctx *c, uint64_t maptype, glayout *L, const char **why)
{
    memset(L, 0, sizeof *L);
    rinfo *mi = gh_types_rinfo(c->ty, maptype);
    if (!mi || mi->r.kind != GH_KIND_MAP || !mi->bucket) {
        *why = "unreadable map type";
        return -1;
    }
    L->key = mi->key;
    L->elem = mi->elem;
    return group_layout(c, mi->bucket, L, 0, why);
}

static int group_layout(pv_ctx *c, uint64_t group, glayout *L, int slot_types, const char **why)
{
    rinfo *gi = gh_types_rinfo(c->ty, group);
    if (!gi || gi->r.kind != GH_KIND_STRUCT || !gi->r.size) {
        *why = "unreadable bucket type";
        return -1;
    }
    L->size = gi->r.size;
    uint64_t off, typ, kt, vt, e, es;
    if (!field(c, group, "slots", &off, &typ)) { /* Swiss: slots [8]struct{key; elem} */
        uint64_t ko, vo;
        if (field(c, group, "ctrl", &L->ctrl_off, &e) || array_of(c, typ, &e, &es) ||
            field(c, e, "key", &ko, &kt) || field(c, e, "elem", &vo, &vt)) {
            *why = "unexpected group layout";
            return -1;
        }
        L->key_off = off + ko;
        L->elem_off = off + vo;
        L->key_stride = L->elem_stride = es;
    } else { /* classic buckets, or groups with key and elem arrays */
        uint64_t ko, vo, ka, va;
        if ((field(c, group, "topbits", &L->ctrl_off, &e) && field(c, group, "ctrl", &L->ctrl_off, &e)) ||
            field(c, group, "keys", &ko, &ka) || field(c, group, "elems", &vo, &va) ||
            array_of(c, ka, &kt, &L->key_stride) || array_of(c, va, &vt, &L->elem_stride)) {
            *why = "unexpected bucket layout";
            return -1;
        }
        L->key_off = ko;
        L->elem_off = vo;
        if (!field(c, group, "overflow", &off, &e))
            L->overflow_off = off;
    }
    if (slot_types) {
        L->key = kt;
        L->elem = vt;
    }
    L->key_ind = indirect(c, kt, L->key);
    L->elem_ind = indirect(c, vt, L->elem);
    if (L->key_ind < 0 || L->elem_ind < 0) {
        *why = "bucket slots of unexpected types";
        return -1;
    }
    return 0;
}

/* A key or elem of type t stored at addr (or behind the pointer there). */
static void slot_value(mwalk *w, pv_node *k, uint64_t t, int ind, uint64_t addr)
{
    if (ind) {
        uint64_t p;
        if (rd64(w->c, addr, &p) || !p) {
            pv_error(k, "unreadable out-of-line slot at 0x%" PRIx64, addr);
            return;
        }
        addr = p;
    }
    pv_value(w->c, k, (pv_tref){t, 0}, addr, w->depth + 1);
}

/* Where a key or elem is: in the slot, or behind the pointer there; 0 unreadable. */
static uint64_t slot_addr(mwalk *w, int ind, uint64_t addr)
{
    uint64_t p;
    if (!ind)
        return addr;
    return rd64(w->c, addr, &p) ? 0 : p;
}

static void entry(mwalk *w, uint64_t group, uint64_t i)
{
    if (w->each) {
        uint64_t k = slot_addr(w, w->L.key_ind, group + w->L.key_off + i * w->L.key_stride);
        uint64_t v = slot_addr(w, w->L.elem_ind, group + w->L.elem_off + i * w->L.elem_stride);
        if (k && v && w->each(w->ectx, k, v))
            w->done = w->stopped = 1;
        return;
    }
    pv_node *k = pv_kid(w->c, w->n), *v = k ? pv_kid(w->c, w->n) : NULL;
    if (!k || !v) {
        if (k)
            pv_error(k, "out of nodes");
        w->done = 1;
        return;
    }
    slot_value(w, k, w->L.key, w->L.key_ind, group + w->L.key_off + i * w->L.key_stride);
    slot_value(w, v, w->L.elem, w->L.elem_ind, group + w->L.elem_off + i * w->L.elem_stride);
    if (++w->shown >= w->c->o.elems)
        w->done = 1;
}

int pv_map_slot_key(pv_ctx *c, uint64_t group, uint64_t obj, uint64_t word, pv_node *k, int *is_key,
                    int *out_of_line)
{
    glayout L;
    const char *why;
    memset(&L, 0, sizeof L);
    if (word < obj || group_layout(c, group, &L, 1, &why) || !L.size)
        return 0;
    uint64_t r = word - obj, base = obj + r / L.size * L.size, o = r % L.size;
    rinfo *ki = gh_types_rinfo(c->ty, L.key), *vi = gh_types_rinfo(c->ty, L.elem);
    uint64_t ksize = L.key_ind ? 8 : ki ? ki->r.size : 0, vsize = L.elem_ind ? 8 : vi ? vi->r.size : 0;
    uint64_t slot;
    if (o >= L.elem_off && L.elem_stride && (o - L.elem_off) / L.elem_stride < 8 &&
        (o - L.elem_off) % L.elem_stride < vsize) {
        slot = (o - L.elem_off) / L.elem_stride;
        *is_key = 0;
    } else if (o >= L.key_off && L.key_stride && (o - L.key_off) / L.key_stride < 8 &&
               (o - L.key_off) % L.key_stride < ksize) {
        slot = (o - L.key_off) / L.key_stride;
        *is_key = 1;
    } else {
        return 0;
    }
    mwalk w = {.c = c, .n = k, .L = L, .depth = 0};
    if (out_of_line) {
        /* A key over 128 bytes sits behind a *K slot in the runtime's group;
         * the group's name (map.group[K]V, map.bucket[K]V) still says K,
         * where a pointer key says *K. */
        char tmp[256];
        const char *gn = pv_type_name(c, (pv_tref){group, 0}, tmp, sizeof tmp), *open = gn ? strchr(gn, '[') : NULL;
        *out_of_line = L.key_ind || (ki && ki->r.kind == GH_KIND_POINTER && open && open[1] != '*');
    }
    slot_value(&w, k, L.key, L.key_ind, base + L.key_off + slot * L.key_stride);
    return k->kind != PV_ERROR;
}

/* --- Swiss ------------------------------------------------------------------------ */

static void group(mwalk *w, uint64_t g)
{
    uint64_t ctrl;
    if (w->done || ++w->visited > MAX_BUCKETS || gh_cancelled(w->c->cc)) {
        w->done = 1;
        return;
    }
    if (rd64(w->c, g + w->L.ctrl_off, &ctrl)) {
        pv_error(w->n, "unreadable group at 0x%" PRIx64, g);
        w->done = 1;
        return;
    }
    for (uint64_t i = 0; i < 8 && !w->done; i++)
        if (!((ctrl >> (8 * i)) & 0x80)) /* 0x00-0x7f: full; 0x80 empty, 0xfe deleted */
            entry(w, g, i);
}

static void table(mwalk *w, uint64_t t)
{
    uint64_t data, mask;
    if (rd64(w->c, t + 16, &data) || rd64(w->c, t + 24, &mask) || mask >= MAX_BUCKETS) {
        pv_error(w->n, "unreadable maps.table at 0x%" PRIx64, t);
        w->done = 1;
        return;
    }
    for (uint64_t g = 0; g <= mask && !w->done; g++)
        group(w, data + g * w->L.size);
}

/* --- classic ----------------------------------------------------------------------- */

enum { MIN_TOPHASH = 5, SAME_SIZE_GROW = 8 };

static void bucket_chain(mwalk *w, uint64_t b)
{
    while (b && !w->done) {
        uint8_t top[8];
        if (++w->visited > MAX_BUCKETS || gh_cancelled(w->c->cc)) {
            w->done = 1;
            return;
        }
        if (gh_read(pv_target(w->c), b + w->L.ctrl_off, top, 8, NULL)) {
            pv_error(w->n, "unreadable bucket at 0x%" PRIx64, b);
            w->done = 1;
            return;
        }
        for (uint64_t i = 0; i < 8 && !w->done; i++)
            if (top[i] >= MIN_TOPHASH) /* below: empty, or evacuated to the new buckets */
                entry(w, b, i);
        if (!w->L.overflow_off || rd64(w->c, b + w->L.overflow_off, &b))
            return;
    }
}

static void classic(mwalk *w, uint64_t hdr)
{
    uint8_t flags, B;
    uint64_t buckets, old;
    if (gh_read_u8(pv_target(w->c), hdr + 8, &flags, NULL) || gh_read_u8(pv_target(w->c), hdr + 9, &B, NULL) ||
        rd64(w->c, hdr + 16, &buckets) || rd64(w->c, hdr + 24, &old) || B > 40) {
        pv_error(w->n, "unreadable runtime.hmap at 0x%" PRIx64, hdr);
        return;
    }
    /* During growth, old buckets not yet evacuated still hold their entries
     * (evacuated cells are marked below MIN_TOPHASH), so both are read. */
    uint64_t nb = UINT64_C(1) << B, nold = old ? (flags & SAME_SIZE_GROW || !B ? nb : nb / 2) : 0;
    for (uint64_t i = 0; i < nb && buckets && !w->done; i++)
        bucket_chain(w, buckets + i * w->L.size);
    for (uint64_t i = 0; i < nold && !w->done; i++)
        bucket_chain(w, old + i * w->L.size);
}

/* --- entry points -------------------------------------------------------------------- */

static int start(pv_ctx *c, pv_node *n, uint64_t maptype, uint64_t addr, int depth, mwalk *w)
{
    memset(w, 0, sizeof *w);
    w->c = c;
    w->n = n;
    w->depth = depth;
    n->kind = PV_MAP;
    n->addr = addr;
    if (!n->type) {
        char tmp[128];
        pv_set_type(n, pv_type_name(c, (pv_tref){maptype, 0}, tmp, sizeof tmp));
    }
    const char *why;
    if (layout(c, maptype, &w->L, &why)) {
        pv_error(n, "%s", why);
        return -1;
    }
    return 0;
}

/* Every entry of the map whose header is at hdr (n->len its count). */
static void walk(mwalk *w, uint64_t hdr)
{
    pv_ctx *c = w->c;
    pv_node *n = w->n;
    if (!c->ty->swiss) {
        classic(w, hdr);
        return;
    }
    uint64_t dir, dirlen;
    if (rd64(c, hdr + 16, &dir) || rd64(c, hdr + 24, &dirlen) || dirlen > MAX_DIR) {
        pv_error(n, "unreadable maps.Map at 0x%" PRIx64, hdr);
        return;
    }
    if (!dirlen) { /* a small map: dirPtr is its one group */
        if (dir)
            group(w, dir);
        return;
    }
    uint64_t prev = 0;
    for (uint64_t i = 0; i < dirlen && !w->done; i++) {
        uint64_t t;
        if (rd64(c, dir + 8 * i, &t)) {
            pv_error(n, "unreadable map directory at 0x%" PRIx64, dir);
            return;
        }
        if (t && t != prev) /* a table spans consecutive directory entries */
            table(w, t);
        prev = t;
    }
}

void pv_map(pv_ctx *c, pv_node *n, uint64_t maptype, uint64_t hdr, int depth)
{
    mwalk w;
    if (start(c, n, maptype, hdr, depth, &w))
        return;
    uint64_t count;
    if (rd64(c, hdr, &count)) {
        pv_error(n, "unreadable map header at 0x%" PRIx64, hdr);
        return;
    }
    n->len = count;
    if (depth >= c->o.depth) {
        n->elided = 1;
        return;
    }
    if (!count || !c->o.elems)
        return;
    walk(&w, hdr);
}

int pv_map_each(pv_ctx *c, uint64_t maptype, uint64_t hdr, pv_map_fn fn, void *ctx, uint64_t *key, uint64_t *elem,
                char *why, size_t cap)
{
    pv_node n;
    memset(&n, 0, sizeof n);
    mwalk w;
    int rc = -1;
    *key = *elem = 0;
    if (!start(c, &n, maptype, hdr, 0, &w)) {
        w.each = fn;
        w.ectx = ctx;
        uint64_t count;
        if (rd64(c, hdr, &count))
            pv_error(&n, "unreadable map header at 0x%" PRIx64, hdr);
        else if (count)
            walk(&w, hdr);
        if (n.kind != PV_ERROR && w.done && !w.stopped) /* never a silent partial search */
            pv_error(&n, gh_cancelled(c->cc) ? "interrupted" : "more than %" PRIu64 " buckets or groups: not searched to the end",
                     MAX_BUCKETS);
        if (n.kind != PV_ERROR) {
            rc = 0;
            *key = w.L.key;
            *elem = w.L.elem;
        }
    }
    snprintf(why, cap, "%s", n.kind == PV_ERROR && n.text ? n.text : "");
    pv_clear(&n);
    return rc;
}

void pv_map_table(pv_ctx *c, pv_node *n, uint64_t maptype, uint64_t t, int depth)
{
    mwalk w;
    if (start(c, n, maptype, t, depth, &w))
        return;
    uint16_t used;
    if (gh_read_u16(pv_target(c), t, &used, NULL)) {
        pv_error(n, "unreadable maps.table at 0x%" PRIx64, t);
        return;
    }
    n->len = used;
    if (depth >= c->o.depth) {
        n->elided = 1;
        return;
    }
    if (used && c->o.elems)
        table(&w, t);
}
