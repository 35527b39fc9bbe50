/* The frame walker (engine/goroutine/unwind.c) on a hand-built function table and a
 * hand-built stack in a fake target: fp/varp/argp as the runtime computes
 * them, the stop at a top frame, trap pcs after asyncPreempt, continuation
 * pcs after sigpanic, SP-writing functions, and walks that must stop early
 * (unknown return pc, sp off the stack, too many frames). Also the status
 * names of each release. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "goroutine/unwind.h"
#include "fake_target.h"
#include "tests.h"

#define TEXT 0x401000ull
#define PCLN 0x500000ull
#define FFT 0x600000ull
#define STACK 0xc000000000ull
#define STACK_SIZE 0x1000ull
enum { O_NAMES = 0x100, O_CUTAB = 0x400, O_FILES = 0x500, O_PCTAB = 0x600, O_PCLN = 0x1000, PCLN_SIZE = 0x2000 };

/* Functions, 0x100 bytes each: name, frame size after a 4-byte prologue,
 * funcID (1.25+ numbering), flag, deferreturn. */
typedef struct fdef {
    const char *name;
    int32_t frame;
    uint8_t id, flag;
    uint32_t deferreturn;
} fdef;
enum { F_LEAF, F_MID, F_ASYNC, F_SIGPANIC, F_GOEXIT, F_MCALL, NFUNC };
static const fdef funcs[NFUNC] = {
    {"main.leaf", 0x10, GH_FUNCID_NORMAL, 0, 0x20},
    {"main.mid", 0x20, GH_FUNCID_NORMAL, 0, 0},
    {"runtime.asyncPreempt", 0x30, GH_FUNCID_ASYNCPREEMPT, GH_FUNCFLAG_ASM, 0},
    {"runtime.sigpanic", 0x8, GH_FUNCID_SIGPANIC, 0, 0},
    {"runtime.goexit", 0, GH_FUNCID_GOEXIT, GH_FUNCFLAG_TOPFRAME, 0},
    {"runtime.mcall", 0x8, GH_FUNCID_MCALL, GH_FUNCFLAG_SPWRITE, 0},
};
#define PC(f, off) (TEXT + 0x100ull * (f) + (off))

typedef struct fx {
    gh_target *t;
    gh_pclntab *tab;
    uint8_t *stack;
} fx;

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint32_t uvarint(uint8_t *p, uint32_t v)
{
    uint32_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(v | 0x80);
    p[n++] = (uint8_t)v;
    return n;
}

/* pcsp: 0 over the 4-byte prologue, then the frame size (0 throughout for
 * frameless functions); pc deltas in units of the PC quantum. */
static uint32_t pcsp(uint8_t *pctab, uint32_t *pos, int32_t frame, uint32_t quantum)
{
    uint32_t off = *pos;
    int32_t vals[2] = {0, frame};
    uint32_t ends[2] = {4, 0x100};
    int32_t prev = -1;
    uint32_t pcprev = 0;
    if (!frame) /* one entry: a zero value delta would end the table */
        ends[0] = 0x100;
    for (int k = 0; k < (frame ? 2 : 1); k++) {
        int32_t d = vals[k] - prev;
        *pos += uvarint(pctab + *pos, ((uint32_t)d << 1) ^ (d < 0 ? UINT32_MAX : 0));
        *pos += uvarint(pctab + *pos, (ends[k] - pcprev) / quantum);
        prev = vals[k];
        pcprev = ends[k];
    }
    pctab[(*pos)++] = 0;
    return off;
}

