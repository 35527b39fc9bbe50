#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fake_target.h"
#include "rtype/typemask.h"
#include "tests.h"

/* Synthetic descriptors laid out the way the compiler writes them, in one
 * chunk of fake target memory. */
#define BASE UINT64_C(0x400000)
#define MEMSIZE (4u << 20)

typedef struct world {
    gh_target *t;
    uint8_t *mem;
    uint64_t next;
    int minor;
} world;

static world W;

static int setup(void **state)
{
    W.t = fake_target_new();
    W.mem = fake_target_map(W.t, BASE, MEMSIZE);
    W.next = BASE + 64;
    return 0;
}

static int teardown(void **state)
{
    gh_target_close(W.t);
    return 0;
}

static uint64_t alloc(size_t n)
{
    uint64_t a = W.next;
    W.next += (n + 15) & ~(size_t)15;
    assert_true(W.next <= BASE + MEMSIZE);
    return a;
}

static void put64(uint64_t addr, uint64_t v)
{
    memcpy(W.mem + (addr - BASE), &v, 8);
}

static uint64_t bytes(const void *p, size_t n)
{
    uint64_t a = alloc(n);
    memcpy(W.mem + (a - BASE), p, n);
    return a;
}

/* Kind_ and TFlag for a kind in W.minor's encoding; direct marks types
 * stored directly in interfaces (pointers). */
static void set_kind(uint64_t a, unsigned kind, int direct, uint8_t tflag)
{
    uint8_t k = (uint8_t)kind;
    if (direct && W.minor >= 26)
        tflag |= GH_TFLAG_DIRECTIFACE;
    else if (direct)
        k |= 0x20;
    W.mem[a - BASE + 20] = tflag;
    W.mem[a - BASE + 23] = k;
}

static uint64_t type(uint64_t size, uint64_t ptrbytes, unsigned kind, uint8_t tflag,
                     uint64_t gcdata, size_t extra)
{
    uint64_t a = alloc(GH_RTYPE_SIZE + extra);
    put64(a, size);
    put64(a + 8, ptrbytes);
    set_kind(a, kind, kind == GH_KIND_POINTER, tflag);
    put64(a + 32, gcdata);
    return a;
}

static uint64_t leaf(uint64_t size, uint64_t ptrbytes, unsigned kind, uint8_t mask)
{
    uint8_t m[8] = {mask};
    return type(size, ptrbytes, kind, 0, ptrbytes ? bytes(m, 8) : 0, 0);
}

/* A 1.24+ on-demand slot, empty or holding a mask. */
static uint64_t slot(uint64_t mask_addr)
{
    uint64_t s = alloc(8);
    put64(s, mask_addr);
    return s;
}

static uint64_t array(uint64_t size, uint64_t ptrbytes, uint8_t tflag, uint64_t gcdata,
                      uint64_t elem, uint64_t len)
{
    uint64_t a = type(size, ptrbytes, GH_KIND_ARRAY, tflag, gcdata, 24);
    put64(a + 48, elem);
    put64(a + 64, len);
    return a;
}

typedef struct field {
    uint64_t typ, off;
} field;

static uint64_t strct(uint64_t size, uint64_t ptrbytes, uint8_t tflag, uint64_t gcdata,
                      const field *f, size_t n)
{
    uint64_t fs = alloc(24 * n + 8);
    for (size_t i = 0; i < n; i++) {
        put64(fs + 24 * i, 0); /* name: unused here */
        put64(fs + 24 * i + 8, f[i].typ);
        put64(fs + 24 * i + 16, f[i].off);
    }
    uint64_t a = type(size, ptrbytes, GH_KIND_STRUCT, tflag, gcdata, 32);
    put64(a + 56, fs);
    put64(a + 64, n);
    put64(a + 72, n);
    return a;
}

static gh_typemask_cache *cache(int minor)
{
    W.minor = minor;
    gh_typemask_cache *c = gh_typemask_cache_new(W.t, minor);
    assert_non_null(c);
    return c;
}

static void expect_words(const gh_ptrmask *m, uint64_t nwords, const uint64_t *ptrs, size_t n)
{
    assert_int_equal(m->nwords, nwords);
    for (uint64_t w = 0, j = 0; w < nwords; w++) {
        int want = j < n && ptrs[j] == w;
        j += want;
        assert_int_equal(m->bits[w / 8] >> (w % 8) & 1, want);
    }
}

