/* Public API: gh_snapshot, a core file of a running Go process (the pause
 * in target/snapshot.c, the file in target/core_writer.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "binary/exe.h"
#include "runtime/runtime.h"
#include "target/snapshot.h"
#include "target/target.h"

/* Refused before the process is stopped: only Go programs are worth a
 * snapshot here, and the check reads the executable, not the process. */
static int check_go(int pid, gh_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    if (access(path, F_OK) != 0) {
        snprintf(path, sizeof path, "/proc/%d", pid);
        return access(path, F_OK) == 0 ? gh_errorf(err, GH_EIO, "cannot read the executable of process %d", pid)
                                       : gh_errorf(err, GH_EARG, "no process %d", pid);
    }
    gh_exe *e;
    int rc = gh_exe_open(path, &e, err);
    if (rc)
        return gh_err_wrap(err, "process %d", pid);
    int go = gh_exe_section(e, ".go.buildinfo") != NULL;
    gh_exe_close(e);
    if (!go) {
        char exe[256];
        ssize_t n = readlink(path, exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        return gh_errorf(err, GH_ENOTGO, "process %d (%s) is not a Go program (no .go.buildinfo section)", pid,
                         n > 0 ? exe : "?");
    }
    return GH_OK;
}

/* ---- the heap's free pages, left out of a snapshot ----
 *
 * Heap pages in no span the runtime uses hold nothing goheap, gdb or lldb
 * reads: a freed span's old objects. Every mspan the runtime ever made is in
 * mheap_.allspans; a dead one keeps the startAddr and npages it had. The
 * pages of dead spans that no span in use or manual (stacks) covers are
 * free, and are left out. Conservative: a page whose span record was reused
 * since it was freed is copied, and so is everything when a record cannot be
 * read or looks wrong. Layouts and &mheap_ come from the runtime model,
 * made before the stop; the records are read while the process is stopped. */

typedef struct span_layout {
    gh_layout L;
    uint64_t mheap;
} span_layout;

/* The runtime's layout of the running process (its executable's DWARF or
 * the built-in table), read without stopping it. */
static int span_layout_of(int pid, span_layout *out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    gh_exe *e;
    gh_err err = {0};
    if (gh_exe_open(path, &e, &err))
        return GH_EIO;
    gh_target *t;
    int rc = gh_live_open(pid, 0, &t, &err);
    if (!rc) {
        gh_runtime rt;
        rc = gh_runtime_init(&rt, t, e, &err);
        if (!rc) {
            out->L = rt.L;
            out->mheap = rt.mheap;
        }
        gh_target_close(t);
    }
    gh_exe_close(e);
    return rc;
}

static int remote(int pid, uint64_t addr, void *buf, size_t len)
{
    struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
    return process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)len ? GH_OK : GH_EIO;
}