static int setup_arch(void **state, const gh_arch *arch)
{
    static fx f;
    memset(&f, 0, sizeof f);
    f.t = fake_target_new();
    f.t->arch = arch;
    uint8_t *pcln = fake_target_map(f.t, PCLN, PCLN_SIZE);
    uint8_t *fft = fake_target_map(f.t, FFT, 64);
    f.stack = fake_target_map(f.t, STACK, STACK_SIZE);
    gh_moduledata md = {0};
    /* names, one file, pctab */
    uint32_t at = 0, name_off[NFUNC], pos = 1;
    for (int i = 0; i < NFUNC; i++) {
        name_off[i] = at;
        strcpy((char *)pcln + O_NAMES + at, funcs[i].name);
        at += (uint32_t)strlen(funcs[i].name) + 1;
    }
    strcpy((char *)pcln + O_FILES, "/x.go");
    put32(pcln + O_CUTAB, 0);
    /* ftab, then _func records */
    uint8_t *ftab = pcln + O_PCLN;
    uint32_t fo = (NFUNC + 1) * 8;
    for (int i = 0; i <= NFUNC; i++) {
        put32(ftab + 8 * i, 0x100u * (uint32_t)i);
        put32(ftab + 8 * i + 4, i < NFUNC ? fo + 44u * (uint32_t)i : 0);
    }
    for (int i = 0; i < NFUNC; i++) {
        uint8_t *r = ftab + fo + 44 * i;
        put32(r + 0, 0x100u * (uint32_t)i);
        put32(r + 4, name_off[i]);
        put32(r + 8, 0);
        put32(r + 12, funcs[i].deferreturn);
        put32(r + 16, pcsp(pcln + O_PCTAB, &pos, funcs[i].frame, arch->pcquantum));
        r[40] = funcs[i].id;
        r[41] = funcs[i].flag;
    }
    /* findfunctab: one bucket, a subbucket per function */
    put32(fft, 0);
    for (int j = 0; j < NFUNC; j++)
        fft[4 + j] = (uint8_t)j;
    /* pcHeader */
    uint8_t *h = pcln;
    put32(h, GH_PCLNTAB_MAGIC);
    h[6] = (uint8_t)arch->pcquantum;
    h[7] = 8;
    put64(h + 8, NFUNC);
    put64(h + 16, 1);
    put64(h + 32, O_NAMES);
    put64(h + 40, O_CUTAB);
    put64(h + 48, O_FILES);
    put64(h + 56, O_PCTAB);
    put64(h + 64, O_PCLN);
    md.pcHeader = PCLN;
    md.funcnametab = (gh_slice){PCLN + O_NAMES, at};
    md.cutab = (gh_slice){PCLN + O_CUTAB, 1};
    md.filetab = (gh_slice){PCLN + O_FILES, 6};
    md.pctab = (gh_slice){PCLN + O_PCTAB, pos};
    md.pclntable = (gh_slice){PCLN + O_PCLN, PCLN_SIZE - O_PCLN};
    md.ftab = (gh_slice){PCLN + O_PCLN, NFUNC + 1};
    md.findfunctab = FFT;
    md.minpc = md.text = TEXT;
    md.maxpc = md.etext = TEXT + 0x100ull * NFUNC;
    gh_err err;
    assert_int_equal(gh_pclntab_open_md(f.t, &md, 26, &f.tab, &err), GH_OK);
    *state = &f;
    return 0;
}

static int setup(void **state) { return setup_arch(state, &gh_arch_amd64); }
static int setup_a64(void **state) { return setup_arch(state, &gh_arch_arm64); }

static int teardown(void **state)
{
    fx *f = *state;
    gh_pclntab_free(f->tab);
    gh_target_close(f->t);
    return 0;
}

/* Writes the return address of the frame at sp whose function has frame
 * size `frame`; returns the caller's sp. */
static uint64_t ret(fx *f, uint64_t sp, int32_t frame, uint64_t retpc)
{
    uint64_t fp = sp + (uint64_t)frame + 8;
    put64(f->stack + (fp - 8 - STACK), retpc);
    return fp;
}

static void walk(fx *f, uint64_t pc, uint64_t sp, int trap, gh_pframe *out, size_t max, gh_uresult *r)
{
    gh_ustart st = {pc, sp, trap, 0, 0};
    gh_unwind(f->t, f->tab, &st, STACK, STACK + STACK_SIZE, out, max, r);
}

/* arm64 (a link-register machine): a frame of size n at sp keeps its
 * caller's pc at 0(sp), and its caller's sp is sp + n. */
static uint64_t lr_frame(fx *f, uint64_t sp, int32_t frame, uint64_t retpc)
{
    put64(f->stack + (sp - STACK), retpc);
    return sp + (uint64_t)frame;
}