static void rtype_kinds(void **state)
{
    gh_rtype rt;
    gh_err err;
    uint64_t a = type(48, 40, 0, 0, 0, 0);
    put64(a + 16, 0x1234abcd);
    W.mem[a - BASE + 23] = 0x40 | 0x20 | GH_KIND_STRUCT;
    W.mem[a - BASE + 20] = GH_TFLAG_NAMED | GH_TFLAG_UNCOMMON;
    assert_int_equal(gh_rtype_read(W.t, 22, a, &rt, &err), GH_OK);
    assert_int_equal(rt.size, 48);
    assert_int_equal(rt.ptrbytes, 40);
    assert_int_equal(rt.hash, 0x1234abcd);
    assert_int_equal(rt.kind, GH_KIND_STRUCT);
    assert_true(rt.gcprog && rt.direct_iface);
    assert_int_equal(gh_rtype_read(W.t, 24, a, &rt, &err), GH_OK);
    assert_int_equal(rt.kind, GH_KIND_STRUCT);
    assert_false(rt.gcprog);
    assert_true(rt.direct_iface);
    /* 1.26+: the whole byte is the kind, so 0x79 is no kind at all. */
    assert_int_equal(gh_rtype_read(W.t, 26, a, &rt, &err), GH_EFORMAT);
    W.mem[a - BASE + 23] = GH_KIND_POINTER;
    W.mem[a - BASE + 20] = GH_TFLAG_DIRECTIFACE;
    assert_int_equal(gh_rtype_read(W.t, 26, a, &rt, &err), GH_OK);
    assert_int_equal(rt.kind, GH_KIND_POINTER);
    assert_true(rt.direct_iface);
    /* Kind 0: the runtime's unrolled GC-program types. */
    W.mem[a - BASE + 23] = 0;
    assert_int_equal(gh_rtype_read(W.t, 22, a, &rt, &err), GH_OK);
    assert_int_equal(rt.kind, GH_KIND_INVALID);
    assert_int_equal(gh_rtype_read(W.t, 22, BASE + MEMSIZE - 8, &rt, &err), GH_EMEM);
}

/* main.Session{ID int; User string; Payload *Payload; Prev *Session}. */
static void plain_bitmap(void **state)
{
    static const int minors[] = {22, 23, 24, 25, 26, 27};
    for (size_t v = 0; v < sizeof minors / sizeof minors[0]; v++) {
        gh_typemask_cache *c = cache(minors[v]);
        uint8_t mask[8] = {0x1a};
        uint64_t ses = type(40, 40, GH_KIND_STRUCT, GH_TFLAG_NAMED, bytes(mask, 8), 32);
        const gh_ptrmask *m, *again;
        gh_err err;
        assert_int_equal(gh_typemask_get(c, ses, &m, &err), GH_OK);
        expect_words(m, 5, (const uint64_t[]){1, 3, 4}, 3);
        assert_int_equal(m->size, 40);
        assert_int_equal(gh_typemask_get(c, ses, &again, &err), GH_OK);
        assert_ptr_equal(m, again);
        /* Tiled: three of them in a row. */
        const int want[16] = {0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0};
        for (uint64_t w = 0; w < 16; w++)
            assert_int_equal(gh_ptrmask_tile(m, 120, w), want[w]);
        gh_typemask_cache_free(c);
    }
}

static void pointer_free_and_shared(void **state)
{
    gh_typemask_cache *c = cache(25);
    const gh_ptrmask *m;
    gh_err err;
    /* [4000]uint8: no pointers, no GCData; any size is fine. */
    uint64_t bytes4000 = type(4000, 0, GH_KIND_ARRAY, 0, 0, 24);
    assert_int_equal(gh_typemask_get(c, bytes4000, &m, &err), GH_OK);
    assert_int_equal(m->nwords, 0);
    assert_null(m->bits);
    assert_int_equal(gh_ptrmask_tile(m, 4000, 3), 0);
    uint64_t huge = type(UINT64_C(1) << 60, 0, GH_KIND_ARRAY, 0, 0, 24);
    assert_int_equal(gh_typemask_get(c, huge, &m, &err), GH_OK);
    /* A GCData shared with a longer type: bits past PtrBytes are dropped. */
    uint8_t all[8] = {0xff, 0xff};
    uint64_t three = type(24, 24, GH_KIND_STRUCT, 0, bytes(all, 8), 32);
    assert_int_equal(gh_typemask_get(c, three, &m, &err), GH_OK);
    assert_int_equal(m->bits[0], 0x07);
    /* A partial last element and words past the data. */
    uint64_t ptr_int = type(16, 8, GH_KIND_STRUCT, 0, bytes(all, 8), 32);
    assert_int_equal(gh_typemask_get(c, ptr_int, &m, &err), GH_OK);
    assert_int_equal(gh_ptrmask_tile(m, 40, 4), 1);
    assert_int_equal(gh_ptrmask_tile(m, 40, 5), 0);
    assert_int_equal(gh_ptrmask_tile(m, 32, 4), 0);
    assert_int_equal(gh_ptrmask_tile(m, 32, UINT64_MAX), 0);
    gh_typemask_cache_free(c);
}

