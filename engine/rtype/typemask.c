/* Pointer masks of type descriptors: GCData bitmaps, GC programs, 1.24+ on-demand masks. */
#include "rtype/typemask.h"

#include "base/hmap.h"
#include "base/vec.h"

#include <stdlib.h>
#include <string.h>

#include "base/bits.h"
#include "rtype/gcprog.h"
#include "binary/goversion.h"

/* Work units (descriptor reads, fields, 64-bit chunks copied) one query may
 * spend: a hostile type graph fails instead of stalling the session. */
#define WORK_BUDGET (UINT64_C(1) << 25)
/* A GC program longer than this many bytes per emitted bit is not from the
 * compiler (a literal costs at most 2 bytes per bit, a repeat less). */
#define PROG_MAX_BYTES (UINT64_C(64) << 20)

/* Field offsets within abi.ArrayType and abi.StructType (all releases). */
enum { ARRAY_ELEM = 48, ARRAY_LEN = 64, STRUCT_FIELDS = 56, FIELD_SIZE = 24, FIELD_TYP = 8,
       FIELD_OFFSET = 16 };

enum { E_BUSY = 1, E_OK, E_FAIL };

typedef struct entry {
    uint64_t key;
    int state;
    int code;
    gh_ptrmask *m; /* E_OK: the mask, bits allocated with it */
    char *msg;     /* E_FAIL: the message */
} entry;

struct gh_typemask_cache {
    const gh_target *t;
    int go_minor;
    uint64_t inprogress;
    uint64_t gen;
    entry *v;      /* in the order asked */
    size_t n, cap;
    gh_hmap index; /* type address -> index into v */
    uint64_t bytes; /* mask bytes held */
    uint64_t work;  /* units left in the current query */
};

static uint64_t generation(const gh_target *t)
{
    return t->ops->generation ? t->ops->generation(t->ctx) : 0;
}

gh_typemask_cache *gh_typemask_cache_new(const gh_target *t, int go_minor)
{
    gh_typemask_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    c->go_minor = go_minor;
    c->gen = generation(t);
    return c;
}

static void clear(gh_typemask_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].m);
        free(c->v[i].msg);
    }
    gh_hmap_free(&c->index);
    c->n = 0;
    c->bytes = 0;
}

void gh_typemask_cache_free(gh_typemask_cache *c)
{
    if (!c)
        return;
    clear(c);
    free(c->v);
    free(c);
}

void gh_typemask_cache_set_inprogress(gh_typemask_cache *c, uint64_t addr)
{
    c->inprogress = addr;
}

/* The entry of key, or NULL. */
static entry *find(const gh_typemask_cache *c, uint64_t key)
{
    const uint64_t *i = gh_hmap_get(&c->index, key);
    return i ? &c->v[*i] : NULL;
}

static int spend(gh_typemask_cache *c, uint64_t units, uint64_t addr, gh_err *err)
{
    if (units > c->work)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: type graph too large to build a mask",
                         (unsigned long long)addr);
    c->work -= units;
    return GH_OK;
}

static int get(gh_typemask_cache *c, uint64_t addr, int depth, const gh_ptrmask **out, gh_err *err);

/* Clears the bits past nwords in the last byte: a shared GCData mask may
 * belong to a longer type. */
static void trim(uint8_t *bits, uint64_t nwords)
{
    if (nwords & 7)
        bits[nwords >> 3] &= (uint8_t)((1u << (nwords & 7)) - 1);
}

