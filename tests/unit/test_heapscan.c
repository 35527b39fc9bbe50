/* Pointer layouts of heap objects on a synthetic span in a fake target:
 * span-tail heap bits (with and without Green Tea's inline mark bits),
 * malloc headers, largeType, and an unpublished type. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fake_target.h"
#include "heap/heapscan.h"
#include "tests.h"

#define BASE 0xc000000000ull

typedef struct seen {
    uint64_t words[64];
    int n;
} seen;

static int record(void *ctx, uint64_t word, uint64_t value)
{
    seen *s = ctx;
    if (s->n < 64)
        s->words[s->n++] = word;
    return 0;
}

typedef struct fixture {
    gh_target *t;
    gh_runtime rt;
    gh_heap h;
    gh_typemask_cache *tc;
} fixture;

static void setup(fixture *f, int minor)
{
    memset(f, 0, sizeof *f);
    f->t = fake_target_new();
    f->rt.t = f->t;
    f->h.rt = &f->rt;
    f->tc = gh_typemask_cache_new(f->t, minor);
}

static void teardown(fixture *f)
{
    gh_typemask_cache_free(f->tc);
    gh_target_close(f->t);
}

/* A 48-byte object in a one-page scan span with pointers at words 1, 3, 4. */
static void small_heap_bits(int inline_marks)
{
    fixture f;
    setup(&f, 26);
    uint8_t *page = fake_target_map(f.t, BASE, GH_PAGE_SIZE);
    gh_span s = {.base = BASE, .npages = 1, .elemsize = 48, .nelems = 170, .spanclass = 5 << 1,
                 .state = GH_SPAN_INUSE, .inline_marks = (uint8_t)inline_marks};
    uint64_t bm = GH_PAGE_SIZE - GH_PAGE_SIZE / 64 - (inline_marks ? 128 : 0);
    /* Object 2 starts at word 12: its words 1, 3, 4 are span words 13, 15, 16. */
    page[bm + 13 / 8] |= 1 << (13 % 8);
    page[bm + 15 / 8] |= 1 << (15 % 8);
    page[bm + 16 / 8] |= 1 << (16 % 8);
    gh_obj o = {.addr = BASE + 2 * 48, .size = 48, .span = &s};
    seen sn = {0};
    int untyped;
    gh_err err;
    assert_int_equal(gh_heap_scan_object(&f.h, f.tc, &o, record, &sn, &untyped, &err), GH_OK);
    assert_int_equal(sn.n, 3);
    assert_true(sn.words[0] == o.addr + 8 && sn.words[1] == o.addr + 24 && sn.words[2] == o.addr + 32);
    /* Read at the other offset, the same bits describe nothing of this object. */
    s.inline_marks = !inline_marks;
    sn.n = 0;
    assert_int_equal(gh_heap_scan_object(&f.h, f.tc, &o, record, &sn, &untyped, &err), GH_OK);
    assert_int_equal(sn.n, 0);
    teardown(&f);
}

static void heap_bits(void **state) { small_heap_bits(0); }
static void heap_bits_green_tea(void **state) { small_heap_bits(1); }

/* A type descriptor (Go 1.26 layout) of size words with the given pointer mask. */
static uint64_t put_type(gh_target *t, uint64_t at, uint64_t size, uint64_t ptrbytes, uint8_t mask)
{
    fake_target_map(t, at, 64);
    fake_put_u64(t, at + 0, size);
    fake_put_u64(t, at + 8, ptrbytes);
    fake_put_u8(t, at + 23, 25); /* struct */
    fake_put_u64(t, at + 32, at + 56);
    fake_put_u8(t, at + 56, mask);
    return at;
}

static void malloc_header(void **state)
{
    fixture f;
    setup(&f, 26);
    uint64_t typ = put_type(f.t, 0x500000, 24, 24, 0x5); /* words 0 and 2 */
    fake_target_map(f.t, BASE, 2 * GH_PAGE_SIZE);
    gh_span s = {.base = BASE, .npages = 2, .elemsize = 576, .nelems = 28, .spanclass = 27 << 1,
                 .state = GH_SPAN_INUSE};
    gh_obj o = {.addr = BASE + 576, .size = 576, .span = &s};
    fake_put_u64(f.t, o.addr, typ);
    seen sn = {0};
    int untyped;
    gh_err err;
    assert_int_equal(gh_heap_scan_object(&f.h, f.tc, &o, record, &sn, &untyped, &err), GH_OK);
    /* Data follows the 8-byte header and the 24-byte mask tiles across it. */
    int want = 0;
    for (int w = 0; w < (576 - 8) / 8; w++)
        want += w % 3 != 1; /* words 0 and 2 of every 3 */
    assert_int_equal(sn.n, want > 64 ? 64 : want);
    assert_true(sn.words[0] == o.addr + 8 && sn.words[1] == o.addr + 24 && sn.words[2] == o.addr + 32);
    assert_false(untyped);
    /* A header of 0: caught mid-allocation, no pointers, flagged. */
    fake_put_u64(f.t, o.addr, 0);
    sn.n = 0;
    assert_int_equal(gh_heap_scan_object(&f.h, f.tc, &o, record, &sn, &untyped, &err), GH_OK);
    assert_int_equal(sn.n, 0);
    assert_true(untyped);
    teardown(&f);
}

static void large_type(void **state)
{
    fixture f;
    setup(&f, 26);
    uint64_t typ = put_type(f.t, 0x500000, 40960, 8, 0x1); /* one pointer, first word */
    fake_target_map(f.t, BASE, 6 * GH_PAGE_SIZE);
    gh_span s = {.base = BASE, .npages = 6, .elemsize = 6 * GH_PAGE_SIZE, .nelems = 1, .spanclass = 0,
                 .state = GH_SPAN_INUSE, .largetype = typ};
    gh_obj o = {.addr = BASE, .size = s.elemsize, .span = &s};
    seen sn = {0};
    int untyped;
    gh_err err;
    assert_int_equal(gh_heap_scan_object(&f.h, f.tc, &o, record, &sn, &untyped, &err), GH_OK);
    assert_int_equal(sn.n, 2); /* the mask tiles every 40960 bytes over 49152 */
    assert_true(sn.words[0] == BASE && sn.words[1] == BASE + 40960);
    s.spanclass = 1; /* noscan: nothing */
    sn.n = 0;
    assert_int_equal(gh_heap_scan_object(&f.h, f.tc, &o, record, &sn, &untyped, &err), GH_OK);
    assert_int_equal(sn.n, 0);
    teardown(&f);
}

static void unreadable(void **state)
{
    fixture f;
    setup(&f, 26);
    gh_span s = {.base = BASE, .npages = 1, .elemsize = 48, .nelems = 170, .spanclass = 5 << 1,
                 .state = GH_SPAN_INUSE};
    gh_obj o = {.addr = BASE, .size = 48, .span = &s};
    seen sn = {0};
    gh_err err;
    assert_int_equal(gh_heap_scan_object(&f.h, f.tc, &o, record, &sn, NULL, &err), GH_EMEM);
    teardown(&f);
}

int run_heapscan_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heap_bits),  cmocka_unit_test(heap_bits_green_tea), cmocka_unit_test(malloc_header),
        cmocka_unit_test(large_type), cmocka_unit_test(unreadable),
    };
    return cmocka_run_group_tests_name("heapscan", tests, NULL, NULL);
}