/* struct{a [200]*int; b [100]int; c *int} as cmd/compile's gcprog writes it. */
static uint64_t prog_type(uint8_t tflag)
{
    static const uint8_t prog[] = {
        0x01, 0x01,             /* 1 */
        0x81, 0xc7, 0x01,       /* repeat 1 bit 199 times */
        0x01, 0x00,             /* 0 */
        0x81, 0x63,             /* repeat 1 bit 99 times */
        0x01, 0x01,             /* 1 */
        0x00,
    };
    uint8_t g[4 + sizeof prog];
    uint32_t len = sizeof prog;
    memcpy(g, &len, 4);
    memcpy(g + 4, prog, sizeof prog);
    uint64_t a = type(301 * 8, 301 * 8, GH_KIND_STRUCT, tflag, bytes(g, sizeof g), 32);
    W.mem[a - BASE + 23] |= 0x40;
    return a;
}

static void expect_prog_mask(const gh_ptrmask *m)
{
    assert_int_equal(m->nwords, 301);
    for (uint64_t w = 0; w < 301; w++)
        assert_int_equal(gh_ptrmask_tile(m, 301 * 8, w), w < 200 || w == 300);
}

static void gc_program(void **state)
{
    for (int minor = 22; minor <= 23; minor++) {
        gh_typemask_cache *c = cache(minor);
        const gh_ptrmask *m;
        gh_err err;
        assert_int_equal(gh_typemask_get(c, prog_type(GH_TFLAG_NAMED), &m, &err), GH_OK);
        expect_prog_mask(m);
        gh_typemask_cache_free(c);
    }
    /* 1.24+ has no GC programs: the 0x40 bit means nothing, GCData is a mask. */
    gh_typemask_cache *c = cache(24);
    const gh_ptrmask *m;
    gh_err err;
    uint64_t a = prog_type(0);
    assert_int_equal(gh_typemask_get(c, a, &m, &err), GH_OK);
    assert_int_equal(m->bits[0], 12); /* the length word, read as bits */
    gh_typemask_cache_free(c);
}

static void gc_program_hostile(void **state)
{
    gh_typemask_cache *c = cache(22);
    const gh_ptrmask *m;
    gh_err err;
    /* An absurd program length. */
    uint64_t a = prog_type(0), g;
    memcpy(&g, W.mem + (a - BASE) + 32, 8);
    uint32_t huge = 0xffffffffu;
    memcpy(W.mem + (g - BASE), &huge, 4);
    assert_int_equal(gh_typemask_get(c, a, &m, &err), GH_EFORMAT);
    /* A program emitting more bits than PtrBytes says. */
    uint64_t b = prog_type(0);
    put64(b + 8, 300 * 8);
    assert_int_equal(gh_typemask_get(c, b, &m, &err), GH_EFORMAT);
    /* The failure is cached with its message. */
    char first[sizeof err.msg];
    strcpy(first, err.msg);
    put64(b + 8, 301 * 8);
    assert_int_equal(gh_typemask_get(c, b, &m, &err), GH_EFORMAT);
    assert_string_equal(err.msg, first);
    /* A program running off its length. */
    uint64_t d = prog_type(0);
    memcpy(&g, W.mem + (d - BASE) + 32, 8);
    uint32_t short_len = 6;
    memcpy(W.mem + (g - BASE), &short_len, 4);
    assert_int_equal(gh_typemask_get(c, d, &m, &err), GH_EFORMAT);
    gh_typemask_cache_free(c);
}