/* 1.22-1.23: GCData is a 4-byte length and a GC program. */
static int run_prog(gh_typemask_cache *c, const gh_rtype *rt, uint8_t *bits, uint64_t nwords,
                    gh_err *err)
{
    uint32_t len;
    int rc = gh_read_u32(c->t, rt->gcdata, &len, err);
    if (rc != GH_OK)
        return rc;
    if (len > 2 * nwords + 64 || len > PROG_MAX_BYTES)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: GC program of %u bytes for %llu words",
                         (unsigned long long)rt->addr, len, (unsigned long long)nwords);
    if ((rc = spend(c, len / 8 + nwords / 64 + 1, rt->addr, err)) != GH_OK)
        return rc;
    const uint8_t *prog = gh_direct(c->t, rt->gcdata + 4, len);
    uint8_t *copy = NULL;
    if (!prog) {
        if (!(copy = malloc(len ? len : 1)))
            return gh_errorf(err, GH_ENOMEM, "out of memory for a %u-byte GC program", len);
        if ((rc = gh_read(c->t, rt->gcdata + 4, copy, len, err)) != GH_OK) {
            free(copy);
            return rc;
        }
        prog = copy;
    }
    uint64_t nbits;
    rc = gh_gcprog_run(prog, len, bits, nwords, &nbits, err);
    free(copy);
    if (rc != GH_OK)
        return gh_err_wrap(err, "type at 0x%llx", (unsigned long long)rt->addr);
    return GH_OK;
}

/* Copies a child's mask to bit off of a parent's mask of nwords bits. */
static int place(gh_typemask_cache *c, const gh_rtype *rt, uint8_t *dst, uint64_t nwords,
                 uint64_t off, const gh_ptrmask *m, gh_err *err)
{
    if (off > nwords || m->nwords > nwords - off)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: part at word %llu overruns its %llu "
                         "pointer words", (unsigned long long)rt->addr, (unsigned long long)off,
                         (unsigned long long)nwords);
    int rc = spend(c, m->nwords / 64 + 1, rt->addr, err);
    if (rc == GH_OK)
        gh_bits_copy(dst, off, m->bits, 0, m->nwords);
    return rc;
}

/* runtime.buildGCMask for an array: the element's mask Len times. */
static int build_array(gh_typemask_cache *c, const gh_rtype *rt, uint8_t *dst, uint64_t nwords,
                       int depth, gh_err *err)
{
    uint64_t elem, len;
    const gh_ptrmask *em;
    int rc = gh_read_u64(c->t, rt->addr + ARRAY_ELEM, &elem, err);
    if (rc == GH_OK)
        rc = gh_read_u64(c->t, rt->addr + ARRAY_LEN, &len, err);
    if (rc == GH_OK)
        rc = get(c, elem, depth + 1, &em, err);
    if (rc != GH_OK)
        return rc;
    /* PtrBytes of [Len]E is (Len-1)*E.Size_ + E.PtrBytes. */
    if (em->nwords == 0 || em->nwords > nwords || len == 0 || len - 1 > (nwords - em->nwords) / em->stride)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: array of %llu elements of %llu words "
                         "does not fit %llu pointer words", (unsigned long long)rt->addr,
                         (unsigned long long)len, (unsigned long long)em->stride,
                         (unsigned long long)nwords);
    if ((rc = place(c, rt, dst, nwords, 0, em, err)) != GH_OK)
        return rc;
    if (len > 1) {
        /* Element 0 and its scalar tail form one period; repeat it. */
        uint64_t rest = (len - 2) * em->stride + em->nwords;
        if ((rc = spend(c, rest / 64 + 1, rt->addr, err)) != GH_OK)
            return rc;
        gh_bits_repeat(dst, em->stride, em->stride, rest);
    }
    return GH_OK;
}

