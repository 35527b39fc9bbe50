#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rtype/gcprog.h"
#include "tests.h"

static int bit(const uint8_t *v, uint64_t i)
{
    return v[i / 8] >> (i % 8) & 1;
}

/* The format decoded one bit at a time: the reference for the fast decoder. */
static uint64_t reference(const uint8_t *p, uint8_t *out)
{
    uint64_t pos = 0;
    for (;;) {
        uint8_t inst = *p++;
        uint64_t n = inst & 0x7f;
        if (!(inst & 0x80)) {
            if (n == 0)
                return pos;
            for (uint64_t i = 0; i < n; i++, pos++)
                if (p[i / 8] >> (i % 8) & 1)
                    out[pos / 8] |= (uint8_t)(1 << (pos % 8));
            p += (n + 7) / 8;
            continue;
        }
        uint64_t c = 0;
        for (int pass = n == 0 ? 0 : 1; pass < 2; pass++) {
            uint64_t v = 0;
            for (unsigned s = 0;; s += 7) {
                v |= (uint64_t)(*p & 0x7f) << s;
                if (!(*p++ & 0x80))
                    break;
            }
            if (pass == 0)
                n = v;
            else
                c = v;
        }
        for (uint64_t i = 0; i < n * c; i++, pos++)
            if (bit(out, pos - n))
                out[pos / 8] |= (uint8_t)(1 << (pos % 8));
    }
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(0x80 | v);
    p[n++] = (uint8_t)v;
    return n;
}