/* 1.22-1.23 heapSetType's fake type for a GC-program object: Kind_ 0, TFlag
 * UnrolledBitmap, GCData the unrolled bits right after it. */
static void unrolled_bitmap(void **state)
{
    gh_typemask_cache *c = cache(22);
    const gh_ptrmask *m;
    gh_err err;
    uint64_t a = alloc(4096);
    put64(a, 301 * 8);
    put64(a + 8, 301 * 8);
    put64(a + 32, a + 48);
    W.mem[a - BASE + 20] = GH_TFLAG_UNROLLEDBITMAP;
    memset(W.mem + (a - BASE) + 48, 0xff, 25);
    W.mem[a - BASE + 48 + 37] = 0x10; /* bit 300 */
    assert_int_equal(gh_typemask_get(c, a, &m, &err), GH_OK);
    expect_prog_mask(m);
    gh_typemask_cache_free(c);
}

/* Field types, by value. */
typedef struct leaves {
    uint64_t ptr, integer, string, slice, ints5, iface;
} leaves;

static leaves make_leaves(void)
{
    leaves l;
    l.ptr = leaf(8, 8, GH_KIND_POINTER, 1);
    l.integer = leaf(8, 0, GH_KIND_INT, 0);
    l.string = leaf(16, 8, GH_KIND_STRING, 1);
    l.slice = leaf(24, 8, GH_KIND_SLICE, 1);
    l.ints5 = type(40, 0, GH_KIND_ARRAY, 0, 0, 24);
    l.iface = leaf(16, 16, GH_KIND_INTERFACE, 2); /* the type/itab word is not scanned */
    return l;
}

/* struct{n int; a [3]Inner; s []byte; pad [5]int; e any; z int} with
 * Inner{p *int; x int; q string}; the outer struct and the array are
 * on-demand, their slots given. */
static uint64_t outer(const leaves *l, uint64_t outer_slot, uint64_t array_slot)
{
    field in[] = {{l->ptr, 0}, {l->integer, 8}, {l->string, 16}};
    uint64_t inner = strct(32, 24, 0, bytes((uint8_t[8]){0x05}, 8), in, 3);
    uint64_t arr = array(96, 88, GH_TFLAG_GCMASKONDEMAND, array_slot, inner, 3);
    field out[] = {{l->integer, 0}, {arr, 8}, {l->slice, 104}, {l->ints5, 128},
                   {l->iface, 168}, {l->integer, 184}};
    return strct(192, 184, GH_TFLAG_GCMASKONDEMAND, outer_slot, out, 6);
}

static const uint64_t outer_ptrs[] = {1, 3, 5, 7, 9, 11, 13, 22};

static void on_demand_built(void **state)
{
    static const int minors[] = {24, 25, 26, 27};
    for (size_t v = 0; v < sizeof minors / sizeof minors[0]; v++) {
        gh_typemask_cache *c = cache(minors[v]);
        leaves l = make_leaves();
        const gh_ptrmask *m;
        gh_err err;
        uint64_t a = outer(&l, slot(0), slot(0));
        assert_int_equal(gh_typemask_get(c, a, &m, &err), GH_OK);
        expect_words(m, 23, outer_ptrs, 8);
        /* Two of them back to back. */
        for (uint64_t w = 0; w < 48; w++) {
            int want = 0;
            for (size_t j = 0; j < 8; j++)
                want |= outer_ptrs[j] == w % 24;
            assert_int_equal(gh_ptrmask_tile(m, 384, w), want);
        }
        gh_typemask_cache_free(c);
    }
}

static void on_demand_slot(void **state)
{
    gh_typemask_cache *c = cache(26);
    leaves l = make_leaves();
    const gh_ptrmask *m;
    gh_err err;
    /* A mask the runtime built wins over the type's structure. */
    uint64_t built = bytes((uint8_t[8]){0x81, 0x00, 0x40}, 8);
    assert_int_equal(gh_typemask_get(c, outer(&l, slot(built), slot(0)), &m, &err), GH_OK);
    expect_words(m, 23, (const uint64_t[]){0, 7, 22}, 3);
    /* The in-progress sentinel and an unreadable slot mean: build it. */
    uint64_t sentinel = alloc(8);
    gh_typemask_cache_set_inprogress(c, sentinel);
    assert_int_equal(gh_typemask_get(c, outer(&l, slot(sentinel), slot(0)), &m, &err), GH_OK);
    expect_words(m, 23, outer_ptrs, 8);
    assert_int_equal(gh_typemask_get(c, outer(&l, slot(0x10), slot(0)), &m, &err), GH_OK);
    expect_words(m, 23, outer_ptrs, 8);
    /* The slot itself unreadable: an error. */
    assert_int_equal(gh_typemask_get(c, outer(&l, 0x10, slot(0)), &m, &err), GH_EMEM);
    gh_typemask_cache_free(c);
}

