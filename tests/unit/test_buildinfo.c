#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "binary/buildinfo.h"
#include "tests.h"

/* Builds a synthetic .go.buildinfo section the way cmd/link writes it. */
static size_t make_section(uint8_t *buf, const char *version, const char *modinfo)
{
    memset(buf, 0, 32);
    memcpy(buf, "\xff Go buildinf:", 14);
    buf[14] = 8;
    buf[15] = 2; /* inline strings, little endian */
    size_t n = 32;
    size_t vl = strlen(version);
    buf[n++] = (uint8_t)vl;
    memcpy(buf + n, version, vl);
    n += vl;
    size_t ml = strlen(modinfo) + 32;
    buf[n++] = (uint8_t)(0x80 | (ml & 0x7f)); /* two-byte uvarint */
    buf[n++] = (uint8_t)(ml >> 7);
    memset(buf + n, 0x30, 16);
    memcpy(buf + n + 16, modinfo, strlen(modinfo));
    memset(buf + n + 16 + strlen(modinfo), 0x31, 16);
    return n + ml;
}

static const char modinfo[] =
    "path\tcorpus/demo\nmod\tcorpus\t(devel)\t\nbuild\t-buildmode=pie\n"
    "build\tGOEXPERIMENT=greenteagc\nbuild\tGOOS=linux\n"
    "build\tpadding=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";

static void parse_full(void **state)
{
    uint8_t buf[1024];
    size_t n = make_section(buf, "go1.25.14 X:greenteagc", modinfo);
    gh_buildinfo bi;
    gh_err err;
    assert_int_equal(gh_buildinfo_parse(buf, n, &bi, &err), GH_OK);
    assert_int_equal(bi.ptrsize, 8);
    assert_string_equal(bi.version, "go1.25.14 X:greenteagc");
    assert_string_equal(bi.path, "corpus/demo");
    assert_string_equal(bi.experiment, "greenteagc");
    assert_string_equal(bi.buildmode, "pie");
}

static void truncated_everywhere(void **state)
{
    uint8_t buf[1024];
    size_t n = make_section(buf, "go1.25.14", modinfo);
    gh_buildinfo bi;
    gh_err err;
    /* Every prefix shorter than the whole is rejected, never over-read. */
    for (size_t len = 0; len < n; len++)
        assert_int_not_equal(gh_buildinfo_parse(buf, len, &bi, &err), GH_OK);
}

static void not_go(void **state)
{
    uint8_t buf[64] = "\x7f" "ELF not a build info section at all..........................";
    gh_buildinfo bi;
    gh_err err;
    assert_int_equal(gh_buildinfo_parse(buf, sizeof buf, &bi, &err), GH_ENOTGO);
    memcpy(buf, "\xff Go buildinf:", 14);
    buf[14] = 8;
    buf[15] = 0; /* pointer-based layout of Go < 1.18 */
    assert_int_equal(gh_buildinfo_parse(buf, sizeof buf, &bi, &err), GH_EVERSION);
}

static void uvarint_limits(void **state)
{
    const uint8_t ok[] = {0xac, 0x02};
    const uint8_t *p = ok;
    uint64_t v;
    assert_true(gh_uvarint(&p, ok + 2, &v));
    assert_int_equal(v, 300);
    const uint8_t cont[] = {0x80, 0x80};
    p = cont;
    assert_false(gh_uvarint(&p, cont + 2, &v));
    uint8_t huge[11];
    memset(huge, 0xff, sizeof huge);
    p = huge;
    assert_false(gh_uvarint(&p, huge + sizeof huge, &v));
}

int run_buildinfo_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_full),
        cmocka_unit_test(truncated_everywhere),
        cmocka_unit_test(not_go),
        cmocka_unit_test(uvarint_limits),
    };
    return cmocka_run_group_tests_name("buildinfo", tests, NULL, NULL);
}
