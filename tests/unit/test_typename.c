#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_target.h"
#include "rtype/typemask.h"
#include "rtype/typename.h"
#include "tests.h"

/* A module's types region and a heap where reflect-made types live, laid out
 * the way cmd/compile and reflect write descriptors and names. */
#define MOD UINT64_C(0x400000)
#define MODSIZE (2u << 20)
#define HEAP UINT64_C(0xc000000000)
#define HEAPSIZE (2u << 20)
#define MD UINT64_C(0x900000)

typedef struct world {
    gh_target *t;
    uint8_t *mod, *heap, *md;
    uint64_t mnext, hnext;
    int minor;
    gh_typenames *c;
} world;

static world W;

static int setup(void **state)
{
    memset(&W, 0, sizeof W);
    W.t = fake_target_new();
    W.mod = fake_target_map(W.t, MOD, MODSIZE);
    W.heap = fake_target_map(W.t, HEAP, HEAPSIZE);
    W.md = fake_target_map(W.t, MD, 4096);
    W.mnext = MOD + 64; /* runtime.types itself comes first */
    W.hnext = HEAP + 64;
    return 0;
}

static int teardown(void **state)
{
    gh_typenames_free(W.c);
    gh_target_close(W.t);
    return 0;
}

static uint8_t *at(uint64_t a)
{
    if (a >= HEAP && a < HEAP + HEAPSIZE)
        return W.heap + (a - HEAP);
    if (a >= MD && a < MD + 4096)
        return W.md + (a - MD);
    assert_true(a >= MOD && a < MOD + MODSIZE);
    return W.mod + (a - MOD);
}

static uint64_t alloc(int heap, size_t n)
{
    uint64_t *next = heap ? &W.hnext : &W.mnext, a = *next;
    *next += (n + 7) & ~(size_t)7;
    assert_true(heap ? *next <= HEAP + HEAPSIZE : *next <= MOD + MODSIZE);
    return a;
}

static void put64(uint64_t a, uint64_t v) { memcpy(at(a), &v, 8); }
static void put32(uint64_t a, uint32_t v) { memcpy(at(a), &v, 4); }
static void put16(uint64_t a, uint16_t v) { memcpy(at(a), &v, 2); }

static size_t uvarint(uint8_t *p, uint64_t v)
{
    size_t i = 0;
    for (; v >= 0x80; v >>= 7)
        p[i++] = (uint8_t)(v | 0x80);
    p[i++] = (uint8_t)v;
    return i;
}

/* An abi.Name: flags, uvarint length, bytes, optional uvarint length and tag. */
static uint64_t name(int heap, uint8_t flags, const char *s, const char *tag)
{
    size_t n = strlen(s), tn = tag ? strlen(tag) : 0;
    uint64_t a = alloc(heap, 1 + 10 + n + 10 + tn);
    uint8_t *p = at(a);
    p[0] = flags | (tag ? 2 : 0);
    size_t k = 1 + uvarint(p + 1, n);
    memcpy(p + k, s, n);
    k += n;
    if (tag) {
        k += uvarint(p + k, tn);
        memcpy(p + k, tag, tn);
    }
    return a;
}

/* A Str nameOff: the module's name bytes for s, relative to types. */
static int32_t str(const char *s)
{
    return (int32_t)(name(0, 0, s, NULL) - MOD);
}

static gh_typenames *names(int minor)
{
    W.minor = minor;
    gh_typenames_free(W.c);
    gh_module_types m = {MOD, MOD + MODSIZE};
    W.c = gh_typenames_new(W.t, minor, &m, 1);
    assert_non_null(W.c);
    return W.c;
}

/* A descriptor with kind and tflag in W.minor's encoding; pointers are
 * direct-interface (1.22-1.25 Kind_ 0x20, 1.26+ TFlag 32), and 1.22-1.23
 * arrays carry the GC-program bit, so decoding must mask them off. */
static uint64_t desc(int heap, unsigned kind, uint8_t tflag, int32_t s, size_t extra)
{
    uint64_t a = alloc(heap, 48 + extra);
    uint8_t k = (uint8_t)kind;
    if (kind == GH_KIND_POINTER && W.minor >= 26)
        tflag |= GH_TFLAG_DIRECTIFACE;
    else if (kind == GH_KIND_POINTER)
        k |= 0x20;
    if (kind == GH_KIND_ARRAY && W.minor <= 23)
        k |= 0x40;
    put64(a, 8);
    at(a)[20] = tflag;
    at(a)[23] = k;
    put32(a + 40, (uint32_t)s);
    return a;
}

