/* Taking a snapshot of a live process: everything that must happen while it
 * is stopped, and nothing more, so the pause stays short. The process is
 * stopped and its registers read by the live backend (gh_live_open), its
 * memory copied with process_vm_readv in large blocks, and it is resumed by
 * closing that target; the file is written afterwards (core_writer.c).
 * Nothing here writes to the process. */
#include "target/snapshot.h"
#include "target/target.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define BLOCK (UINT64_C(64) << 20) /* bytes per process_vm_readv */
#define NIOV 1024                  /* UIO_MAXIOV */
#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_SWAPPED (UINT64_C(1) << 62)
#define XSTATE_MAX 16384 /* larger than any XSAVE area (AMX's is 11 KiB) */

static double clock_ms(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

/* A small /proc file, NUL-terminated; *len its length. */
static int read_proc(int pid, const char *what, char **out, size_t *len, gh_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gh_errorf(err, GH_EIO, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            return gh_errorf(err, GH_ENOMEM, "out of memory reading %s", path);
        }
        if (n + 1 >= cap) {
            char *b = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!b)
                free(buf);
            buf = b;
            cap *= 2;
            continue;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return gh_errorf(err, GH_EIO, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    if (len)
        *len = n;
    return GH_OK;
}

/* Who the process is (NT_PRPSINFO), its auxiliary vector (NT_AUXV), and
 * whether someone traces it already: read before stopping it. */
static int describe(gh_snap *s, gh_err *err)
{
    char *text, *p;
    size_t n;
    int rc = read_proc(s->pid, "status", &text, NULL, err);
    if (rc)
        return rc;
    int tracer = (p = strstr(text, "\nTracerPid:")) ? atoi(p + 11) : 0;
    if ((p = strstr(text, "\nUid:")))
        s->uid = (unsigned)strtoul(p + 5, NULL, 10);
    if ((p = strstr(text, "\nGid:")))
        s->gid = (unsigned)strtoul(p + 5, NULL, 10);
    free(text);
    if (tracer) {
        char *comm = NULL;
        if (read_proc(tracer, "comm", &comm, NULL, NULL) == GH_OK)
            comm[strcspn(comm, "\n")] = 0;
        rc = gh_errorf(err, GH_EARG, "process %d is traced by process %d (%s): detach it first", s->pid,
                       tracer, comm ? comm : "?");
        free(comm);
        return rc;
    }
    /* stat: "pid (comm) state ppid pgrp sid ..."; comm may hold spaces and ')' */
    if ((rc = read_proc(s->pid, "stat", &text, NULL, err)))
        return rc;
    char *open_paren = strchr(text, '('), *close_paren = strrchr(text, ')');
    if (open_paren && close_paren && close_paren > open_paren) {
        size_t l = (size_t)(close_paren - open_paren - 1);
        memcpy(s->comm, open_paren + 1, l < sizeof s->comm - 1 ? l : sizeof s->comm - 1);
        sscanf(close_paren + 1, " %*c %d %d %d", &s->ppid, &s->pgrp, &s->sid);
    }
    free(text);
    if ((rc = read_proc(s->pid, "cmdline", &text, &n, err)))
        return rc;
    for (size_t i = 0; i < n && i < sizeof s->psargs - 1; i++)
        s->psargs[i] = text[i] ? text[i] : ' ';
    for (size_t l = strlen(s->psargs); l && s->psargs[l - 1] == ' ';) /* the last argument's NUL */
        s->psargs[--l] = 0;
    free(text);
    if ((rc = read_proc(s->pid, "auxv", &text, &n, err)))
        return rc;
    s->auxv = (uint8_t *)text;
    s->auxv_len = n;
    return GH_OK;
}

/* ---- mappings ---- */

static int parse_maps(gh_snap *s, gh_err *err)
{
    char *text;
    int rc = read_proc(s->pid, "maps", &text, NULL, err);
    if (rc)
        return rc;
    size_t lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    if (!(s->maps = calloc(lines, sizeof *s->maps))) {
        free(text);
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu mappings", lines);
    }
    for (char *line = text, *next; *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = 0;
        unsigned long long start, end, off;
        char perms[5] = "";
        int pos = 0;
        if (sscanf(line, "%llx-%llx %4s %llx %*s %*s %n", &start, &end, perms, &off, &pos) < 4 || !pos ||
            end < start) {
            free(text);
            return gh_errorf(err, GH_EFORMAT, "/proc/%d/maps: cannot parse line \"%.80s\"", s->pid, line);
        }
        gh_snap_map *m = &s->maps[s->nmaps++];
        m->start = start;
        m->end = end;
        m->pgoff = off;
        m->prot = (perms[0] == 'r' ? GH_PROT_R : 0) | (perms[1] == 'w' ? GH_PROT_W : 0) |
                  (perms[2] == 'x' ? GH_PROT_X : 0);
        m->shared = perms[3] == 's';
        const char *name = line + pos;
        if (!strcmp(name, "[vdso]"))
            m->name = strdup(name); /* kept to recognise it; not a file */
        else if (*name && *name != '[')
            m->name = strdup(name);
        if (*name && !m->name && (*name != '[' || !strcmp(name, "[vdso]"))) {
            free(text);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
    }
    free(text);
    return GH_OK;
}

static int is_vdso(const gh_snap_map *m) { return m->name && !strcmp(m->name, "[vdso]"); }

/* Only the first page of a file mapping: its ELF header, as the kernel
 * dumps it (dropped after the copy when it is not one). */
static int header_only(const gh_snap_map *m, unsigned flags)
{
    return m->name && !is_vdso(m) && m->pgoff == 0 && (m->prot & GH_PROT_R) && !(flags & GH_SNAP_FULL) &&
           !(m->prot & GH_PROT_W && !m->shared);
}

/* What the core holds of a mapping: all of it, its first page, or nothing.
 * As the kernel does by default: private and anonymous writable memory, and
 * the vDSO; with GH_SNAP_FULL every readable mapping. */
static uint64_t want_bytes(const gh_snap_map *m, unsigned flags)
{
    if (!(m->prot & GH_PROT_R))
        return 0;
    if (header_only(m, flags))
        return PAGE;
    if (is_vdso(m) || flags & GH_SNAP_FULL || (m->prot & GH_PROT_W && (!m->shared || !m->name)))
        return m->end - m->start;
    return 0;
}

/* Adds the run [addr, addr+len) to map i, merged with the one before it. */
static int add_run(gh_snap *s, size_t *cap, size_t i, uint64_t addr, uint64_t len, uint64_t *total, gh_err *err)
{
    gh_snap_map *m = &s->maps[i];
    if (m->nruns) {
        gh_snap_run *last = &s->runs[s->nruns - 1];
        if (last->addr + last->len == addr) {
            last->len += len;
            *total += len;
            return GH_OK;
        }
    } else {
        m->first_run = s->nruns;
    }
    if (s->nruns == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        gh_snap_run *r = realloc(s->runs, nc * sizeof *r);
        if (!r)
            return gh_errorf(err, GH_ENOMEM, "out of memory for %zu runs", nc);
        s->runs = r;
        *cap = nc;
    }
    s->runs[s->nruns++] = (gh_snap_run){.addr = addr, .len = len, .pos = *total};
    m->nruns++;
    *total += len;
    return GH_OK;
}

/* Ranges to leave out: sorted, merged pairs. */
typedef struct skips {
    uint64_t *r; /* start, end, start, end, ... */
    size_t n;    /* pairs */
} skips;

static int cmp_range(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void skips_sort(skips *k)
{
    if (!k->n)
        return;
    qsort(k->r, k->n, 2 * sizeof *k->r, cmp_range);
    size_t w = 0;
    for (size_t i = 1; i < k->n; i++) {
        if (k->r[2 * i] <= k->r[2 * w + 1]) {
            if (k->r[2 * i + 1] > k->r[2 * w + 1])
                k->r[2 * w + 1] = k->r[2 * i + 1];
        } else {
            w++;
            k->r[2 * w] = k->r[2 * i];
            k->r[2 * w + 1] = k->r[2 * i + 1];
        }
    }
    k->n = w + 1;
}

/* Is the page at a inside a range? *cur walks the ranges as a grows. */
static int skipped(const skips *k, size_t *cur, uint64_t a)
{
    while (*cur < k->n && k->r[2 * *cur + 1] <= a)
        (*cur)++;
    return *cur < k->n && k->r[2 * *cur] <= a;
}

/* The runs of pages to copy. Pages of private anonymous memory that are
 * neither present nor swapped out read as zeros: /proc/PID/pagemap says
 * which, and they are left out (holes in the file). So are present pages in
 * the skip ranges. Without pagemap, every page is copied. */
static int plan(gh_snap *s, unsigned flags, const skips *k, uint64_t *total, gh_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", s->pid);
    int pm = open(path, O_RDONLY | O_CLOEXEC);
    enum { NE = 8192 };
    uint64_t *ent = pm >= 0 ? malloc(NE * sizeof *ent) : NULL;
    size_t cap = 0, cur = 0;
    int rc = GH_OK;
    *total = 0;
    s->skipped = 0;
    for (size_t i = 0; i < s->nmaps && !rc; i++) {
        gh_snap_map *m = &s->maps[i];
        uint64_t want = want_bytes(m, flags);
        m->filesz = want;
        if (!want)
            continue;
        if (!ent || m->name || m->shared) {
            rc = add_run(s, &cap, i, m->start, want, total, err);
            continue;
        }
        for (uint64_t a = m->start; a < m->start + want && !rc;) {
            size_t n = (size_t)((m->start + want - a) / PAGE);
            if (n > NE)
                n = NE;
            ssize_t r = pread(pm, ent, n * sizeof *ent, (off_t)(a / PAGE * sizeof *ent));
            if (r <= 0) { /* pagemap refused: copy the rest */
                rc = add_run(s, &cap, i, a, m->start + want - a, total, err);
                break;
            }
            n = (size_t)r / sizeof *ent;
            for (size_t j = 0; j < n && !rc; j++) {
                if (!(ent[j] & (PM_PRESENT | PM_SWAPPED)))
                    continue;
                if (k && skipped(k, &cur, a + j * PAGE))
                    s->skipped += PAGE;
                else
                    rc = add_run(s, &cap, i, a + j * PAGE, PAGE, total, err);
            }
            a += n * PAGE;
        }
    }
    free(ent);
    if (pm >= 0)
        close(pm);
    return rc;
}

/* One thread's share of the copy: the bytes [from, to) of s->data. */
typedef struct part {
    gh_snap *s;
    uint64_t from, to, copied, unreadable;
    int errno_; /* a failure other than an unreadable page */
} part;

/* The run holding data position pos. */
static size_t run_at(const gh_snap *s, uint64_t pos)
{
    size_t lo = 0, hi = s->nruns;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->runs[mid].pos <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Copies its share: blocks of up to BLOCK bytes and NIOV runs per call. A
 * page the process will not give (a file mapping past its end) stays zeros
 * and is counted as unreadable. */
static void *copy_part(void *arg)
{
    part *p = arg;
    const gh_snap *s = p->s;
    struct iovec local[NIOV], remote[NIOV];
    uint64_t at = p->from;
    size_t r = run_at(s, at);
    while (at < p->to) {
        size_t n = 0;
        uint64_t bytes = 0;
        for (size_t k = r; k < s->nruns && n < NIOV && bytes < BLOCK; k++) {
            uint64_t o = k == r ? at - s->runs[k].pos : 0, len = s->runs[k].len - o;
            if (s->runs[k].pos + o >= p->to)
                break;
            if (len > BLOCK - bytes)
                len = BLOCK - bytes;
            if (len > p->to - (s->runs[k].pos + o))
                len = p->to - (s->runs[k].pos + o);
            local[n] = (struct iovec){s->data + s->runs[k].pos + o, len};
            remote[n] = (struct iovec){(void *)(uintptr_t)(s->runs[k].addr + o), len};
            n++;
            bytes += len;
        }
        ssize_t got = process_vm_readv(s->pid, local, n, remote, n, 0);
        if (got < 0 && errno != EFAULT && errno != EIO && errno != ENOMEM) {
            p->errno_ = errno;
            return NULL;
        }
        if (got <= 0) { /* the page at the cursor is unreadable: on to the next */
            const gh_snap_run *run = &s->runs[r];
            uint64_t skip = PAGE - (run->addr + (at - run->pos)) % PAGE;
            if (skip > run->pos + run->len - at)
                skip = run->pos + run->len - at;
            p->unreadable += skip;
            at += skip;
        } else {
            p->copied += (uint64_t)got;
            at += (uint64_t)got;
        }
        while (r + 1 < s->nruns && at >= s->runs[r].pos + s->runs[r].len)
            r++;
    }
    return NULL;
}

/* Copies every run into s->data, on up to MAX_COPIERS threads (one per
 * core) for copies larger than a block: the pause shrinks with them. */
static int copy(gh_snap *s, uint64_t total, gh_err *err)
{
    enum { MAX_COPIERS = 4 };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t k = total < BLOCK / 2 || cores < 2 ? 1 : cores < MAX_COPIERS ? (size_t)cores : MAX_COPIERS;
    part parts[MAX_COPIERS];
    pthread_t tid[MAX_COPIERS];
    int started[MAX_COPIERS] = {0};
    for (size_t i = 0; i < k; i++) {
        uint64_t from = total / k * i / PAGE * PAGE, to = i + 1 == k ? total : total / k * (i + 1) / PAGE * PAGE;
        parts[i] = (part){.s = s, .from = from, .to = to};
    }
    for (size_t i = 1; i < k; i++)
        started[i] = pthread_create(&tid[i], NULL, copy_part, &parts[i]) == 0;
    copy_part(&parts[0]);
    for (size_t i = 1; i < k; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            copy_part(&parts[i]);
    }
    for (size_t i = 0; i < k; i++) {
        if (parts[i].errno_)
            return gh_errorf(err, GH_EIO, "cannot read the memory of process %d: %s", s->pid,
                             strerror(parts[i].errno_));
        s->copied += parts[i].copied;
        s->unreadable += parts[i].unreadable;
    }
    return GH_OK;
}

/* The stopped threads and their registers, the main thread first (gdb and
 * lldb take the first NT_PRSTATUS as the current thread). */
static int take_threads(gh_snap *s, gh_target *t, gh_err *err)
{
    const gh_thread *th;
    size_t n;
    t->ops->threads(t->ctx, &th, &n);
    if (!n)
        return gh_errorf(err, GH_EIO, "process %d has no threads left to stop", s->pid);
    if (!(s->threads = malloc(n * sizeof *s->threads)))
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu threads", n);
    for (size_t i = 0; i < n; i++) {
        if (!th[i].has_regs)
            return gh_errorf(err, GH_EIO, "cannot read the registers of thread %d of process %d", th[i].tid,
                             s->pid);
        s->threads[s->nthreads++] = th[i];
        if (th[i].tid == s->pid && s->nthreads > 1) {
            gh_thread tmp = s->threads[0];
            s->threads[0] = s->threads[s->nthreads - 1];
            s->threads[s->nthreads - 1] = tmp;
        }
    }
    return GH_OK;
}

/* Each thread's floating point and extended state: gdb and lldb show them,
 * and lldb takes a core with a "LINUX" note (NT_X86_XSTATE) for Linux's. */
static int take_fp(gh_snap *s, gh_err *err)
{
    if (!(s->fp = calloc(s->nthreads, sizeof *s->fp)))
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu threads", s->nthreads);
    uint8_t *x = malloc(XSTATE_MAX);
    if (!x)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->nthreads; i++) {
        gh_snap_fp *f = &s->fp[i];
        int tid = s->threads[i].tid;
        f->has_fpregs = ptrace(PTRACE_GETFPREGS, tid, 0, f->fpregs) == 0;
        struct iovec io = {x, XSTATE_MAX};
        if (ptrace(PTRACE_GETREGSET, tid, (void *)(uintptr_t)NT_X86_XSTATE, &io) == 0 && io.iov_len &&
            (f->xstate = malloc(io.iov_len))) {
            memcpy(f->xstate, x, io.iov_len);
            f->xstate_len = io.iov_len;
        }
    }
    free(x);
    return GH_OK;
}

/* Forgets the mappings and runs (planned again once the process stopped). */
static void forget_maps(gh_snap *s)
{
    for (size_t i = 0; i < s->nmaps; i++)
        free(s->maps[i].name);
    free(s->maps);
    free(s->runs);
    s->maps = NULL;
    s->runs = NULL;
    s->nmaps = s->nruns = 0;
}

/* Room for the copies, its pages faulted in: a page fault per page of a
 * fresh buffer, during the copy, would cost as much as the copy itself. */
static int room(gh_snap *s, uint64_t need, gh_err *err)
{
    if (need <= s->data_cap)
        return GH_OK;
    void *p = s->data ? mremap(s->data, s->data_cap, (size_t)need, MREMAP_MAYMOVE)
                      : mmap(NULL, (size_t)need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return gh_errorf(err, GH_ENOMEM, "cannot allocate %llu bytes for the copy: %s", (unsigned long long)need,
                         strerror(errno));
    s->data = p;
    s->data_cap = (size_t)need;
    if (madvise(p, (size_t)need, MADV_POPULATE_WRITE) != 0) /* before Linux 5.14: by hand */
        for (size_t o = 0; o < (size_t)need; o += PAGE)
            ((volatile uint8_t *)p)[o] = 0;
    return GH_OK;
}

/* Before the stop: the copy planned on the running process, with a margin
 * for what it allocates meanwhile, so that its buffer is ready. */
static int prepare(gh_snap *s, unsigned flags, gh_err *err)
{
    uint64_t total;
    int rc = parse_maps(s, err);
    if (!rc)
        rc = plan(s, flags, NULL, &total, err);
    forget_maps(s);
    return rc ? rc : room(s, total + total / 8 + (UINT64_C(16) << 20), err);
}

/* Everything done while the process is stopped. */
static int while_stopped(gh_snap *s, gh_target *t, unsigned flags, gh_snap_skip_fn skip, void *skip_ctx,
                         gh_err *err)
{
    uint64_t total;
    int rc;
    if ((rc = take_threads(s, t, err)) || (rc = take_fp(s, err)))
        return rc;
    double t0 = now_ms();
    skips k = {0};
    if (skip && !(flags & GH_SNAP_FULL) && skip(skip_ctx, s->pid, &k.r, &k.n) != GH_OK) {
        free(k.r);
        k = (skips){0};
    }
    skips_sort(&k);
    rc = parse_maps(s, err);
    if (!rc)
        rc = plan(s, flags, k.n ? &k : NULL, &total, err);
    free(k.r);
    if (rc || (rc = room(s, total, err)) || (rc = copy(s, total, err)))
        return rc;
    s->copy_ms = now_ms() - t0;
    return GH_OK;
}

/* Header pages copied from file mappings that are not ELF files: dropped. */
static void drop_non_elf(gh_snap *s, unsigned flags)
{
    for (size_t i = 0; i < s->nmaps; i++) {
        gh_snap_map *m = &s->maps[i];
        if (!header_only(m, flags) || m->nruns != 1)
            continue;
        if (memcmp(s->data + s->runs[m->first_run].pos, "\177ELF", 4) != 0) {
            m->filesz = 0;
            m->nruns = 0;
        }
    }
}

int gh_snap_take(int pid, unsigned flags, gh_snap_skip_fn skip, void *skip_ctx, gh_snap **out, gh_err *err)
{
    *out = NULL;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", pid);
    if (pid <= 0 || access(path, F_OK) != 0)
        return gh_errorf(err, GH_EARG, "no process %d", pid);
    gh_snap *s = calloc(1, sizeof *s);
    if (!s)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    s->pid = pid;
    int rc = describe(s, err);
    if (!rc)
        rc = prepare(s, flags, err);
    gh_target *t = NULL;
    double t0 = now_ms(), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    if (!rc)
        rc = gh_live_open(pid, 1, &t, err);
    s->stop_ms = now_ms() - t0;
    if (!rc)
        rc = while_stopped(s, t, flags, skip, skip_ctx, err);
    gh_target_close(t); /* detaches: the process runs again */
    s->pause_ms = now_ms() - t0;
    s->pause_cpu_ms = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (rc) {
        gh_snap_free(s);
        return rc;
    }
    drop_non_elf(s, flags);
    *out = s;
    return GH_OK;
}

void gh_snap_free(gh_snap *s)
{
    if (!s)
        return;
    forget_maps(s);
    for (size_t i = 0; s->fp && i < s->nthreads; i++)
        free(s->fp[i].xstate);
    free(s->fp);
    free(s->threads);
    free(s->auxv);
    if (s->data)
        munmap(s->data, s->data_cap);
    free(s);
}
