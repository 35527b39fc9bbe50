/* The native half of the gdb adapter (see fromgdb.h and docs/gdb.md).
 *
 * gdb's go-NAME commands run
 *     pipe goheap-gdb-state | trap '' INT; GOHEAP --from-gdb NAME; exit # goheap-args N: $arg0 ...
 * so goheap reads gdb's 'info inferiors' and 'info files' on stdin, and the
 * user's arguments from its parent shell's command line, where they sit in a
 * shell comment: the shell never interprets them, whatever they contain.
 *
 * Sessions are kept by a helper process per gdb session and target (forked on
 * first use, reached over an abstract Unix socket named from a hash of the
 * target's identity), so the second command on a core reuses the loaded model.
 * The helper exits when gdb or the target process does, or after 30 idle
 * minutes. */
#include "fromgdb.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "goheap/goheap.h"

/* Fills err like the library does: the code and a one-line message. */
__attribute__((format(printf, 3, 4))) static int gdb_errorf(gh_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

#define MAX_GDB_ARGS 64        /* go-NAME forwards at most this many arguments */
#define ARGS_MARK " # goheap-args "
#define NSLOTS 32              /* gcore slots: exit codes SLOT_EXIT .. SLOT_EXIT+31 */
#define SLOT_EXIT 64
#define EVAL_EXIT 96           /* 96+N: gdb, evaluate $argN; N < EVAL_ARGS (126, 127 and 128+ are the shell's) */
#define EVAL_ARGS 30
#define SLOT_FMT "/tmp/goheap-gcore-%d.core"
#define IDLE_EXIT_S (30 * 60)
#define GDB_INPUT_MAX (64u << 20)
#define MAX_THREADS 16384      /* registers of at most this many threads reach the helper */
#define REQ_MAX (16u << 20)    /* a request to the helper: arguments and registers */

static const char *prog = "goheap";

/* ---- small helpers ---- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Reads fd to EOF (at most max bytes) into a NUL-terminated buffer. */
static char *read_all(int fd, size_t max, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= max) {
                /* too much: drain it, so the writer (gdb) is not left blocked */
                for (;;) {
                    ssize_t r = read(fd, buf, cap);
                    if (r == 0 || (r < 0 && errno != EINTR))
                        break;
                }
                free(buf);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}

static char *read_path(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *s = read_all(fd, 16u << 20, len);
    close(fd);
    return s;
}

static int write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* /proc/PID/stat: parent, state and start time (clock ticks since boot). */
static int proc_stat(int pid, int *ppid, char *state, unsigned long long *start)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    char *s = read_path(path, NULL);
    if (!s)
        return -1;
    char *p = strrchr(s, ')'); /* the command name may hold spaces and parens */
    int ok = 0;
    if (p) {
        char st;
        int pp;
        unsigned long long t = 0;
        /* fields 3 (state), 4 (ppid), then 5..21, then 22 (starttime) */
        if (sscanf(p + 1, " %c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &st,
                   &pp, &t) == 3) {
            if (ppid)
                *ppid = pp;
            if (state)
                *state = st;
            if (start)
                *start = t;
            ok = 1;
        }
    }
    free(s);
    return ok ? 0 : -1;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FNV0 0xcbf29ce484222325ull

/* ---- the user's arguments ---- */

/* A whole hex number "0x..." (as gdb's output/x prints a pointer or integer). */
static int gh_gdb_hex(const char *s, uint64_t *v)
{
    const char *p = s + 2;
    if (!*p || strlen(p) > 16)
        return 0;
    for (const char *q = p; *q; q++)
        if (!isxdigit((unsigned char)*q))
            return 0;
    *v = strtoull(p, NULL, 16);
    return 1;
}

/* Splits like gdb's user_args (so the count matches $argc): words end at
 * unquoted, unescaped blanks; quotes and backslashes stay in the word. */
static int split_gdb_words(const char *p, const char **start, size_t *len, int max)
{
    int n = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *s = p;
        int sq = 0, dq = 0, bs = 0;
        for (; *p; p++) {
            if ((*p == ' ' || *p == '\t') && !sq && !dq && !bs)
                break;
            if (bs)
                bs = 0;
            else if (*p == '\\')
                bs = 1;
            else if (sq)
                sq = *p != '\'';
            else if (dq)
                dq = *p != '"';
            else if (*p == '\'')
                sq = 1;
            else if (*p == '"')
                dq = 1;
        }
        if (n == max)
            return -1;
        start[n] = s;
        len[n++] = (size_t)(p - s);
    }
    return n;
}

/* One word as goheap sees it: '...' and "..." group and are removed; a
 * backslash before a blank or a quote yields that character; any other
 * backslash stays as typed, so regular expressions pass through intact. */
static char *unquote(const char *s, size_t n)
{
    char *o = malloc(n + 1), *w = o;
    if (!o)
        return NULL;
    char q = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {
            char d = s[++i];
            if (d != ' ' && d != '\t' && d != '\'' && d != '"')
                *w++ = c;
            *w++ = d;
        } else if (q) {
            if (c == q)
                q = 0;
            else
                *w++ = c;
        } else if (c == '\'' || c == '"') {
            q = c;
        } else {
            *w++ = c;
        }
    }
    *w = 0;
    return o;
}

typedef struct words {
    int argc;
    char *argv[MAX_GDB_ARGS + 3]; /* the command, an option subcommand, the user's words */
} words;

static void words_free(words *w)
{
    for (int i = 0; i < w->argc; i++)
        free(w->argv[i]);
    w->argc = 0;
}

/* The user's arguments from the comment in the parent shell's command line.
 * Returns 1 found, 0 not started by goheap.gdb, -1 error (message printed). */
static int args_from_parent(words *w)
{
    char path[64];
    size_t n;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)getppid());
    char *cl = read_path(path, &n);
    if (!cl)
        return 0;
    const char *mark = NULL;
    for (size_t i = 0; i < n && !mark; i += strlen(cl + i) + 1)
        mark = strstr(cl + i, ARGS_MARK);
    if (!mark) {
        free(cl);
        return 0;
    }
    const char *p = mark + strlen(ARGS_MARK);
    int rc = -1;
    char *end;
    long want = strtol(p, &end, 10);
    if (want > MAX_GDB_ARGS) {
        fprintf(stderr, "%s: gdb passes at most %d arguments to a go- command\n", prog, MAX_GDB_ARGS);
    } else {
        const char *start[MAX_GDB_ARGS + 1];
        size_t len[MAX_GDB_ARGS + 1];
        int got = *end == ':' ? split_gdb_words(end + 1, start, len, MAX_GDB_ARGS + 1) : -1;
        if (got != want) {
            fprintf(stderr, "%s: gdb passed %ld arguments, goheap reads %d\n", prog, want, got);
        } else {
            rc = 1;
            for (int i = 0; i < got; i++)
                if (!(w->argv[w->argc++] = unquote(start[i], len[i])))
                    rc = -1;
        }
    }
    free(cl);
    return rc;
}

/* ---- what gdb has ---- */

typedef struct gdbstate {
    char exe[PATH_MAX];   /* "Local exec file" */
    char core[PATH_MAX];  /* "Local core dump file" */
    int pid;              /* the current inferior's process */
    int native, remote;   /* 'info files' shows a native or a remote target */
    int slot;             /* gcore slot gdb has written, -1 none */
    int argi;             /* the user's argument gdb evaluated ($argN), -1 none */
    char argval[64];      /* its value as gdb printed it (output/x) */
    int seen;             /* any of gdb's output recognised */
    gh_thread *th;        /* 'thread apply all info registers': each thread's */
    size_t nth;           /* innermost-frame registers, as gdb holds them */
} gdbstate;

