/* The runtime's memory-profile buckets on a synthetic target: a list of
 * buckets with stacks and published counts (two-word cycles from 1.27,
 * four before; the current cycle's future added as runtime.MemProfile
 * adds it; every cycle summed when none is published), and hostile lists:
 * cyclic, misaligned, unreadable, a bucket of another profile, a stack
 * deeper than the runtime allows. Each is cut with a note, never a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fake_target.h"
#include "memprof/memprof.h"
#include "tests.h"

#define GLOBALS 0x600000ull   /* mbuckets, MemProfileRate, disableMemoryProfiling, mProfCycle */
#define BUCKETS 0x7f0000000000ull /* buckets, 4 KiB apart */

typedef struct fixture {
    gh_target *t;
    gh_runtime rt;
    gh_memprof_syms sy;
} fixture;

static void setup(fixture *f, int minor)
{
    memset(f, 0, sizeof *f);
    f->t = fake_target_new();
    f->rt.t = f->t;
    f->rt.ver.minor = minor;
    fake_target_map(f->t, GLOBALS, 64);
    fake_target_map(f->t, BUCKETS, 4096 * 8);
    f->sy = (gh_memprof_syms){.mbuckets = GLOBALS, .rate = GLOBALS + 8, .disabled = GLOBALS + 16,
                              .cycle = GLOBALS + 24};
    fake_put_u64(f->t, GLOBALS + 8, 512 * 1024);
}

/* Bucket i: allnext, size, a stack of nstk pcs (0x401000 + k), and cycle
 * counts: cyc[c] = {allocs, frees} of active (c 0) and future[0..2]. */
static uint64_t put_bucket(fixture *f, int i, uint64_t allnext, uint64_t size, uint64_t nstk,
                           const uint64_t cyc[4][2])
{
    uint64_t b = BUCKETS + 4096 * (uint64_t)i;
    unsigned cw = f->rt.ver.minor >= 27 ? 2 : 4;
    fake_put_u64(f->t, b + 8, allnext);
    fake_put_u64(f->t, b + 16, 1); /* memProfile */
    fake_put_u64(f->t, b + 32, size);
    fake_put_u64(f->t, b + 40, nstk);
    for (uint64_t k = 0; k < nstk && k < 64; k++)
        fake_put_u64(f->t, b + 48 + 8 * k, 0x401000 + k);
    uint64_t rec = b + 48 + 8 * nstk;
    for (int c = 0; c < 4 && cyc; c++) {
        fake_put_u64(f->t, rec + 8 * cw * c, cyc[c][0]);
        fake_put_u64(f->t, rec + 8 * cw * c + 8, cyc[c][1]);
    }
    return b;
}

static gh_memprof *read_ok(fixture *f)
{
    gh_memprof *mp = NULL;
    gh_err err;
    assert_int_equal(gh_memprof_read(&f->rt, NULL, &f->sy, NULL, &mp, &err), GH_OK);
    assert_non_null(mp);
    return mp;
}

static void test_list_and_counts(void **state)
{
    (void)state;
    for (int minor = 26; minor <= 27; minor++) {
        fixture f;
        setup(&f, minor);
        /* mProfCycle 5 (<< 1): the current cycle's future is future[5 % 3] = future[2] */
        fake_put_u32(f.t, GLOBALS + 24, 5u << 1);
        const uint64_t c0[4][2] = {{10, 4}, {100, 100}, {1000, 1000}, {3, 1}};
        const uint64_t c1[4][2] = {{7, 0}, {0, 0}, {0, 0}, {0, 0}};
        uint64_t b1 = put_bucket(&f, 1, 0, 48, 3, c1);
        uint64_t b0 = put_bucket(&f, 0, b1, 1024, 5, c0);
        fake_put_u64(f.t, GLOBALS, b0);
        gh_memprof *mp = read_ok(&f);
        assert_int_equal(mp->nb, 2);
        assert_int_equal(mp->rate, 512 * 1024);
        assert_int_equal(mp->disabled, 0);
        assert_int_equal(mp->b[0].size, 1024);
        assert_int_equal(mp->b[0].nstk, 5);
        assert_int_equal(mp->pcs[mp->b[0].stk + 4], 0x401004);
        assert_int_equal(mp->b[0].allocs, 13); /* active + future[2] */
        assert_int_equal(mp->b[0].frees, 5);
        assert_int_equal(mp->b[1].allocs, 7);
        assert_int_equal(mp->b[1].nstk, 3);
        assert_int_equal(mp->cut, 0);
        assert_string_equal(mp->note, "");
        gh_memprof_free(mp);
        gh_target_close(f.t);
    }
}

