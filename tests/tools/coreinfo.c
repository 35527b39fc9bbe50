/* coreinfo: prints what a target backend sees, for the integration tests to
 * compare with gdb. Not installed.
 *   coreinfo [--exe EXE] CORE [ADDR...]
 *   coreinfo --pid PID [--no-stop] [ADDR...]
 * Each ADDR prints the 16 bytes there. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"

static void print_target(gh_target *t)
{
    printf("kind %s\n", t->kind);
    const char *exe = t->ops->exe_path(t->ctx);
    printf("exe %s\n", exe ? exe : "-");
    uint64_t bias;
    if (t->ops->load_bias(t->ctx, &bias) == GH_OK)
        printf("bias 0x%" PRIx64 "\n", bias);
    else
        printf("bias unknown\n");
    const char *w = gh_core_warning(t);
    if (w)
        printf("warning %s\n", w);
    const gh_thread *th;
    size_t n;
    t->ops->threads(t->ctx, &th, &n);
    printf("threads %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        if (th[i].has_regs)
            printf("thread %d rip 0x%" PRIx64 " rsp 0x%" PRIx64 "\n", th[i].tid, th[i].regs[GH_X86_RIP],
                   th[i].regs[GH_X86_RSP]);
        else
            printf("thread %d noregs\n", th[i].tid);
    }
    const gh_region *r;
    t->ops->regions(t->ctx, &r, &n);
    printf("regions %zu\n", n);
    for (size_t i = 0; i < n; i++)
        printf("region 0x%" PRIx64 "-0x%" PRIx64 " %c%c%c %s 0x%" PRIx64 " %s\n", r[i].start, r[i].end,
               r[i].prot & GH_PROT_R ? 'r' : '-', r[i].prot & GH_PROT_W ? 'w' : '-',
               r[i].prot & GH_PROT_X ? 'x' : '-', r[i].in_core ? "dumped" : "partial",
               r[i].file_offset, r[i].name ? r[i].name : "-");
}

static void print_read(gh_target *t, const char *arg)
{
    char *end;
    uint64_t addr = strtoull(arg, &end, 0);
    if (*end) {
        printf("read %s: bad address\n", arg);
        return;
    }
    uint8_t buf[16];
    gh_err err;
    if (gh_read(t, addr, buf, sizeof buf, &err) != GH_OK) {
        printf("read 0x%" PRIx64 ": error %s\n", addr, err.msg);
        return;
    }
    printf("read 0x%" PRIx64 ":", addr);
    for (size_t i = 0; i < sizeof buf; i++)
        printf(" %02x", buf[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *exe = NULL, *core = NULL;
    int pid = 0, stop = 1, i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--exe") && i + 1 < argc)
            exe = argv[++i];
        else if (!strcmp(argv[i], "--pid") && i + 1 < argc)
            pid = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-stop"))
            stop = 0;
        else
            break;
    }
    if (!pid) {
        if (i >= argc) {
            fprintf(stderr, "usage: coreinfo [--exe EXE] CORE [ADDR...] | --pid PID [--no-stop] [ADDR...]\n");
            return 2;
        }
        core = argv[i++];
    }
    gh_target *t;
    gh_err err;
    int rc = pid ? gh_live_open(pid, stop, &t, &err) : gh_core_open(core, exe, &t, &err);
    if (rc) {
        fprintf(stderr, "coreinfo: %s\n", err.msg);
        return 1;
    }
    print_target(t);
    for (; i < argc; i++)
        print_read(t, argv[i]);
    gh_target_close(t);
    return 0;
}