/* gdb's names of the registers in user_regs_struct ('info registers'). */
static const struct {
    const char *name;
    int idx;
} gdb_regs[] = {
    {"rax", GH_X86_RAX}, {"rbx", GH_X86_RBX}, {"rcx", GH_X86_RCX}, {"rdx", GH_X86_RDX},
    {"rsi", GH_X86_RSI}, {"rdi", GH_X86_RDI}, {"rbp", GH_X86_RBP}, {"rsp", GH_X86_RSP},
    {"r8", GH_X86_R8}, {"r9", GH_X86_R9}, {"r10", GH_X86_R10}, {"r11", GH_X86_R11},
    {"r12", GH_X86_R12}, {"r13", GH_X86_R13}, {"r14", GH_X86_R14}, {"r15", GH_X86_R15},
    {"rip", GH_X86_RIP}, {"eflags", GH_X86_EFLAGS}, {"cs", GH_X86_CS}, {"ss", GH_X86_SS},
    {"ds", GH_X86_DS}, {"es", GH_X86_ES}, {"fs", GH_X86_FS}, {"gs", GH_X86_GS},
    {"fs_base", GH_X86_FS_BASE}, {"gs_base", GH_X86_GS_BASE}, {"orig_rax", GH_X86_ORIG_RAX},
};

/* One line of the register section: "Thread N (... LWP TID ...):" starts a
 * thread, "NAME 0xVALUE ..." sets a register of the last one. A thread has
 * registers once gdb showed its rip and rsp. */
static void parse_reg_line(const char *line, gdbstate *st, unsigned *seen)
{
    if (!strncmp(line, "Thread ", 7)) {
        /* gdb's own "(LWP N" comes before the thread's name, which is the
         * program's to choose */
        const char *l = strstr(line, "(LWP ");
        if (!l || !isdigit((unsigned char)l[5]) || st->nth >= MAX_THREADS)
            return;
        gh_thread *nt = realloc(st->th, (st->nth + 1) * sizeof *nt);
        if (!nt)
            return;
        st->th = nt;
        st->th[st->nth++] = (gh_thread){.tid = atoi(l + 5)};
        *seen = 0;
        return;
    }
    if (!st->nth)
        return;
    char name[16];
    size_t n = strcspn(line, " \t");
    if (n == 0 || n >= sizeof name)
        return;
    memcpy(name, line, n);
    name[n] = 0;
    const char *v = line + n + strspn(line + n, " \t");
    if (strncmp(v, "0x", 2) || !isxdigit((unsigned char)v[2]))
        return; /* <unavailable>, or not a register line */
    for (size_t i = 0; i < sizeof gdb_regs / sizeof gdb_regs[0]; i++)
        if (!strcmp(name, gdb_regs[i].name)) {
            gh_thread *t = &st->th[st->nth - 1];
            t->regs[gdb_regs[i].idx] = strtoull(v, NULL, 16);
            if (gdb_regs[i].idx == GH_X86_RIP)
                *seen |= 1;
            if (gdb_regs[i].idx == GH_X86_RSP)
                *seen |= 2;
            t->has_regs = *seen == 3;
        }
}

/* "\t`/path/file', file type elf64-x86-64." -> /path/file */
static void quoted_path(const char *line, char *out, size_t cap)
{
    const char *a = strchr(line, '`');
    const char *b = a ? strstr(a, "', file type") : NULL;
    for (const char *c = b; c; c = strstr(c + 1, "', file type"))
        b = c;
    if (!b && a)
        b = strrchr(a, '\'');
    if (a && b && b > a && (size_t)(b - a - 1) < cap) {
        memcpy(out, a + 1, (size_t)(b - a - 1));
        out[b - a - 1] = 0;
    }
}

static void parse_gdb(char *text, gdbstate *st)
{
    memset(st, 0, sizeof *st);
    st->slot = -1;
    st->argi = -1;
    char *save = NULL, *next = NULL;
    int regs = 0;
    unsigned seen_regs = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = next) {
        next = strtok_r(NULL, "\n", &save);
        if (regs) {
            if (!strcmp(line, "goheap-threads-end"))
                regs = 0;
            else
                parse_reg_line(line, st, &seen_regs);
        } else if (!strcmp(line, "goheap-threads:")) {
            regs = 1;
        } else if (!strncmp(line, "* ", 2) && isdigit((unsigned char)line[2 + strspn(line + 2, " ")])) {
            const char *p = strstr(line, "process ");
            if (p)
                st->pid = atoi(p + 8);
            if (strstr(line, "(remote") || strstr(line, "(extended-remote"))
                st->remote = 1;
            st->seen = 1;
        } else if (!strcmp(line, "Local exec file:") && next) {
            quoted_path(next, st->exe, sizeof st->exe);
            st->seen = 1;
        } else if (!strcmp(line, "Local core dump file:") && next) {
            quoted_path(next, st->core, sizeof st->core);
            st->seen = 1;
        } else if (!strcmp(line, "Native process:")) {
            st->native = st->seen = 1;
        } else if (!strncmp(line, "Remote ", 7) || !strncmp(line, "Extended remote", 15)) {
            st->remote = st->seen = 1;
        } else if (!strncmp(line, "goheap-argval:", 14)) {
            char *sp = NULL;
            long i = strtol(line + 14, &sp, 10);
            if (sp != line + 14 && *sp == ':' && i >= 0 && i < MAX_GDB_ARGS) {
                st->argi = (int)i;
                snprintf(st->argval, sizeof st->argval, "%s", sp + 1);
            }
        } else if (!strncmp(line, "goheap-slot:", 12)) {
            if (isdigit((unsigned char)line[12]))
                st->slot = atoi(line + 12);
        } else if (!strncmp(line, "Symbols from \"", 14) || strstr(line, "Num  Description")) {
            st->seen = 1;
        }
    }
}

/* ---- the target: what a session is opened on, and its identity ---- */

typedef struct spec {
    int live, pid;
    int snapshot;           /* core is a gcore slot: remove it once open */
    char core[PATH_MAX], exe[PATH_MAX];
    char key[3 * PATH_MAX];
    char sock[108];         /* abstract socket name, leading NUL */
    socklen_t socklen;
    int owner;              /* gdb's pid: the helper lives as long as it */
    unsigned long long owner_start, target_start;
    uint64_t gen;           /* live: changes whenever the process ran */
    const gh_thread *th;    /* live: gdb's registers of each thread at this stop */
    size_t nth;
} spec;

/* A number that changes whenever a thread of pid ran (each thread's context
 * switch counts move only when it is scheduled). Refuses a process that is
 * running now: its heap would change under the reader. */