/* A named type: Str "*T" with ExtraStar, as cmd/compile writes it. */
static uint64_t named(unsigned kind, const char *n)
{
    char star[256];
    snprintf(star, sizeof star, "*%s", n);
    return desc(0, kind, GH_TFLAG_NAMED | GH_TFLAG_EXTRASTAR | GH_TFLAG_UNCOMMON, str(star), 16);
}

/* Unnamed composites; s is the Str (0: none), heap puts them outside the
 * module like reflect's. */
static uint64_t elem1(int heap, unsigned kind, int32_t s, uint64_t elem)
{
    uint64_t a = desc(heap, kind, 0, s, 24);
    put64(a + 48, elem);
    return a;
}

static uint64_t array(int heap, int32_t s, uint64_t elem, uint64_t len)
{
    uint64_t a = elem1(heap, GH_KIND_ARRAY, s, elem);
    put64(a + 64, len);
    return a;
}

static uint64_t chan(int heap, int32_t s, uint64_t elem, uint64_t dir)
{
    uint64_t a = elem1(heap, GH_KIND_CHAN, s, elem);
    put64(a + 56, dir);
    return a;
}

static uint64_t map(int heap, int32_t s, uint64_t key, uint64_t val)
{
    uint64_t a = desc(heap, GH_KIND_MAP, 0, s, 64);
    put64(a + 48, key);
    put64(a + 56, val);
    return a;
}

static uint64_t func(int heap, int32_t s, const uint64_t *in, unsigned nin, const uint64_t *out,
                     unsigned nout, int variadic, int uncommon)
{
    uint64_t a = desc(heap, GH_KIND_FUNC, uncommon ? GH_TFLAG_UNCOMMON : 0, s, 8 + 16 + 8 * (nin + nout));
    put16(a + 48, (uint16_t)nin);
    put16(a + 50, (uint16_t)(nout | (variadic ? 0x8000 : 0)));
    uint64_t p = a + 56 + (uncommon ? 16 : 0);
    for (unsigned i = 0; i < nin; i++)
        put64(p + 8 * i, in[i]);
    for (unsigned i = 0; i < nout; i++)
        put64(p + 8 * (nin + i), out[i]);
    return a;
}

typedef struct fld {
    const char *name;
    uint64_t typ;
    const char *tag;
    int embedded;
} fld;

static uint64_t strct(int heap, int32_t s, const fld *f, size_t n)
{
    uint64_t fs = alloc(heap, 24 * n + 8);
    for (size_t i = 0; i < n; i++) {
        put64(fs + 24 * i, name(heap, f[i].embedded ? 8 : 1, f[i].name, f[i].tag));
        put64(fs + 24 * i + 8, f[i].typ);
        put64(fs + 24 * i + 16, 8 * i);
    }
    uint64_t a = desc(heap, GH_KIND_STRUCT, 0, s, 32);
    put64(a + 48, name(heap, 0, "main", NULL));
    put64(a + 56, fs);
    put64(a + 64, n);
    put64(a + 72, n);
    return a;
}

typedef struct meth {
    const char *name;
    int exported;
    uint64_t typ; /* a func type in the module */
} meth;

static uint64_t iface(int32_t s, const char *pkg, const meth *m, size_t n)
{
    uint64_t ms = alloc(0, 8 * n + 8);
    for (size_t i = 0; i < n; i++) {
        put32(ms + 8 * i, (uint32_t)(name(0, m[i].exported ? 1 : 0, m[i].name, NULL) - MOD));
        put32(ms + 8 * i + 4, (uint32_t)(m[i].typ - MOD));
    }
    uint64_t a = desc(0, GH_KIND_INTERFACE, 0, s, 32);
    put64(a + 48, name(0, 0, pkg, NULL));
    put64(a + 56, ms);
    put64(a + 64, n);
    put64(a + 72, n);
    return a;
}

static char buf[GH_TYPENAME_MAX + 1];
static gh_err err;

static void expect_name(uint64_t a, const char *want)
{
    int rc = gh_typename(W.c, a, buf, sizeof buf, &err);
    if (rc)
        fail_msg("type at 0x%llx: %s (want %s)", (unsigned long long)a, err.msg, want);
    assert_string_equal(buf, want);
}

static void expect_fail(uint64_t a, int code, const char *msg_part)
{
    int rc = gh_typename(W.c, a, buf, sizeof buf, &err);
    if (rc != code)
        fail_msg("type at 0x%llx: rc %d (want %d), name %s, msg %s", (unsigned long long)a, rc, code, buf, err.msg);
    char unknown[64];
    snprintf(unknown, sizeof unknown, "unknown<type 0x%llx>", (unsigned long long)a);
    assert_string_equal(buf, unknown);
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("message %s lacks %s", err.msg, msg_part);
}

