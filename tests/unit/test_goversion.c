#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "binary/goversion.h"
#include "tests.h"

static void release(void **state)
{
    gh_goversion v;
    gh_err err;
    assert_int_equal(gh_goversion_parse("go1.25.14", &v, &err), GH_OK);
    assert_int_equal(v.major, 1);
    assert_int_equal(v.minor, 25);
    assert_int_equal(v.patch, 14);
    assert_false(v.devel);
    unsigned x = gh_goversion_experiments(&v);
    assert_true(x & GH_EXP_SWISSMAP);
    assert_false(x & GH_EXP_GREENTEAGC);
}

static void experiments_old_suffix(void **state)
{
    gh_goversion v;
    assert_int_equal(gh_goversion_parse("go1.25.0 X:greenteagc,noswissmap", &v, NULL), GH_OK);
    unsigned x = gh_goversion_experiments(&v);
    assert_true(x & GH_EXP_GREENTEAGC);
    assert_false(x & GH_EXP_SWISSMAP);
}

static void experiments_new_suffix(void **state)
{
    gh_goversion v;
    assert_int_equal(gh_goversion_parse("go1.26.0-X:nogreenteagc", &v, NULL), GH_OK);
    assert_int_equal(v.minor, 26);
    unsigned x = gh_goversion_experiments(&v);
    assert_false(x & GH_EXP_GREENTEAGC);
    assert_true(x & GH_EXP_SWISSMAP); /* permanent from 1.26 */
    assert_true(x & GH_EXP_RANDHEAPBASE);
}

static void devel_and_rc(void **state)
{
    gh_goversion v;
    assert_int_equal(gh_goversion_parse("devel go1.27-e7bccd364e Mon Nov 2 2026", &v, NULL), GH_OK);
    assert_true(v.devel);
    assert_int_equal(v.minor, 27);
    assert_int_equal(gh_goversion_parse("go1.26rc1", &v, NULL), GH_OK);
    assert_true(v.devel);
    assert_int_equal(v.minor, 26);
}

static void range_check(void **state)
{
    gh_goversion v;
    gh_err err;
    int newer;
    assert_int_equal(gh_goversion_parse("go1.21.13", &v, NULL), GH_OK);
    assert_int_equal(gh_goversion_check(&v, &newer, &err), GH_EVERSION);
    assert_non_null(strstr(err.msg, "go1.21.13"));
    assert_non_null(strstr(err.msg, "go1.22"));
    assert_int_equal(gh_goversion_parse("go1.22.0 X:noallocheaders", &v, NULL), GH_OK);
    assert_int_equal(gh_goversion_check(&v, &newer, &err), GH_EVERSION);
    assert_int_equal(gh_goversion_parse("go1.99.1", &v, NULL), GH_OK);
    assert_int_equal(gh_goversion_check(&v, &newer, &err), GH_OK);
    assert_true(newer);
}

static void malformed(void **state)
{
    gh_goversion v;
    gh_err err;
    assert_int_equal(gh_goversion_parse("rustc 1.80", &v, &err), GH_ENOTGO);
    assert_int_equal(gh_goversion_parse("go", &v, &err), GH_EFORMAT);
    assert_int_equal(gh_goversion_parse("go1.x", &v, &err), GH_EFORMAT);
    assert_int_equal(gh_goversion_parse("go1.22.", &v, &err), GH_EFORMAT);
}

int run_goversion_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(release),        cmocka_unit_test(experiments_old_suffix),
        cmocka_unit_test(experiments_new_suffix), cmocka_unit_test(devel_and_rc),
        cmocka_unit_test(range_check),    cmocka_unit_test(malformed),
    };
    return cmocka_run_group_tests_name("goversion", tests, NULL, NULL);
}