static int live_generation(int pid, uint64_t *gen, gh_err *err)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return gdb_errorf(err, GH_EARG, "no process %d", pid);
    uint64_t sum = 0;
    int rc = GH_OK, n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        int tid = atoi(de->d_name);
        char state = '?';
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
        char *s = read_path(path, NULL);
        char *p = s ? strrchr(s, ')') : NULL;
        if (p && p[1] == ' ')
            state = p[2];
        free(s);
        if (state == 'Z' || state == 'X' || state == '?')
            continue;
        if (state != 't' && state != 'T') {
            rc = gdb_errorf(err, GH_EARG, "process %d is running (thread %d): stop it in gdb first", pid, tid);
            break;
        }
        snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, tid);
        s = read_path(path, NULL);
        unsigned long long v = 0, nv = 0;
        const char *q;
        if (s && (q = strstr(s, "\nvoluntary_ctxt_switches:")))
            v = strtoull(q + 25, NULL, 10);
        if (s && (q = strstr(s, "\nnonvoluntary_ctxt_switches:")))
            nv = strtoull(q + 28, NULL, 10);
        free(s);
        uint64_t h = fnv(FNV0, &tid, sizeof tid);
        h = fnv(h, &v, sizeof v);
        sum += fnv(h, &nv, sizeof nv); /* a sum: readdir order does not matter */
        n++;
    }
    closedir(d);
    if (!rc && n == 0)
        rc = gdb_errorf(err, GH_EARG, "process %d has no threads", pid);
    *gen = sum;
    return rc;
}

