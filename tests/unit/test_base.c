/* The base layer: the growable array, the hash table, the cancel handle. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/cancel.h"
#include "base/hmap.h"
#include "base/vec.h"
#include "tests.h"

static void vec_grows_and_keeps(void **state)
{
    (void)state;
    uint32_t *v = NULL;
    size_t cap = 0;
    for (uint32_t i = 0; i < 100000; i++) {
        assert_int_equal(gh_grow(&v, &cap, i + 1, sizeof *v), 0);
        assert_true(cap >= i + 1);
        v[i] = i * 3;
    }
    for (uint32_t i = 0; i < 100000; i++)
        assert_int_equal(v[i], i * 3);
    size_t had = cap;
    assert_int_equal(gh_grow(&v, &cap, 10, sizeof *v), 0); /* enough room: unchanged */
    assert_int_equal(cap, had);
    /* An element count whose bytes overflow fails and leaves the array. */
    uint32_t *same = v;
    assert_int_equal(gh_grow(&v, &cap, SIZE_MAX / 2, sizeof *v), -1);
    assert_ptr_equal(v, same);
    assert_int_equal(cap, had);
    free(v);
    GH_VEC(uint64_t) w = {0};
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(GH_VEC_PUSH(&w, i), 0);
    assert_int_equal(w.n, 1000);
    assert_int_equal(w.v[999], 999);
    free(w.v);
}

static void hmap_one_value_per_key(void **state)
{
    (void)state;
    gh_hmap m = {0};
    assert_null(gh_hmap_get(&m, 0)); /* empty table */
    for (uint64_t k = 0; k < 50000; k++)
        assert_int_equal(gh_hmap_put(&m, k * 8 + 0xc000000000ull, k), 0);
    assert_int_equal(m.n, 50000);
    assert_true(m.n <= m.cap / 2);
    for (uint64_t k = 0; k < 50000; k++) {
        uint64_t *v = gh_hmap_get(&m, k * 8 + 0xc000000000ull);
        assert_non_null(v);
        assert_int_equal(*v, k);
    }
    assert_null(gh_hmap_get(&m, 4)); /* never put */
    assert_int_equal(gh_hmap_put(&m, 0xc000000000ull, 77), 0); /* replaces */
    assert_int_equal(*gh_hmap_get(&m, 0xc000000000ull), 77);
    assert_int_equal(m.n, 50000);
    assert_int_equal(gh_hmap_put(&m, 0, 5), 0); /* 0 is a key like any other */
    assert_int_equal(*gh_hmap_get(&m, 0), 5);
    gh_hmap_free(&m);
    assert_int_equal(m.cap, 0);
}

static void hmap_several_values(void **state)
{
    (void)state;
    gh_hmap m = {0};
    /* Values under colliding keys (a hash the caller resolves). */
    for (uint64_t v = 0; v < 10; v++)
        assert_int_equal(gh_hmap_add(&m, 42, v), 0);
    assert_int_equal(gh_hmap_add(&m, 43, 100), 0);
    uint64_t seen = 0;
    size_t n = 0;
    for (size_t i = gh_hmap_first(&m, 42); i != GH_HMAP_END; i = gh_hmap_next(&m, 42, i)) {
        seen |= UINT64_C(1) << m.vals[i];
        n++;
    }
    assert_int_equal(n, 10);
    assert_int_equal(seen, 0x3ff);
    assert_int_equal(gh_hmap_first(&m, 44), GH_HMAP_END);
    gh_hmap_free(&m);
}

static int polls;
static int poll_twice(void *ctx)
{
    (void)ctx;
    return ++polls >= 2;
}

static void cancel_asks(void **state)
{
    (void)state;
    assert_false(gh_cancelled(NULL));
    volatile int flag = 0;
    gh_cancel c = {.flag = &flag};
    assert_false(gh_cancelled(&c));
    flag = 1;
    assert_true(gh_cancelled(&c));
    gh_cancel p = {.poll = poll_twice};
    assert_false(gh_cancelled(&p));
    assert_true(gh_cancelled(&p));
    gh_progress(NULL, "x", 1, 2); /* no handle: nothing happens */
}

int run_base_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vec_grows_and_keeps),
        cmocka_unit_test(hmap_one_value_per_key),
        cmocka_unit_test(hmap_several_values),
        cmocka_unit_test(cancel_asks),
    };
    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
