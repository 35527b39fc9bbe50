/* The dominator tree saved beside its graph and loaded back (store.h).
 * The file:
 *
 *   header (one page): magic, format, key, the heap's and roots'
 *                      fingerprints, counts, where each section starts,
 *                      checksums
 *   vertex             u32 per node (0..n): slot, or GH_DOM_GROUP | group
 *   idom               u32 per node
 *   group_of           u32 per root
 *   groups             (first root, roots) u32 pairs
 *
 * The slot map and the retained sizes follow from these and are made again
 * on load, which checks that they form a tree of the loaded graph. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "graph/dominators.h"
#include "graph/store.h"

#define MAGIC "GHDOMTR\0"
#define FORMAT 1
#define ENDIAN UINT32_C(0x01020304)
#define HEADER_SIZE 4096

typedef struct header {
    char magic[8];
    uint32_t format, endian;
    uint64_t key[GH_STORE_KEY_WORDS], nkey;
    uint64_t heap_fp, roots_fp;
    uint64_t nslots, nroots, n, ngroups, live_objects, live_bytes;
    uint64_t off_vertex, off_idom, off_group_of, off_groups, file_size;
    uint64_t body_hash, header_hash;
} header;

_Static_assert(sizeof(header) <= HEADER_SIZE, "the header fits its page");

static void layout(header *hd)
{
    hd->off_vertex = HEADER_SIZE;
    hd->off_idom = hd->off_vertex + (hd->n + 1) * 4;
    hd->off_group_of = hd->off_idom + (hd->n + 1) * 4;
    hd->off_groups = hd->off_group_of + hd->nroots * 4;
    hd->file_size = hd->off_groups + hd->ngroups * 8;
}

static int write_all(int fd, const void *p, size_t n, uint64_t *hash)
{
    const uint8_t *b = p;
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

int gh_dom_save(const gh_graph *g, const gh_domtree *d, const char *path, const uint64_t *key, size_t nkey,
                gh_err *err)
{
    if (nkey > GH_STORE_KEY_WORDS)
        return gh_errorf(err, GH_EARG, "index key too long");
    header *hd = calloc(1, HEADER_SIZE);
    char *tmp = malloc(strlen(path) + 32);
    if (!hd || !tmp) {
        free(hd), free(tmp);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    memcpy(hd->magic, MAGIC, 8);
    hd->format = FORMAT;
    hd->endian = ENDIAN;
    memcpy(hd->key, key, nkey * 8);
    hd->nkey = nkey;
    hd->heap_fp = gh_store_heap_fingerprint(g->h);
    hd->roots_fp = gh_store_roots_fingerprint(g->roots);
    hd->nslots = g->h->nslots;
    hd->nroots = gh_roots_count(g->roots);
    hd->n = d->n;
    hd->ngroups = d->ngroups;
    hd->live_objects = g->live_objects;
    hd->live_bytes = g->live_bytes;
    layout(hd);
    sprintf(tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int rc = gh_errorf(err, GH_EIO, "cannot create %s: %s", tmp, strerror(errno));
        free(hd), free(tmp);
        return rc;
    }
    uint64_t hash = 0;
    int bad = lseek(fd, HEADER_SIZE, SEEK_SET) != HEADER_SIZE;
    bad = bad || write_all(fd, d->vertex, ((size_t)d->n + 1) * 4, &hash) ||
          write_all(fd, d->idom, ((size_t)d->n + 1) * 4, &hash) ||
          write_all(fd, d->group_of, hd->nroots * 4, &hash);
    uint32_t *pairs = malloc((d->ngroups ? d->ngroups : 1) * 8);
    bad = bad || !pairs;
    for (uint32_t gi = 0; !bad && gi < d->ngroups; gi++)
        pairs[2 * gi] = d->groups[gi].first, pairs[2 * gi + 1] = d->groups[gi].nroots;
    bad = bad || write_all(fd, pairs, (size_t)d->ngroups * 8, &hash);
    free(pairs);
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

/* Reads exactly n bytes at off into p, hashing them. */
static int read_at(int fd, void *p, size_t n, uint64_t off, uint64_t *hash)
{
    uint8_t *b = p;
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, b + done, n - done > (1u << 30) ? (1u << 30) : n - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    *hash = gh_hash64(p, n, *hash);
    return 0;
}