static void key_file(char *key, size_t cap, const char *what, const char *path)
{
    char real[PATH_MAX];
    struct stat st;
    size_t n = strlen(key);
    if (!realpath(path, real) || stat(real, &st) < 0) {
        snprintf(key + n, cap - n, "|%s=%s", what, path);
        return;
    }
    snprintf(key + n, cap - n, "|%s=%s:%ju:%ju:%jd:%ld.%09ld", what, real, (uintmax_t)st.st_dev,
             (uintmax_t)st.st_ino, (intmax_t)st.st_size, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* The helper's key: this goheap binary, the gdb process, the target. */
static void make_key(spec *sp)
{
    sp->key[0] = 0;
    snprintf(sp->key, sizeof sp->key, "gh2|uid=%u|gdb=%d:%llu", (unsigned)getuid(), sp->owner, sp->owner_start);
    key_file(sp->key, sizeof sp->key, "goheap", "/proc/self/exe");
    size_t n = strlen(sp->key);
    if (sp->live)
        snprintf(sp->key + n, sizeof sp->key - n, "|pid=%d:%llu", sp->pid, sp->target_start);
    else if (sp->snapshot) /* one snapshot per stop */
        snprintf(sp->key + n, sizeof sp->key - n, "|snapshot=%d:%llu:%" PRIu64, sp->pid, sp->target_start, sp->gen);
    else
        key_file(sp->key, sizeof sp->key, "core", sp->core);
    if (sp->exe[0])
        key_file(sp->key, sizeof sp->key, "exe", sp->exe);
    uint64_t h = fnv(FNV0, sp->key, strlen(sp->key));
    memset(sp->sock, 0, sizeof sp->sock);
    int len = snprintf(sp->sock + 1, sizeof sp->sock - 1, "goheap-gdb-%u-%016" PRIx64, (unsigned)getuid(), h);
    sp->socklen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
}

/* ---- sessions: the same code in the helper and in-process ---- */

typedef struct sess {
    gh_session *s;
    uint64_t gen;
    unsigned opens, commands, on_this; /* sessions opened, commands run, commands on this one */
    unsigned regs;                     /* live: threads given gdb's registers */
    double open_ms;
    char warn[2][700];
    int nwarn;
} sess;

static void sess_close(sess *S)
{
    gh_close(S->s);
    S->s = NULL;
}

static int sess_open(sess *S, const spec *sp, uint64_t gen, const gh_thread *th, size_t nth, gh_err *err)
{
    sess_close(S);
    double t0 = now_ms();
    char desc[600];
    const char *exe = sp->exe[0] ? sp->exe : NULL;
    int rc;
    S->regs = 0;
    if (sp->live) {
        /* gdb is the tracer and has the process stopped: read it, do not
         * attach, and give each thread the registers gdb showed for it. */
        rc = gh_open_pid(sp->pid, 0, th, nth, &S->s, err);
        for (size_t k = 0; k < nth; k++)
            S->regs += th[k].has_regs != 0;
        snprintf(desc, sizeof desc, "process %d", sp->pid);
    } else {
        rc = gh_open_core(sp->core, exe, &S->s, err);
        if (sp->snapshot) {
            unlink(sp->core); /* mapped already, or useless */
            snprintf(desc, sizeof desc, "process %d (gcore snapshot)", sp->pid);
        } else {
            snprintf(desc, sizeof desc, "core %.590s", sp->core);
            gh_err ignored = {0};
            if (!rc) /* the graph index as GOHEAP_INDEX says (auto); none without a directory */
                gh_set_index(S->s, GH_INDEX_DEFAULT, NULL, &ignored);
        }
    }
    if (rc)
        return rc;
    gh_set_description(S->s, desc);
    for (size_t k = 0; gh_warning(S->s, k) && S->nwarn < 2; k++)
        snprintf(S->warn[S->nwarn++], sizeof S->warn[0], "%s", gh_warning(S->s, k));
    S->gen = gen;
    S->opens++;
    S->on_this = 0;
    S->open_ms = now_ms() - t0;
    return GH_OK;
}

/* A line of /proc/self/status in KiB ("VmHWM:"), 0 when absent. */
static unsigned long status_kb(const char *key)
{
    char line[256];
    unsigned long v = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key))) {
            v = strtoul(line + strlen(key), NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static void sess_stats(const sess *S, int reused, int server, double cmd_ms, char *buf, size_t cap)
{
    /* The helper's memory: gdb's own tools do not show a detached process.
     * The kernel folds RSS into VmHWM lazily, so the peak is at least now. */
    unsigned long rss = status_kb("VmRSS:"), peak = status_kb("VmHWM:");
    if (peak < rss)
        peak = rss;
    int n = snprintf(buf, cap,
                     "reused=%d commands=%u opens=%u heap_loads=%u server=%d regs=%u open_ms=%.1f command_ms=%.1f "
                     "helper_rss_kb=%lu helper_peak_kb=%lu",
                     reused, S->commands, S->opens, S->s ? gh_heap_loads(S->s) : 0, server, S->regs, S->open_ms,
                     cmd_ms, rss, peak);
    const char *note = S->s ? gh_target_note(S->s) : NULL; /* a compressed core: what it cost */
    if (note && n > 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, "; %s", note);
}

/* Test hook (GOHEAP_TEST_STALL_MS): a command that takes this long, polling
 * the interrupt flag like the engine's long loops do. */
static int stall(unsigned ms, const volatile int *intr, gh_err *err)
{
    double end = now_ms() + ms;
    while (now_ms() < end) {
        if (*intr)
            return gdb_errorf(err, GH_EINTR, "interrupted: stopped before the command started");
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return GH_OK;
}

/* ---- the helper process ---- */

enum { F_OUT = 'O', F_WARN = 'W', F_ERR = 'E', F_STATS = 'S', F_DONE = 'D', F_PROGRESS = 'P' };

/* Progress of a long phase on stderr when it is a terminal (gdb's), one
 * line rewritten in place and erased before output and at the end, as the
 * CLI shows it. */
static int progress_shown;

static void progress_clear(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        progress_shown = 0;
    }
}

static void progress_show(const char *phase, unsigned long long done, unsigned long long total)
{
    if (!isatty(2))
        return;
    if (total && done >= total) {
        progress_clear();
        return;
    }
    if (total)
        fprintf(stderr, "\r\033[Kgoheap: %s %llu/%llu (%d%%)", phase, done, total, (int)(100.0 * done / total));
    else
        fprintf(stderr, "\r\033[Kgoheap: %s %llu", phase, done);
    fflush(stderr);
    progress_shown = 1;
}

static void progress_local(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)ctx;
    progress_show(phase, (unsigned long long)done, (unsigned long long)total);
}

static volatile int srv_intr;
static volatile int srv_conn = -1;

/* SIGIO on the client's connection: anything it sends now, or its hanging
 * up, means stop. SIGIO also fires when send space frees up: peek first. */
static void on_sigio(int sig)
{
    int saved = errno;
    char c;
    int fd = srv_conn;
    if (fd >= 0 && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
        srv_intr = 1;
    errno = saved;
}

typedef struct conn_out {
    int fd, broken;
    size_t n;
    char buf[1 << 16];
} conn_out;

static int send_full(int fd, const void *p, size_t n)
{
    const char *q = p;
    while (n) {
        ssize_t w = send(fd, q, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        q += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One frame: type, 4-byte little-endian length, data. A client that went
 * away stops the command. */
static void frame(conn_out *c, int type, const void *p, size_t n)
{
    unsigned char h[5] = {(unsigned char)type, (unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 24)};
    if (!c->broken && (send_full(c->fd, h, 5) || send_full(c->fd, p, n))) {
        c->broken = 1;
        srv_intr = 1;
    }
}

static void flush_out(conn_out *c)
{
    if (c->n)
        frame(c, F_OUT, c->buf, c->n);
    c->n = 0;
}

/* Progress travels to the client, which shows it on gdb's terminal. */
static void progress_remote(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    conn_out *c = ctx;
    char b[160];
    int n = snprintf(b, sizeof b, "%s\t%llu\t%llu", phase, (unsigned long long)done, (unsigned long long)total);
    flush_out(c);
    frame(c, F_PROGRESS, b, (size_t)(n < (int)sizeof b ? n : (int)sizeof b - 1));
}

static void conn_write(void *ctx, const char *s, size_t n)
{
    conn_out *c = ctx;
    while (n) {
        size_t k = sizeof c->buf - c->n < n ? sizeof c->buf - c->n : n;
        memcpy(c->buf + c->n, s, k);
        c->n += k;
        s += k;
        n -= k;
        if (c->n == sizeof c->buf)
            flush_out(c);
    }
}

static int recv_full(int fd, void *p, size_t n, int timeout_ms)
{
    char *c = p;
    while (n) {
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t k = recv(fd, c, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static uid_t peer_uid(int fd)
{
    struct ucred cr;
    socklen_t l = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
        return (uid_t)-1;
    return cr.uid;
}

/* Registers in a request: "TID:R0,R1,...;" (hex, user_regs_struct order)
 * for each thread gdb showed registers of. */
static char *regs_text(const gh_thread *th, size_t n)
{
    size_t cap = 1, k = 0;
    for (size_t i = 0; i < n; i++)
        cap += th[i].has_regs ? 16 + GH_X86_NREGS * 17 : 0;
    char *o = malloc(cap);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!th[i].has_regs)
            continue;
        k += (size_t)snprintf(o + k, cap - k, "%d", th[i].tid);
        for (int r = 0; r < GH_X86_NREGS; r++)
            k += (size_t)snprintf(o + k, cap - k, "%c%" PRIx64, r ? ',' : ':', th[i].regs[r]);
        o[k++] = ';';
    }
    o[k] = 0;
    return o;
}

static gh_thread *regs_parse(const char *s, size_t *n)
{
    size_t cap = 0;
    for (const char *p = s; *p; p++)
        cap += *p == ';';
    *n = 0;
    gh_thread *th = calloc(cap ? cap : 1, sizeof *th);
    while (th && *s && *n < cap) {
        char *e;
        gh_thread t = {.tid = (int)strtol(s, &e, 10), .has_regs = 1};
        int ok = *e == ':';
        for (int r = 0; ok && r < GH_X86_NREGS; r++) {
            s = e + 1;
            t.regs[r] = strtoull(s, &e, 16);
            ok = e > s && *e == (r + 1 < GH_X86_NREGS ? ',' : ';');
        }
        if (!ok)
            break; /* not ours: use what was understood */
        th[(*n)++] = t;
        s = e + 1;
    }
    return th;
}

/* One request: "gh2" key gen stall_ms regs argc argv..., NUL-separated. */
static void serve_one(sess *S, const spec *sp, int fd)
{
    conn_out *c = calloc(1, sizeof *c);
    unsigned char h[4];
    char *req = NULL;
    gh_thread *th = NULL;
    size_t nth = 0;
    if (!c || recv_full(fd, h, 4, 10000))
        goto out;
    size_t len = h[0] | h[1] << 8 | h[2] << 16 | (size_t)h[3] << 24;
    if (len < 4 || len > REQ_MAX || !(req = malloc(len + 1)) || recv_full(fd, req, len, 10000))
        goto out;
    req[len] = 0;
    c->fd = fd;
    const char *f[7 + MAX_GDB_ARGS + 2];
    int nf = 0;
    for (size_t i = 0; i < len && nf < (int)(sizeof f / sizeof f[0]); i += strlen(req + i) + 1)
        f[nf++] = req + i;
    gh_err err = {0};
    int rc = 1;
    if (nf < 6 || strcmp(f[0], "gh2") || strcmp(f[1], sp->key) || atoi(f[5]) != nf - 6) {
        snprintf(err.msg, sizeof err.msg, "the goheap helper got a request it does not understand");
        frame(c, F_ERR, err.msg, strlen(err.msg));
        frame(c, F_DONE, "1", 1);
        goto out;
    }
    uint64_t gen = strtoull(f[2], NULL, 10);
    /* A live process that ran since the session was built: build it again. */
    if (sp->live && S->s && gen != S->gen)
        sess_close(S);
    int reused = S->s != NULL && S->on_this > 0;
    if (!S->s && sp->live && !(th = regs_parse(f[4], &nth))) {
        snprintf(err.msg, sizeof err.msg, "out of memory for the threads' registers");
        frame(c, F_ERR, err.msg, strlen(err.msg));
        frame(c, F_DONE, "1", 1);
        goto out;
    }
    if (!S->s && sess_open(S, sp, gen, th, nth, &err)) {
        frame(c, F_ERR, err.msg, strlen(err.msg));
        frame(c, F_DONE, "1", 1);
        goto out;
    }
    for (int i = 0; i < S->nwarn; i++)
        frame(c, F_WARN, S->warn[i], strlen(S->warn[i]));
    S->nwarn = 0;
    srv_intr = 0;
    srv_conn = fd;
    fcntl(fd, F_SETOWN, getpid());
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, 0) > 0)
        srv_intr = 1; /* interrupted before we listened */
    gh_set_interrupt_flag(S->s, &srv_intr);
    gh_set_progress(S->s, progress_remote, c);
    gh_out out = {conn_write, c, 0};
    double t0 = now_ms();
    rc = stall((unsigned)atoi(f[3]), &srv_intr, &err);
    if (!rc)
        rc = gh_command_run(S->s, nf - 6, (char **)(f + 6), &out, &err);
    double ms = now_ms() - t0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_ASYNC);
    srv_conn = -1;
    gh_set_interrupt_flag(S->s, NULL);
    gh_set_progress(S->s, NULL, NULL);
    S->commands++;
    S->on_this++;
    flush_out(c);
    if (rc)
        frame(c, F_ERR, err.msg, strlen(err.msg));
    char stats[600];
    sess_stats(S, reused, (int)getpid(), ms, stats, sizeof stats);
    frame(c, F_STATS, stats, strlen(stats));
    frame(c, F_DONE, rc ? "1" : "0", 1);
out:
    free(th);
    free(req);
    free(c);
}

/* Whether the helper should go on: gdb and (live) the process still exist
 * and are the ones it was started for. */
static int still_wanted(const spec *sp)
{
    unsigned long long t;
    if (proc_stat(sp->owner, NULL, NULL, &t) || t != sp->owner_start)
        return 0;
    if ((sp->live || sp->snapshot) && (proc_stat(sp->pid, NULL, NULL, &t) || t != sp->target_start))
        return 0;
    uint64_t gen;
    gh_err err;
    if (sp->snapshot && (live_generation(sp->pid, &gen, &err) || gen != sp->gen))
        return 0; /* the process ran: the snapshot is history */
    return 1;
}

/* The helper: opens the session, then serves requests. Reports on ready:
 * "K" listening, "B" another helper owns the name, "E msg" the session does
 * not open. */
static int serve(const spec *sp, int ready)
{
    sess S = {0};
    gh_err err = {0};
    if (sess_open(&S, sp, sp->gen, sp->th, sp->nth, &err)) {
        dprintf(ready, "E %s\n", err.msg);
        return 1;
    }
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, sp->sock, sizeof sp->sock);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sp->socklen) < 0 || listen(lfd, 8) < 0) {
        if (errno == EADDRINUSE)
            dprintf(ready, "B\n");
        else
            dprintf(ready, "E cannot listen for gdb: %s\n", strerror(errno));
        if (lfd >= 0)
            close(lfd);
        sess_close(&S);
        return 0;
    }
    dprintf(ready, "K\n");
    close(ready);
    struct sigaction sa = {.sa_handler = on_sigio, .sa_flags = SA_RESTART};
    sigaction(SIGIO, &sa, NULL);
    /* gdb's exit (and the live process's) wakes the helper at once: a pidfd
     * polls readable when its process ends (Linux 5.3+; else the 1 s check). */
    int owner_fd = (int)syscall(SYS_pidfd_open, sp->owner, 0);
    int target_fd = (sp->live || sp->snapshot) ? (int)syscall(SYS_pidfd_open, sp->pid, 0) : -1;
    double last = now_ms();
    for (;;) {
        struct pollfd pf[3] = {{lfd, POLLIN, 0}, {owner_fd, POLLIN, 0}, {target_fd, POLLIN, 0}};
        int r = poll(pf, 3, 1000);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && ((pf[1].revents & (POLLIN | POLLHUP)) || (pf[2].revents & (POLLIN | POLLHUP))))
            break;
        if (r > 0 && (pf[0].revents & POLLIN)) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                if (peer_uid(fd) == getuid())
                    serve_one(&S, sp, fd);
                close(fd);
                last = now_ms();
            }
        }
        if (!still_wanted(sp) || now_ms() - last > IDLE_EXIT_S * 1e3)
            break;
    }
    close(lfd);
    if (owner_fd >= 0)
        close(owner_fd);
    if (target_fd >= 0)
        close(target_fd);
    sess_close(&S);
    return 0;
}

