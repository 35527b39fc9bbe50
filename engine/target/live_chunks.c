/* Copies of a live process's memory in 1 MiB chunks, made on first touch
 * (see live_chunks.h). Lock-free: a chunk is published with a
 * compare-and-swap, and a thread that lost the race frees its own copy. */
#include "target/live_chunks.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct chunk {
    uint64_t valid; /* bytes readable from the chunk's start */
    uint64_t len;   /* bytes the chunk covers (less at a region's end) */
    uint8_t data[];
} chunk;

/* Stands for a chunk nothing of which can be read (valid 0). */
static chunk unreadable;

typedef struct creg {
    uint64_t start, end;
    _Atomic(chunk *) *chunks; /* per GH_CHUNK_SIZE from start */
    size_t n;
} creg;

struct gh_chunks {
    int fd;
    creg *r;
    size_t nr;
    _Atomic size_t last;      /* the region found last */
    _Atomic uint64_t bytes;   /* held in copies */
    uint64_t budget;
};

gh_chunks *gh_chunks_new(int fd, const gh_region *regions, size_t n, uint64_t budget)
{
    gh_chunks *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    if (!budget) {
        long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
        budget = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize / 2 : UINT64_C(1) << 32;
    }
    c->budget = budget;
    c->r = calloc(n ? n : 1, sizeof *c->r);
    if (!c->r) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const gh_region *g = &regions[i];
        if (!(g->prot & GH_PROT_R) || g->end <= g->start)
            continue;
        creg *r = &c->r[c->nr];
        r->start = g->start;
        r->end = g->end;
        r->n = (size_t)((g->end - g->start + GH_CHUNK_SIZE - 1) / GH_CHUNK_SIZE);
        r->chunks = calloc(r->n, sizeof *r->chunks);
        if (!r->chunks) {
            gh_chunks_free(c);
            return NULL;
        }
        c->nr++;
    }
    return c;
}

void gh_chunks_free(gh_chunks *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nr; i++) {
        for (size_t k = 0; k < c->r[i].n; k++) {
            chunk *ch = atomic_load(&c->r[i].chunks[k]);
            if (ch != &unreadable)
                free(ch);
        }
        free(c->r[i].chunks);
    }
    free(c->r);
    free(c);
}

uint64_t gh_chunks_bytes(const gh_chunks *c) { return atomic_load(&((gh_chunks *)c)->bytes); }

static const creg *region_of(gh_chunks *c, uint64_t a)
{
    size_t last = atomic_load_explicit(&c->last, memory_order_relaxed);
    if (last < c->nr && a >= c->r[last].start && a < c->r[last].end)
        return &c->r[last];
    size_t lo = 0, hi = c->nr;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a < c->r[mid].start)
            hi = mid;
        else if (a >= c->r[mid].end)
            lo = mid + 1;
        else {
            atomic_store_explicit(&c->last, mid, memory_order_relaxed);
            return &c->r[mid];
        }
    }
    return NULL;
}

static ssize_t pread_all(int fd, void *buf, size_t len, uint64_t addr)
{
    size_t done = 0;
    while (done < len) {
        if (addr + done > (uint64_t)INT64_MAX)
            break; /* not representable as an off_t: kernel space */
        ssize_t r = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(addr + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

/* The chunk holding a (k-th of region r), read in on first use; NULL when
 * the budget is spent. */
static chunk *get(gh_chunks *c, const creg *r, size_t k)
{
    chunk *ch = atomic_load_explicit(&r->chunks[k], memory_order_acquire);
    if (ch)
        return ch;
    uint64_t start = r->start + k * GH_CHUNK_SIZE;
    uint64_t len = r->end - start < GH_CHUNK_SIZE ? r->end - start : GH_CHUNK_SIZE;
    if (atomic_fetch_add(&c->bytes, len) + len > c->budget) {
        atomic_fetch_sub(&c->bytes, len);
        return NULL;
    }
    chunk *mine = malloc(sizeof *mine + len);
    if (!mine) {
        atomic_fetch_sub(&c->bytes, len);
        return NULL;
    }
    ssize_t got = pread_all(c->fd, mine->data, (size_t)len, start);
    mine->valid = got > 0 ? (uint64_t)got : 0;
    mine->len = len;
    if (!mine->valid) {
        free(mine);
        atomic_fetch_sub(&c->bytes, len);
        mine = &unreadable;
    }
    chunk *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&((creg *)r)->chunks[k], &expected, mine, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        if (mine != &unreadable) {
            free(mine);
            atomic_fetch_sub(&c->bytes, len);
        }
        return expected; /* another thread's copy */
    }
    return mine;
}

const void *gh_chunks_direct(gh_chunks *c, uint64_t addr, size_t len)
{
    const creg *r = region_of(c, addr);
    if (!r || len == 0)
        return NULL;
    uint64_t off = addr - r->start;
    size_t k = (size_t)(off / GH_CHUNK_SIZE);
    uint64_t in = off % GH_CHUNK_SIZE;
    if (in + len > GH_CHUNK_SIZE)
        return NULL;
    chunk *ch = get(c, r, k);
    if (!ch || in + len > ch->valid)
        return NULL;
    return ch->data + in;
}

size_t gh_chunks_read(gh_chunks *c, uint64_t addr, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len && addr + done >= addr) {
        uint64_t a = addr + done;
        const creg *r = region_of(c, a);
        if (!r)
            break;
        uint64_t off = a - r->start, in = off % GH_CHUNK_SIZE;
        size_t k = (size_t)(off / GH_CHUNK_SIZE);
        size_t n = len - done;
        if (in + n > GH_CHUNK_SIZE)
            n = (size_t)(GH_CHUNK_SIZE - in);
        chunk *ch = get(c, r, k);
        if (!ch) { /* over the budget: straight from the process */
            ssize_t got = pread_all(c->fd, (uint8_t *)buf + done, n, a);
            done += got > 0 ? (size_t)got : 0;
            if ((size_t)(got > 0 ? got : 0) < n)
                break;
            continue;
        }
        if (in >= ch->valid)
            break;
        if (in + n > ch->valid)
            n = (size_t)(ch->valid - in);
        memcpy((uint8_t *)buf + done, ch->data + in, n);
        done += n;
        if (ch->valid < ch->len && in + n >= ch->valid)
            break; /* the rest of the chunk was not readable */
    }
    return done;
}