/* A module type whose Str is want: named by Str, and built to the same. */
static void expect_both(uint64_t a, const char *want)
{
    expect_name(a, want);
    int rc = gh_typename_built(W.c, a, buf, sizeof buf, &err);
    if (rc)
        fail_msg("built type at 0x%llx: %s (want %s)", (unsigned long long)a, err.msg, want);
    assert_string_equal(buf, want);
}

static const int releases[] = {22, 24, 26};

typedef struct basics {
    uint64_t integer, string, error, any, session, entry, tree, u8;
} basics;

static basics make_basics(void)
{
    basics b;
    b.integer = named(GH_KIND_INT, "int");
    b.string = named(GH_KIND_STRING, "string");
    b.u8 = named(GH_KIND_UINT8, "uint8");
    b.session = named(GH_KIND_STRUCT, "main.Session");
    b.entry = named(GH_KIND_STRUCT, "main.Entry");
    b.tree = named(GH_KIND_STRUCT, "main.Tree[main.Pair]");
    b.error = named(GH_KIND_INTERFACE, "error");
    b.any = desc(0, GH_KIND_INTERFACE, 0, str("*interface {}"), 32);
    at(b.any)[20] |= GH_TFLAG_EXTRASTAR;
    return b;
}

static void named_types(void **state)
{
    for (size_t r = 0; r < sizeof releases / sizeof releases[0]; r++) {
        names(releases[r]);
        basics b = make_basics();
        expect_name(b.integer, "int");
        expect_name(b.session, "main.Session");
        expect_name(b.tree, "main.Tree[main.Pair]");
        expect_name(b.error, "error");
        expect_name(b.any, "interface {}");
        /* *main.Session shares "*main.Session" without ExtraStar. */
        int32_t s;
        memcpy(&s, at(b.session + 40), 4);
        expect_name(elem1(0, GH_KIND_POINTER, s, b.session), "*main.Session");
        expect_name(named(GH_KIND_UNSAFEPOINTER, "unsafe.Pointer"), "unsafe.Pointer");
        /* Cached: the same answer after the name bytes change. */
        memcpy(&s, at(b.tree + 40), 4);
        at(MOD + (uint64_t)s + 2)[0] = 'X';
        expect_name(b.tree, "main.Tree[main.Pair]");
        /* A named type has no structure to build a name from. */
        assert_int_equal(gh_typename_built(W.c, b.session, buf, sizeof buf, &err), GH_EUNSUPP);
    }
}

/* Every composite family, once in the module (Str, and built from its
 * structure) and once outside it as reflect makes them (built only). */