/* ---- the client ---- */

static volatile int cli_intr;
static void on_sigint(int sig) { cli_intr++; }

/* Forks the helper: in gdb's session but its own process group, so Ctrl-C
 * in gdb does not reach it; gdb's pipe shell exits after each command, so it
 * is re-parented, and it ends when gdb does (serve watches gdb's pid).
 * Returns 1 started or another one is there, 0 the session does not open
 * (message printed), -1 no helper could be started. */
static int spawn_helper(const spec *sp)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t c = fork();
    if (c < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (c == 0) {
        setpgid(0, 0);
        pid_t g = fork();
        if (g != 0)
            _exit(g < 0 ? 1 : 0);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        int null = open("/dev/null", O_RDWR);
        const char *log = getenv("GOHEAP_GDB_LOG");
        int lfd = log && *log ? open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
        dup2(null, 0);
        dup2(null, 1);
        dup2(lfd >= 0 ? lfd : null, 2);
        /* Keep no descriptor of gdb's: whoever reads gdb's output waits for EOF. */
        for (int fd = 3; fd < 1024; fd++)
            if (fd != p[1])
                close(fd);
        if (chdir("/") < 0) {
            /* paths are absolute; nothing depends on the directory */
        }
        prctl(PR_SET_NAME, "goheap-serve", 0, 0, 0);
        dprintf(p[1], "P %d\n", (int)getpid());
        exit(serve(sp, p[1]));
    }
    close(p[1]);
    while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
        ;
    /* Wait for the helper to open the session; Ctrl-C stops it. */
    char msg[1024];
    size_t n = 0;
    int helper = 0;
    for (;;) {
        struct pollfd pf = {p[0], POLLIN, 0};
        int r = poll(&pf, 1, -1);
        if (r < 0 && errno == EINTR) {
            if (cli_intr && helper > 0) {
                kill(helper, SIGKILL);
                close(p[0]);
                fprintf(stderr, "%s: interrupted while loading the session\n", prog);
                return 0;
            }
            continue;
        }
        ssize_t k = read(p[0], msg + n, sizeof msg - 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
        msg[n] = 0;
        if (!helper && msg[0] == 'P')
            helper = atoi(msg + 2);
        if (n == sizeof msg - 1)
            break;
    }
    close(p[0]);
    msg[n] = 0;
    const char *last = msg;
    for (char *q = strchr(msg, '\n'); q && q[1]; q = strchr(q + 1, '\n'))
        last = q + 1;
    if (last[0] == 'K' || last[0] == 'B')
        return 1;
    if (last[0] == 'E') {
        fprintf(stderr, "%s: %.*s\n", prog, (int)strcspn(last + 2, "\n"), last + 2);
        return 0;
    }
    return -1;
}

static int connect_helper(const spec *sp)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, sp->sock, sizeof sp->sock);
    int r;
    while ((r = connect(fd, (struct sockaddr *)&a, sp->socklen)) < 0 && errno == EINTR)
        ;
    /* Only a helper of our own user: anyone can bind an abstract name. */
    if (r < 0 || peer_uid(fd) != getuid()) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Receives n bytes; on Ctrl-C meanwhile, asks the helper (once) to stop.
 * poll, unlike recv, returns on a signal even with SA_RESTART. */
