/* The graph saved and loaded (store.h). The file:
 *
 *   header (one page): magic, format, key, fingerprints, counts, totals,
 *                      where each section starts, checksums
 *   marked             bit per slot, u64 words
 *   parent             u32 per slot
 *   type               u32 per slot
 *   tiny               (slot, offset, type) u32 triples
 *   types              the type table by id from 1: (rtype, die, aux, count,
 *                      syn | bound << 8) u64s
 *
 * Sections start on page boundaries, so marked, parent and type are used
 * where they are mapped: loading costs one checked pass over the file. */
#include "graph/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"

#define MAGIC "GHGRAPH\0"
#define FORMAT 2 /* 2: tiny values packed in 8 bytes (gh_tiny) */
#define ENDIAN UINT32_C(0x01020304)
#define PAGE 4096
#define HEADER_SIZE PAGE
#define TOTALS 14

typedef struct header {
    char magic[8];
    uint32_t format, endian;
    uint64_t key[GH_STORE_KEY_WORDS], nkey;
    uint64_t heap_fp, roots_fp;
    uint64_t nslots, nroots, ntypes, ntiny;
    uint64_t totals[TOTALS];
    uint64_t mark_done, mark_total;
    uint64_t off_marked, off_parent, off_type, off_tiny, off_types, file_size;
    uint64_t body_hash, header_hash;
    char first_scan_error[512];
} header;

_Static_assert(sizeof(header) <= HEADER_SIZE, "the header fits its page");

/* The totals, in file order. */
static uint64_t *const *totals_of(gh_graph *g, uint64_t *v[TOTALS])
{
    uint64_t *p[TOTALS] = {&g->live_objects,  &g->live_bytes,     &g->typed_bytes,
                           &g->typed_objects, &g->garbage_objects, &g->garbage_bytes,
                           &g->tiny_blocks,   &g->tiny_objects,    &g->tiny_typed_bytes,
                           &g->untyped_under_closures, &g->hints_rejected, &g->scan_errors,
                           NULL, NULL};
    memcpy(v, p, sizeof p);
    return v;
}

/* What the heap model is: every span and which slots are allocated. */
uint64_t gh_store_heap_fingerprint(const gh_heap *h)
{
    uint64_t x = gh_hash_word(gh_hash_word(0, h->nslots), h->nspans);
    for (size_t i = 0; i < h->nspans; i++) {
        const gh_span *s = &h->spans[i];
        uint64_t w[] = {s->mspan, s->base, s->npages, s->elemsize, s->largetype,
                        (uint64_t)s->nelems << 32 | s->first, (uint64_t)s->nalloc << 32 | s->spanclass << 8 | s->state};
        for (size_t k = 0; k < sizeof w / sizeof *w; k++)
            x = gh_hash_word(x, w[k]);
    }
    return gh_hash64(h->alloc, (h->nslots + 63) / 64 * 8, x);
}

static uint64_t hash_str(uint64_t x, const char *s) { return s ? gh_hash64(s, strlen(s), x) : gh_hash_word(x, 1); }

/* What the roots are: every field marking and typing read. */
uint64_t gh_store_roots_fingerprint(const gh_roots *rs)
{
    size_t n = gh_roots_count(rs);
    uint64_t x = gh_hash_word(0, n);
    for (size_t i = 0; i < n; i++) {
        const gh_root *r = gh_roots_get(rs, i);
        uint64_t w[] = {(uint64_t)r->kind << 8 | r->conservative, r->addr, r->size, r->rtype, r->dwarf_type,
                        r->object, (uint64_t)r->goid, r->via, r->via_rtype, r->fn_word, r->arg, r->arg_rtype};
        for (size_t k = 0; k < sizeof w / sizeof *w; k++)
            x = gh_hash_word(x, w[k]);
        if (r->mask)
            x = gh_hash64(r->mask, (r->size / 8 + 7) / 8, x);
        if (r->values)
            x = gh_hash64(r->values, r->size / 8 * 8, x);
        x = hash_str(hash_str(hash_str(x, r->name), r->function), r->variable);
    }
    return x;
}

static uint64_t page_up(uint64_t n) { return (n + PAGE - 1) / PAGE * PAGE; }