static void literals(void **state)
{
    uint8_t out[4];
    uint64_t n;
    gh_err err;
    /* 3 bits 101, then 10 bits: eight 1s, 0, 1. Unused high bits are ignored. */
    const uint8_t p[] = {0x03, 0xfd, 0x0a, 0xff, 0xfe, 0x00};
    assert_int_equal(gh_gcprog_run(p, sizeof p, out, 32, &n, &err), GH_OK);
    assert_int_equal(n, 13);
    assert_int_equal(out[0], 0xfd);
    assert_int_equal(out[1], 0x10 | 0x07);
    assert_int_equal(out[2], 0);
    /* The empty program. */
    const uint8_t stop[] = {0x00};
    memset(out, 0xff, sizeof out);
    assert_int_equal(gh_gcprog_run(stop, 1, out, 32, &n, &err), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(out[0], 0);
}

static void repeat_one_bit(void **state)
{
    uint8_t out[32] = {0};
    uint64_t n;
    gh_err err;
    /* 1, repeated 5 times: 6 ones; then 0 repeated 200 times (varint c); then 1. */
    const uint8_t p[] = {0x01, 0x01, 0x81, 0x05, 0x01, 0x00, 0x81, 0xc8, 0x01, 0x01, 0x01, 0x00};
    assert_int_equal(gh_gcprog_run(p, sizeof p, out, 256, &n, &err), GH_OK);
    assert_int_equal(n, 6 + 1 + 200 + 1);
    assert_int_equal(out[0], 0x3f);
    for (uint64_t i = 6; i < 207; i++)
        assert_int_equal(bit(out, i), 0);
    assert_int_equal(bit(out, 207), 1);
}

static void repeat_many_bits(void **state)
{
    uint8_t p[64], *q = p, out[2048] = {0}, want[2048] = {0};
    uint64_t n;
    gh_err err;
    /* 70 literal bits, a pattern with both ends set, then repeated 3 times (n < 128). */
    *q++ = 70;
    const uint8_t lit[9] = {0x01, 0x22, 0x00, 0x40, 0x80, 0x11, 0x00, 0x00, 0x20};
    memcpy(q, lit, 9);
    q += 9;
    *q++ = 0x80 | 70;
    *q++ = 3;
    /* Then the last 200 bits (n as a varint after 0x80) 40 times. */
    *q++ = 0x80;
    q += put_varint(q, 200);
    q += put_varint(q, 40);
    *q++ = 0;
    assert_int_equal(gh_gcprog_run(p, (size_t)(q - p), out, 16384, &n, &err), GH_OK);
    assert_int_equal(n, 280 + 200 * 40);
    assert_int_equal(reference(p, want), n);
    assert_memory_equal(out, want, sizeof out);
    for (uint64_t i = 0; i < 280; i++)
        assert_int_equal(bit(out, i), bit(lit, i % 70));
}

/* Random valid programs against the bit-at-a-time reference. */
static void random_programs(void **state)
{
    srand(7);
    for (int iter = 0; iter < 300; iter++) {
        uint8_t p[512], *q = p;
        static uint8_t out[1 << 14], want[1 << 14];
        uint64_t pos = 0, n;
        gh_err err;
        memset(want, 0, sizeof want);
        while (q - p < 480) {
            if (pos == 0 || rand() % 2) {
                unsigned k = 1 + rand() % 127;
                *q++ = (uint8_t)k;
                for (unsigned i = 0; i < (k + 7) / 8; i++)
                    *q++ = (uint8_t)(rand() & (i == (k - 1) / 8 && k % 8 ? (1 << k % 8) - 1 : 0xff));
                pos += k;
            } else {
                uint64_t k = 1 + (uint64_t)rand() % (pos < 300 ? pos : 300), c = rand() % 5;
                if (pos + k * c > 100000)
                    break;
                if (k < 128 && rand() % 2) {
                    *q++ = (uint8_t)(0x80 | k);
                } else {
                    *q++ = 0x80;
                    q += put_varint(q, k);
                }
                q += put_varint(q, c);
                pos += k * c;
            }
        }
        *q++ = 0;
        assert_int_equal(gh_gcprog_run(p, (size_t)(q - p), out, sizeof out * 8, &n, &err), GH_OK);
        assert_int_equal(n, pos);
        assert_int_equal(reference(p, want), pos);
        assert_memory_equal(out, want, sizeof out);
    }
}

static void truncated(void **state)
{
    uint8_t out[64];
    uint64_t n;
    gh_err err;
    const uint8_t p[] = {0x0a, 0xff, 0x03, 0x80, 0x05, 0x03, 0x00};
    assert_int_equal(gh_gcprog_run(p, sizeof p, out, 512, &n, &err), GH_OK);
    assert_int_equal(n, 10 + 5 * 3);
    for (size_t len = 0; len < sizeof p; len++)
        assert_int_equal(gh_gcprog_run(p, len, out, 512, &n, &err), GH_EFORMAT);
    /* A varint that never ends. */
    uint8_t v[16] = {0x01, 0x01, 0x80};
    memset(v + 3, 0xff, sizeof v - 3);
    assert_int_equal(gh_gcprog_run(v, sizeof v, out, 512, &n, &err), GH_EFORMAT);
}

static void overflow(void **state)
{
    uint8_t out[64], p[32], *q;
    uint64_t n;
    gh_err err;
    /* 10 literal bits into a vector of 9. */
    const uint8_t lit[] = {0x0a, 0xff, 0x03, 0x00};
    assert_int_equal(gh_gcprog_run(lit, sizeof lit, out, 9, &n, &err), GH_EFORMAT);
    assert_int_equal(gh_gcprog_run(lit, sizeof lit, out, 10, &n, &err), GH_OK);
    /* A repeat past the limit, and one whose n*c wraps 64 bits: no hang. */
    q = p;
    *q++ = 0x02, *q++ = 0x01, *q++ = 0x82;
    q += put_varint(q, UINT64_C(1) << 63);
    *q++ = 0;
    assert_int_equal(gh_gcprog_run(p, (size_t)(q - p), out, 512, &n, &err), GH_EFORMAT);
    const uint8_t big[] = {0x01, 0x01, 0x81, 0xff, 0x03, 0x00}; /* 1 + 511 bits */
    assert_int_equal(gh_gcprog_run(big, sizeof big, out, 511, &n, &err), GH_EFORMAT);
    assert_int_equal(gh_gcprog_run(big, sizeof big, out, 512, &n, &err), GH_OK);
    assert_int_equal(n, 512);
    /* Repeating more bits than exist, or zero bits (the runtime would spin). */
    const uint8_t early[] = {0x01, 0x01, 0x82, 0x02, 0x00};
    assert_int_equal(gh_gcprog_run(early, sizeof early, out, 512, &n, &err), GH_EFORMAT);
    const uint8_t first[] = {0x81, 0x02, 0x00};
    assert_int_equal(gh_gcprog_run(first, sizeof first, out, 512, &n, &err), GH_EFORMAT);
    const uint8_t zero[] = {0x01, 0x01, 0x80, 0x00, 0x05, 0x00};
    assert_int_equal(gh_gcprog_run(zero, sizeof zero, out, 512, &n, &err), GH_EFORMAT);
    /* A zero count is legal and emits nothing. */
    const uint8_t none[] = {0x01, 0x01, 0x81, 0x00, 0x00};
    assert_int_equal(gh_gcprog_run(none, sizeof none, out, 512, &n, &err), GH_OK);
    assert_int_equal(n, 1);
}

int run_gcprog_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literals),
        cmocka_unit_test(repeat_one_bit),
        cmocka_unit_test(repeat_many_bits),
        cmocka_unit_test(random_programs),
        cmocka_unit_test(truncated),
        cmocka_unit_test(overflow),
    };
    return cmocka_run_group_tests_name("gcprog", tests, NULL, NULL);
}
