/* Finalizer and cleanup roots on a synthetic target: a span's specials list
 * (kinds numbered per release; a cyclic, unsorted or out-of-span list is a
 * corrupt span, refused with its reason; an unreadable record or an exhausted
 * budget cuts the list with a note), and the finalizer and cleanup queues (cyclic block lists
 * walked once around, counts larger than a block skipped). Layouts come from
 * the built-in table (no DWARF), functions are unnamed (no pclntab). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fake_target.h"
#include "roots/specials.h"
#include "tests.h"

#define BASE 0xc000000000ull /* one span of 48-byte objects */
#define RECS 0x7f0000000000ull /* special records, 64 bytes apart */
#define FUNCS 0x500000ull    /* funcvals */
#define BLOCKS 0x7e0000000000ull /* finBlocks / cleanupBlocks, 8 KiB apart */

typedef struct fixture {
    gh_target *t;
    gh_runtime rt;
    gh_spec_layout L;
    gh_roots *rs;
    gh_spec_walk w;
    gh_span sp;
} fixture;

static void setup(fixture *f, int minor)
{
    memset(f, 0, sizeof *f);
    f->t = fake_target_new();
    f->rt.t = f->t;
    f->rt.arch = &gh_arch_amd64; /* the built-in rows the fixture's records follow */
    f->rt.ver.minor = minor;
    snprintf(f->rt.ver.text, sizeof f->rt.ver.text, "go1.%d.1", minor);
    char source[128];
    gh_err err;
    assert_int_equal(gh_spec_layout_resolve(&f->rt, &f->L, source, sizeof source, &err), GH_OK);
    assert_non_null(strstr(source, "built-in"));
    f->rs = gh_roots_new();
    f->w = (gh_spec_walk){.t = f->t, .L = &f->L, .minor = minor, .rs = f->rs, .budget = 1000};
    f->sp = (gh_span){.base = BASE, .npages = 1, .elemsize = 48, .limit = BASE + 170 * 48, .nelems = 170,
                      .spanclass = 5 << 1, .state = GH_SPAN_INUSE};
    fake_target_map(f->t, RECS, 64 * 16);
    fake_target_map(f->t, FUNCS, 256);
    fake_target_map(f->t, BLOCKS, 8192 * 4);
    for (int i = 0; i < 8; i++)
        fake_put_u64(f->t, FUNCS + 16 * i, 0x401000 + 0x100 * i); /* funcval i: code pointer */
}

static void teardown(fixture *f)
{
    gh_roots_free(f->rs);
    gh_target_close(f->t);
}

/* Record i: a special of the given raw kind on object slot, fn = funcval fi. */
static uint64_t put_special(fixture *f, int i, uint64_t next, uint64_t offset, uint8_t kind, int fi)
{
    uint64_t r = RECS + 64 * (uint64_t)i;
    fake_put_u64(f->t, r + f->L.sp_next.offset, next);
    if (f->L.sp_offset.size == 2) {
        uint8_t b[2] = {(uint8_t)offset, (uint8_t)(offset >> 8)};
        fake_put_u8(f->t, r + f->L.sp_offset.offset, b[0]);
        fake_put_u8(f->t, r + f->L.sp_offset.offset + 1, b[1]);
    } else {
        fake_put_u64(f->t, r + f->L.sp_offset.offset, offset);
    }
    fake_put_u8(f->t, r + f->L.sp_kind.offset, kind);
    fake_put_u64(f->t, r + f->L.fin_fn.offset, FUNCS + 16 * (uint64_t)fi); /* same slot as cleanup fn / handle */
    return r;
}

/* A new root set and counts for the next walk. */
static void fresh(fixture *f)
{
    gh_roots_free(f->rs);
    f->w.rs = f->rs = gh_roots_new();
    memset(&f->w.n, 0, sizeof f->w.n);
}

static int has_note(gh_roots *rs, const char *what)
{
    for (size_t i = 0; i < gh_roots_nnotes(rs); i++)
        if (strstr(gh_roots_get_note(rs, i), what))
            return 1;
    return 0;
}

