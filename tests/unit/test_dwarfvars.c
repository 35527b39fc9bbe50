/* DWARF variable index on a C fixture built -O0 with DWARF 4 and 5: globals
 * by address, a function's frame variables (parameters, locals, a nested
 * block), types with kinds derived without Go's attributes, bad offsets
 * refused; and moduledata's GC bitmaps and next link at the built-in offsets
 * of every release. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_target.h"
#include "dwarf/dwarfvars.h"
#include "binary/exe.h"
#include "runtime/moduledata.h"
#include "rtype/typemask.h"
#include "tests.h"

static gh_dwarf_vars *open_fixture(const char *path, gh_exe **e, int minor)
{
    gh_err err;
    assert_int_equal(gh_exe_open(path, e, &err), GH_OK);
    gh_dwarf_vars *dv = NULL;
    assert_int_equal(gh_dwarf_vars_open(gh_exe_dwarf(*e), NULL, 0, 0, 0, minor, NULL, &dv, &err), GH_OK);
    assert_non_null(dv);
    return dv;
}

static const gh_dlocal *local(const gh_dlocal *l, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (l[i].name && !strcmp(l[i].name, name))
            return &l[i];
    return NULL;
}

static void check(const char *path)
{
    gh_exe *e;
    gh_err err;
    gh_dwarf_vars *dv = open_fixture(path, &e, 23);
    const gh_sym *holder = gh_exe_sym(e, "g_holder"), *counter = gh_exe_sym(e, "g_counter");
    assert_non_null(holder);
    assert_non_null(counter);

    /* Globals by any address inside them. */
    const gh_dglobal *g = gh_dwarf_global_at(dv, holder->addr + 40);
    assert_non_null(g);
    assert_string_equal(g->name, "g_holder");
    assert_int_equal(g->addr, holder->addr);
    assert_int_equal(g->size, 72);
    assert_null(gh_dwarf_global_at(dv, holder->addr + 72 + 4096 * 16));
    g = gh_dwarf_global_at(dv, counter->addr + 3);
    assert_non_null(g);
    assert_string_equal(g->name, "g_counter");
    assert_int_equal(g->size, 4);
    assert_true(gh_dwarf_nglobals(dv) >= 3);

    /* struct holder { uint8_t tag; node_t nodes[2]; void *any; struct holder *self; } */
    gh_dtype t, el;
    gh_dfield f;
    g = gh_dwarf_global_at(dv, holder->addr);
    assert_int_equal(gh_dwarf_type(dv, g->type, &t, &err), GH_OK);
    assert_string_equal(t.name, "holder");
    assert_int_equal(t.kind, GH_KIND_STRUCT);
    assert_int_equal(t.size, 72);
    assert_int_equal(t.align, 8);
    assert_int_equal(t.nfields, 4);
    assert_int_equal(t.rtype, 0);
    assert_int_equal(gh_dwarf_type_field(dv, g->type, 1, &f, &err), GH_OK);
    assert_string_equal(f.name, "nodes");
    assert_int_equal(f.offset, 8);
    assert_int_equal(gh_dwarf_type(dv, f.type, &t, &err), GH_OK);
    assert_int_equal(t.kind, GH_KIND_ARRAY);
    assert_int_equal(t.len, 2);
    assert_int_equal(t.size, 48);
    assert_int_equal(gh_dwarf_type(dv, t.elem, &el, &err), GH_OK);
    assert_string_equal(el.name, "node_t"); /* the typedef's name, the struct's layout */
    assert_int_equal(el.kind, GH_KIND_STRUCT);
    assert_int_equal(el.size, 24);
    assert_int_equal(el.nfields, 3);
    assert_int_equal(gh_dwarf_type_field(dv, t.elem, 2, &f, &err), GH_OK);
    assert_string_equal(f.name, "w");
    assert_int_equal(gh_dwarf_type(dv, f.type, &t, &err), GH_OK);
    assert_int_equal(t.kind, GH_KIND_FLOAT64);
    assert_int_equal(gh_dwarf_type_field(dv, t.off, 0, &f, &err), GH_EARG); /* a double has no fields */
    assert_int_equal(gh_dwarf_type_field(dv, g->type, 2, &f, &err), GH_OK);
    assert_string_equal(f.name, "any");
    assert_int_equal(f.offset, 56);
    assert_int_equal(gh_dwarf_type(dv, f.type, &t, &err), GH_OK);
    assert_int_equal(t.kind, GH_KIND_UNSAFEPOINTER); /* void *: a pointer to nothing */
    assert_int_equal(gh_dwarf_type_field(dv, g->type, 3, &f, &err), GH_OK);
    assert_int_equal(gh_dwarf_type(dv, f.type, &t, &err), GH_OK);
    assert_int_equal(t.kind, GH_KIND_POINTER);
    assert_int_equal(t.size, 8);
    assert_int_equal(t.elem, g->type);
    assert_int_equal(gh_dwarf_type_field(dv, g->type, 4, &f, &err), GH_EARG);
    g = gh_dwarf_global_at(dv, counter->addr);
    assert_int_equal(gh_dwarf_type(dv, g->type, &t, &err), GH_OK);
    assert_string_equal(t.name, "uint32_t");
    assert_int_equal(t.kind, GH_KIND_UINT32);
    assert_int_equal(t.align, 4);

    /* Offsets that are no type entry are refused. */
    assert_int_equal(gh_dwarf_type(dv, 0, &t, &err), GH_EFORMAT);
    assert_int_equal(gh_dwarf_type(dv, UINT64_C(1) << 40, &t, &err), GH_EFORMAT);

    /* walk(h, n): parameters, locals, the loop's block. */
    const gh_sym *walk = gh_exe_sym(e, "walk");
    assert_non_null(walk);
    const gh_dlocal *l;
    size_t n;
    assert_int_equal(gh_dwarf_func_locals(dv, walk->addr, &l, &n, &err), GH_OK);
    assert_int_equal(n, 6);
    const gh_dlocal *h = local(l, n, "h"), *pn = local(l, n, "n"), *sum = local(l, n, "sum"),
                    *loc = local(l, n, "local"), *p = local(l, n, "p"), *v = local(l, n, "v");
    assert_true(h && pn && sum && loc && p && v);
    assert_true(h->is_param && pn->is_param && !sum->is_param && !p->is_param);
    assert_int_equal(h->size, 8);
    assert_int_equal(pn->size, 4);
    assert_int_equal(loc->size, 24);
    assert_int_equal(v->size, 8);
    for (size_t i = 0; i < n; i++) /* below the CFA, in distinct slots */
        for (size_t k = 0; k < n; k++)
            assert_true(l[i].cfa_off < 0 && (i == k || l[i].cfa_off != l[k].cfa_off));
    const gh_dlocal *again;
    assert_int_equal(gh_dwarf_func_locals(dv, walk->addr, &again, &n, &err), GH_OK);
    assert_ptr_equal(again, l); /* kept */
    assert_int_equal(gh_dwarf_func_locals(dv, walk->addr + 1, &l, &n, &err), GH_EARG);

    /* No Go closure offsets in C: none captured, and no rule to check. */
    const gh_dclosure_var *cv;
    assert_int_equal(gh_dwarf_closure_vars(dv, walk->addr, &cv, &n, &err), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gh_dwarf_closure_rule_check(dv, walk->addr, &n, &err), GH_OK);
    assert_int_equal(n, 0);
    uint64_t walk_pc = walk->addr;
    gh_dwarf_vars_free(dv);
    gh_exe_close(e);

    /* Go 1.22 records no offsets: read from the code, which needs a target;
     * without one nothing is found, nothing guessed. */
    dv = open_fixture(path, &e, 22);
    assert_int_equal(gh_dwarf_closure_vars(dv, walk_pc, &cv, &n, &err), GH_OK);
    assert_int_equal(n, 0);
    gh_dwarf_vars_free(dv);
    gh_exe_close(e);
}