static int recv_intr(int fd, void *p, size_t n, int *sent_intr)
{
    char *c = p;
    while (n) {
        if (cli_intr && !*sent_intr) {
            *sent_intr = 1;
            send(fd, "I", 1, MSG_NOSIGNAL);
        }
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        ssize_t k = recv(fd, c, n, MSG_DONTWAIT);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Sends the request and prints the answer. Returns the exit code, or -1 when
 * the helper went away before answering. */
static int ask_helper(int fd, const spec *sp, unsigned stall_ms, int argc, char **argv, int stats)
{
    size_t len = 4;
    char gen[32], st[16], ac[16];
    snprintf(gen, sizeof gen, "%" PRIu64, sp->gen);
    snprintf(st, sizeof st, "%u", stall_ms);
    snprintf(ac, sizeof ac, "%d", argc);
    char *regs = sp->live ? regs_text(sp->th, sp->nth) : strdup("");
    if (!regs)
        return -1;
    const char *head[] = {"gh2", sp->key, gen, st, regs, ac};
    for (int i = 0; i < 6; i++)
        len += strlen(head[i]) + 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *req = len <= REQ_MAX + 4 ? malloc(len) : NULL;
    if (!req) {
        free(regs);
        return -1;
    }
    size_t n = 4;
    for (int i = 0; i < 6 + argc; i++) {
        const char *s = i < 6 ? head[i] : argv[i - 6];
        memcpy(req + n, s, strlen(s) + 1);
        n += strlen(s) + 1;
    }
    size_t body = len - 4;
    req[0] = (char)body, req[1] = (char)(body >> 8), req[2] = (char)(body >> 16), req[3] = (char)(body >> 24);
    int bad = write_full(fd, req, len);
    free(req);
    free(regs);
    if (bad)
        return -1;
    int sent_intr = 0, rc = -1;
    char *buf = NULL;
    for (;;) {
        unsigned char h[5];
        if (recv_intr(fd, h, 5, &sent_intr))
            goto done;
        size_t fl = h[1] | h[2] << 8 | h[3] << 16 | (size_t)h[4] << 24;
        char *nb = realloc(buf, fl + 1);
        if (!nb)
            goto done;
        buf = nb;
        if (recv_intr(fd, buf, fl, &sent_intr))
            goto done;
        buf[fl] = 0;
        switch (h[0]) {
        case F_PROGRESS: {
            char *t1 = strchr(buf, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
            if (t2) {
                *t1 = *t2 = 0;
                progress_show(buf, strtoull(t1 + 1, NULL, 10), strtoull(t2 + 1, NULL, 10));
            }
            break;
        }
        case F_OUT:
            progress_clear();
            if (write_full(1, buf, fl) && !sent_intr) {
                sent_intr = 1; /* nobody reads our output: stop */
                send(fd, "I", 1, MSG_NOSIGNAL);
            }
            break;
        case F_WARN:
            progress_clear();
            fprintf(stderr, "%s: warning: %s\n", prog, buf);
            break;
        case F_ERR:
            progress_clear();
            fprintf(stderr, "%s: %s\n", prog, buf);
            break;
        case F_STATS:
            if (stats)
                fprintf(stderr, "%s: session: %s\n", prog, buf);
            break;
        case F_DONE:
            rc = atoi(buf);
            goto done;
        }
    }
done:
    progress_clear();
    free(buf);
    return rc;
}

static void write_stdout(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    progress_clear();
    write_full(1, s, n);
}

/* Without a helper: open, run, close. */
static int run_here(const spec *sp, unsigned stall_ms, int argc, char **argv, int stats)
{
    sess S = {0};
    gh_err err = {0};
    int rc = sess_open(&S, sp, sp->gen, sp->th, sp->nth, &err);
    for (int i = 0; i < S.nwarn; i++)
        fprintf(stderr, "%s: warning: %s\n", prog, S.warn[i]);
    if (!rc) {
        gh_set_interrupt_flag(S.s, &cli_intr);
        gh_set_progress(S.s, progress_local, NULL);
        gh_out out = {write_stdout, NULL, 0};
        double t0 = now_ms();
        rc = stall(stall_ms, &cli_intr, &err);
        if (!rc)
            rc = gh_command_run(S.s, argc, argv, &out, &err);
        S.commands++;
        if (stats) {
            char st[600];
            sess_stats(&S, 0, 0, now_ms() - t0, st, sizeof st);
            fprintf(stderr, "%s: session: %s\n", prog, st);
        }
    }
    progress_clear();
    if (rc)
        fprintf(stderr, "%s: %s\n", prog, err.msg);
    sess_close(&S);
    return rc ? 1 : 0;
}

/* The kernel refuses /proc/PID/mem (Yama ptrace_scope, or a process we may
 * not trace): reserve a slot file that gdb's gcore fills. The slot is created
 * empty with O_EXCL in sticky /tmp, so no other user can swap it; gcore
 * writes into an existing empty file in place. Returns the exit code that
 * asks goheap.gdb to run gcore, or 1. */
static int ask_for_gcore(int pid, const char *why)
{
    for (int k = 0; k < NSLOTS; k++) {
        char path[64];
        snprintf(path, sizeof path, SLOT_FMT, k);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == EEXIST) {
            struct stat st;
            /* Our own slot left behind by a failed gcore an hour ago: reuse it. */
            if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() &&
                time(NULL) - st.st_mtime > 3600 && unlink(path) == 0)
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        }
        if (fd >= 0) {
            close(fd);
            fprintf(stderr, "%s: %s; asking gdb for a core snapshot (gcore) instead\n", prog, why);
            return SLOT_EXIT + k;
        }
    }
    fprintf(stderr, "%s: %s, and no gcore slot is free in /tmp\n", prog, why);
    return 1;
}

/* Why the kernel will not let us read the process, or NULL when it will. */
static const char *mem_refused(int pid, char *buf, size_t cap)
{
    const char *force = getenv("GOHEAP_GDB_GCORE");
    if (force && !strcmp(force, "1")) {
        snprintf(buf, cap, "GOHEAP_GDB_GCORE=1");
        return buf;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return NULL;
    }
    if (errno != EACCES && errno != EPERM)
        return NULL; /* not a permission problem: let the session say what it is */
    snprintf(buf, cap, "cannot read %s: %s", path, strerror(errno));
    return buf;
}

static int from_gdb(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: goheap --from-gdb COMMAND [ARGS]  "
                        "(gdb's 'info inferiors' and 'info files' on stdin)\n");
        return 2;
    }
    const char *cmd = argv[2];
    words w = {0};
    w.argv[w.argc++] = strdup(cmd);
    /* "go-heap --top 5" runs the subcommand --top of go-heap (it gives Tab
     * its options): the option comes as our argument, the rest as typed. */
    const char *opt = argc > 3 ? argv[3] : NULL;
    if (opt)
        w.argv[w.argc++] = strdup(opt);
    int found = args_from_parent(&w), uoff = opt ? 2 : 1; /* w.argv[uoff + N] is the user's $argN */
    if (found < 0) {
        words_free(&w);
        return 1;
    }
    if (!found) /* run by hand: the arguments are ours */
        for (int i = 4; i < argc && w.argc < MAX_GDB_ARGS + 2; i++)
            w.argv[w.argc++] = strdup(argv[i]);
    else if (opt && w.argc > 2 && w.argv[2][0] == '=') { /* "--top=5": gdb ends the name at '=' */
        char *glued = malloc(strlen(opt) + strlen(w.argv[2]) + 1);
        if (glued) {
            sprintf(glued, "%s%s", opt, w.argv[2]);
            free(w.argv[1]);
            free(w.argv[2]);
            w.argv[1] = glued;
            memmove(w.argv + 2, w.argv + 3, (size_t)(w.argc - 3) * sizeof *w.argv);
            w.argc--;
            uoff = 1;
        }
    }
    /* Read all of gdb's output first: gdb waits to write it. */
    char *text = isatty(0) ? NULL : read_all(0, GDB_INPUT_MAX, NULL);
    int rc = 1;
    gdbstate st = {.slot = -1};
    spec *sp = calloc(1, sizeof *sp);
    if (!sp)
        goto out;
    for (int i = 1; i < w.argc; i++)
        if (!strcmp(w.argv[i], "--help") || !strcmp(w.argv[i], "-h")) {
            gh_out o = {write_stdout, NULL, 0};
            gh_err err = {0};
            rc = gh_command_help(cmd, &o, &err) ? (fprintf(stderr, "%s: %s\n", prog, err.msg), 1) : 0;
            goto out;
        }
    parse_gdb(text ? text : (char[]){0}, &st);
    if (!st.seen) {
        fprintf(stderr, "%s: --from-gdb reads gdb's 'info inferiors' and 'info files' on stdin\n", prog);
        goto out;
    }
    /* An ADDR that is not goheap's own expression (a register, $1, a
     * convenience variable, a local): gdb evaluates $argN when we exit with
     * 96+N, and says its value on the next run. */
    int k = found ? gh_command_debugger_arg(w.argc, w.argv) : -1;
    if (k >= uoff && k - uoff >= EVAL_ARGS) {
        fprintf(stderr, "%s: %s: gdb evaluates an address only among the first %d arguments\n", prog, cmd, EVAL_ARGS);
        goto out;
    }
    if (k >= uoff) {
        if (st.argi != k - uoff) {
            rc = EVAL_EXIT + (k - uoff);
            goto out;
        }
        uint64_t v;
        char *hex = st.argval;
        if (strncmp(hex, "0x", 2) || !gh_gdb_hex(hex, &v)) {
            fprintf(stderr, "%s: %s: gdb's value of %s is not a number or a pointer (%.40s); "
                            "for where a value is stored, pass &%s\n", prog, cmd, w.argv[k], hex, w.argv[k]);
            goto out;
        }
        char num[32];
        snprintf(num, sizeof num, "0x%" PRIx64, v);
        free(w.argv[k]);
        w.argv[k] = strdup(num);
        if (!w.argv[k]) {
            w.argc = k;
            goto out;
        }
    }
    if (st.remote) {
        fprintf(stderr, "%s: gdb debugs a remote target; goheap reads a core file or a process on this machine "
                        "(gcore FILE, then goheap FILE)\n", prog);
        goto out;
    }
    snprintf(sp->exe, sizeof sp->exe, "%s", st.exe);
    sp->th = st.th;
    sp->nth = st.nth;
    int ppid = (int)getppid(), gp = 0;
    /* The helper belongs to gdb: our parent is the shell of gdb's pipe. */
    sp->owner = found && !proc_stat(ppid, &gp, NULL, NULL) && gp > 1 ? gp : ppid;
    proc_stat(sp->owner, NULL, NULL, &sp->owner_start);
    char why[300];
    int snap_ready = 0;
    gh_err err = {0};
    if (st.core[0]) {
        snprintf(sp->core, sizeof sp->core, "%s", st.core);
    } else if (st.native && st.pid > 0) {
        sp->live = 1;
        sp->pid = st.pid;
        if (proc_stat(sp->pid, NULL, NULL, &sp->target_start)) {
            fprintf(stderr, "%s: no process %d\n", prog, sp->pid);
            goto out;
        }
        if (live_generation(sp->pid, &sp->gen, &err)) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            goto out;
        }
        if (mem_refused(sp->pid, why, sizeof why)) {
            /* Work on a gcore snapshot, kept by a helper until the process runs. */
            sp->live = 0;
            sp->snapshot = 1;
            if (st.slot >= 0) {
                struct stat fs;
                snprintf(sp->core, sizeof sp->core, SLOT_FMT, st.slot);
                if (st.slot >= NSLOTS || lstat(sp->core, &fs) || !S_ISREG(fs.st_mode) || fs.st_uid != getuid() ||
                    fs.st_size == 0) {
                    fprintf(stderr, "%s: gdb's core snapshot %s is missing\n", prog, sp->core);
                    if (st.slot < NSLOTS)
                        unlink(sp->core);
                    goto out;
                }
                snap_ready = 1;
            }
        }
    } else {
        fprintf(stderr, "%s: gdb has no process or core file: run or attach to a Go program, or load a core "
                        "(core-file CORE)\n", prog);
        goto out;
    }
    const char *e = getenv("GOHEAP_TEST_STALL_MS");
    unsigned stall_ms = e ? (unsigned)atoi(e) : 0;
    e = getenv("GOHEAP_STATS");
    int stats = e && !strcmp(e, "1");
    e = getenv("GOHEAP_GDB_SERVE");
    int serve_off = e && !strcmp(e, "0");
    make_key(sp);
    rc = -1;
    for (int attempt = 0; attempt < 3 && rc < 0 && !cli_intr && !serve_off; attempt++) {
        int fd = connect_helper(sp);
        if (fd < 0) {
            if (sp->snapshot && !snap_ready) {
                rc = ask_for_gcore(sp->pid, why);
                break;
            }
            int s = spawn_helper(sp);
            if (s == 0) {
                rc = 1;
                break;
            }
            if (s < 0)
                break;
            continue;
        }
        rc = ask_helper(fd, sp, stall_ms, w.argc, w.argv, stats);
        close(fd);
    }
    if (rc < 0 && !cli_intr) /* no helper to be had: do it here */
        rc = sp->snapshot && !snap_ready ? ask_for_gcore(sp->pid, why) : run_here(sp, stall_ms, w.argc, w.argv, stats);
    if (snap_ready)
        unlink(sp->core); /* normally gone already: the session removes it once mapped */
    if (rc < 0)
        rc = 1;