static void test_a64_frames(void **state)
{
    fx *f = *state;
    uint64_t sp0 = STACK + 0x800;
    uint64_t sp1 = lr_frame(f, sp0, 0x10, PC(F_MID, 0x40));
    uint64_t sp2 = lr_frame(f, sp1, 0x20, PC(F_GOEXIT, 4));
    gh_pframe fr[8];
    gh_uresult r;
    gh_ustart st = {PC(F_LEAF, 0x50), sp0, 1, 0, PC(F_GOEXIT, 8) /* a stale LR: the frame saved its own */};
    gh_unwind(f->t, f->tab, &st, STACK, STACK + STACK_SIZE, fr, 8, &r);
    assert_string_equal(r.stop, "");
    assert_int_equal(r.n, 3);
    assert_int_equal(fr[0].sp, sp0);
    assert_int_equal(fr[0].fp, sp1);           /* sp + frame size: no pushed return address */
    assert_int_equal(fr[0].varp, sp1 - 8);     /* below the frame pointer saved under the caller's sp */
    assert_int_equal(fr[0].argp, sp1 + 8);     /* fp + sys.MinFrameSize */
    assert_int_equal(fr[1].pc, PC(F_MID, 0x40));
    assert_int_equal(fr[1].sp, sp1);
    assert_int_equal(fr[1].fp, sp2);
    assert_int_equal(gh_pframe_sympc(&fr[1]), PC(F_MID, 0x3f));
    assert_int_equal(fr[2].fn.entry, PC(F_GOEXIT, 0));
    assert_int_equal(fr[2].varp, fr[2].sp);    /* no frame: nothing saved */
    /* In leaf's prologue (nothing allocated, sp == fp) the return address
     * is still in the LR register; 0(sp) is the caller's own word. */
    put64(f->stack + (sp0 - STACK), 0xdead);
    st = (gh_ustart){PC(F_LEAF, 0), sp1, 1, 0, PC(F_MID, 0x40)};
    gh_unwind(f->t, f->tab, &st, STACK, STACK + STACK_SIZE, fr, 8, &r);
    assert_string_equal(r.stop, "");
    assert_int_equal(r.n, 3);
    assert_int_equal(fr[0].fp, sp1);
    assert_int_equal(fr[0].varp, sp1);         /* no frame, no saved frame pointer */
    assert_int_equal(fr[1].pc, PC(F_MID, 0x40));
    assert_int_equal(fr[1].sp, sp1);
    /* Without an LR the same start cannot be unwound past leaf. */
    st.lr = 0;
    put64(f->stack + (sp1 - STACK), 0xdead);
    gh_unwind(f->t, f->tab, &st, STACK, STACK + STACK_SIZE, fr, 8, &r);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.stop, "unexpected return pc 0xdead for main.leaf"));
}

static void test_a64_async_preempt(void **state)
{
    fx *f = *state;
    /* asyncPreempt injected into mid at mid+0x40 (frame allocated): the
     * signal handler pushed mid's LR register at 0(sp) of the fake call and
     * moved sp down 16 (runtime/signal_arm64.go pushCall); asyncPreempt's
     * own frame saved the fake return address, mid+0x40. */
    uint64_t sp0 = STACK + 0x700;
    uint64_t spa = lr_frame(f, sp0, 0x30, PC(F_MID, 0x40));
    put64(f->stack + (spa - STACK), 0xdead); /* mid's LR register: mid saved it already */
    uint64_t spm = spa + 16;
    lr_frame(f, spm, 0x20, PC(F_GOEXIT, 4));
    gh_pframe fr[8];
    gh_uresult r;
    walk(f, PC(F_ASYNC, 0x50), sp0, 0, fr, 8, &r);
    assert_string_equal(r.stop, "");
    assert_int_equal(r.n, 3);
    assert_int_equal(fr[1].pc, PC(F_MID, 0x40));
    assert_int_equal(fr[1].sp, spm);
    assert_int_equal(fr[1].trap, 1);
    assert_int_equal(gh_pframe_sympc(&fr[1]), PC(F_MID, 0x40));
    assert_int_equal(fr[2].fn.entry, PC(F_GOEXIT, 0));
    /* Injected into mid's prologue (sp == fp): the pushed LR is mid's
     * return address. */
    lr_frame(f, sp0, 0x30, PC(F_MID, 0));
    put64(f->stack + (spa - STACK), PC(F_GOEXIT, 4));
    put64(f->stack + (spm - STACK), 0xdead);
    walk(f, PC(F_ASYNC, 0x50), sp0, 0, fr, 8, &r);
    assert_string_equal(r.stop, "");
    assert_int_equal(r.n, 3);
    assert_int_equal(fr[1].sp, spm);
    assert_int_equal(fr[1].fp, spm);
    assert_int_equal(fr[2].pc, PC(F_GOEXIT, 4));
}

