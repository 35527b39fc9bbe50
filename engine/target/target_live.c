/* Live-process target through /proc/PID: regions from maps, memory from mem
 * (copied in 1 MiB chunks on first touch, live_chunks.c, so reads cost no
 * syscall and several threads read at once), registers from ptrace when we
 * stop the process ourselves. Nothing here ever writes to the target.
 *
 * generation() stays 0: this backend never lets the process run while it is
 * open (stopped by us), or it cannot know when it ran (stopped by a debugger).
 * Adapters that resume the process open a new target for the new stop.
 * Reads may come from several threads; close() from the thread that opened
 * it: ptrace ties the tracees to the attaching thread. */
#include "base/vec.h"
#include "target/live_chunks.h"
#include "target/target.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROC_FILE (64u << 20)
#define STOP_TIMEOUT_MS 5000

typedef struct tracee {
    int tid;
    int sig; /* signal to hand back on detach (it was being delivered when we stopped) */
} tracee;

typedef struct live {
    gh_target t;
    int pid, memfd;
    gh_region *regions;
    size_t nregions;
    gh_thread *threads;
    size_t nthreads, cap_threads;
    tracee *tracees; /* threads we attached to and must detach */
    size_t ntracees, cap_tracees;
    char *exe_path;
    uint64_t bias;
    int have_bias;
    uint64_t generation;
    gh_chunks *mem;  /* the process's memory as read so far */
} live;

static const gh_target_ops live_ops;

/* ---- /proc files ---- */

/* Reads a whole /proc file (their st_size is 0) into a NUL-terminated buffer. */
static int slurp(const char *path, char **out, size_t *len, gh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gh_errorf(err, GH_EIO, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= MAX_PROC_FILE) {
                free(buf);
                close(fd);
                return gh_errorf(err, GH_EIO, "%s is larger than %u MiB", path, MAX_PROC_FILE >> 20);
            }
            if (gh_grow(&buf, &cap, cap + 1, 1)) {
                free(buf);
                buf = NULL;
                break;
            }
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
    if (!buf)
        return gh_errorf(err, GH_ENOMEM, "out of memory reading %s", path);
    buf[n] = 0;
    *out = buf;
    if (len)
        *len = n;
    return GH_OK;
}

static int tracer_pid(int pid)
{
    char path[64], *s;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (slurp(path, &s, NULL, NULL))
        return 0;
    const char *p = strstr(s, "\nTracerPid:");
    int t = p ? atoi(p + 11) : 0;
    free(s);
    return t;
}

static int parse_maps(live *l, gh_err *err)
{
    char path[64], *text;
    snprintf(path, sizeof path, "/proc/%d/maps", l->pid);
    int rc = slurp(path, &text, NULL, err);
    if (rc)
        return rc;
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    l->regions = calloc(lines + 1, sizeof *l->regions);
    if (!l->regions) {
        free(text);
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu regions", lines);
    }
    for (char *line = text, *next; *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = 0;
        uint64_t start, end, off;
        char perms[5] = "";
        int pos = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*s %n", &start, &end, perms,
                   &off, &pos) < 4 || pos == 0 || end < start) {
            free(text);
            return gh_errorf(err, GH_EFORMAT, "%s: cannot parse line \"%.80s\"", path, line);
        }
        gh_region *r = &l->regions[l->nregions++];
        r->start = start;
        r->end = end;
        r->prot = (perms[0] == 'r' ? GH_PROT_R : 0) | (perms[1] == 'w' ? GH_PROT_W : 0) |
                  (perms[2] == 'x' ? GH_PROT_X : 0);
        r->in_core = r->prot & GH_PROT_R ? 1 : 0; /* readable: the bytes are there to read */
        const char *name = line + pos;
        if (*name && *name != '[') { /* [heap], [stack], [vdso]: not files */
            r->file_offset = off;
            if (!(r->name = strdup(name))) {
                free(text);
                return gh_errorf(err, GH_ENOMEM, "out of memory");
            }
        }
    }
    free(text);
    return GH_OK;
}