/* [1]T shares T's mask; a pointer array tiles one bit; Len*Size that does
 * not fit PtrBytes is rejected. */
static void on_demand_arrays(void **state)
{
    gh_typemask_cache *c = cache(24);
    leaves l = make_leaves();
    const gh_ptrmask *m;
    gh_err err;
    uint64_t one = array(16, 16, GH_TFLAG_GCMASKONDEMAND, slot(0), l.iface, 1);
    assert_int_equal(gh_typemask_get(c, one, &m, &err), GH_OK);
    expect_words(m, 2, (const uint64_t[]){1}, 1);
    uint64_t n = 100000;
    uint64_t ptrs = array(8 * n, 8 * n, GH_TFLAG_GCMASKONDEMAND, slot(0), l.ptr, n);
    assert_int_equal(gh_typemask_get(c, ptrs, &m, &err), GH_OK);
    assert_int_equal(m->nwords, n);
    for (uint64_t w = 0; w < n; w++)
        assert_int_equal(m->bits[w / 8] >> (w % 8) & 1, 1);
    uint64_t strs = array(16 * n, 16 * n - 8, GH_TFLAG_GCMASKONDEMAND, slot(0), l.string, n);
    assert_int_equal(gh_typemask_get(c, strs, &m, &err), GH_OK);
    for (uint64_t w = 0; w < 2 * n - 1; w++)
        assert_int_equal(m->bits[w / 8] >> (w % 8) & 1, w % 2 == 0);
    uint64_t bad = array(16 * n, 16 * n - 8, GH_TFLAG_GCMASKONDEMAND, slot(0), l.string, n + 1);
    assert_int_equal(gh_typemask_get(c, bad, &m, &err), GH_EFORMAT);
    uint64_t nolen = array(16, 16, GH_TFLAG_GCMASKONDEMAND, slot(0), l.string, 0);
    assert_int_equal(gh_typemask_get(c, nolen, &m, &err), GH_EFORMAT);
    uint64_t noptr = array(40, 40, GH_TFLAG_GCMASKONDEMAND, slot(0), l.integer, 5);
    assert_int_equal(gh_typemask_get(c, noptr, &m, &err), GH_EFORMAT);
    /* On demand is only for arrays and structs (the runtime throws). */
    uint64_t odd = type(8, 8, GH_KIND_POINTER, GH_TFLAG_GCMASKONDEMAND, slot(0), 8);
    assert_int_equal(gh_typemask_get(c, odd, &m, &err), GH_EFORMAT);
    gh_typemask_cache_free(c);
}

static void cyclic_and_deep(void **state)
{
    gh_typemask_cache *c = cache(26);
    leaves l = make_leaves();
    const gh_ptrmask *m;
    gh_err err;
    /* A struct holding itself by value, and an array of itself. */
    uint64_t fs = alloc(48);
    uint64_t self = type(64, 64, GH_KIND_STRUCT, GH_TFLAG_GCMASKONDEMAND, slot(0), 32);
    put64(self + 56, fs);
    put64(self + 64, 2);
    put64(fs + 8, l.ptr);
    put64(fs + 24 + 8, self);
    put64(fs + 24 + 16, 8);
    assert_int_equal(gh_typemask_get(c, self, &m, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "itself"));
    assert_int_equal(gh_typemask_get(c, self, &m, &err), GH_EFORMAT);
    uint64_t loop = array(64, 64, GH_TFLAG_GCMASKONDEMAND, slot(0), 0, 1);
    put64(loop + 48, loop);
    assert_int_equal(gh_typemask_get(c, loop, &m, &err), GH_EFORMAT);
    /* 300 distinct [1]... wrappers: too deep, refused without a stack overflow. */
    uint64_t inner = l.ptr;
    for (int i = 0; i < 300; i++)
        inner = array(8, 8, GH_TFLAG_GCMASKONDEMAND, slot(0), inner, 1);
    assert_int_equal(gh_typemask_get(c, inner, &m, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "deep"));
    /* 50 are fine. */
    inner = l.ptr;
    for (int i = 0; i < 50; i++)
        inner = array(8, 8, GH_TFLAG_GCMASKONDEMAND, slot(0), inner, 1);
    assert_int_equal(gh_typemask_get(c, inner, &m, &err), GH_OK);
    expect_words(m, 1, (const uint64_t[]){0}, 1);
    gh_typemask_cache_free(c);
}