static int cmp_pair(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts pairs and merges the overlapping; returns the new count. */
static size_t merge(uint64_t *r, size_t n)
{
    if (!n)
        return 0;
    qsort(r, n, 2 * sizeof *r, cmp_pair);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        if (r[2 * i] <= r[2 * w + 1]) {
            if (r[2 * i + 1] > r[2 * w + 1])
                r[2 * w + 1] = r[2 * i + 1];
        } else {
            w++;
            r[2 * w] = r[2 * i];
            r[2 * w + 1] = r[2 * i + 1];
        }
    }
    return w + 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads the records at the sorted addresses a[0..n) (ss bytes each) into
 * out (n * ss bytes). The runtime packs them into 16 KiB chunks: records
 * closer than a page are read as one block, so that a million records take
 * a few thousand iovecs, not a million (each costs the kernel a page walk). */
static int read_records(int pid, const uint64_t *a, size_t n, uint64_t ss, uint8_t *out)
{
    enum { NIOV = 1024, GAP = 4096, MAXBLOCK = 1 << 20 };
    uint8_t *tmp = malloc(MAXBLOCK + ss);
    if (!tmp)
        return GH_ENOMEM;
    int rc = GH_OK;
    for (size_t i = 0; i < n && !rc;) {
        /* one block: records i..j-1 */
        size_t j = i + 1;
        while (j < n && a[j] >= a[j - 1] && a[j] - a[j - 1] <= GAP && a[j] + ss - a[i] <= MAXBLOCK)
            j++;
        uint64_t len = a[j - 1] + ss - a[i];
        if (remote(pid, a[i], tmp, (size_t)len)) { /* one by one where the block is not all mapped */
            for (size_t k = i; k < j && !rc; k++)
                rc = remote(pid, a[k], out + k * ss, (size_t)ss);
        } else {
            for (size_t k = i; k < j; k++)
                memcpy(out + k * ss, tmp + (a[k] - a[i]), (size_t)ss);
        }
        i = j;
    }
    free(tmp);
    return rc;
}

/* gh_snap_skip_fn: dead spans' pages minus live spans' pages. */
static int free_pages(void *ctx, int pid, uint64_t **ranges, size_t *nranges)
{
    const span_layout *sl = ctx;
    const gh_layout *L = &sl->L;
    uint64_t hdr[2];
    if (remote(pid, sl->mheap + L->mheap.allspans.offset, hdr, sizeof hdr))
        return GH_EIO;
    uint64_t ptr = hdr[0], len = hdr[1], ss = L->mspan.size;
    if (!len || len > (UINT64_C(1) << 26) || !ss || ss > 4096)
        return GH_EFORMAT;
    uint64_t *spans = malloc(len * 8), *live = malloc(len * 16), *dead = malloc(len * 16);
    uint8_t *recs = malloc(len * ss);
    size_t nlive = 0, ndead = 0;
    int rc = spans && live && dead && recs ? remote(pid, ptr, spans, len * 8) : GH_ENOMEM;
    if (!rc) {
        qsort(spans, len, sizeof *spans, cmp_u64);
        rc = read_records(pid, spans, len, ss, recs);
    }
    for (uint64_t i = 0; !rc && i < len; i++) {
        const uint8_t *b = recs + i * ss;
        uint64_t start = gh_field_get(b, L->mspan.startAddr), np = gh_field_get(b, L->mspan.npages);
        uint64_t st = gh_field_get(b, L->mspan.state), end = start + np * GH_PAGE_SIZE;
        int ok = np && np < (UINT64_C(1) << 35) && start % GH_PAGE_SIZE == 0 && end > start;
        if (st != GH_SPAN_DEAD) { /* in use, manual, or a state unknown here: kept */
            if (!ok)
                rc = GH_EFORMAT;
            live[2 * nlive] = start;
            live[2 * nlive++ + 1] = end;
        } else if (ok) {
            dead[2 * ndead] = start;
            dead[2 * ndead++ + 1] = end;
        }
    }
    free(spans);
    free(recs);
    if (!rc) { /* dead minus live */
        nlive = merge(live, nlive);
        ndead = merge(dead, ndead);
        uint64_t *out = malloc((ndead + nlive + 1) * 16);
        size_t n = 0, li = 0;
        for (size_t d = 0; out && d < ndead; d++) {
            uint64_t a = dead[2 * d], b = dead[2 * d + 1];
            while (li < nlive && live[2 * li + 1] <= a)
                li++;
            for (size_t x = li; a < b; x++) {
                uint64_t ls = x < nlive ? live[2 * x] : b, le = x < nlive ? live[2 * x + 1] : b;
                if (ls >= b) {
                    out[2 * n] = a;
                    out[2 * n++ + 1] = b;
                    break;
                }
                if (ls > a) {
                    out[2 * n] = a;
                    out[2 * n++ + 1] = ls;
                }
                if (le > a)
                    a = le;
            }
        }
        if (!out)
            rc = GH_ENOMEM;
        *ranges = out;
        *nranges = n;
    }
    free(live);
    free(dead);
    return rc;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int gh_snapshot(int pid, const char *path, unsigned flags, gh_snapshot_stats *stats, gh_err *err)
{
    if (pid <= 0)
        return gh_errorf(err, GH_EARG, "no process id given");
    if (!path || !*path)
        return gh_errorf(err, GH_EARG, "no file to write the snapshot to");
    if (flags & ~(unsigned)GH_SNAPSHOT_FULL)
        return gh_errorf(err, GH_EARG, "unknown flags 0x%x", flags);
    int rc = check_go(pid, err);
    if (rc)
        return rc;
    gh_core_out o;
    if ((rc = gh_core_out_open(path, &o, err)))
        return rc;
    gh_snap *s;
    /* The heap's free pages are left out unless --full, or GOHEAP_SNAPSHOT_FREE=copy
     * (tests compare both); without a runtime model, everything is copied. */
    span_layout sl;
    const char *fr = getenv("GOHEAP_SNAPSHOT_FREE");
    int skip = !(flags & GH_SNAPSHOT_FULL) && !(fr && !strcmp(fr, "copy")) && span_layout_of(pid, &sl) == GH_OK;
    if ((rc = gh_snap_take(pid, flags & GH_SNAPSHOT_FULL ? GH_SNAP_FULL : 0, skip ? free_pages : NULL, &sl, &s,
                           err))) {
        gh_core_out_abandon(&o);
        return rc;
    }
    gh_snapshot_stats st = {.pause_ms = s->pause_ms, .stop_ms = s->stop_ms, .copy_ms = s->copy_ms,
                            .pause_cpu_ms = s->pause_cpu_ms, .threads = s->nthreads, .mappings = s->nmaps,
                            .copied = s->copied, .unreadable = s->unreadable};
    double t0 = now_ms();
    rc = gh_snap_write(s, &o, &st.size, &st.disk, err);
    st.write_ms = now_ms() - t0;
    gh_snap_free(s);
    if (!rc && stats)
        *stats = st;
    return rc;
}