static size_t count_kind(gh_roots *rs, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < gh_roots_count(rs); i++)
        n += gh_roots_get(rs, i)->kind == kind;
    return n;
}

/* Go 1.24 numbering: finalizer 1, weak handle 2, profile 3, cleanup 6. */
static void kinds_go124(void **state)
{
    fixture f;
    setup(&f, 24);
    uint64_t c = put_special(&f, 3, 0, 2 * 48, 6, 2);
    uint64_t b = put_special(&f, 2, c, 48 + 8, 3, 0); /* an interior offset: the slot at 48 */
    uint64_t a = put_special(&f, 1, b, 48, 2, 0);
    f.sp.specials = put_special(&f, 0, a, 48, 1, 1);
    gh_err err;
    assert_int_equal(gh_spec_walk_span(&f.w, &f.sp, &err), GH_OK);
    assert_int_equal(gh_roots_count(f.rs), 3);
    const gh_root *r = gh_roots_get(f.rs, 0);
    assert_int_equal(r->kind, GH_ROOT_FINALIZER);
    assert_true(r->object == BASE + 48 && r->addr == RECS + f.L.fin_fn.offset && r->size == 8);
    assert_string_equal(r->name, "function at 0x401100");
    r = gh_roots_get(f.rs, 1);
    assert_true(r->kind == GH_ROOT_RUNTIME && r->object == 0 && r->addr == a + f.L.weak_handle.offset);
    r = gh_roots_get(f.rs, 2);
    assert_true(r->kind == GH_ROOT_CLEANUP && r->object == 0 && r->addr == c + f.L.cl_fn.offset && r->size == 8);
    assert_int_equal(f.w.n.kind[GH_SPK_PROFILE], 1);
    assert_int_equal(f.w.n.kind[GH_SPK_WEAKHANDLE], 1);
    teardown(&f);
}

/* Go 1.26: kind 1 is a tiny block (no root), 2 a finalizer, 7 a cleanup whose
 * root is the whole cleanupFn; 11 is no kind. */
static void kinds_go126(void **state)
{
    fixture f;
    setup(&f, 26);
    uint64_t d = put_special(&f, 3, 0, 96, 11, 0);
    uint64_t c = put_special(&f, 2, d, 48, 7, 0);
    fake_put_u64(f.t, c + f.L.cl_fn.offset, FUNCS + 32);
    uint64_t b = put_special(&f, 1, c, 0, 2, 3);
    f.sp.specials = put_special(&f, 0, b, 0, 1, 0);
    gh_err err;
    assert_int_equal(gh_spec_walk_span(&f.w, &f.sp, &err), GH_OK);
    assert_int_equal(gh_roots_count(f.rs), 2);
    assert_int_equal(count_kind(f.rs, GH_ROOT_FINALIZER), 1);
    const gh_root *r = gh_roots_get(f.rs, 1);
    assert_true(r->kind == GH_ROOT_CLEANUP && r->addr == c + f.L.cl_cleanup.offset && r->size == 24);
    assert_string_equal(r->name, "function at 0x401200");
    assert_int_equal(f.w.n.kind[GH_SPK_TINYBLOCK], 1);
    assert_int_equal(f.w.n.unknown, 1);
    assert_true(has_note(f.rs, "unknown kind 11"));
    teardown(&f);
}

/* A -> B -> A: both read once, then the cycle is named. */
static void cyclic_list(void **state)
{
    fixture f;
    setup(&f, 25);
    uint64_t a = RECS, b = RECS + 64;
    put_special(&f, 0, b, 0, 2, 0);
    put_special(&f, 1, a, 48, 2, 1);
    f.sp.specials = a;
    gh_err err = {0};
    assert_int_equal(gh_spec_walk_span(&f.w, &f.sp, &err), GH_EFORMAT);
    assert_int_equal(count_kind(f.rs, GH_ROOT_FINALIZER), 2);
    assert_non_null(strstr(err.msg, "it cycles, record 0x7f0000000000 (the list's record 1) comes again after 2 records"));
    teardown(&f);
}