/* runtime.buildGCMask for a struct: each pointerful field's mask at its offset. */
static int build_struct(gh_typemask_cache *c, const gh_rtype *rt, uint8_t *dst, uint64_t nwords,
                        int depth, gh_err *err)
{
    uint64_t fields, nfields;
    int rc = gh_read_u64(c->t, rt->addr + STRUCT_FIELDS, &fields, err);
    if (rc == GH_OK)
        rc = gh_read_u64(c->t, rt->addr + STRUCT_FIELDS + 8, &nfields, err);
    if (rc != GH_OK)
        return rc;
    if (nfields > UINT64_MAX / FIELD_SIZE)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: %llu fields",
                         (unsigned long long)rt->addr, (unsigned long long)nfields);
    for (uint64_t i = 0; i < nfields; i++) {
        uint8_t f[FIELD_SIZE];
        uint64_t typ, off, ptrbytes;
        const gh_ptrmask *fm;
        if ((rc = spend(c, 1, rt->addr, err)) != GH_OK ||
            (rc = gh_read(c->t, fields + i * FIELD_SIZE, f, sizeof f, err)) != GH_OK)
            return rc;
        memcpy(&typ, f + FIELD_TYP, 8);
        memcpy(&off, f + FIELD_OFFSET, 8);
        /* Pointer-free fields are skipped before their type is looked at. */
        if ((rc = gh_read_u64(c->t, typ + 8, &ptrbytes, err)) != GH_OK)
            return rc;
        if (ptrbytes == 0)
            continue;
        if (off % 8)
            return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: field %llu with pointers at "
                             "offset %llu", (unsigned long long)rt->addr, (unsigned long long)i,
                             (unsigned long long)off);
        if ((rc = get(c, typ, depth + 1, &fm, err)) != GH_OK ||
            (rc = place(c, rt, dst, nwords, off / 8, fm, err)) != GH_OK)
            return rc;
    }
    return GH_OK;
}

/* 1.24+: the mask the runtime built, or one built the same way. */
static int on_demand(gh_typemask_cache *c, const gh_rtype *rt, uint8_t *bits, uint64_t nwords,
                     int depth, gh_err *err)
{
    uint64_t p;
    int rc = gh_read_u64(c->t, rt->gcdata, &p, err);
    if (rc != GH_OK)
        return gh_err_wrap(err, "type at 0x%llx: on-demand mask slot",
                           (unsigned long long)rt->addr);
    if (p != 0 && p != c->inprogress) {
        if (gh_read(c->t, p, bits, (size_t)((nwords + 7) / 8), NULL) == GH_OK)
            return GH_OK;
        /* Unreadable (not in the dump): build it instead. */
        memset(bits, 0, (size_t)((nwords + 7) / 8));
    }
    switch (rt->kind) {
    case GH_KIND_ARRAY:
        return build_array(c, rt, bits, nwords, depth, err);
    case GH_KIND_STRUCT:
        return build_struct(c, rt, bits, nwords, depth, err);
    default:
        /* The runtime throws "unexpected kind" here. */
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: on-demand mask for kind %u",
                         (unsigned long long)rt->addr, rt->kind);
    }
}