int gh_dom_load(gh_graph *g, const char *path, const uint64_t *key, size_t nkey, gh_domtree **out, gh_err *err)
{
    *out = NULL;
    if (nkey > GH_STORE_KEY_WORDS)
        return gh_errorf(err, GH_EARG, "index key too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gh_errorf(err, errno == ENOENT ? GH_ENOENT : GH_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    header *hd = calloc(1, HEADER_SIZE);
    int rc = GH_OK;
    uint64_t hash = 0;
    if (!hd)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    else if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < HEADER_SIZE)
        rc = gh_errorf(err, GH_EFORMAT, "not a dominator index (too short)");
    else if (st.st_uid != geteuid())
        rc = gh_errorf(err, GH_EFORMAT, "not made by this user (owner %u)", (unsigned)st.st_uid);
    else if (read_at(fd, hd, HEADER_SIZE, 0, &hash))
        rc = gh_errorf(err, GH_EIO, "cannot read %s", path);
    if (rc) {
        close(fd);
        free(hd);
        return rc;
    }
    uint64_t want_header = hd->header_hash;
    hd->header_hash = 0;
    size_t nroots = gh_roots_count(g->roots);
    header want = *hd;
    if (memcmp(hd->magic, MAGIC, 8) || hd->format != FORMAT || hd->endian != ENDIAN)
        rc = gh_errorf(err, GH_EFORMAT, "not a dominator index of this goheap (format)");
    else if (gh_hash64(hd, HEADER_SIZE, 0) != want_header)
        rc = gh_errorf(err, GH_EFORMAT, "damaged (header checksum)");
    else if (hd->nkey != nkey || memcmp(hd->key, key, nkey * 8))
        rc = gh_errorf(err, GH_EFORMAT, "made for another core, executable or goheap");
    else if (hd->nslots != g->h->nslots || hd->heap_fp != gh_store_heap_fingerprint(g->h))
        rc = gh_errorf(err, GH_EFORMAT, "made for another heap");
    else if (hd->nroots != nroots || hd->roots_fp != gh_store_roots_fingerprint(g->roots))
        rc = gh_errorf(err, GH_EFORMAT, "made for other roots");
    else if (hd->live_objects != g->live_objects || hd->live_bytes != g->live_bytes)
        rc = gh_errorf(err, GH_EFORMAT, "made for another marking");
    else if (hd->n < 1 || hd->n > 1 + hd->ngroups + hd->nslots || hd->ngroups > nroots)
        rc = gh_errorf(err, GH_EFORMAT, "damaged (counts)");
    else if (layout(&want), want.off_vertex != hd->off_vertex || want.off_idom != hd->off_idom ||
                                want.off_group_of != hd->off_group_of || want.off_groups != hd->off_groups ||
                                want.file_size != hd->file_size || hd->file_size != (uint64_t)st.st_size)
        rc = gh_errorf(err, GH_EFORMAT, "damaged (truncated or sections out of place)");
    gh_domtree *d = rc ? NULL : calloc(1, sizeof *d);
    if (!rc && !d)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    if (!rc) {
        /* The counts are bounded by the heap and the roots above. */
        d->n = (uint32_t)hd->n;
        d->ngroups = (uint32_t)hd->ngroups;
        d->vertex = malloc(((size_t)d->n + 1) * 4);
        d->idom = malloc(((size_t)d->n + 1) * 4);
        d->group_of = malloc((nroots ? nroots : 1) * 4);
        d->groups = malloc((d->ngroups ? d->ngroups : 1) * sizeof *d->groups);
        uint32_t *pairs = malloc((d->ngroups ? d->ngroups : 1) * 8);
        hash = 0;
        if (!d->vertex || !d->idom || !d->group_of || !d->groups || !pairs)
            rc = gh_errorf(err, GH_ENOMEM, "out of memory for the dominator tree (%u nodes)", d->n);
        else if (read_at(fd, d->vertex, ((size_t)d->n + 1) * 4, hd->off_vertex, &hash) ||
                 read_at(fd, d->idom, ((size_t)d->n + 1) * 4, hd->off_idom, &hash) ||
                 read_at(fd, d->group_of, nroots * 4, hd->off_group_of, &hash) ||
                 read_at(fd, pairs, (size_t)d->ngroups * 8, hd->off_groups, &hash))
            rc = gh_errorf(err, GH_EFORMAT, "damaged (truncated)");
        else if (hash != hd->body_hash)
            rc = gh_errorf(err, GH_EFORMAT, "damaged (checksum)");
        for (uint32_t gi = 0; !rc && gi < d->ngroups; gi++)
            d->groups[gi] = (gh_dom_group){pairs[2 * gi], pairs[2 * gi + 1]};
        free(pairs);
        if (!rc)
            rc = gh_dom_finish_loaded(d, g, err);
    }
    close(fd);
    free(hd);
    if (rc) {
        gh_domtree_free(d);
        return rc;
    }
    *out = d;
    return GH_OK;
}