static void absurd_sizes(void **state)
{
    gh_typemask_cache *c = cache(24);
    leaves l = make_leaves();
    const gh_ptrmask *m;
    gh_err err;
    uint8_t one[8] = {1};
    uint64_t g = bytes(one, 8);
    /* PtrBytes past Size_, unaligned, or too many words to hold. */
    assert_int_equal(gh_typemask_get(c, type(8, 16, GH_KIND_STRUCT, 0, g, 32), &m, &err),
                     GH_EFORMAT);
    assert_int_equal(gh_typemask_get(c, type(12, 8, GH_KIND_STRUCT, 0, g, 32), &m, &err),
                     GH_EFORMAT);
    assert_int_equal(gh_typemask_get(c, type(16, 12, GH_KIND_STRUCT, 0, g, 32), &m, &err),
                     GH_EFORMAT);
    uint64_t big = UINT64_C(1) << 62;
    assert_int_equal(gh_typemask_get(c, type(big, big, GH_KIND_STRUCT, 0, g, 32), &m, &err),
                     GH_EFORMAT);
    assert_int_equal(gh_typemask_get(c, type(8, 8, GH_KIND_POINTER, 0, 0, 0), &m, &err),
                     GH_EFORMAT);
    /* A plain mask longer than readable memory. */
    uint64_t far = type(UINT64_C(1) << 30, UINT64_C(1) << 30, GH_KIND_STRUCT, 0, g, 32);
    assert_int_equal(gh_typemask_get(c, far, &m, &err), GH_EMEM);
    /* An array whose Len*Size wraps 64 bits. */
    uint64_t wrap = array(64, 64, GH_TFLAG_GCMASKONDEMAND, slot(0), l.ptr, UINT64_C(1) << 61);
    assert_int_equal(gh_typemask_get(c, wrap, &m, &err), GH_EFORMAT);
    /* A struct claiming 2^60 or 2^58 fields (the second is past readable memory),
     * and one whose field overruns PtrBytes. */
    field f[] = {{l.string, 8}};
    uint64_t many = strct(64, 64, GH_TFLAG_GCMASKONDEMAND, slot(0), f, 1);
    uint64_t end = BASE + MEMSIZE - 24;
    put64(end + 8, l.string);
    put64(end + 16, 8);
    put64(many + 56, end);
    put64(many + 64, UINT64_C(1) << 60);
    assert_int_equal(gh_typemask_get(c, many, &m, &err), GH_EFORMAT);
    many = strct(64, 64, GH_TFLAG_GCMASKONDEMAND, slot(0), f, 1);
    put64(many + 56, end);
    put64(many + 64, UINT64_C(1) << 58);
    assert_int_equal(gh_typemask_get(c, many, &m, &err), GH_EMEM);
    uint64_t over = strct(16, 8, GH_TFLAG_GCMASKONDEMAND, slot(0), f, 1);
    assert_int_equal(gh_typemask_get(c, over, &m, &err), GH_EFORMAT);
    field mis[] = {{l.ptr, 4}};
    uint64_t unaligned = strct(16, 16, GH_TFLAG_GCMASKONDEMAND, slot(0), mis, 1);
    assert_int_equal(gh_typemask_get(c, unaligned, &m, &err), GH_EFORMAT);
    /* Nil and pre-1.22. */
    assert_int_equal(gh_typemask_get(c, 0, &m, &err), GH_EARG);
    gh_typemask_cache_free(c);
    c = gh_typemask_cache_new(W.t, 21);
    assert_int_equal(gh_typemask_get(c, l.ptr, &m, &err), GH_EVERSION);
    gh_typemask_cache_free(c);
}

/* Thousands of fields that all overlap one big field: the work budget stops
 * it instead of copying a million bits thousands of times. */
