#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests.h"

int main(void)
{
    int failed = 0;
    failed += run_base_tests();
    failed += run_goversion_tests();
    failed += run_buildinfo_tests();
    failed += run_core_tests();
    failed += run_gcprog_tests();
    failed += run_typemask_tests();
    failed += run_heapscan_tests();
    failed += run_dwarf_tests();
    failed += run_typename_tests();
    failed += run_pclntab_tests();
    failed += run_goroutine_tests();
    failed += run_specials_tests();
    failed += run_memprof_tests();
    failed += run_dwarfvars_tests();
    failed += run_unpack_tests();
    failed += run_expr_tests();
    return failed ? 1 : 0;
}
