/* goheap: the standalone command-line front end. It opens a target, hands
 * each command line to the engine's command layer, and prints the result. */
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fromgdb.h"
#include "goheap/goheap.h"

static const char usage[] =
    "usage: goheap [--exe EXE] CORE [COMMAND [ARGS]]\n"
    "       goheap --pid PID [COMMAND [ARGS]]\n"
    "       goheap --pid PID snapshot OUT [--full] [--json]   (an ELF core of the running process)\n"
    "       goheap help [--names | COMMAND | snapshot]\n"
    "       --stats: on exit, the time each phase took on stderr; with GOHEAP_STATS=1 too, what\n"
    "                decompressing a compressed core cost\n"
    "       --no-index, --index: skip the graph index of a core; save it however quick the graph was\n"
    "       --full-names: type names with their import paths (go/scanner.Scanner) in every command's\n"
    "                text, not only where two packages share a short name (any command takes it too)\n"
    "       goheap --from-gdb COMMAND [ARGS]   (used by goheap.gdb; see docs/gdb.md)\n"
    "Without a command, goheap reads commands from a prompt and keeps the session loaded.\n";

volatile int cli_interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    cli_interrupted = 1;
}

void cli_catch_sigint(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGINT, &sa, NULL);
}

/* Progress on stderr when it is a terminal: one line, rewritten in place
 * and erased before any output and when the command ends. */
static int progress_shown;

static void progress_clear(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = 0;
    }
}

static void progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)ctx;
    if (total && done >= total) {
        progress_clear();
        return;
    }
    if (total)
        fprintf(stderr, "\r\033[Kgoheap: %s %llu/%llu (%d%%)", phase, (unsigned long long)done,
                (unsigned long long)total, (int)(100.0 * (double)done / (double)total));
    else
        fprintf(stderr, "\r\033[Kgoheap: %s %llu", phase, (unsigned long long)done);
    fflush(stderr);
    progress_shown = 1;
}

static void write_stdout(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    progress_clear();
    fwrite(s, 1, n, stdout);
}

/* --stats: where the time went, one line per phase, then the total. */
static void print_stats(const gh_session *s)
{
    const char *phase;
    double wall, cpu, tw = 0, tc = 0;
    fprintf(stderr, "goheap: %-10s %9s %9s\n", "phase", "wall s", "cpu s");
    for (size_t k = 0; gh_phase_time(s, k, &phase, &wall, &cpu); k++) {
        fprintf(stderr, "goheap: %-10s %9.3f %9.3f\n", phase, wall, cpu);
        tw += wall;
        tc += cpu;
    }
    fprintf(stderr, "goheap: %-10s %9.3f %9.3f\n", "total", tw, tc);
    if (gh_index_status(s))
        fprintf(stderr, "goheap: index: %s\n", gh_index_status(s));
}

int cli_run(gh_session *s, int argc, char **argv, gh_out *out)
{
    gh_err err = {0};
    cli_interrupted = 0;
    int rc = gh_command_run(s, argc, argv, out, &err);
    fflush(stdout);
    progress_clear();
    if (rc)
        fprintf(stderr, "goheap: %s\n", err.msg);
    /* Ctrl-C: 130 (128 + SIGINT) whether the command stopped with an error
     * (verify) or with a partial result (heap). */
    return rc == GH_EINTR || cli_interrupted ? 130 : rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *exe = NULL, *core = NULL;
    int pid = 0, i = 1, stats = 0, index = GH_INDEX_DEFAULT, full_names = 0;
    gh_out out = {write_stdout, NULL, 0};
    gh_err err = {0};
    struct winsize ws;
    if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        out.cols = ws.ws_col; /* tables fit the terminal */
    if (gh_gdb_mode(argc, argv))
        return gh_gdb_main(argc, argv);
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("goheap %s\n", gh_version(NULL, NULL, NULL));
            return 0;
        } else if (!strcmp(argv[i], "--stats")) {
            stats = 1;
        } else if (!strcmp(argv[i], "--full-names")) {
            full_names = 1;
        } else if (!strcmp(argv[i], "--no-index")) {
            index = GH_INDEX_OFF;
        } else if (!strcmp(argv[i], "--index")) {
            index = GH_INDEX_ALWAYS;
        } else if (!strcmp(argv[i], "--exe") && i + 1 < argc) {
            exe = argv[++i];
        } else if (!strcmp(argv[i], "--pid") && i + 1 < argc) {
            pid = atoi(argv[++i]);
            if (pid <= 0) {
                fprintf(stderr, "goheap: --pid needs a process id\n");
                return 2;
            }
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "goheap: unknown option %s\n%s", argv[i], usage);
            return 2;
        } else {
            break;
        }
    }
    if (i + 1 < argc && !strcmp(argv[i], "help") && !strcmp(argv[i + 1], "--names")) {
        /* one command per line: front ends generate their commands from it */
        const char *name;
        for (size_t k = 0; (name = gh_command_name(k, NULL)); k++)
            puts(name);
        return 0;
    }
    if (i + 1 < argc && !strcmp(argv[i], "help") && !strcmp(argv[i + 1], "snapshot")) {
        char *help[] = {argv[i + 1], "--help"};
        return cli_snapshot(pid, 2, help);
    }
    if (i < argc && !strcmp(argv[i], "help") && !pid)
        return gh_command_help(i + 1 < argc ? argv[i + 1] : NULL, &out, &err) ? (fprintf(stderr, "goheap: %s\n", err.msg), 1) : 0;
    /* Before any session: one would keep the process stopped while it loads. */
    if (i < argc && !strcmp(argv[i], "snapshot") && (pid || access("snapshot", F_OK) != 0))
        return cli_snapshot(pid, argc - i, argv + i);
    if (!pid) {
        if (i >= argc) {
            fputs(usage, stderr);
            return 2;
        }
        core = argv[i++];
    }
    gh_session *s;
    int rc = pid ? gh_open_pid(pid, GH_OPEN_ATTACH, NULL, 0, &s, &err) : gh_open_core(core, exe, &s, &err);
    if (rc) {
        fprintf(stderr, "goheap: %s\n", err.msg);
        return 1;
    }
    for (size_t k = 0; gh_warning(s, k); k++)
        fprintf(stderr, "goheap: warning: %s\n", gh_warning(s, k));
    const char *e = getenv("GOHEAP_STATS");
    if ((stats || (e && !strcmp(e, "1"))) && gh_target_note(s))
        fprintf(stderr, "goheap: %s\n", gh_target_note(s));
    if (!pid && gh_set_index(s, index, NULL, &err))
        fprintf(stderr, "goheap: warning: %s\n", err.msg);
    gh_set_full_names(s, full_names);
    gh_set_interrupt_flag(s, &cli_interrupted);
    if (isatty(2))
        gh_set_progress(s, progress, NULL);
    cli_catch_sigint(1);
    rc = i < argc ? cli_run(s, argc - i, argv + i, &out) : cli_prompt(s, &out);
    if (stats)
        print_stats(s);
    gh_close(s);
    return rc;
}