static void composites(void **state)
{
    for (size_t r = 0; r < sizeof releases / sizeof releases[0]; r++) {
        names(releases[r]);
        basics b = make_basics();
        for (int heap = 0; heap <= 1; heap++) {
            void (*check)(uint64_t, const char *) = heap ? expect_name : expect_both;
#define S(x) (heap ? -1 : str(x))
            uint64_t pses = elem1(heap, GH_KIND_POINTER, S("*main.Session"), b.session);
            check(pses, "*main.Session");
            uint64_t pent = elem1(heap, GH_KIND_POINTER, S("*main.Entry"), b.entry);
            check(elem1(heap, GH_KIND_SLICE, S("[]*main.Entry"), pent), "[]*main.Entry");
            check(array(heap, S("[4]int"), b.integer, 4), "[4]int");
            check(array(heap, S("[0]main.Tree[main.Pair]"), b.tree, 0), "[0]main.Tree[main.Pair]");
            check(array(heap, S("[18446744073709551615]uint8"), b.u8, UINT64_MAX), "[18446744073709551615]uint8");
            check(map(heap, S("map[string]*main.Entry"), b.string, pent), "map[string]*main.Entry");
            uint64_t send = chan(heap, S("chan<- int"), b.integer, 2);
            uint64_t recv = chan(heap, S("<-chan int"), b.integer, 1);
            check(send, "chan<- int");
            check(recv, "<-chan int");
            check(chan(heap, S("chan int"), b.integer, 3), "chan int");
            check(chan(heap, S("chan (<-chan int)"), recv, 3), "chan (<-chan int)");
            check(chan(heap, S("chan chan<- int"), send, 3), "chan chan<- int");
            check(chan(heap, S("<-chan <-chan int"), recv, 1), "<-chan <-chan int");
            check(func(heap, S("func(int) error"), &b.integer, 1, &b.error, 1, 0, 0), "func(int) error");
            check(func(heap, S("func()"), NULL, 0, NULL, 0, 0, 0), "func()");
            uint64_t strs = elem1(heap, GH_KIND_SLICE, S("[]string"), b.string);
            uint64_t in[] = {b.integer, strs}, out[] = {b.integer, b.error};
            check(func(heap, S("func(int, ...string) (int, error)"), in, 2, out, 2, 1, 0),
                  "func(int, ...string) (int, error)");
            check(func(heap, S("func([]string) (int, error)"), &strs, 1, out, 2, 0, 1),
                  "func([]string) (int, error)");
            uint64_t anys = elem1(heap, GH_KIND_SLICE, S("[]interface {}"), b.any);
            check(func(heap, S("func(...interface {})"), &anys, 1, NULL, 0, 1, 1), "func(...interface {})");
            fld f1[] = {{"A", b.integer, NULL, 0}, {"B", pses, NULL, 0}};
            check(strct(heap, S("struct { A int; B *main.Session }"), f1, 2), "struct { A int; B *main.Session }");
            check(strct(heap, S("struct {}"), NULL, 0), "struct {}");
            fld f2[] = {{"Session", b.session, NULL, 1}, {"x", b.integer, "json:\"x\"\n\t\x01\x7f\\", 0},
                        {"y", b.string, "", 0}};
            const char *want2 = "struct { main.Session; x int \"json:\\\"x\\\"\\n\\t\\x01\\x7f\\\\\"; y string }";
            check(strct(heap, S(want2), f2, 3), want2);
            fld f3[] = {{"A", b.integer, NULL, 0}};
            uint64_t sa = strct(heap, S("struct { A int }"), f3, 1);
            check(elem1(heap, GH_KIND_SLICE, S("[]struct { A int }"), sa), "[]struct { A int }");
            uint64_t fi = func(heap, S("func() int"), NULL, 0, &b.integer, 1, 0, 0);
            uint64_t s2 = array(heap, S("[2]string"), b.string, 2);
            check(map(heap, S("map[[2]string]func() int"), s2, fi), "map[[2]string]func() int");
            uint64_t ci = chan(heap, S("chan int"), b.integer, 3);
            uint64_t mc = map(heap, S("map[int]chan int"), b.integer, ci);
            uint64_t smc = elem1(heap, GH_KIND_SLICE, S("[]map[int]chan int"), mc);
            check(elem1(heap, GH_KIND_POINTER, S("*[]map[int]chan int"), smc), "*[]map[int]chan int");
#undef S
        }
        /* Interfaces exist only in modules (reflect cannot make them). */
        uint64_t fv = func(0, str("func()"), NULL, 0, NULL, 0, 0, 0);
        uint64_t fi = func(0, str("func() int"), NULL, 0, &b.integer, 1, 0, 0);
        uint64_t ps = elem1(0, GH_KIND_POINTER, str("*main.Session"), b.session);
        uint64_t bool_ = named(GH_KIND_BOOL, "bool");
        uint64_t lk = func(0, str("func(*main.Session) bool"), &ps, 1, &bool_, 1, 0, 0);
        expect_both(iface(str("interface {}"), "main", NULL, 0), "interface {}");
        meth m1[] = {{"M", 1, fv}};
        expect_both(iface(str("interface { M() }"), "main", m1, 1), "interface { M() }");
        meth m2[] = {{"Len", 1, fi}, {"lock", 0, lk}};
        expect_both(iface(str("interface { Len() int; main.lock(*main.Session) bool }"), "main", m2, 2),
                    "interface { Len() int; main.lock(*main.Session) bool }");
    }
}