/* Where each section goes, from the counts. */
static void layout(header *hd)
{
    uint64_t nw = (hd->nslots + 63) / 64;
    hd->off_marked = HEADER_SIZE;
    hd->off_parent = page_up(hd->off_marked + nw * 8);
    hd->off_type = page_up(hd->off_parent + hd->nslots * 4);
    hd->off_tiny = page_up(hd->off_type + hd->nslots * 4);
    hd->off_types = hd->off_tiny + hd->ntiny * 8;
    hd->file_size = hd->off_types + hd->ntypes * 40;
}

/* The chained checksum of the sections. */
static uint64_t body_hash(const header *hd, const uint8_t *base)
{
    uint64_t x = gh_hash64(base + hd->off_marked, (hd->nslots + 63) / 64 * 8, 0);
    x = gh_hash64(base + hd->off_parent, hd->nslots * 4, x);
    x = gh_hash64(base + hd->off_type, hd->nslots * 4, x);
    x = gh_hash64(base + hd->off_tiny, hd->ntiny * 8, x);
    return gh_hash64(base + hd->off_types, hd->ntypes * 40, x);
}

static int write_all(int fd, const void *p, size_t n, uint64_t *hash)
{
    const uint8_t *b = p;
    if (hash)
        *hash = gh_hash64(p, n, *hash);
    while (n) {
        ssize_t k = write(fd, b, n > (1u << 30) ? (1u << 30) : n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Zeros up to offset `to` from `at`. */
static int pad_to(int fd, uint64_t at, uint64_t to)
{
    static const uint8_t zero[PAGE];
    while (at < to) {
        size_t k = to - at > PAGE ? PAGE : (size_t)(to - at);
        if (write_all(fd, zero, k, NULL))
            return -1;
        at += k;
    }
    return 0;
}

int gh_graph_save(const gh_graph *g, const char *path, const uint64_t *key, size_t nkey, gh_err *err)
{
    if (g->partial)
        return gh_errorf(err, GH_EARG, "a partial graph is not saved");
    if (nkey > GH_STORE_KEY_WORDS)
        return gh_errorf(err, GH_EARG, "index key too long");
    const gh_heap *h = g->h;
    header *hd = calloc(1, HEADER_SIZE);
    if (!hd)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    memcpy(hd->magic, MAGIC, 8);
    hd->format = FORMAT;
    hd->endian = ENDIAN;
    memcpy(hd->key, key, nkey * 8);
    hd->nkey = nkey;
    hd->heap_fp = gh_store_heap_fingerprint(h);
    hd->roots_fp = gh_store_roots_fingerprint(g->roots);
    hd->nslots = h->nslots;
    hd->nroots = gh_roots_count(g->roots);
    hd->ntypes = gh_types_count(g->types);
    hd->ntiny = g->ntiny;
    uint64_t *tv[TOTALS];
    totals_of((gh_graph *)g, tv);
    for (int k = 0; k < TOTALS; k++)
        hd->totals[k] = tv[k] ? *tv[k] : 0;
    hd->mark_done = g->mark_done;
    hd->mark_total = g->mark_total;
    snprintf(hd->first_scan_error, sizeof hd->first_scan_error, "%s", g->first_scan_error);
    layout(hd);

    char *tmp = malloc(strlen(path) + 32);
    if (!tmp) {
        free(hd);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    sprintf(tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int rc = gh_errorf(err, GH_EIO, "cannot create %s: %s", tmp, strerror(errno));
        free(hd), free(tmp);
        return rc;
    }
    /* The body first (its checksum goes into the header), then the header.
     * The checksum chains one hash per section, each of the section whole. */
    uint64_t hash = 0, nw = (h->nslots + 63) / 64;
    uint64_t *types = malloc(hd->ntypes * 40 + 1);
    int bad = !types;
    for (gh_tid id = 1; !bad && id <= hd->ntypes; id++) {
        const gh_otype *ot = gh_types_get(g->types, id);
        uint64_t *w = types + 5 * (id - 1);
        w[0] = ot->rtype, w[1] = ot->die, w[2] = ot->aux, w[3] = ot->count, w[4] = ot->syn | (uint64_t)ot->bound << 8;
    }
    bad = bad || pad_to(fd, 0, HEADER_SIZE) || write_all(fd, g->marked, nw * 8, &hash) ||
          pad_to(fd, HEADER_SIZE + nw * 8, hd->off_parent) || write_all(fd, g->parent, h->nslots * 4, &hash) ||
          pad_to(fd, hd->off_parent + h->nslots * 4, hd->off_type) || write_all(fd, g->type, h->nslots * 4, &hash) ||
          pad_to(fd, hd->off_type + h->nslots * 4, hd->off_tiny) || write_all(fd, g->tiny, g->ntiny * 8, &hash) ||
          write_all(fd, types, hd->ntypes * 40, &hash);
    free(types);
    hd->body_hash = hash;
    hd->header_hash = gh_hash64(hd, HEADER_SIZE, 0);
    if (!bad)
        bad = pwrite(fd, hd, HEADER_SIZE, 0) != HEADER_SIZE;
    int e = errno;
    if (close(fd) && !bad) {
        bad = 1;
        e = errno;
    }
    int rc = GH_OK;
    if (bad || rename(tmp, path)) {
        if (!bad)
            e = errno;
        unlink(tmp);
        rc = gh_errorf(err, GH_EIO, "cannot write %s: %s", path, strerror(e));
    }
    free(hd), free(tmp);
    return rc;
}

/* The loaded file's values, checked: every parent, type and tiny entry is
 * in range, so nothing later indexes out of bounds. */
static int check_values(const header *hd, const uint8_t *base, gh_err *err)
{
    const uint64_t *marked = (const void *)(base + hd->off_marked);
    const uint32_t *parent = (const void *)(base + hd->off_parent), *type = (const void *)(base + hd->off_type);
    for (uint64_t i = 0; i < hd->nslots; i++) {
        int live = marked[i >> 6] >> (i & 63) & 1;
        uint32_t p = parent[i], t = type[i];
        if (live ? p == GH_PARENT_NONE || ((p & GH_PARENT_ROOT) ? (p & ~GH_PARENT_ROOT) >= hd->nroots : p >= hd->nslots)
                 : p != GH_PARENT_NONE)
            return gh_errorf(err, GH_EFORMAT, "slot %" PRIu64 " has a bad first reacher", i);
        if (t != GH_TID_TINY && t > hd->ntypes)
            return gh_errorf(err, GH_EFORMAT, "slot %" PRIu64 " has a bad type", i);
    }
    if (hd->nslots % 64 && marked[hd->nslots / 64] >> (hd->nslots % 64))
        return gh_errorf(err, GH_EFORMAT, "marks past the last slot");
    const gh_tiny *tiny = (const void *)(base + hd->off_tiny);
    for (uint64_t i = 0; i < hd->ntiny; i++) {
        gh_tiny t = tiny[i];
        gh_tid id = gh_tiny_type(t);
        /* one per slot and offset, in order: the key above the type id rises */
        if (gh_tiny_slot(t) >= hd->nslots || !id || id > hd->ntypes || type[gh_tiny_slot(t)] != GH_TID_TINY ||
            (i && t >> 28 <= tiny[i - 1] >> 28))
            return gh_errorf(err, GH_EFORMAT, "bad tiny entry %" PRIu64, i);
    }
    return GH_OK;
}

int gh_graph_load(const gh_heap *h, const gh_roots *rs, const gh_types_env *tenv, int threads, const char *path,
                  const uint64_t *key, size_t nkey, gh_graph **out, gh_err *err)
{
    *out = NULL;
    if (nkey > GH_STORE_KEY_WORDS)
        return gh_errorf(err, GH_EARG, "index key too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gh_errorf(err, errno == ENOENT ? GH_ENOENT : GH_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < HEADER_SIZE) {
        close(fd);
        return gh_errorf(err, GH_EFORMAT, "not a graph index (too short)");
    }
    if (st.st_uid != geteuid()) { /* someone else's file in a shared directory */
        close(fd);
        return gh_errorf(err, GH_EFORMAT, "not made by this user (owner %u)", (unsigned)st.st_uid);
    }
    size_t len = (size_t)st.st_size;
    /* Private and writable: the graph's arrays are used in place, and
     * nothing written to them ever reaches the file. */
    uint8_t *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return gh_errorf(err, GH_EIO, "cannot map %s: %s", path, strerror(errno));
    header hd;
    memcpy(&hd, base, sizeof hd);
    uint64_t want_header = hd.header_hash;
    int rc = GH_OK;
    ((header *)base)->header_hash = 0;
    if (memcmp(hd.magic, MAGIC, 8) || hd.format != FORMAT || hd.endian != ENDIAN)
        rc = gh_errorf(err, GH_EFORMAT, "not a graph index of this goheap (format)");
    else if (gh_hash64(base, HEADER_SIZE, 0) != want_header)
        rc = gh_errorf(err, GH_EFORMAT, "damaged (header checksum)");
    else if (hd.nkey != nkey || memcmp(hd.key, key, nkey * 8))
        rc = gh_errorf(err, GH_EFORMAT, "made for another core, executable or goheap");
    else if (hd.nslots != h->nslots || hd.heap_fp != gh_store_heap_fingerprint(h))
        rc = gh_errorf(err, GH_EFORMAT, "made for another heap");
    else if (hd.nroots != gh_roots_count(rs) || hd.nroots >= GH_PARENT_ROOT || hd.roots_fp != gh_store_roots_fingerprint(rs))
        rc = gh_errorf(err, GH_EFORMAT, "made for other roots");
    else if (hd.ntypes >= UINT32_MAX / 2 || hd.ntiny > hd.nslots * 16) {
        rc = gh_errorf(err, GH_EFORMAT, "damaged (counts)");
    } else {
        header want = hd;
        layout(&want);
        if (want.off_marked != hd.off_marked || want.off_parent != hd.off_parent || want.off_type != hd.off_type ||
            want.off_tiny != hd.off_tiny || want.off_types != hd.off_types || want.file_size != hd.file_size ||
            hd.file_size != len)
            rc = gh_errorf(err, GH_EFORMAT, "damaged (truncated or sections out of place)");
        else if (body_hash(&hd, base) != hd.body_hash)
            rc = gh_errorf(err, GH_EFORMAT, "damaged (checksum)");
        else
            rc = check_values(&hd, base, err);
    }
    gh_graph *g = rc ? NULL : calloc(1, sizeof *g);
    if (!rc && !g)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    if (rc) {
        munmap(base, len);
        return rc;
    }
    g->h = h;
    g->roots = rs;
    g->threads = threads;
    g->map = base;
    g->map_len = len;
    g->marked = (uint64_t *)(base + hd.off_marked);
    g->parent = (uint32_t *)(base + hd.off_parent);
    g->type = (gh_tid *)(base + hd.off_type);
    g->types = gh_types_new(tenv);
    g->tiny = hd.ntiny ? malloc(hd.ntiny * sizeof *g->tiny) : NULL;
    if (!g->types || (hd.ntiny && !g->tiny)) {
        gh_graph_free(g);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    if (hd.ntiny)
        memcpy(g->tiny, base + hd.off_tiny, hd.ntiny * sizeof *g->tiny);
    g->ntiny = hd.ntiny;
    /* The type table, interned again in id order: each must get its id. */
    const uint8_t *tp = base + hd.off_types;
    for (uint64_t i = 0; i < hd.ntypes; i++) {
        uint64_t w[5];
        memcpy(w, tp + 40 * i, sizeof w);
        gh_otype ot = {.rtype = w[0], .die = w[1], .aux = w[2], .count = w[3], .syn = (uint8_t)w[4],
                       .bound = (uint8_t)(w[4] >> 8)};
        if ((w[4] & 0xff) >= GH_SYN_NKINDS || w[4] >> 9 || gh_types_intern(g->types, &ot) != (gh_tid)(i + 1)) {
            gh_graph_free(g);
            return gh_errorf(err, GH_EFORMAT, "damaged (type table entry %" PRIu64 ")", i + 1);
        }
    }
    uint64_t *tv[TOTALS];
    totals_of(g, tv);
    for (int k = 0; k < TOTALS; k++)
        if (tv[k])
            *tv[k] = hd.totals[k];
    g->mark_done = hd.mark_done;
    g->mark_total = hd.mark_total;
    memcpy(g->first_scan_error, hd.first_scan_error, sizeof g->first_scan_error);
    g->first_scan_error[sizeof g->first_scan_error - 1] = 0;
    *out = g;
    return GH_OK;
}
