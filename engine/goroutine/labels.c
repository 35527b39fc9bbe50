/* A goroutine's pprof labels: what g.labels points to (runtime/pprof's
 * labelMap), read as string headers; see gh_glabels_read. */
#include <inttypes.h>
#include <string.h>

#include "goroutine/goroutine.h"

#define MAX_LABELS 4096  /* labels believed in one set */
#define MAX_BUCKETS 4096 /* buckets (chains included) walked in one map */

/* 1.24+: labelMap is a struct whose first word starts a []label slice;
 * each label is two strings {key, value}. */
static int read_slice(const gh_target *t, uint64_t labels, gh_strhdr *kv, size_t cap, size_t *n, gh_err *err)
{
    uint64_t hdr[3];
    int rc = gh_read(t, labels, hdr, sizeof hdr, err);
    if (rc)
        return gh_err_wrap(err, "pprof labels at 0x%" PRIx64, labels);
    if (hdr[1] > hdr[2] || hdr[1] > MAX_LABELS)
        return gh_errorf(err, GH_EFORMAT, "pprof labels at 0x%" PRIx64 ": implausible length %" PRIu64, labels,
                         hdr[1]);
    *n = hdr[1];
    for (uint64_t i = 0; i < hdr[1] && i < cap; i++) {
        uint64_t w[4];
        if ((rc = gh_read(t, hdr[0] + 32 * i, w, sizeof w, err)))
            return gh_err_wrap(err, "pprof label %" PRIu64 " of 0x%" PRIx64, i, labels);
        kv[2 * i] = (gh_strhdr){w[0], w[1]};
        kv[2 * i + 1] = (gh_strhdr){w[2], w[3]};
    }
    return GH_OK;
}

/* The classic hash map's layout on amd64 (runtime/map.go, unchanged from
 * 1.12 to 1.23): hmap {count int; flags, B uint8; noverflow uint16; hash0
 * uint32; buckets, oldbuckets unsafe.Pointer; ...}; a map[string]string
 * bucket is tophash [8]uint8, keys [8]string, elems [8]string, overflow. */
#define HM_COUNT 0
#define HM_FLAGS 8
#define HM_B 9
#define HM_BUCKETS 16
#define HM_OLDBUCKETS 24
#define SAME_SIZE_GROW 8
#define MIN_TOPHASH 5 /* below: empty or evacuated */
#define BK_KEYS 8
#define BK_ELEMS (8 + 8 * 16)
#define BK_OVERFLOW (8 + 16 * 16)
#define BK_SIZE (BK_OVERFLOW + 8)

typedef struct mapwalk {
    const gh_target *t;
    gh_strhdr *kv;
    size_t cap, n;
    uint64_t buckets; /* walked, chains included: the bound */
} mapwalk;

static int walk_bucket(mapwalk *w, uint64_t b, gh_err *err)
{
    uint8_t buf[BK_SIZE];
    while (b) {
        if (++w->buckets > MAX_BUCKETS)
            return gh_errorf(err, GH_EFORMAT, "pprof label map: more than %d buckets (cyclic?)", MAX_BUCKETS);
        int rc = gh_read(w->t, b, buf, sizeof buf, err);
        if (rc)
            return gh_err_wrap(err, "pprof label map bucket");
        for (int i = 0; i < 8; i++) {
            if (buf[i] < MIN_TOPHASH)
                continue;
            if (w->n < w->cap) {
                uint64_t k[2], v[2];
                memcpy(k, buf + BK_KEYS + 16 * i, sizeof k);
                memcpy(v, buf + BK_ELEMS + 16 * i, sizeof v);
                w->kv[2 * w->n] = (gh_strhdr){k[0], k[1]};
                w->kv[2 * w->n + 1] = (gh_strhdr){v[0], v[1]};
            }
            w->n++;
        }
        memcpy(&b, buf + BK_OVERFLOW, 8);
    }
    return GH_OK;
}

/* 1.22-1.23: labelMap is a map[string]string; labels points to the map
 * variable (a *hmap). Entries not yet evacuated from the old buckets of a
 * growing map are there, marked with a real tophash. */
static int read_map(const gh_target *t, uint64_t labels, gh_strhdr *kv, size_t cap, size_t *n, gh_err *err)
{
    uint64_t hm, hdr[4];
    int rc;
    if ((rc = gh_read_u64(t, labels, &hm, err)))
        return gh_err_wrap(err, "pprof labels at 0x%" PRIx64, labels);
    if (!hm)
        return GH_OK;
    if ((rc = gh_read(t, hm, hdr, sizeof hdr, err)))
        return gh_err_wrap(err, "pprof label map at 0x%" PRIx64, hm);
    uint8_t flags = (uint8_t)(hdr[HM_FLAGS / 8] >> 0), B = (uint8_t)(hdr[HM_B / 8] >> 8);
    if (hdr[0] > MAX_LABELS || B > 12)
        return gh_errorf(err, GH_EFORMAT, "pprof label map at 0x%" PRIx64 ": implausible (count %" PRIu64 ", B %u)",
                         hm, hdr[0], B);
    mapwalk w = {.t = t, .kv = kv, .cap = cap};
    uint64_t nb = 1ull << B, buckets = hdr[HM_BUCKETS / 8], old = hdr[HM_OLDBUCKETS / 8];
    for (uint64_t i = 0; buckets && i < nb; i++)
        if ((rc = walk_bucket(&w, buckets + i * BK_SIZE, err)))
            return rc;
    uint64_t nold = (flags & SAME_SIZE_GROW) || !B ? nb : nb / 2;
    for (uint64_t i = 0; old && i < nold; i++)
        if ((rc = walk_bucket(&w, old + i * BK_SIZE, err)))
            return rc;
    if (w.n != hdr[0])
        return gh_errorf(err, GH_EFORMAT, "pprof label map at 0x%" PRIx64 ": %zu entries found, count says %" PRIu64,
                         hm, w.n, hdr[0]);
    *n = w.n;
    return GH_OK;
}

int gh_glabels_read(const gh_target *t, int minor, uint64_t labels, gh_strhdr *kv, size_t cap, size_t *n,
                    gh_err *err)
{
    *n = 0;
    if (!labels)
        return GH_OK;
    return minor >= 24 ? read_slice(t, labels, kv, cap, n, err) : read_map(t, labels, kv, cap, n, err);
}