/* Executable path, and the load bias AT_ENTRY - e_entry. */
static int find_exe(live *l, gh_err *err)
{
    char path[64], buf[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/exe", l->pid);
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0)
        return gh_errorf(err, GH_EIO, "cannot read %s: %s", path, strerror(errno));
    buf[n] = 0;
    if (!(l->exe_path = strdup(buf)))
        return gh_errorf(err, GH_ENOMEM, "out of memory");

    Elf64_Ehdr eh;
    int fd = open(path, O_RDONLY | O_CLOEXEC); /* works even when the file was deleted */
    if (fd < 0)
        return gh_errorf(err, GH_EIO, "cannot open %s (%s): %s", path, buf, strerror(errno));
    ssize_t r = pread(fd, &eh, sizeof eh, 0);
    close(fd);
    if (r != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
        return gh_errorf(err, GH_EFORMAT, "executable %s of process %d is not an ELF64 file", buf, l->pid);
    if (eh.e_machine != EM_X86_64) {
        char m[64];
        return gh_errorf(err, GH_EUNSUPP, "executable %s of process %d is for %s: live processes are read on "
                         "linux/amd64 only", buf, l->pid, gh_machine_name(eh.e_machine, m, sizeof m));
    }

    char *auxv;
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/auxv", l->pid);
    int rc = slurp(path, &auxv, &len, err);
    if (rc)
        return rc;
    for (size_t i = 0; i + 16 <= len; i += 16) {
        uint64_t kv[2];
        memcpy(kv, auxv + i, sizeof kv);
        if (kv[0] == AT_NULL)
            break;
        if (kv[0] == AT_ENTRY) {
            l->bias = kv[1] - eh.e_entry;
            l->have_bias = 1;
        }
    }
    free(auxv);
    if (!l->have_bias && eh.e_type == ET_EXEC)
        l->have_bias = 1; /* bias 0 */
    return GH_OK;
}

/* ---- ptrace ---- */

static int add_tracee(live *l, int tid, gh_err *err)
{
    if (gh_grow(&l->tracees, &l->cap_tracees, l->ntracees + 1, sizeof *l->tracees))
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu threads", l->ntracees + 1);
    l->tracees[l->ntracees++] = (tracee){.tid = tid};
    return GH_OK;
}

static int is_tracee(const live *l, int tid)
{
    for (size_t i = 0; i < l->ntracees; i++)
        if (l->tracees[i].tid == tid)
            return 1;
    return 0;
}

/* Thread ids in /proc/PID/task, calling fn for each. */
static int each_task(live *l, int (*fn)(live *, int, gh_err *), gh_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", l->pid);
    DIR *d = opendir(path);
    if (!d)
        return gh_errorf(err, GH_EIO, "cannot list %s: %s", path, strerror(errno));
    struct dirent *e;
    int rc = GH_OK;
    while (!rc && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        rc = fn(l, atoi(e->d_name), err);
    }
    closedir(d);
    return rc;
}

#define GH_TRACED 1 /* internal: someone else traces the process */

static int seize_one(live *l, int tid, gh_err *err)
{
    if (is_tracee(l, tid))
        return GH_OK;
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
        int e = errno;
        if (e == ESRCH)
            return GH_OK; /* exited meanwhile */
        if (e == EPERM && l->ntracees == 0 && tracer_pid(l->pid) != 0)
            return GH_TRACED;
        char scope[16] = "";
        FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
        if (f) {
            if (!fgets(scope, sizeof scope, f))
                scope[0] = 0;
            scope[strcspn(scope, "\n")] = 0;
            fclose(f);
        }
        return gh_errorf(err, GH_EIO, "cannot attach to thread %d of process %d: %s%s%s%s", tid,
                         l->pid, strerror(e), scope[0] ? " (kernel.yama.ptrace_scope is " : "",
                         scope, scope[0] ? ")" : "");
    }
    int rc = add_tracee(l, tid, err);
    if (rc) {
        ptrace(PTRACE_DETACH, tid, 0, 0);
        return rc;
    }
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH)
        return gh_errorf(err, GH_EIO, "cannot interrupt thread %d: %s", tid, strerror(errno));
    return GH_OK;
}