static void test_walk_to_goexit(void **state)
{
    fx *f = *state;
    uint64_t sp0 = STACK + 0x800;
    uint64_t sp1 = ret(f, sp0, 0x10, PC(F_MID, 0x40));
    uint64_t sp2 = ret(f, sp1, 0x20, PC(F_GOEXIT, 1));
    gh_pframe fr[8];
    gh_uresult r;
    walk(f, PC(F_LEAF, 0x50), sp0, 0, fr, 8, &r);
    assert_string_equal(r.stop, "");
    assert_int_equal(r.n, 3);
    assert_int_equal(r.truncated, 0);
    assert_int_equal(fr[0].fn.entry, PC(F_LEAF, 0));
    assert_int_equal(fr[0].sp, sp0);
    assert_int_equal(fr[0].fp, sp1);
    assert_int_equal(fr[0].varp, sp1 - 16); /* below the return address and the saved BP */
    assert_int_equal(fr[0].argp, sp1);
    assert_int_equal(fr[0].continpc, PC(F_LEAF, 0x50));
    assert_int_equal(gh_pframe_sympc(&fr[0]), PC(F_LEAF, 0x4f));
    assert_int_equal(fr[1].pc, PC(F_MID, 0x40));
    assert_int_equal(fr[1].sp, sp1);
    assert_int_equal(fr[1].fp, sp2);
    assert_int_equal(fr[1].callee, GH_FUNCID_NORMAL);
    assert_int_equal(fr[2].fn.entry, PC(F_GOEXIT, 0));
    assert_int_equal(fr[2].varp, fr[2].sp); /* no frame: no saved BP below the return address */
    /* In the prologue the frame is not allocated yet. */
    walk(f, PC(F_LEAF, 2), sp0, 1, fr, 8, &r);
    assert_int_equal(fr[0].fp, sp0 + 8);
    assert_int_equal(fr[0].trap, 1);
    assert_int_equal(gh_pframe_sympc(&fr[0]), PC(F_LEAF, 2));
}

static void test_truncated(void **state)
{
    fx *f = *state;
    uint64_t sp0 = STACK + 0x800;
    uint64_t sp1 = ret(f, sp0, 0x10, PC(F_MID, 0x40));
    ret(f, sp1, 0x20, PC(F_GOEXIT, 1));
    gh_pframe fr[8];
    gh_uresult r;
    walk(f, PC(F_LEAF, 0x50), sp0, 0, fr, 2, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.truncated, 1);
    assert_non_null(strstr(r.stop, "more than 2 frames"));
}

