/* goheap --pid PID snapshot OUT [--full] [--json]: an ELF core of a running
 * Go process (gh_snapshot). It runs before any session is opened: a session
 * would stop the process for as long as it takes to load, and the snapshot's
 * point is a short pause. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char snapshot_usage[] =
    "usage: goheap --pid PID snapshot OUT [--full] [--json] [--wait-stdin]\n"
    "  writes an ELF core of the running process to OUT, stopping it only while its memory is copied;\n"
    "  --full: every readable mapping, not only writable memory; --json: the figures as JSON;\n"
    "  --wait-stdin: wait for a byte on stdin before stopping the process (the process itself runs\n"
    "  goheap and first allows it to trace it: prctl(PR_SET_PTRACER, goheap's pid); go/snapshot does)\n"
    "  Ctrl-C, SIGTERM or SIGHUP: the threads are resumed and OUT is not left behind\n";

static const char *human(uint64_t b, char *buf, size_t cap)
{
    if (b < 1024)
        snprintf(buf, cap, "%llu B", (unsigned long long)b);
    else if (b < (1u << 20))
        snprintf(buf, cap, "%.1f KiB", (double)b / 1024);
    else if (b < (1u << 30))
        snprintf(buf, cap, "%.1f MiB", (double)b / (1 << 20));
    else
        snprintf(buf, cap, "%.2f GiB", (double)b / (1 << 30));
    return buf;
}

/* JSON string: the path as given, escaped. */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* Ctrl-C, SIGTERM, SIGHUP during a snapshot: noted, not fatal, so that the
 * snapshot ends its pause (gh_snapshot resumes the threads whatever
 * happens) and the file is removed rather than left half written. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig) { interrupted = sig; }

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* --wait-stdin: one byte on stdin is the go-ahead; end of file is not. */
static int wait_stdin(void)
{
    char c;
    for (;;) {
        ssize_t n = read(0, &c, 1);
        if (n == 1)
            return 0;
        if (n < 0 && errno == EINTR && !interrupted)
            continue;
        if (interrupted)
            fprintf(stderr, "goheap: snapshot: interrupted before the go-ahead; nothing was written\n");
        else
            fprintf(stderr, "goheap: snapshot: stdin %s before the go-ahead (--wait-stdin); nothing was written\n",
                    n == 0 ? "closed" : strerror(errno));
        return 1;
    }
}

int cli_snapshot(int pid, int argc, char **argv)
{
    const char *path = NULL;
    unsigned flags = 0;
    int json = 0, gate = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--full"))
            flags |= GH_SNAPSHOT_FULL;
        else if (!strcmp(argv[i], "--wait-stdin"))
            gate = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(snapshot_usage, stdout);
            return 0;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "goheap: snapshot: unexpected argument %s\n%s", argv[i], snapshot_usage);
            return 2;
        } else
            path = argv[i];
    }
    if (!path || !pid) {
        fprintf(stderr, "goheap: snapshot: %s\n%s", pid ? "no output file given" : "needs --pid PID",
                snapshot_usage);
        return 2;
    }
    catch_signals();
    if (gate && wait_stdin())
        return interrupted ? 128 + interrupted : 1;
    gh_snapshot_stats st;
    gh_err err = {0};
    int rc = gh_snapshot(pid, path, flags, &st, &err);
    if (interrupted) { /* the threads run again; what was written goes */
        if (!rc)
            unlink(path);
        fprintf(stderr, "goheap: snapshot interrupted (%s); process %d runs on, nothing was written\n",
                strsignal(interrupted), pid);
        return 128 + interrupted;
    }
    if (rc) {
        fprintf(stderr, "goheap: %s\n", err.msg);
        return 1;
    }
    if (json) {
        printf("{\"pid\": %d, \"path\": ", pid);
        json_str(path);
        printf(", \"full\": %s, \"pause_ms\": %.3f, \"stop_ms\": %.3f, \"copy_ms\": %.3f, "
               "\"pause_cpu_ms\": %.3f, \"write_ms\": %.3f, "
               "\"threads\": %zu, \"mappings\": %zu, \"copied\": %llu, \"unreadable\": %llu, \"size\": %llu, "
               "\"disk\": %llu}\n",
               flags & GH_SNAPSHOT_FULL ? "true" : "false", st.pause_ms, st.stop_ms, st.copy_ms, st.pause_cpu_ms,
               st.write_ms,
               st.threads, st.mappings,
               (unsigned long long)st.copied, (unsigned long long)st.unreadable, (unsigned long long)st.size,
               (unsigned long long)st.disk);
        return 0;
    }
    char a[32], b[32], c[32];
    printf("snapshot of process %d written to %s\n"
           "pause: %.1f ms (%zu threads stopped; %s copied)\n"
           "size: %s (%s on disk), %zu mappings; written in %.1f ms after the pause\n",
           pid, path, st.pause_ms, st.threads, human(st.copied, a, sizeof a), human(st.size, b, sizeof b),
           human(st.disk, c, sizeof c), st.mappings, st.write_ms);
    if (st.unreadable)
        printf("warning: %s the process would not give were written as zeros\n",
               human(st.unreadable, a, sizeof a));
    return 0;
}
