/* DWARF layout lookup on a C fixture built with -g (DWARF 4 and 5): field
 * offsets and sizes by dotted path, typedefs followed, absent names refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dwarf/dwarf.h"
#include "binary/exe.h"
#include "tests.h"

static void lookup(const char *path)
{
    gh_exe *e;
    gh_err err;
    assert_int_equal(gh_exe_open(path, &e, &err), GH_OK);
    gh_dwarf *d = gh_exe_dwarf(e);
    assert_non_null(d);
    uint64_t size;
    assert_int_equal(gh_dwarf_type_size(d, "outer", &size), GH_OK);
    assert_int_equal(size, 48);
    gh_field f;
    assert_int_equal(gh_dwarf_field(d, "outer", "tag", &f), GH_OK);
    assert_int_equal(f.offset, 0);
    assert_int_equal(f.size, 1);
    assert_int_equal(gh_dwarf_field(d, "outer", "in.b", &f), GH_OK); /* through the typedef */
    assert_int_equal(f.offset, 16);
    assert_int_equal(f.size, 8);
    assert_int_equal(gh_dwarf_field(d, "outer", "in.a", &f), GH_OK);
    assert_int_equal(f.offset, 8);
    assert_int_equal(f.size, 2);
    assert_int_equal(gh_dwarf_field(d, "outer", "arr", &f), GH_OK);
    assert_int_equal(f.offset, 24);
    assert_int_equal(f.size, 12);
    assert_int_equal(gh_dwarf_field(d, "outer", "next", &f), GH_OK);
    assert_int_equal(f.offset, 40);
    assert_int_equal(f.size, 8);
    assert_int_equal(gh_dwarf_field(d, "outer", "missing", &f), GH_EFORMAT);
    assert_int_equal(gh_dwarf_field(d, "outer", "in.b.c", &f), GH_EFORMAT);
    assert_int_equal(gh_dwarf_field(d, "nosuchtype", "a", &f), GH_EFORMAT);
    assert_int_equal(gh_dwarf_type_size(d, "nosuchtype", &size), GH_EFORMAT);
    assert_non_null(gh_exe_sym(e, "global_outer"));
    assert_null(gh_exe_sym(e, "no_such_symbol"));
    const gh_sym *s = gh_exe_sym(e, "global_outer");
    assert_ptr_equal(gh_exe_sym_at(e, s->addr + 40), s);
    gh_exe_close(e);
}

static void dwarf4(void **state) { lookup(GOHEAP_FIXTURE_DWARF4); }
static void dwarf5(void **state) { lookup(GOHEAP_FIXTURE_DWARF5); }

static void no_dwarf(void **state)
{
    gh_exe *e;
    gh_err err;
    assert_int_equal(gh_exe_open(GOHEAP_FIXTURE_NODWARF, &e, &err), GH_OK);
    assert_null(gh_exe_dwarf(e));
    gh_exe_close(e);
}

static void not_elf(void **state)
{
    gh_exe *e;
    gh_err err;
    assert_int_equal(gh_exe_open(GOHEAP_FIXTURE_SOURCE, &e, &err), GH_EFORMAT);
    assert_int_equal(gh_exe_open("/nonexistent/goheap", &e, &err), GH_EIO);
}

int run_dwarf_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dwarf4),
        cmocka_unit_test(dwarf5),
        cmocka_unit_test(no_dwarf),
        cmocka_unit_test(not_elf),
    };
    return cmocka_run_group_tests_name("dwarf", tests, NULL, NULL);
}
