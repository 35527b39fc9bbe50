/* pcinfo: what goheap's function table says about pcs, for
 * tests/integration/test_pclntab.py to compare with gdb. Not installed.
 *   pcinfo [--exe EXE] CORE [PC...|-]     ("-": read pcs from stdin)
 *   pcinfo [--exe EXE] CORE --funcs       (every function: entry, end, name)
 * For each pc, tab-separated (names of generic functions hold spaces):
 *   pc 0x.. func NAME entry 0x.. end 0x.. file FILE line N sp D id ID flag F
 *   frame I NAME FILE LINE inlined|-      (innermost first)
 * or "pc 0x.. error MESSAGE". "threads" lists each thread's rip. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pclntab/pclntab.h"
#include "session/session.h"

static void print_pc(const gh_pclntab *tab, uint64_t pc)
{
    gh_func fn;
    gh_err err;
    const char *file;
    int line;
    int32_t sp;
    if (gh_func_find(tab, pc, &fn, &err) || gh_func_fileline(tab, &fn, pc, &file, &line, &err) ||
        gh_func_spdelta(tab, &fn, pc, &sp, &err)) {
        printf("pc\t0x%" PRIx64 "\terror\t%s\n", pc, err.msg);
        return;
    }
    printf("pc\t0x%" PRIx64 "\tfunc\t%s\tentry\t0x%" PRIx64 "\tend\t0x%" PRIx64
           "\tfile\t%s\tline\t%d\tsp\t%d\tid\t%u\tflag\t%u\n",
           pc, gh_func_name(tab, &fn), fn.entry, fn.end, file, line, sp, fn.id, fn.flag);
    gh_inl_frame fr[64];
    size_t n;
    if (gh_func_frames(tab, &fn, pc, fr, 64, &n, &err)) {
        printf("frames\terror\t%s\n", err.msg);
        return;
    }
    for (size_t i = 0; i < n && i < 64; i++)
        printf("frame\t%zu\t%s\t%s\t%d\t%s\n", i, fr[i].name, fr[i].file, fr[i].line,
               fr[i].inlined ? "inlined" : "-");
}

static int print_funcs(const gh_pclntab *tab)
{
    gh_err err;
    for (uint32_t i = 0; i < gh_pclntab_nfunc(tab); i++) {
        gh_func fn;
        if (gh_func_at(tab, i, &fn, &err)) {
            printf("error %s\n", err.msg);
            return 1;
        }
        printf("func\t0x%" PRIx64 "\t0x%" PRIx64 "\t%s\n", fn.entry, fn.end, gh_func_name(tab, &fn));
    }
    return 0;
}

static int do_pc(const gh_pclntab *tab, const char *arg)
{
    char *end;
    uint64_t pc = strtoull(arg, &end, 0);
    if (*end) {
        fprintf(stderr, "pcinfo: bad pc %s\n", arg);
        return 1;
    }
    print_pc(tab, pc);
    return 0;
}

int main(int argc, char **argv)
{
    const char *exe = NULL;
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "--exe")) {
        exe = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: pcinfo [--exe EXE] CORE [PC...|-|--funcs]\n");
        return 2;
    }
    gh_err err;
    gh_target *t;
    gh_session *s;
    gh_pclntab *tab;
    if (gh_core_open(argv[i], exe, &t, &err) || gh_session_open(t, exe, argv[i], &s, &err)) {
        fprintf(stderr, "pcinfo: %s\n", err.msg);
        return 1;
    }
    if (gh_pclntab_open(&s->rt, &tab, &err)) {
        fprintf(stderr, "pcinfo: %s\n", err.msg);
        gh_session_close(s);
        return 1;
    }
    const gh_moduledata *md = gh_pclntab_md(tab);
    printf("module text 0x%" PRIx64 " minpc 0x%" PRIx64 " maxpc 0x%" PRIx64 " nfunc %u layout %s\n", md->text,
           md->minpc, md->maxpc, gh_pclntab_nfunc(tab), md->layout);
    int rc = 0;
    for (i++; i < argc && !rc; i++) {
        if (!strcmp(argv[i], "--funcs")) {
            rc = print_funcs(tab);
        } else if (!strcmp(argv[i], "threads")) {
            const gh_thread *th;
            size_t n;
            s->t->ops->threads(s->t->ctx, &th, &n);
            for (size_t k = 0; k < n; k++)
                if (th[k].has_regs)
                    printf("thread %d rip 0x%" PRIx64 "\n", th[k].tid, th[k].regs[GH_X86_RIP]);
        } else if (!strcmp(argv[i], "-")) {
            char buf[64];
            while (!rc && fgets(buf, sizeof buf, stdin)) {
                buf[strcspn(buf, "\r\n")] = 0;
                if (*buf)
                    rc = do_pc(tab, buf);
            }
        } else {
            rc = do_pc(tab, argv[i]);
        }
    }
    gh_pclntab_free(tab);
    gh_session_close(s);
    return rc;
}
