#ifndef GOHEAP_UNIT_TESTS_H
#define GOHEAP_UNIT_TESTS_H
int run_base_tests(void);
int run_goversion_tests(void);
int run_buildinfo_tests(void);
int run_core_tests(void);
int run_gcprog_tests(void);
int run_typemask_tests(void);
int run_heapscan_tests(void);
int run_dwarf_tests(void);
int run_typename_tests(void);
int run_pclntab_tests(void);
int run_goroutine_tests(void);
int run_specials_tests(void);
int run_memprof_tests(void);
int run_dwarfvars_tests(void);
int run_unpack_tests(void);
#endif