static void work_budget(void **state)
{
    gh_typemask_cache *c = cache(26);
    const gh_ptrmask *m;
    gh_err err;
    uint64_t words = 1 << 20;
    uint64_t g = alloc(words / 8);
    memset(W.mem + (g - BASE), 0x55, words / 8);
    uint64_t big = type(words * 8, words * 8, GH_KIND_ARRAY, 0, g, 24);
    size_t n = 3000;
    uint64_t fs = alloc(24 * n);
    for (size_t i = 0; i < n; i++)
        put64(fs + 24 * i + 8, big);
    uint64_t s = type(words * 8, words * 8, GH_KIND_STRUCT, GH_TFLAG_GCMASKONDEMAND, slot(0), 32);
    put64(s + 56, fs);
    put64(s + 64, n);
    assert_int_equal(gh_typemask_get(c, s, &m, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "too large"));
    /* The big field alone is fine. */
    assert_int_equal(gh_typemask_get(c, big, &m, &err), GH_OK);
    assert_int_equal(m->bits[words / 8 - 1], 0x55);
    gh_typemask_cache_free(c);
}

/* A target whose generation the test bumps, over the fake one. */
static uint64_t gen;
static gh_target_ops gen_ops;
static size_t gen_read(void *ctx, uint64_t a, void *b, size_t n)
{
    return W.t->ops->read(W.t->ctx, a, b, n);
}
static uint64_t gen_generation(void *ctx)
{
    return gen;
}

static void generation_flush(void **state)
{
    gen_ops = (gh_target_ops){.read = gen_read, .generation = gen_generation};
    gh_target live = {.ops = &gen_ops, .kind = "live"};
    W.minor = 22;
    gh_typemask_cache *c = gh_typemask_cache_new(&live, 22);
    const gh_ptrmask *m;
    gh_err err;
    uint64_t g = bytes((uint8_t[8]){0x01}, 8);
    uint64_t a = type(8, 8, GH_KIND_POINTER, 0, g, 0);
    assert_int_equal(gh_typemask_get(c, a, &m, &err), GH_OK);
    assert_int_equal(m->bits[0], 1);
    /* The same address now holds another type (a reused unrolled span). */
    put64(a, 16);
    put64(a + 8, 16);
    W.mem[g - BASE] = 0x02;
    assert_int_equal(gh_typemask_get(c, a, &m, &err), GH_OK);
    assert_int_equal(m->nwords, 1);
    gen++;
    assert_int_equal(gh_typemask_get(c, a, &m, &err), GH_OK);
    assert_int_equal(m->nwords, 2);
    assert_int_equal(m->bits[0], 2);
    gh_typemask_cache_free(c);
}

/* Many types: the table grows and keeps every mask where it was. */
static void many_types(void **state)
{
    gh_typemask_cache *c = cache(25);
    const gh_ptrmask *first[2000];
    uint64_t addrs[2000];
    gh_err err;
    uint64_t g = bytes((uint8_t[8]){0x01}, 8);
    for (int i = 0; i < 2000; i++) {
        addrs[i] = type(8 * (i + 1), 8, GH_KIND_STRUCT, 0, g, 0);
        assert_int_equal(gh_typemask_get(c, addrs[i], &first[i], &err), GH_OK);
    }
    for (int i = 0; i < 2000; i++) {
        const gh_ptrmask *m;
        assert_int_equal(gh_typemask_get(c, addrs[i], &m, &err), GH_OK);
        assert_ptr_equal(m, first[i]);
        assert_int_equal(m->size, 8 * (i + 1));
    }
    gh_typemask_cache_free(c);
}

int run_typemask_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rtype_kinds),
        cmocka_unit_test(plain_bitmap),
        cmocka_unit_test(pointer_free_and_shared),
        cmocka_unit_test(gc_program),
        cmocka_unit_test(gc_program_hostile),
        cmocka_unit_test(unrolled_bitmap),
        cmocka_unit_test(on_demand_built),
        cmocka_unit_test(on_demand_slot),
        cmocka_unit_test(on_demand_arrays),
        cmocka_unit_test(cyclic_and_deep),
        cmocka_unit_test(absurd_sizes),
        cmocka_unit_test(work_budget),
        cmocka_unit_test(generation_flush),
        cmocka_unit_test(many_types),
    };
    return cmocka_run_group_tests_name("typemask", tests, setup, teardown);
}