static void test_async_preempt_and_sigpanic(void **state)
{
    fx *f = *state;
    /* asyncPreempt injected into leaf at leaf+0x40: leaf's pc is a trap. */
    uint64_t sp0 = STACK + 0x700;
    uint64_t sp1 = ret(f, sp0, 0x30, PC(F_LEAF, 0x40));
    uint64_t sp2 = ret(f, sp1, 0x10, PC(F_MID, 0x40));
    ret(f, sp2, 0x20, PC(F_GOEXIT, 1));
    gh_pframe fr[8];
    gh_uresult r;
    walk(f, PC(F_ASYNC, 0x50), sp0, 0, fr, 8, &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(fr[1].trap, 1);
    assert_int_equal(fr[1].callee, GH_FUNCID_ASYNCPREEMPT);
    assert_int_equal(gh_pframe_sympc(&fr[1]), PC(F_LEAF, 0x40));
    assert_int_equal(fr[2].trap, 0);
    /* sigpanic in leaf: leaf continues at its deferreturn (+1: the map
     * lookup backs up one byte); mid, which has none, would be dead. */
    ret(f, sp0, 0x8, PC(F_LEAF, 0x40));
    sp1 = sp0 + 0x10;
    sp2 = ret(f, sp1, 0x10, PC(F_MID, 0x40));
    ret(f, sp2, 0x20, PC(F_GOEXIT, 1));
    walk(f, PC(F_SIGPANIC, 0x50), sp0, 0, fr, 8, &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(fr[1].callee, GH_FUNCID_SIGPANIC);
    assert_int_equal(fr[1].continpc, PC(F_LEAF, 0x21));
    ret(f, sp0, 0x8, PC(F_MID, 0x40));
    ret(f, sp0 + 0x10, 0x20, PC(F_GOEXIT, 1));
    walk(f, PC(F_SIGPANIC, 0x50), sp0, 0, fr, 8, &r);
    assert_int_equal(fr[1].fn.entry, PC(F_MID, 0));
    assert_int_equal(fr[1].continpc, 0);
}

static void test_stops(void **state)
{
    fx *f = *state;
    gh_pframe fr[8];
    gh_uresult r;
    uint64_t sp0 = STACK + 0x600;
    /* A return address outside Go code. */
    ret(f, sp0, 0x10, 0xdead);
    walk(f, PC(F_LEAF, 0x50), sp0, 0, fr, 8, &r);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.stop, "unexpected return pc 0xdead for main.leaf"));
    /* sp off the stack, and a start pc outside Go code. */
    walk(f, PC(F_LEAF, 0x50), STACK - 8, 0, fr, 8, &r);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.stop, "outside the stack"));
    walk(f, 0x10, sp0, 0, fr, 8, &r);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.stop, "not in a Go function"));
    /* A frame that would end past the top of the stack. */
    walk(f, PC(F_MID, 0x50), STACK + STACK_SIZE - 0x10, 0, fr, 8, &r);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.stop, "past the stack"));
    /* An SP-writing function is walked through only as the innermost frame. */
    uint64_t sp1 = ret(f, sp0, 0x10, PC(F_MCALL, 0x40));
    ret(f, sp1, 0x8, PC(F_GOEXIT, 1));
    walk(f, PC(F_LEAF, 0x50), sp0, 0, fr, 8, &r);
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(r.stop, "runtime.mcall writes SP"));
    walk(f, PC(F_MCALL, 0x50), sp1, 0, fr, 8, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.stop, "");
    /* pc 0: a call through a nil func value starts in the caller. */
    put64(f->stack + (sp0 - STACK), PC(F_MID, 0x40));
    ret(f, sp0 + 8, 0x20, PC(F_GOEXIT, 1));
    walk(f, 0, sp0, 1, fr, 8, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(fr[0].fn.entry, PC(F_MID, 0));
    assert_int_equal(fr[0].sp, sp0 + 8);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(gh_gstatus_name(GH_G_WAITING, 22), "waiting");
    assert_string_equal(gh_gstatus_name(GH_G_WAITING | GH_G_SCAN, 22), "waiting");
    assert_string_equal(gh_gstatus_name(GH_G_PREEMPTED, 24), "preempted");
    assert_string_equal(gh_gstatus_name(GH_G_LEAKED, 25), "???");
    assert_string_equal(gh_gstatus_name(GH_G_LEAKED, 26), "leaked");
    assert_string_equal(gh_gstatus_name(5, 26), "???");
    assert_string_equal(gh_gstatus_name(99, 27), "???");
}

/* runtime.goroutineheader: (nanotime() - waitsince) / 60e9 for waiting and
 * syscall goroutines with waitsince set; printed when >= 1. */
static void test_wait_minutes(void **state)
{
    (void)state;
    const int64_t min = 60000000000ll, t0 = 7464389837708ll;
    assert_int_equal(gh_wait_minutes(GH_G_WAITING, t0, t0 + 5 * min + min / 2), 5);
    assert_int_equal(gh_wait_minutes(GH_G_WAITING | GH_G_SCAN, t0, t0 + min), 1);
    assert_int_equal(gh_wait_minutes(GH_G_SYSCALL, t0, t0 + min - 1), 0);
    assert_int_equal(gh_wait_minutes(GH_G_WAITING, t0, t0 - 1), 0);     /* now is a lower bound */
    assert_int_equal(gh_wait_minutes(GH_G_WAITING, 0, t0), -1);          /* never seen blocked by a GC */
    assert_int_equal(gh_wait_minutes(GH_G_RUNNABLE, t0, t0 + 9 * min), -1);
    assert_int_equal(gh_wait_minutes(GH_G_PREEMPTED, t0, t0 + 9 * min), -1);
    assert_int_equal(gh_wait_minutes(GH_G_WAITING, t0, 0), -1);          /* no time known */
    assert_int_equal(gh_wait_minutes(GH_G_WAITING, INT64_MIN, t0), -1);  /* overflow */
}

int run_goroutine_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_walk_to_goexit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_preempt_and_sigpanic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a64_frames, setup_a64, teardown),
        cmocka_unit_test_setup_teardown(test_a64_async_preempt, setup_a64, teardown),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_wait_minutes),
    };
    return cmocka_run_group_tests_name("goroutine", tests, NULL, NULL);
}