static void reflect_made(void **state)
{
    for (size_t r = 0; r < sizeof releases / sizeof releases[0]; r++) {
        names(releases[r]);
        basics b = make_basics();
        /* reflect's Str is a negative reflectOffs id: goheap never reads it. */
        uint64_t p = elem1(1, GH_KIND_POINTER, -7, b.tree);
        expect_name(p, "*main.Tree[main.Pair]");
        expect_name(elem1(1, GH_KIND_SLICE, -8, p), "[]*main.Tree[main.Pair]");
        /* Named or basic outside every module: unknown, never guessed. */
        uint64_t n = desc(1, GH_KIND_STRUCT, GH_TFLAG_NAMED, -9, 32);
        expect_fail(n, GH_EUNSUPP, "reflectOffs");
        expect_fail(desc(1, GH_KIND_INT, 0, -10, 0), GH_EUNSUPP, "kind 2");
        /* An element that cannot be named makes the whole name unknown. */
        expect_fail(elem1(1, GH_KIND_SLICE, -11, n), GH_EUNSUPP, "reflectOffs");
        /* A heap interface with methods has no module for its offsets. */
        uint64_t i = desc(1, GH_KIND_INTERFACE, 0, -12, 32);
        put64(i + 56, HEAP + 8);
        put64(i + 64, 1);
        expect_fail(i, GH_EUNSUPP, "outside every module");
        /* The 1.22-1.23 allocator's unrolled bitmap of a GC-program type:
         * kind 0, TFlag UnrolledBitmap, no name. */
        uint64_t u = alloc(1, 48 + 64);
        put64(u, 300 * 8);
        put64(u + 8, 300 * 8);
        put64(u + 32, u + 48);
        at(u)[20] = GH_TFLAG_UNROLLEDBITMAP;
        if (releases[r] <= 23)
            expect_fail(u, GH_EUNSUPP, "unrolled GC bitmap");
        else
            expect_fail(u, GH_EUNSUPP, "kind 0");
    }
    names(23);
    uint64_t u = alloc(1, 48);
    at(u)[20] = GH_TFLAG_UNROLLEDBITMAP;
    expect_fail(u, GH_EUNSUPP, "unrolled GC bitmap");
}

/* Kind_ bytes: 1.22-1.25 use the low 5 bits, 1.26+ the whole byte. */
static void kind_encodings(void **state)
{
    names(22);
    basics b = make_basics();
    uint64_t s = elem1(1, GH_KIND_SLICE, -1, b.integer);
    at(s)[23] = GH_KIND_SLICE | 0x20 | 0x40;
    expect_name(s, "[]int");
    names(24);
    expect_name(s, "[]int");
    names(26);
    expect_fail(s, GH_EFORMAT, "not a kind");
    at(s)[23] = GH_KIND_SLICE;
    names(26);
    expect_name(s, "[]int");
}