static void test_nothing_published(void **state)
{
    (void)state;
    fixture f;
    setup(&f, 27);
    /* No GC yet: every active count is zero, so every cycle is summed. */
    const uint64_t c[4][2] = {{0, 0}, {2, 0}, {3, 1}, {4, 0}};
    fake_put_u64(f.t, GLOBALS, put_bucket(&f, 0, 0, 16, 1, c));
    fake_put_u8(f.t, GLOBALS + 16, 1); /* disableMemoryProfiling */
    gh_memprof *mp = read_ok(&f);
    assert_int_equal(mp->b[0].allocs, 9);
    assert_int_equal(mp->b[0].frees, 1);
    assert_int_equal(mp->disabled, 1);
    gh_memprof_free(mp);
    gh_target_close(f.t);
}

static void test_hostile_lists(void **state)
{
    (void)state;
    const uint64_t c[4][2] = {{1, 0}, {0, 0}, {0, 0}, {0, 0}};
    struct {
        const char *what, *note;
        size_t nb;
    } cases[] = {
        {"cycle", "loops", 3},
        {"misaligned", "misaligned", 1},
        {"unreadable", "unreadable", 1},
        {"block bucket", "not a memory-profile bucket", 1},
        {"deep stack", "not a memory-profile bucket", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture f;
        setup(&f, 25);
        uint64_t b2 = BUCKETS + 4096 * 2;
        uint64_t b1 = put_bucket(&f, 1, b2, 32, 2, c);
        uint64_t b0 = put_bucket(&f, 0, b1, 32, 2, c);
        switch (i) {
        case 0: put_bucket(&f, 2, b0, 32, 2, c); break;               /* back to the head */
        case 1: fake_put_u64(f.t, b0 + 8, b1 + 4); break;             /* allnext misaligned */
        case 2: fake_put_u64(f.t, b0 + 8, 0x100000000ull); break;     /* allnext unmapped */
        case 3: put_bucket(&f, 1, 0, 32, 2, c); fake_put_u64(f.t, b1 + 16, 2); break; /* blockProfile */
        case 4: put_bucket(&f, 1, 0, 32, 2, c); fake_put_u64(f.t, b1 + 40, 1u << 20); break;
        }
        fake_put_u64(f.t, GLOBALS, b0);
        gh_memprof *mp = read_ok(&f);
        assert_int_equal(mp->nb, cases[i].nb);
        assert_int_equal(mp->cut, 1);
        assert_non_null(strstr(mp->note, cases[i].note));
        gh_memprof_free(mp);
        gh_target_close(f.t);
    }
}

static void test_scale(void **state)
{
    (void)state;
    int64_t o, b;
    gh_memprof_scale(10, 48, 1, &o, &b);
    assert_int_equal(o, 10);
    assert_int_equal(b, 480);
    /* runtime/pprof: 1 / (1 - exp(-size/rate)) */
    gh_memprof_scale(1, 512 * 1024, 512 * 1024, &o, &b);
    assert_int_equal(o, 1);               /* 1.58 */
    assert_int_equal(b, 829411);          /* 524288 * 1.58198 */
    gh_memprof_scale(0, 48, 512, &o, &b);
    assert_int_equal(o, 0);
    assert_int_equal(b, 0);
}

int run_memprof_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_counts),
        cmocka_unit_test(test_nothing_published),
        cmocka_unit_test(test_hostile_lists),
        cmocka_unit_test(test_scale),
    };
    return cmocka_run_group_tests_name("memprof", tests, NULL, NULL);
}