static void self_loop(void **state)
{
    fixture f;
    setup(&f, 22);
    f.sp.specials = put_special(&f, 0, RECS, 0, 1, 0);
    gh_err err = {0};
    assert_int_equal(gh_spec_walk_span(&f.w, &f.sp, &err), GH_EFORMAT);
    assert_int_equal(gh_roots_count(f.rs), 1);
    assert_non_null(strstr(err.msg, "it cycles, record 0x7f0000000000 (the list's record 1) comes again after 1 record"));
    teardown(&f);
}

/* Going back in offset and an offset past the span are refused with the
 * reason; an unreadable next record and an exhausted budget end the walk
 * with a note. */
static void corrupt_lists(void **state)
{
    fixture f;
    setup(&f, 23);
    gh_err err = {0};
    uint64_t b = put_special(&f, 1, 0, 0, 1, 0);
    f.sp.specials = put_special(&f, 0, b, 96, 1, 0);
    assert_int_equal(gh_spec_walk_span(&f.w, &f.sp, &err), GH_EFORMAT);
    assert_int_equal(gh_roots_count(f.rs), 1);
    assert_non_null(strstr(err.msg, "record 0x7f0000000040 (offset 0, kind 1) comes after offset 96, kind 1, out of order"));

    fresh(&f);
    f.sp.specials = put_special(&f, 2, 0, GH_PAGE_SIZE + 8, 1, 0);
    assert_int_equal(gh_spec_walk_span(&f.w, &f.sp, &err), GH_EFORMAT);
    assert_int_equal(gh_roots_count(f.rs), 0);
    assert_non_null(strstr(err.msg, "record 0x7f0000000080 has offset 8200, outside the span's 8192 bytes"));

    fresh(&f);
    f.sp.specials = put_special(&f, 3, 0xdead0000, 0, 1, 0);
    assert_int_equal(gh_spec_walk_span(&f.w, &f.sp, &err), GH_OK);
    assert_int_equal(gh_roots_count(f.rs), 1);
    assert_true(has_note(f.rs, "unreadable"));

    fresh(&f);
    f.w.budget = 1;
    b = put_special(&f, 5, 0, 48, 1, 0);
    f.sp.specials = put_special(&f, 4, b, 0, 1, 0);
    assert_int_equal(gh_spec_walk_span(&f.w, &f.sp, &err), GH_OK);
    assert_int_equal(gh_roots_count(f.rs), 1);
    assert_true(has_note(f.rs, "too many specials"));
    teardown(&f);
}

/* finBlocks 0 -> 1 -> 0 (alllink), one finalizer each, a Go 1.24 cleanup
 * (arg nil) in block 1, and block 2 claiming more entries than it holds. */