out:
    free(st.th);
    free(sp);
    free(text);
    words_free(&w);
    return rc;
}

/* ---- installing the commands: which names are free ---- */

/* Reads gdb's 'help all'; exit code bit i is set when argv[2+i] is not a gdb
 * command yet. Names of other commands are reported; ours (the summary ends
 * in "(goheap)") are there because this file was sourced before. */
static int gdb_free(int argc, char **argv)
{
    char *text = isatty(0) ? NULL : read_all(0, GDB_INPUT_MAX, NULL);
    int n = argc - 2, mask = 0;
    if (n > 6) {
        fprintf(stderr, "%s: --gdb-free takes at most 6 names\n", prog);
        free(text);
        return 127;
    }
    for (int i = 0; i < n; i++)
        mask |= 1 << i;
    char *save = NULL;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        char *dash = strstr(line, " -- ");
        if (!dash)
            continue;
        int ours = strlen(dash) >= 8 && !strcmp(dash + strlen(dash) - 8, "(goheap)");
        *dash = 0;
        /* "name, alias1, alias2 -- summary" */
        for (char *tok = line; tok && *tok;) {
            char *comma = strstr(tok, ", ");
            if (comma)
                *comma = 0;
            for (int i = 0; i < n; i++)
                if (!strcmp(tok, argv[2 + i]) && (mask & 1 << i)) {
                    mask &= ~(1 << i);
                    if (!ours) /* ours: this file was sourced before */
                        fprintf(stderr, "%s: gdb already has a command %s; goheap leaves it alone (use goheap-%s)\n",
                                prog, tok, tok + 3);
                }
            tok = comma ? comma + 2 : NULL;
        }
    }
    free(text);
    return mask;
}

/* ---- generating goheap.gdb's commands ---- */

static void doc_line(const char *line, size_t n)
{
    /* "end" alone would close the document block */
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), line);
    const char *t = buf + strspn(buf, " \t");
    printf("%s\n", strcmp(t, "end") ? buf : "(end)");
}

typedef struct strbuf {
    char *s;
    size_t n, cap;
} strbuf;

static void sb_write(void *ctx, const char *s, size_t n)
{
    strbuf *b = ctx;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *ns = realloc(b->s, cap);
        if (!ns)
            return;
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' && *s != '_')
            return 0;
    return 1;
}

/* The body of goheap-NAME (and of its option subcommands, opt set). gdb
 * substitutes $argN only for N < $argc, and eval substitutes them in the
 * command it builds: the inner eval cuts the constant "$arg0 $arg1 ..."
 * ($goheap_all) to $argc words. */