static void dwarf4(void **state) { check(GOHEAP_FIXTURE_VARS4); }
static void dwarf5(void **state) { check(GOHEAP_FIXTURE_VARS5); }

static void no_dwarf(void **state)
{
    gh_exe *e;
    gh_err err;
    gh_dwarf_vars *dv = (gh_dwarf_vars *)&err;
    assert_int_equal(gh_exe_open(GOHEAP_FIXTURE_NODWARF, &e, &err), GH_OK);
    assert_int_equal(gh_dwarf_vars_open(gh_exe_dwarf(e), NULL, 0, 0, 0, 26, NULL, &dv, &err), GH_OK);
    assert_null(dv);
    assert_null(gh_dwarf_global_at(NULL, 0x1000));
    assert_int_equal(gh_dwarf_nglobals(NULL), 0);
    gh_exe_close(e);
}

/* gcdatamask, gcbssmask ({n int32, bytedata}) and next at the built-in
 * offsets of 1.22, 1.23-1.25, 1.26 and 1.27. */
static void moduledata_masks(void **state)
{
    gh_target *t = fake_target_new();
    uint8_t *m = fake_target_map(t, 0x900000, 640);
    for (int i = 0; i < 80; i++) {
        uint64_t v = 0x1000 + 8 * (uint64_t)i;
        memcpy(m + 8 * i, &v, 8);
    }
    gh_runtime rt = {.t = t, .firstmoduledata = 0x900000};
    gh_moduledata md;
    gh_err err;
    const struct { int minor; uint64_t data, bss, next; } want[] = {
        {22, 536, 552, 584}, {23, 536, 552, 576}, {25, 536, 552, 576}, {26, 544, 560, 584}, {27, 520, 536, 560}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        rt.ver.minor = want[i].minor;
        assert_int_equal(gh_moduledata_read(&rt, &md, &err), GH_OK);
        assert_int_equal(md.gcdatamask.len, (0x1000 + want[i].data) & 0xffffffff);
        assert_int_equal(md.gcdatamask.ptr, 0x1000 + want[i].data + 8);
        assert_int_equal(md.gcbssmask.len, (0x1000 + want[i].bss) & 0xffffffff);
        assert_int_equal(md.gcbssmask.ptr, 0x1000 + want[i].bss + 8);
        assert_int_equal(md.next, 0x1000 + want[i].next);
        assert_int_equal(gh_moduledata_read_at(&rt, 0x900000, &md, &err), GH_OK);
        assert_int_equal(md.next, 0x1000 + want[i].next);
    }
    /* A negative bit count is no count. */
    rt.ver.minor = 27;
    uint32_t neg = 0x80000000u;
    memcpy(m + 520, &neg, 4);
    assert_int_equal(gh_moduledata_read(&rt, &md, &err), GH_OK);
    assert_int_equal(md.gcdatamask.len, 0);
    assert_int_equal(gh_moduledata_read_at(&rt, 0x900000 + 128, &md, &err), GH_EMEM); /* runs off the mapping */
    gh_target_close(t);
}

int run_dwarfvars_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dwarf4),
        cmocka_unit_test(dwarf5),
        cmocka_unit_test(no_dwarf),
        cmocka_unit_test(moduledata_masks),
    };
    return cmocka_run_group_tests_name("dwarfvars", tests, NULL, NULL);
}