static void finq(void **state)
{
    fixture f;
    setup(&f, 24);
    uint64_t fb0 = BLOCKS, fb1 = BLOCKS + 8192, fb2 = BLOCKS + 16384, allfin = BLOCKS + 24576;
    const gh_spec_layout *L = &f.L;
    fake_put_u64(f.t, allfin, fb0);
    fake_put_u64(f.t, fb0 + L->fb_alllink.offset, fb1);
    fake_put_u64(f.t, fb1 + L->fb_alllink.offset, fb0);
    fake_put_u32(f.t, fb0 + L->fb_cnt.offset, 1);
    fake_put_u32(f.t, fb1 + L->fb_cnt.offset, 2);
    uint64_t e = fb0 + L->fb_fin.offset;
    fake_put_u64(f.t, e + L->f_fn.offset, FUNCS);
    fake_put_u64(f.t, e + L->f_arg.offset, BASE);
    e = fb1 + L->fb_fin.offset;
    fake_put_u64(f.t, e + L->f_fn.offset, FUNCS + 16);
    fake_put_u64(f.t, e + L->f_arg.offset, BASE + 48);
    e += L->finalizer_size;
    fake_put_u64(f.t, e + L->f_fn.offset, FUNCS + 32); /* arg 0: a cleanup */
    gh_err err;
    assert_int_equal(gh_spec_walk_finq(&f.w, allfin, &err), GH_OK);
    assert_int_equal(count_kind(f.rs, GH_ROOT_FINALIZER), 2);
    assert_int_equal(count_kind(f.rs, GH_ROOT_CLEANUP), 1);
    assert_true(has_note(f.rs, "cyclic"));
    const gh_root *r = gh_roots_get(f.rs, 0);
    assert_true(r->addr == fb0 + L->fb_fin.offset && r->size == L->finalizer_size && r->mask && r->object == 0);
    assert_int_equal(r->mask[0], 0x1b); /* fn, arg, fint, ot; not nret */

    fresh(&f);
    fake_put_u64(f.t, allfin, fb2);
    fake_put_u32(f.t, fb2 + L->fb_cnt.offset, 100000);
    assert_int_equal(gh_spec_walk_finq(&f.w, allfin, &err), GH_OK);
    assert_int_equal(gh_roots_count(f.rs), 0);
    assert_true(has_note(f.rs, "claims 100000 entries"));
    assert_int_equal(gh_spec_walk_finq(&f.w, 0, &err), GH_OK);
    assert_true(has_note(f.rs, "runtime.allfin not found"));
    teardown(&f);
}

/* Go 1.26 cleanup blocks: a self-looping block with 2 cleanupFns, one nil. */
static void cleanupq(void **state)
{
    fixture f;
    setup(&f, 26);
    const gh_spec_layout *L = &f.L;
    uint64_t q = BLOCKS, cb = BLOCKS + 8192;
    fake_put_u64(f.t, q + L->cq_all.offset, cb);
    fake_put_u64(f.t, cb + L->cb_alllink.offset, cb);
    fake_put_u32(f.t, cb + L->cb_n.offset, 3);
    uint64_t e = cb + L->cb_cleanups.offset;
    fake_put_u64(f.t, e + L->cf_fn.offset, FUNCS + 16);
    fake_put_u64(f.t, e + 2 * L->cleanupfn_size + L->cf_fn.offset, FUNCS + 48);
    gh_err err;
    assert_int_equal(gh_spec_walk_cleanupq(&f.w, q, &err), GH_OK);
    assert_int_equal(count_kind(f.rs, GH_ROOT_CLEANUP), 2);
    assert_string_equal(gh_roots_get(f.rs, 1)->name, "function at 0x401300");
    assert_int_equal(gh_roots_get(f.rs, 1)->size, 24);
    assert_true(has_note(f.rs, "cyclic"));
    teardown(&f);
}

/* Function values that cannot be named (AddCleanup closures are unwrapped
 * with the function table: the corpus checks cover them). */
static void funcval_names(void **state)
{
    fixture f;
    setup(&f, 25);
    gh_spec_walk w = f.w;
    char buf[128];
    gh_spec_funcval_name(&w, 0, 1, buf, sizeof buf);
    assert_string_equal(buf, "nil function");
    gh_spec_funcval_name(&w, 0x12345678, 0, buf, sizeof buf);
    assert_non_null(strstr(buf, "unreadable"));
    gh_spec_funcval_name(&w, FUNCS + 16, 1, buf, sizeof buf);
    assert_string_equal(buf, "function at 0x401100");
    teardown(&f);
}

int run_specials_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds_go124),  cmocka_unit_test(kinds_go126),   cmocka_unit_test(cyclic_list),
        cmocka_unit_test(self_loop),    cmocka_unit_test(corrupt_lists), cmocka_unit_test(finq),
        cmocka_unit_test(cleanupq),     cmocka_unit_test(funcval_names),
    };
    return cmocka_run_group_tests_name("specials", tests, NULL, NULL);
}