static void print_define(const char *gname, const char *opt, const char *cmd, const char *qbin)
{
    printf("define %s%s%s\n", gname, opt ? " " : "", opt ? opt : "");
    printf("  goheap-argn $argc\n  set $goheap_slot = -1\n  set $goheap_argi = -1\n  set $goheap_again = 1\n"
           "  while $goheap_again\n");
    printf("    set $goheap_again = 0\n");
    printf("    eval \"eval \\\"pipe goheap-gdb-state | trap '' INT; %s --from-gdb go-%s%s%s; exit" ARGS_MARK
           "%%d: %%%%.%%ds\\\", $goheap_all\", $argc, $goheap_n\n",
           qbin, cmd, opt ? " " : "", opt ? opt : "");
    printf("    goheap-gcore-if-asked\n    goheap-eval-if-asked\n");
    /* the argument goheap asked gdb for, by gdb's own evaluation ($argN is
     * substituted in the command eval builds) */
    printf("    if $goheap_again && $goheap_argi >= 0 && $goheap_slot < 0\n");
    printf("      eval \"set $goheap_argval = ($arg%%d)\", $goheap_argi\n    end\n");
    printf("  end\nend\n");
}

/* $goheap_all and goheap-argn: the first $argc words of it are
 * $goheap_n characters long. */
static void print_arg_helpers(void)
{
    printf("set $goheap_all = \"");
    for (int i = 0; i < MAX_GDB_ARGS; i++)
        printf("%s$arg%d", i ? " " : "", i);
    printf("\"\n");
    printf("define goheap-argn\n  set $goheap_n = $arg0\n  if $goheap_n > %d\n    set $goheap_n = %d\n  end\n",
           MAX_GDB_ARGS, MAX_GDB_ARGS);
    printf("  if $goheap_n > 10\n    set $goheap_n = 7 * $goheap_n - 11\n  end\n");
    printf("  if $goheap_n > 0 && $goheap_n <= 10\n    set $goheap_n = 6 * $goheap_n - 1\n  end\nend\n");
    printf("document goheap-argn\n"
           "Internal to goheap's go- commands: length of the first N of $goheap_all (goheap)\nend\n\n");
}

/* Each option of a command ("  --top   show the N ..." lines of its help)
 * as a subcommand of goheap-NAME: Tab after "go-heap --" completes them,
 * and 'help go-heap' lists them. */
static void print_options(const char *gname, const char *name, const char *qbin, const char *p)
{
    if (!p || !*p)
        return;
    printf("define-prefix %s\n", gname);
    for (p++; *p == ' ';) {
        size_t l = strcspn(p, "\n");
        const char *opt = p + strspn(p, " ");
        size_t ol = strcspn(opt, " \n");
        const char *help = opt + ol + strspn(opt + ol, " ");
        char o[64];
        snprintf(o, sizeof o, "%.*s", (int)(ol < sizeof o - 1 ? ol : sizeof o - 1), opt);
        if (o[0] == '-' && valid_name(o + 1)) {
            print_define(gname, o, name, qbin);
            printf("document %s %s\n", gname, o);
            doc_line(help, (size_t)(p + l - help));
            printf("end\n");
        }
        p += l + (p[l] == '\n');
    }
    printf("\n");
}

/* Prints, for every engine command, goheap-NAME (define and document at top
 * level: inside an 'if' gdb strips the help text's indentation and blank
 * lines) and the alias go-NAME where gdb has no such command yet. */
static int gdb_commands(const char *bin)
{
    /* The path goes through two gdb string literals, two printf formats and
     * sh: refuse the characters that would need escaping at some level. */
    if (!bin || !*bin || strpbrk(bin, "$%\"'\\\n")) {
        fprintf(stderr, "%s: --gdb-commands needs the path of goheap, without $ %% \" ' \\ or newlines\n", prog);
        return 2;
    }
    char *q = malloc(strlen(bin) + 3);
    if (!q)
        return 1;
    sprintf(q, "'%s'", bin);
    print_arg_helpers();
    const char *names[64], *targets[64]; /* go-NAME (or an alias, go-bt) -> goheap-NAME */
    size_t n = 0;
    const char *name, *summary;
    for (size_t i = 0; n + 2 <= 64 && (name = gh_command_name(i, &summary)); i++) {
        if (!valid_name(name))
            continue;
        names[n] = targets[n] = name;
        n++;
        const char *alias = gh_command_alias(i);
        if (alias && valid_name(alias)) {
            names[n] = alias;
            targets[n++] = name;
        }
        char gname[80], full[80];
        snprintf(gname, sizeof gname, "goheap-%s", name);
        snprintf(full, sizeof full, "go-%s", name);
        print_define(gname, NULL, name, q);
        printf("document %s\n%s (goheap)\n\n", gname, summary);
        strbuf b = {0};
        gh_out o = {sb_write, &b, 0};
        gh_err err = {0};
        const char *opts = NULL;
        if (!gh_command_help(full, &o, &err) && b.s) {
            /* skip "go-name — summary" and the blank line after it; the
             * options are the subcommands gdb lists after this text */
            const char *p = strchr(b.s, '\n');
            p = p ? p + 1 : b.s;
            if (*p == '\n')
                p++;
            int in_opts = 0;
            while (*p) {
                size_t l = strcspn(p, "\n");
                if (!strncmp(p, "options:", 8))
                    in_opts = 1, opts = p + l;
                else if (l == 0 || p[0] != ' ')
                    in_opts = 0;
                if (!in_opts && !(l == 0 && !strncmp(p + 1, "options:", 8)))
                    doc_line(p, l);
                p += l + (p[l] == '\n');
            }
        }
        printf("\nRuns in goheap on the core or process gdb has; the loaded model is kept\n");
        printf("between commands. Arguments reach goheap as typed: '...' and \"...\" group\n");
        printf("words, regular expressions need no escaping. See docs/gdb.md.\nend\n\n");
        print_options(gname, name, q, opts);
        free(b.s);
    }
    for (size_t c0 = 0; c0 < n; c0 += 6) {
        printf("pipe help all | %s --gdb-free", q);
        for (size_t i = c0; i < n && i < c0 + 6; i++)
            printf(" go-%s", names[i]);
        printf("\nset $goheap_free = $_shell_exitcode\n");
        printf("if $goheap_free > 63\n  echo goheap: cannot run %s: no go- commands\\n\n", q);
        printf("  set $goheap_free = 0\nend\n");
        for (size_t i = c0; i < n && i < c0 + 6; i++)
            printf("if $goheap_free / %d %% 2 == 1\n  alias go-%s = goheap-%s\nend\n", 1 << (int)(i - c0),
                   names[i], targets[i]);
    }
    free(q);
    return 0;
}

int gh_gdb_mode(int argc, char **argv)
{
    return argc > 1 && (!strcmp(argv[1], "--from-gdb") || !strcmp(argv[1], "--gdb-free") ||
                        !strcmp(argv[1], "--gdb-commands"));
}

int gh_gdb_main(int argc, char **argv)
{
    if (!strcmp(argv[1], "--gdb-free"))
        return gdb_free(argc, argv);
    if (!strcmp(argv[1], "--gdb-commands"))
        return gdb_commands(argc > 2 ? argv[2] : NULL);
    /* goheap.gdb's shell ignores SIGINT so that gdb's pipe waits for us; we
     * take it back to stop the command. */
    struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESTART};
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return from_gdb(argc, argv);
}