static int compute(gh_typemask_cache *c, uint64_t addr, int depth, gh_ptrmask **out, gh_err *err)
{
    gh_rtype rt;
    int rc = spend(c, 1, addr, err);
    if (rc == GH_OK)
        rc = gh_rtype_read(c->t, c->go_minor, addr, &rt, err);
    if (rc != GH_OK)
        return rc;
    if (rt.ptrbytes % 8 || rt.ptrbytes > rt.size || (rt.ptrbytes && rt.size % 8))
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: PtrBytes %llu with Size_ %llu",
                         (unsigned long long)addr, (unsigned long long)rt.ptrbytes,
                         (unsigned long long)rt.size);
    uint64_t nwords = rt.ptrbytes / 8, nbytes = (nwords + 7) / 8;
    if (nwords > GH_TYPEMASK_MAX_WORDS)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: %llu pointer words is too many",
                         (unsigned long long)addr, (unsigned long long)nwords);
    if (nbytes > GH_TYPEMASK_MAX_BYTES - c->bytes)
        return gh_errorf(err, GH_ENOMEM, "type at 0x%llx: type masks exceed %llu MiB",
                         (unsigned long long)addr,
                         (unsigned long long)(GH_TYPEMASK_MAX_BYTES >> 20));
    if (nwords && !rt.gcdata)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx has pointers but no GCData",
                         (unsigned long long)addr);
    gh_ptrmask *m = calloc(1, sizeof *m + nbytes);
    if (!m)
        return gh_errorf(err, GH_ENOMEM, "out of memory for a mask of %llu words",
                         (unsigned long long)nwords);
    uint8_t *bits = (uint8_t *)(m + 1);
    *m = (gh_ptrmask){.type = addr, .size = rt.size, .stride = rt.size / 8, .nwords = nwords,
                      .bits = nwords ? bits : NULL};
    if (nwords == 0)
        rc = GH_OK;
    else if (c->go_minor <= 23 && rt.gcprog)
        rc = run_prog(c, &rt, bits, nwords, err);
    else if (c->go_minor >= 24 && (rt.tflag & GH_TFLAG_GCMASKONDEMAND))
        rc = on_demand(c, &rt, bits, nwords, depth, err);
    else if ((rc = spend(c, nbytes / 8 + 1, addr, err)) == GH_OK &&
             (rc = gh_read(c->t, rt.gcdata, bits, (size_t)nbytes, err)) != GH_OK)
        gh_err_wrap(err, "type at 0x%llx: GCData", (unsigned long long)addr);
    if (rc != GH_OK) {
        free(m);
        return rc;
    }
    if (nwords)
        trim(bits, nwords);
    c->bytes += nbytes;
    *out = m;
    return GH_OK;
}

static int get(gh_typemask_cache *c, uint64_t addr, int depth, const gh_ptrmask **out, gh_err *err)
{
    entry *e = find(c, addr);
    if (e && e->state == E_OK) {
        *out = e->m;
        return GH_OK;
    }
    if (e && e->state == E_FAIL)
        return gh_errorf(err, e->code, "%s", e->msg ? e->msg : "type mask failed before");
    if (e)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx contains itself",
                         (unsigned long long)addr);
    if (depth > GH_TYPEMASK_MAX_DEPTH)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: types nested over %d deep",
                         (unsigned long long)addr, GH_TYPEMASK_MAX_DEPTH);
    if (c->n >= GH_TYPEMASK_MAX_TYPES)
        return gh_errorf(err, GH_ENOMEM, "type mask cache full (%u types)", GH_TYPEMASK_MAX_TYPES);
    int rc;
    size_t at = c->n;
    if (gh_grow(&c->v, &c->cap, at + 1, sizeof *c->v) || gh_hmap_put(&c->index, addr, at))
        return gh_errorf(err, GH_ENOMEM, "type mask cache: out of memory");
    c->v[at] = (entry){.key = addr, .state = E_BUSY};
    c->n++;

    gh_err local;
    gh_err_clear(&local);
    gh_ptrmask *m = NULL;
    rc = compute(c, addr, depth, &m, &local);
    e = &c->v[at]; /* children may have moved the array */
    if (rc == GH_OK) {
        e->state = E_OK;
        e->m = m;
        *out = m;
        return GH_OK;
    }
    e->state = E_FAIL;
    e->code = rc;
    e->msg = strdup(local.msg); /* NULL on failure: then the code alone is kept */
    return gh_errorf(err, rc, "%s", local.msg);
}

int gh_typemask_get(gh_typemask_cache *c, uint64_t type_addr, const gh_ptrmask **out,
                    gh_err *err)
{
    if (c->go_minor < GH_GO_MINOR_MIN)
        return gh_errorf(err, GH_EVERSION, "type masks need Go 1.22 or newer, not 1.%d",
                         c->go_minor);
    if (type_addr == 0)
        return gh_errorf(err, GH_EARG, "type mask of a nil type");
    uint64_t gen = generation(c->t);
    if (gen != c->gen) {
        /* A live process ran: unrolled and reflect-made types may be gone. */
        clear(c);
        c->gen = gen;
    }
    c->work = WORK_BUDGET;
    return get(c, type_addr, 0, out, err);
}