static void hostile(void **state)
{
    names(26);
    basics b = make_basics();
    /* Cyclic element chains outside the modules: *T -> itself, []*[]..., a
     * struct holding itself. */
    uint64_t p = elem1(1, GH_KIND_POINTER, -1, 0);
    put64(p + 48, p);
    expect_fail(p, GH_EFORMAT, "nest");
    uint64_t s1 = elem1(1, GH_KIND_SLICE, -1, 0), p1 = elem1(1, GH_KIND_POINTER, -1, s1);
    put64(s1 + 48, p1);
    expect_fail(s1, GH_EFORMAT, "nest");
    fld f[] = {{"next", 0, NULL, 0}};
    uint64_t st = strct(1, -1, f, 1);
    uint64_t fs;
    memcpy(&fs, at(st + 56), 8);
    put64(fs + 8, st);
    expect_fail(st, GH_EFORMAT, "nest");
    /* Deep but finite chains: up to the bound named, past it refused. */
    uint64_t chain = b.integer;
    char want[128] = "";
    for (int i = 0; i < 70; i++) {
        chain = elem1(1, GH_KIND_POINTER, -1, chain);
        if (i == 59) {
            memset(want, '*', 60);
            strcpy(want + 60, "int");
            expect_name(chain, want);
        }
    }
    names(26); /* forget the cached elements */
    expect_fail(chain, GH_EFORMAT, "nest");
    /* Bad name offsets: none, negative, past etypes, a name running past
     * etypes; an unnamed type falls back to its structure. */
    uint64_t n0 = desc(0, GH_KIND_STRUCT, GH_TFLAG_NAMED, 0, 32);
    expect_fail(n0, GH_EFORMAT, "name offset 0");
    expect_fail(desc(0, GH_KIND_STRUCT, GH_TFLAG_NAMED, -40, 32), GH_EFORMAT, "name offset -40");
    expect_fail(desc(0, GH_KIND_STRUCT, GH_TFLAG_NAMED, (int32_t)MODSIZE, 32), GH_EFORMAT, "outside");
    uint64_t edge = MOD + MODSIZE - 4;
    at(edge)[0] = 0;
    at(edge)[1] = 10; /* 10 bytes, 2 left */
    expect_fail(desc(0, GH_KIND_STRUCT, GH_TFLAG_NAMED, (int32_t)(edge - MOD), 32), GH_EFORMAT, "runs past");
    expect_name(elem1(0, GH_KIND_SLICE, (int32_t)MODSIZE, b.integer), "[]int");
    expect_name(elem1(0, GH_KIND_SLICE, 0, b.integer), "[]int");
    /* Hostile lengths: a varint that never ends, 2^34 bytes, past the max. */
    uint64_t v = alloc(0, 16);
    memset(at(v), 0xff, 8);
    expect_fail(desc(0, GH_KIND_INT, GH_TFLAG_NAMED, (int32_t)(v - MOD), 0), GH_EFORMAT, "varint");
    uint64_t h = alloc(0, 16);
    at(h)[0] = 0;
    uvarint(at(h) + 1, UINT64_C(1) << 34);
    expect_fail(desc(0, GH_KIND_INT, GH_TFLAG_NAMED, (int32_t)(h - MOD), 0), GH_EFORMAT, "bytes long");
    uvarint(at(h) + 1, GH_TYPENAME_MAX + 1);
    expect_fail(desc(0, GH_KIND_INT, GH_TFLAG_NAMED, (int32_t)(h - MOD), 0), GH_EFORMAT, "bytes long");
    /* ExtraStar without the star; an empty name. */
    expect_fail(desc(0, GH_KIND_INT, GH_TFLAG_NAMED | GH_TFLAG_EXTRASTAR, str("int"), 0), GH_EFORMAT, "'*'");
    expect_fail(desc(0, GH_KIND_INT, GH_TFLAG_NAMED | GH_TFLAG_EXTRASTAR, str("*"), 0), GH_EFORMAT, "'*'");
    expect_fail(desc(0, GH_KIND_INT, GH_TFLAG_NAMED, str(""), 0), GH_EFORMAT, "empty");
    /* Huge counts, nil and unreadable elements, bad directions. */
    uint64_t big = strct(1, -1, NULL, 0);
    put64(big + 64, UINT64_C(1) << 40);
    expect_fail(big, GH_EFORMAT, "fields");
    expect_fail(elem1(1, GH_KIND_SLICE, -1, 0), GH_EFORMAT, "nil element");
    expect_fail(elem1(1, GH_KIND_SLICE, -1, 0x10), GH_EMEM, NULL);
    expect_fail(0x10, GH_EMEM, NULL);
    expect_fail(HEAP + HEAPSIZE - 8, GH_EMEM, NULL);
    expect_fail(chan(1, -1, b.integer, 0), GH_EFORMAT, "direction");
    expect_fail(chan(1, -1, b.integer, 7), GH_EFORMAT, "direction");
    expect_fail(func(1, -1, NULL, 0, NULL, 0, 1, 0), GH_EFORMAT, "variadic");
    expect_fail(func(1, -1, &b.integer, 1, NULL, 0, 1, 0), GH_EFORMAT, "not a slice");
    uint64_t fn = func(1, -1, &b.integer, 1, NULL, 0, 0, 0);
    put64(fn + 56, 0);
    expect_fail(fn, GH_EFORMAT, "nil element");
    at(desc(1, GH_KIND_INT, 0, -1, 0))[23] = 0x7f;
    expect_fail(W.hnext - 48, GH_EFORMAT, "not a kind");
    fld nf[] = {{"A", b.integer, NULL, 0}};
    uint64_t nonam = strct(1, -1, nf, 1);
    memcpy(&fs, at(nonam + 56), 8);
    put64(fs, 0);
    expect_fail(nonam, GH_EFORMAT, "no name");
    /* Tags strconv.Quote would escape with Unicode tables; unexported
     * methods of packages whose name is not recorded. */
    fld tf[] = {{"A", b.integer, "json:\"\xc3\xa9\"", 0}};
    expect_fail(strct(1, -1, tf, 1), GH_EUNSUPP, "non-ASCII");
    uint64_t fv = func(0, str("func()"), NULL, 0, NULL, 0, 0, 0);
    meth m[] = {{"m", 0, fv}};
    expect_fail(iface(0, "example.com/x", m, 1), GH_EUNSUPP, "package name");
    meth bad[] = {{"M", 1, b.integer}};
    expect_fail(iface(0, "main", bad, 1), GH_EFORMAT, "not a func");
    /* Names past GH_TYPENAME_MAX: many long fields, and a doubling tree. */
    char longname[200];
    memset(longname, 'F', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    static fld many[400];
    for (size_t i = 0; i < 400; i++)
        many[i] = (fld){longname, b.integer, NULL, 0};
    expect_fail(strct(1, -1, many, 400), GH_EFORMAT, "longer than");
    uint64_t t = b.integer;
    for (int i = 0; i < 30; i++) {
        fld two[] = {{"L", t, NULL, 0}, {"R", t, NULL, 0}};
        t = strct(1, -1, two, 2);
    }
    expect_fail(t, GH_EFORMAT, "longer than");
    /* A buffer too small, and none at all. */
    uint64_t sl = elem1(1, GH_KIND_SLICE, -1, b.session);
    assert_int_equal(gh_typename(W.c, sl, buf, 5, &err), GH_EARG);
    assert_string_equal(buf, "unkn");
    assert_int_equal(gh_typename(W.c, sl, buf, 0, &err), GH_EARG);
    assert_int_equal(gh_typename(W.c, sl, buf, 15, &err), GH_OK);
    assert_string_equal(buf, "[]main.Session");
    const char *ref;
    assert_int_equal(gh_typename_ref(W.c, sl, &ref, &err), GH_OK);
    assert_string_equal(ref, "[]main.Session");
    assert_int_equal(gh_typename_ref(W.c, 0x10, &ref, &err), GH_EMEM);
    assert_string_equal(ref, "unknown<type 0x10>");
    /* Failures are cached with their message. */
    uint64_t later = desc(0, GH_KIND_INT, GH_TFLAG_NAMED, 0, 0);
    expect_fail(later, GH_EFORMAT, NULL);
    char first[sizeof err.msg];
    strcpy(first, err.msg);
    put32(later + 40, (uint32_t)str("int"));
    expect_fail(later, GH_EFORMAT, NULL);
    assert_string_equal(err.msg, first);
}

/* The module list from runtime.firstmoduledata, with the built-in offsets
 * of each release (no DWARF here). */
static void modules(void **state)
{
    static const struct { int minor; uint64_t etypes, next; } rel[] = {
        {22, 304, 584}, {23, 304, 576}, {25, 304, 576}, {26, 304, 584}, {27, 312, 560}};
    for (size_t r = 0; r < sizeof rel / sizeof rel[0]; r++) {
        memset(W.md, 0, 4096);
        W.minor = rel[r].minor;
        /* Module 2's types sit in the heap chunk's second half. */
        uint64_t t2 = HEAP + HEAPSIZE / 2, md2 = MD + 2048;
        put64(MD + 296, MOD);
        put64(MD + rel[r].etypes, MOD + MODSIZE);
        put64(MD + rel[r].next, md2);
        put64(md2 + 296, t2);
        put64(md2 + rel[r].etypes, t2 + 4096);
        static gh_runtime rt;
        memset(&rt, 0, sizeof rt);
        rt.t = W.t;
        rt.ver.minor = rel[r].minor;
        rt.firstmoduledata = MD;
        gh_module_types mods[4];
        size_t n;
        assert_int_equal(gh_typename_modules(&rt, mods, 4, &n, &err), GH_OK);
        assert_int_equal(n, 2);
        assert_int_equal(mods[0].types, MOD);
        assert_int_equal(mods[0].etypes, MOD + MODSIZE);
        assert_int_equal(mods[1].types, t2);
        assert_int_equal(mods[1].etypes, t2 + 4096);
        /* A type in module 2 resolves its Str against module 2's types. */
        uint8_t *p = at(t2 + 64);
        memcpy(p, "\0\x0b*main.Other", 13);
        uint64_t ty = t2 + 128;
        memset(at(ty), 0, 48);
        at(ty)[20] = GH_TFLAG_NAMED | GH_TFLAG_EXTRASTAR;
        at(ty)[23] = GH_KIND_STRUCT;
        put32(ty + 40, 64);
        gh_typenames *c;
        assert_int_equal(gh_typenames_open(&rt, &c, &err), GH_OK);
        assert_int_equal(gh_typename(c, ty, buf, sizeof buf, &err), GH_OK);
        assert_string_equal(buf, "main.Other");
        gh_typenames_free(c);
        /* A cycle on next, an empty range. */
        put64(md2 + rel[r].next, MD);
        assert_int_equal(gh_typename_modules(&rt, mods, 4, &n, &err), GH_EFORMAT);
        assert_non_null(strstr(err.msg, "cycle"));
        put64(md2 + rel[r].next, 0);
        put64(md2 + rel[r].etypes, t2);
        assert_int_equal(gh_typename_modules(&rt, mods, 4, &n, &err), GH_EFORMAT);
        put64(MD + rel[r].next, 0x10);
        assert_int_equal(gh_typename_modules(&rt, mods, 4, &n, &err), GH_EMEM);
    }
}

static void expect_full(uint64_t a, const char *want)
{
    const char *got;
    int rc = gh_typename_full_ref(W.c, a, &got, &err);
    if (rc)
        fail_msg("type at 0x%llx: %s (want %s)", (unsigned long long)a, err.msg, want);
    assert_string_equal(got, want);
}

/* A named type of kind with Str "*short" (ExtraStar) and its uncommon type,
 * at uo past the descriptor, recording import path (NULL: no uncommon). */
static uint64_t named_in(unsigned kind, const char *short_name, const char *path, uint64_t uo)
{
    char star[256];
    snprintf(star, sizeof star, "*%s", short_name);
    uint64_t a = desc(0, kind, GH_TFLAG_NAMED | GH_TFLAG_EXTRASTAR | (path ? GH_TFLAG_UNCOMMON : 0), str(star),
                      uo - 48 + 16);
    if (path)
        put32(a + uo, (uint32_t)(name(0, 0, path, NULL) - MOD));
    return a;
}

/* Full names: a named type's package by the import path its uncommon type
 * records (at the place its kind's descriptor ends), composites built with
 * full elements, the short names untouched. */
static void full_names(void **state)
{
    for (size_t r = 0; r < sizeof releases / sizeof releases[0]; r++) {
        names(releases[r]);
        uint64_t gs = named_in(GH_KIND_STRUCT, "scanner.Scanner", "go/scanner", 80);
        uint64_t ts = named_in(GH_KIND_STRUCT, "scanner.Scanner", "text/scanner", 80);
        expect_name(gs, "scanner.Scanner");
        expect_name(ts, "scanner.Scanner");
        expect_full(gs, "go/scanner.Scanner");
        expect_full(ts, "text/scanner.Scanner");
        uint64_t pgs = elem1(0, GH_KIND_POINTER, str("*scanner.Scanner"), gs);
        expect_name(pgs, "*scanner.Scanner");
        expect_full(pgs, "*go/scanner.Scanner");
        expect_full(elem1(0, GH_KIND_SLICE, str("[]*scanner.Scanner"), pgs), "[]*go/scanner.Scanner");
        expect_full(array(0, str("[8]scanner.Scanner"), ts, 8), "[8]text/scanner.Scanner");
        uint64_t id = named_in(GH_KIND_INT, "util.ID", "example.com/a/util", 48);
        expect_full(id, "example.com/a/util.ID");
        expect_full(map(0, str("map[util.ID]*scanner.Scanner"), id, pgs),
                    "map[example.com/a/util.ID]*go/scanner.Scanner");
        expect_full(named_in(GH_KIND_SLICE, "util.IDs", "example.com/a/util", 56), "example.com/a/util.IDs");
        expect_full(named_in(GH_KIND_ARRAY, "util.Four", "example.com/a/util", 72), "example.com/a/util.Four");
        expect_full(named_in(GH_KIND_CHAN, "util.C", "example.com/a/util", 64), "example.com/a/util.C");
        expect_full(named_in(GH_KIND_FUNC, "util.F", "example.com/a/util", 56), "example.com/a/util.F");
        /* Maps: Swiss (1.26+) at 112; before, the layout depends on the
         * build, unknown without a runtime model: the short name stays. */
        uint64_t m = named_in(GH_KIND_MAP, "util.M", "example.com/a/util", 112);
        expect_full(m, releases[r] >= 26 ? "example.com/a/util.M" : "util.M");
        /* Generic arguments stay as Str spells them. */
        expect_full(named_in(GH_KIND_STRUCT, "util.Box[util.ID]", "example.com/a/util", 80),
                    "example.com/a/util.Box[util.ID]");
        /* Already the path (a shape), no path recorded, no package. */
        expect_full(named_in(GH_KIND_INT, "go.shape.int", "go.shape", 48), "go.shape.int");
        expect_full(named_in(GH_KIND_STRUCT, "main.T", NULL, 80), "main.T");
        expect_full(named_in(GH_KIND_INT, "int", "", 48), "int");
        /* The short name is cached apart from the full one. */
        expect_name(pgs, "*scanner.Scanner");
    }
}

int run_typename_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(named_types, setup, teardown),
        cmocka_unit_test_setup_teardown(composites, setup, teardown),
        cmocka_unit_test_setup_teardown(reflect_made, setup, teardown),
        cmocka_unit_test_setup_teardown(kind_encodings, setup, teardown),
        cmocka_unit_test_setup_teardown(hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(modules, setup, teardown),
        cmocka_unit_test_setup_teardown(full_names, setup, teardown),
    };
    return cmocka_run_group_tests_name("typename", tests, NULL, NULL);
}