/* Waits until tid reports its stop. Returns 1 when stopped, 0 when it exited.
 * Polls every 20 us at first: a thread usually stops within microseconds,
 * and every thread waited for lengthens the pause of a snapshot. */
static int wait_stop(tracee *t, gh_err *err)
{
    struct timespec ms = {0, 1000000}, us = {0, 20000};
    for (int i = 0, fast = 0; i < STOP_TIMEOUT_MS;) {
        int st;
        pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == ECHILD)
            return 0;
        if (r < 0)
            return gh_errorf(err, GH_EIO, "waiting for thread %d: %s", t->tid, strerror(errno));
        if (r == t->tid) {
            if (WIFEXITED(st) || WIFSIGNALED(st))
                return 0;
            if (WIFSTOPPED(st)) {
                /* An event stop is our interrupt (or a group stop); anything else is a
                 * signal on its way in, which detach must hand back. */
                t->sig = (st >> 16) == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(st);
                return 1;
            }
        }
        if (fast < 50) { /* the first millisecond */
            nanosleep(&us, NULL);
            fast++;
        } else {
            nanosleep(&ms, NULL);
            i++;
        }
    }
    return gh_errorf(err, GH_EIO, "thread %d did not stop within %d s", t->tid, STOP_TIMEOUT_MS / 1000);
}

/* Attaches every thread and waits for each to stop, rescanning the task list
 * until a pass finds no new thread: once all known threads are stopped, none
 * can start another. */
static int stop_all(live *l, gh_err *err)
{
    for (;;) {
        size_t before = l->ntracees;
        int rc = each_task(l, seize_one, err);
        if (rc)
            return rc;
        if (l->ntracees == before)
            return GH_OK;
        for (size_t i = before; i < l->ntracees;) {
            rc = wait_stop(&l->tracees[i], err);
            if (rc < 0)
                return rc;
            if (rc == 0) { /* gone: forget it */
                l->tracees[i] = l->tracees[--l->ntracees];
                continue;
            }
            i++;
        }
        if (l->ntracees == 0)
            return gh_errorf(err, GH_EIO, "process %d has no threads left to stop", l->pid);
    }
}

static int read_regs(live *l, gh_err *err)
{
    l->threads = calloc(l->ntracees ? l->ntracees : 1, sizeof *l->threads);
    if (!l->threads)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu threads", l->ntracees);
    for (size_t i = 0; i < l->ntracees; i++) {
        gh_thread *t = &l->threads[l->nthreads++];
        struct user_regs_struct u;
        _Static_assert(sizeof u == sizeof t->regs, "user_regs_struct is the NT_PRSTATUS layout");
        t->tid = l->tracees[i].tid;
        if (ptrace(PTRACE_GETREGS, t->tid, 0, &u) == 0) {
            memcpy(t->regs, &u, sizeof t->regs);
            t->has_regs = 1;
        }
    }
    return GH_OK;
}

static int list_one(live *l, int tid, gh_err *err)
{
    if (gh_grow(&l->threads, &l->cap_threads, l->nthreads + 1, sizeof *l->threads))
        return gh_errorf(err, GH_ENOMEM, "out of memory for threads");
    l->threads[l->nthreads++] = (gh_thread){.tid = tid};
    return GH_OK;
}

/* ---- memory ---- */

static size_t live_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    live *l = ctx;
    return l->mem ? gh_chunks_read(l->mem, addr, buf, len) : 0;
}

static const void *live_direct(void *ctx, uint64_t addr, size_t len)
{
    live *l = ctx;
    return l->mem ? gh_chunks_direct(l->mem, addr, len) : NULL;
}

/* ---- the target ---- */

static void live_regions(void *ctx, const gh_region **out, size_t *n)
{
    live *l = ctx;
    *out = l->regions;
    *n = l->nregions;
}

static void live_threads(void *ctx, const gh_thread **out, size_t *n)
{
    live *l = ctx;
    *out = l->threads;
    *n = l->nthreads;
}

static const char *live_exe_path(void *ctx) { return ((live *)ctx)->exe_path; }

static int live_load_bias(void *ctx, uint64_t *bias)
{
    live *l = ctx;
    if (!l->have_bias)
        return GH_EFORMAT;
    *bias = l->bias;
    return GH_OK;
}

static uint64_t live_generation(void *ctx) { return ((live *)ctx)->generation; }

static void live_close(void *ctx)
{
    live *l = ctx;
    for (size_t i = 0; i < l->ntracees; i++)
        ptrace(PTRACE_DETACH, l->tracees[i].tid, 0, (void *)(intptr_t)l->tracees[i].sig);
    if (l->memfd >= 0)
        close(l->memfd);
    for (size_t i = 0; i < l->nregions; i++)
        free((char *)l->regions[i].name);
    free(l->regions);
    free(l->threads);
    free(l->tracees);
    free(l->exe_path);
    gh_chunks_free(l->mem);
    free(l);
}

static const gh_target_ops live_ops = {
    .read = live_read,
    .direct = live_direct, /* the copies */
    .regions = live_regions,
    .threads = live_threads,
    .exe_path = live_exe_path,
    .load_bias = live_load_bias,
    .generation = live_generation,
    .close = live_close,
};

static int open_live(live *l, int stop, gh_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", l->pid);
    struct stat st;
    if (l->pid <= 0 || stat(path, &st) < 0)
        return gh_errorf(err, GH_EARG, "no process %d", l->pid);
    int rc, stopped = 0;
    if (stop) {
        rc = stop_all(l, err);
        if (rc < 0)
            return rc;
        stopped = rc != GH_TRACED;
    }
    /* Open mem after attaching: being the tracer is what grants access under Yama. */
    snprintf(path, sizeof path, "/proc/%d/mem", l->pid);
    if ((l->memfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return gh_errorf(err, GH_EIO, "cannot open %s: %s", path, strerror(errno));
    if ((rc = parse_maps(l, err)) || (rc = find_exe(l, err)))
        return rc;
    /* The copies' budget: GOHEAP_LIVE_COPY_MB (0: none, every read goes to
     * the process), else half the RAM. */
    const char *mb = getenv("GOHEAP_LIVE_COPY_MB");
    uint64_t budget = mb ? strtoull(mb, NULL, 10) << 20 : 0;
    if (mb && !budget)
        budget = 1; /* smaller than any chunk */
    if (!(l->mem = gh_chunks_new(l->memfd, l->regions, l->nregions, budget)))
        return gh_errorf(err, GH_ENOMEM, "out of memory for the process's regions");
    if (stopped)
        return read_regs(l, err);
    return each_task(l, list_one, err);
}

int gh_live_open(int pid, int stop, gh_target **out, gh_err *err)
{
    *out = NULL;
    if (!gh_arch_host())
        return gh_errorf(err, GH_EUNSUPP, "live processes are read on linux/amd64 hosts only; take a core (gcore, "
                         "GOTRACEBACK=crash) and read it here");
    live *l = calloc(1, sizeof *l);
    if (!l)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    l->t.ops = &live_ops;
    l->t.ctx = l;
    l->t.kind = "live";
    l->t.arch = gh_arch_host();
    l->t.concurrent = 1; /* pread and the copies take several threads */
    l->pid = pid;
    l->memfd = -1;
    int rc = open_live(l, stop, err);
    if (rc) {
        live_close(l);
        return rc;
    }
    *out = &l->t;
    return GH_OK;
}

int gh_live_set_threads(gh_target *t, const gh_thread *threads, size_t n, gh_err *err)
{
    if (!t || t->ops != &live_ops)
        return gh_errorf(err, GH_EARG, "gh_live_set_threads needs a live target");
    live *l = t->ctx;
    if (n > SIZE_MAX / sizeof *threads)
        return gh_errorf(err, GH_EARG, "%zu threads is too many", n);
    gh_thread *copy = malloc(n ? n * sizeof *copy : 1);
    if (!copy)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu threads", n);
    if (n)
        memcpy(copy, threads, n * sizeof *copy);
    free(l->threads);
    l->threads = copy;
    l->nthreads = n;
    return GH_OK;
}
