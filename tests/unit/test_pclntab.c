/* The function table on a hand-built pclntab in a fake target: findfunctab
 * bucket arithmetic over every pc, pc-value decoding (values, truncated and
 * overlong varints, tables that end early), file:line, pcdata, funcdata, the
 * inline tree, and hostile headers and offsets. The findfunctab is built with
 * the linker's algorithm (cmd/link/internal/ld/pcln.go findfunctab). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fake_target.h"
#include "pclntab/pclntab.h"
#include "tests.h"

#define TEXT 0x400000ull
#define PCLN 0x500000ull
#define FFT 0x600000ull
#define GOFUNC 0x700000ull
enum { O_NAMES = 0x100, O_CUTAB = 0x800, O_FILES = 0x900, O_PCTAB = 0x1000, O_PCLN = 0x4000, PCLN_SIZE = 0x10000 };

/* main.a, 20 small functions in few subbuckets, main.big over two buckets,
 * main.tail. */
#define NSMALL 20
#define NF (NSMALL + 3)
#define BIG (NSMALL + 1)

typedef struct fx {
    gh_target *t;
    uint8_t *pcln, *fft, *gofunc;
    gh_moduledata md;
    uint32_t entry[NF + 1];
    uint32_t pos; /* next free pctab byte */
    uint32_t trunc_tab, long_tab, short_tab;
} fx;

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint32_t uvarint(uint8_t *p, uint32_t v)
{
    uint32_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(v | 0x80);
    p[n++] = (uint8_t)v;
    return n;
}

/* A pc-value table: vals[k] holds below pc offset ends[k]. */
static uint32_t table(fx *f, const int32_t *vals, const uint32_t *ends, int n)
{
    uint32_t off = f->pos;
    uint8_t *p = f->pcln + O_PCTAB;
    int32_t prev = -1;
    uint32_t pcprev = 0;
    for (int k = 0; k < n; k++) {
        int32_t d = vals[k] - prev;
        f->pos += uvarint(p + f->pos, ((uint32_t)d << 1) ^ (d < 0 ? UINT32_MAX : 0));
        f->pos += uvarint(p + f->pos, ends[k] - pcprev);
        prev = vals[k];
        pcprev = ends[k];
    }
    p[f->pos++] = 0;
    return off;
}

static uint32_t name_off[NF + 2];

static void build_names(fx *f)
{
    char *names = (char *)f->pcln + O_NAMES;
    uint32_t at = 0;
    for (int i = 0; i < NF + 2; i++) {
        char buf[32];
        if (i == 0)
            snprintf(buf, sizeof buf, "main.a");
        else if (i <= NSMALL)
            snprintf(buf, sizeof buf, "main.s%d", i - 1);
        else if (i == BIG)
            snprintf(buf, sizeof buf, "main.big");
        else if (i == BIG + 1)
            snprintf(buf, sizeof buf, "main.tail");
        else
            snprintf(buf, sizeof buf, "main.inl%d", i - BIG - 1); /* inl1, inl2 */
        name_off[i] = at;
        strcpy(names + at, buf);
        at += (uint32_t)strlen(buf) + 1;
    }
    f->md.funcnametab = (gh_slice){PCLN + O_NAMES, at};
}

/* The linker's findfunctab: per 256-byte subbucket the lowest function index
 * touching it; per 4096-byte bucket a base and 16 byte deltas. */
static void build_findfunctab(fx *f)
{
    uint32_t max = f->entry[NF], n = (max + 255) / 256, nb = (max + 4095) / 4096;
    int32_t idx[64];
    assert_true(n <= 64);
    for (uint32_t i = 0; i < n; i++)
        idx[i] = 0x7fffffff;
    for (int32_t k = 0; k < NF; k++) {
        uint32_t p = f->entry[k], q = f->entry[k + 1];
        for (; p < q; p += 256)
            if (idx[p / 256] > k)
                idx[p / 256] = k;
        if (idx[(q - 1) / 256] > k)
            idx[(q - 1) / 256] = k;
    }
    for (uint32_t b = 0; b < nb; b++) {
        put32(f->fft + b * 20, (uint32_t)idx[b * 16]);
        for (uint32_t j = 0; j < 16 && b * 16 + j < n; j++)
            f->fft[b * 20 + 4 + j] = (uint8_t)(idx[b * 16 + j] - idx[b * 16]);
    }
}

static void build(fx *f)
{
    memset(f, 0, sizeof *f);
    f->t = fake_target_new();
    f->pcln = fake_target_map(f->t, PCLN, PCLN_SIZE);
    f->fft = fake_target_map(f->t, FFT, 4096);
    f->gofunc = fake_target_map(f->t, GOFUNC, 4096);
    f->pos = 1; /* pctab offset 0 means "no table" */
    uint32_t e = 0;
    f->entry[0] = e;
    e += 0x40;
    for (int i = 1; i <= NSMALL; i++, e += 0x10)
        f->entry[i] = e;
    f->entry[BIG] = e;
    e += 0x2180;
    f->entry[BIG + 1] = e;
    e += 0x10;
    f->entry[NF] = e;
    build_names(f);

    /* Files: CU 0 has a.go, b.go. */
    char *files = (char *)f->pcln + O_FILES;
    strcpy(files, "/src/a.go");
    strcpy(files + 10, "/src/b.go");
    f->md.filetab = (gh_slice){PCLN + O_FILES, 20};
    put32(f->pcln + O_CUTAB, 0);
    put32(f->pcln + O_CUTAB + 4, 10);
    put32(f->pcln + O_CUTAB + 8, UINT32_MAX); /* a missing file */
    f->md.cutab = (gh_slice){PCLN + O_CUTAB, 3};

    /* Small functions share tables: sp 0, file 0, line 5. */
    const int32_t zero[] = {0}, five[] = {5};
    const uint32_t all[] = {0x10000};
    uint32_t sp0 = table(f, zero, all, 1), file0 = table(f, zero, all, 1), line5 = table(f, five, all, 1);
    /* main.big: frame grows at +4 and +0x100; b.go in [0x200, 0x400) where
     * inl1 ([0x200, 0x300)) and inl2 ([0x300, 0x400), called from inl1 at
     * +0x210) are inlined; inl1 is called from big at +0x10. */
    const int32_t sp[] = {0, 8, 0x28}, file[] = {0, 1, 0}, line[] = {10, 11, 30, 40, 12}, inl[] = {-1, 0, 1, -1};
    const uint32_t spe[] = {4, 0x100, 0x2180}, filee[] = {0x200, 0x400, 0x2180},
                   linee[] = {0x10, 0x200, 0x300, 0x400, 0x2180}, inle[] = {0x200, 0x300, 0x400, 0x2180};
    uint32_t bsp = table(f, sp, spe, 3), bfile = table(f, file, filee, 3), bline = table(f, line, linee, 5),
             binl = table(f, inl, inle, 4);
    /* Hostile tables for pcvalue: overlong varint, one ending at +8, and a
     * truncated one at the very end of pctab. */
    f->long_tab = f->pos;
    const uint8_t overlong[] = {0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    memcpy(f->pcln + O_PCTAB + f->pos, overlong, sizeof overlong);
    f->pos += sizeof overlong;
    const int32_t one[] = {1};
    const uint32_t eight[] = {8};
    f->short_tab = table(f, one, eight, 1);
    f->trunc_tab = f->pos;
    f->pcln[O_PCTAB + f->pos++] = 0x02;
    f->pcln[O_PCTAB + f->pos++] = 0x84;
    f->md.pctab = (gh_slice){PCLN + O_PCTAB, f->pos};

    /* Inline tree in gofunc: {funcID, nameOff, parentPc, startLine}. */
    f->gofunc[0x40] = 0;
    put32(f->gofunc + 0x44, name_off[NF]);      /* main.inl1 */
    put32(f->gofunc + 0x48, 0x10);
    put32(f->gofunc + 0x4c, 28);
    f->gofunc[0x50] = 0;
    put32(f->gofunc + 0x54, name_off[NF + 1]);  /* main.inl2 */
    put32(f->gofunc + 0x58, 0x210);
    put32(f->gofunc + 0x5c, 38);

    /* pclntable: ftab, then _func records. */
    uint8_t *tab = f->pcln + O_PCLN;
    uint32_t at = (NF + 1) * 8;
    for (int i = 0; i <= NF; i++) {
        put32(tab + i * 8, f->entry[i]);
        if (i == NF)
            break;
        put32(tab + i * 8 + 4, at);
        uint8_t *r = tab + at;
        int big = i == BIG;
        uint32_t w[10] = {f->entry[i], name_off[i], 16, 0, big ? bsp : sp0, big ? bfile : file0,
                          big ? bline : line5, big ? 3 : 0, 0, big ? 9 : 4};
        memcpy(r, w, sizeof w);
        r[40] = i == NF - 1 ? 17 : 0; /* funcID */
        r[41] = i == 0 ? GH_FUNCFLAG_TOPFRAME : 0;
        r[43] = big ? 4 : 0;
        at += 44;
        if (big) {
            const uint32_t pcdata[3] = {0, 0, binl}, funcdata[4] = {UINT32_MAX, 0x10, UINT32_MAX, 0x40};
            memcpy(tab + at, pcdata, sizeof pcdata);
            memcpy(tab + at + 12, funcdata, sizeof funcdata);
            at += 28;
        }
    }
    f->md.pclntable = (gh_slice){PCLN + O_PCLN, at};
    f->md.ftab = (gh_slice){PCLN + O_PCLN, NF + 1};

    uint8_t *h = f->pcln;
    put32(h, GH_PCLNTAB_MAGIC);
    h[6] = 1;
    h[7] = 8;
    put64(h + 8, NF);
    put64(h + 16, 2);
    const uint64_t offs[] = {O_NAMES, O_CUTAB, O_FILES, O_PCTAB, O_PCLN};
    for (int i = 0; i < 5; i++)
        put64(h + 32 + 8 * i, offs[i]);
    f->md.pcHeader = PCLN;
    f->md.findfunctab = FFT;
    f->md.text = f->md.minpc = TEXT;
    f->md.maxpc = f->md.etext = TEXT + f->entry[NF];
    f->md.gofunc = GOFUNC;
    build_findfunctab(f);
}

static gh_pclntab *open_ok(fx *f, int minor)
{
    gh_pclntab *tab = NULL;
    gh_err err = {0};
    int rc = gh_pclntab_open_md(f->t, &f->md, minor, &tab, &err);
    if (rc)
        fail_msg("open: %s", err.msg);
    return tab;
}

static void open_fails(fx *f, const char *want)
{
    gh_pclntab *tab = NULL;
    gh_err err = {0};
    assert_int_equal(gh_pclntab_open_md(f->t, &f->md, 26, &tab, &err), GH_EFORMAT);
    assert_null(tab);
    if (!strstr(err.msg, want))
        fail_msg("error \"%s\" does not say \"%s\"", err.msg, want);
}

static void check_every_pc(gh_pclntab *tab, fx *f)
{
    for (int k = 0; k < NF; k++)
        for (uint32_t off = f->entry[k]; off < f->entry[k + 1]; off++) {
            gh_func fn;
            gh_err err;
            if (gh_func_find(tab, TEXT + off, &fn, &err))
                fail_msg("pc text+0x%x: %s", off, err.msg);
            assert_int_equal(fn.index, k);
            assert_int_equal(fn.entry, TEXT + f->entry[k]);
            assert_int_equal(fn.end, TEXT + f->entry[k + 1]);
            assert_string_equal(gh_func_name(tab, &fn), gh_pclntab_funcname(tab, (int32_t)name_off[k]));
        }
}

static void find_every_pc(void **state)
{
    fx f;
    build(&f);
    gh_pclntab *tab = open_ok(&f, 26);
    assert_int_equal(gh_pclntab_nfunc(tab), NF);
    check_every_pc(tab, &f);
    gh_func fn;
    gh_err err;
    assert_int_equal(gh_func_find(tab, TEXT - 1, &fn, &err), GH_EARG);
    assert_int_equal(gh_func_find(tab, TEXT + f.entry[NF], &fn, &err), GH_EARG);
    assert_int_equal(gh_func_find(tab, 0, &fn, &err), GH_EARG);
    assert_int_equal(gh_func_at(tab, NF, &fn, &err), GH_EARG);
    assert_int_equal(gh_func_find(tab, TEXT + f.entry[BIG] + 0x1234, &fn, &err), GH_OK);
    assert_string_equal(gh_func_name(tab, &fn), "main.big");
    assert_int_equal(fn.args, 16);
    assert_int_equal(fn.startLine, 9);
    assert_int_equal(fn.npcdata, 3);
    assert_int_equal(fn.nfuncdata, 4);
    assert_int_equal(gh_func_find(tab, TEXT + 3, &fn, &err), GH_OK);
    assert_int_equal(fn.flag, GH_FUNCFLAG_TOPFRAME);
    gh_pclntab_free(tab);
    gh_target_close(f.t);
}

/* The same through a target that cannot hand out pointers: tables are copied. */
static void find_copied(void **state)
{
    fx f;
    build(&f);
    gh_target_ops ops = *f.t->ops;
    ops.direct = NULL;
    gh_target t = *f.t;
    t.ops = &ops;
    gh_pclntab *tab = NULL;
    gh_err err;
    assert_int_equal(gh_pclntab_open_md(&t, &f.md, 26, &tab, &err), GH_OK);
    check_every_pc(tab, &f);
    gh_pclntab_free(tab);
    gh_target_close(f.t);
}

static void pcvalues(void **state)
{
    fx f;
    build(&f);
    gh_pclntab *tab = open_ok(&f, 26);
    gh_func fn;
    gh_err err;
    uint64_t big = TEXT + f.entry[BIG];
    assert_int_equal(gh_func_find(tab, big, &fn, &err), GH_OK);
    const struct { uint32_t off; int32_t sp; const char *file; int line; } want[] = {
        {0, 0, "/src/a.go", 10},      {3, 0, "/src/a.go", 10},     {4, 8, "/src/a.go", 10},
        {0x10, 8, "/src/a.go", 11},   {0xff, 8, "/src/a.go", 11},  {0x100, 0x28, "/src/a.go", 11},
        {0x200, 0x28, "/src/b.go", 30}, {0x3ff, 0x28, "/src/b.go", 40}, {0x400, 0x28, "/src/a.go", 12},
        {0x217f, 0x28, "/src/a.go", 12},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int32_t sp;
        const char *file;
        int line;
        assert_int_equal(gh_func_spdelta(tab, &fn, big + want[i].off, &sp, &err), GH_OK);
        assert_int_equal(sp, want[i].sp);
        assert_int_equal(gh_func_fileline(tab, &fn, big + want[i].off, &file, &line, &err), GH_OK);
        assert_string_equal(file, want[i].file);
        assert_int_equal(line, want[i].line);
    }
    int32_t v;
    assert_int_equal(gh_func_pcdata(tab, &fn, GH_PCDATA_INLTREEINDEX, big + 0x250, &v, &err), GH_OK);
    assert_int_equal(v, 0);
    assert_int_equal(gh_func_pcdata(tab, &fn, GH_PCDATA_STACKMAPINDEX, big + 0x250, &v, &err), GH_OK);
    assert_int_equal(v, -1); /* offset 0: no table */
    assert_int_equal(gh_func_pcdata(tab, &fn, 7, big, &v, &err), GH_OK);
    assert_int_equal(v, -1); /* past npcdata */
    uint64_t a;
    assert_int_equal(gh_func_funcdata(tab, &fn, GH_FUNCDATA_LOCALSPOINTERMAPS, &a, &err), GH_OK);
    assert_int_equal(a, GOFUNC + 0x10);
    assert_int_equal(gh_func_funcdata(tab, &fn, GH_FUNCDATA_ARGSPOINTERMAPS, &a, &err), GH_OK);
    assert_int_equal(a, 0);
    assert_int_equal(gh_func_funcdata(tab, &fn, 9, &a, &err), GH_OK);
    assert_int_equal(a, 0);
    /* Past the end of its table (pc beyond the function). */
    assert_int_equal(gh_pcvalue(tab, &fn, fn.pcsp, big + 0x2180, &v, &err), GH_EFORMAT);
    assert_int_equal(v, -1);
    assert_int_equal(gh_pcvalue(tab, &fn, 0, big, &v, &err), GH_OK);
    assert_int_equal(v, -1);
    gh_pclntab_free(tab);
    gh_target_close(f.t);
}

static void pcvalue_hostile(void **state)
{
    fx f;
    build(&f);
    gh_pclntab *tab = open_ok(&f, 26);
    gh_func fn;
    gh_err err;
    int32_t v;
    uint64_t big = TEXT + f.entry[BIG];
    assert_int_equal(gh_func_find(tab, big, &fn, &err), GH_OK);
    assert_int_equal(gh_pcvalue(tab, &fn, f.short_tab, big + 7, &v, &err), GH_OK);
    assert_int_equal(v, 1);
    assert_int_equal(gh_pcvalue(tab, &fn, f.short_tab, big + 8, &v, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "ends at"));
    assert_int_equal(gh_pcvalue(tab, &fn, f.long_tab, big, &v, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "too long"));
    assert_int_equal(gh_pcvalue(tab, &fn, f.trunc_tab, big, &v, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(gh_pcvalue(tab, &fn, f.pos, big, &v, &err), GH_EFORMAT); /* past pctab */
    /* A file number past the CU's cutab entries, and a missing file. */
    gh_func bad = fn;
    bad.cuOffset = 2;
    const char *file;
    int line;
    assert_int_equal(gh_func_fileline(tab, &bad, big, &file, &line, &err), GH_OK);
    assert_string_equal(file, "?");
    bad.cuOffset = 3;
    assert_int_equal(gh_func_fileline(tab, &bad, big, &file, &line, &err), GH_EFORMAT);
    /* Data words past pclntable. */
    bad = fn;
    bad.funcoff = (uint32_t)f.md.pclntable.len - 44;
    assert_int_equal(gh_func_pcdata(tab, &bad, 2, big, &v, &err), GH_EFORMAT);
    assert_string_equal(gh_pclntab_funcname(tab, -5), "?");
    assert_string_equal(gh_pclntab_funcname(tab, 1 << 30), "?");
    gh_pclntab_free(tab);
    gh_target_close(f.t);
}

static void inline_frames(void **state)
{
    fx f;
    build(&f);
    gh_pclntab *tab = open_ok(&f, 26);
    gh_func fn;
    gh_err err;
    uint64_t big = TEXT + f.entry[BIG];
    assert_int_equal(gh_func_find(tab, big + 0x350, &fn, &err), GH_OK);
    gh_inl_frame fr[4];
    size_t n;
    assert_int_equal(gh_func_frames(tab, &fn, big + 0x350, fr, 4, &n, &err), GH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(fr[0].name, "main.inl2");
    assert_string_equal(fr[0].file, "/src/b.go");
    assert_int_equal(fr[0].line, 40);
    assert_int_equal(fr[0].startLine, 38);
    assert_true(fr[0].inlined);
    assert_string_equal(fr[1].name, "main.inl1");
    assert_int_equal(fr[1].line, 30);
    assert_int_equal(fr[1].pc, big + 0x210);
    assert_true(fr[1].inlined);
    assert_string_equal(fr[2].name, "main.big");
    assert_string_equal(fr[2].file, "/src/a.go");
    assert_int_equal(fr[2].line, 11);
    assert_int_equal(fr[2].pc, big + 0x10);
    assert_false(fr[2].inlined);
    /* Fewer slots than frames: the count is still the total. */
    assert_int_equal(gh_func_frames(tab, &fn, big + 0x350, fr, 1, &n, &err), GH_OK);
    assert_int_equal(n, 3);
    /* Not inlined; and a function without an inline tree. */
    assert_int_equal(gh_func_frames(tab, &fn, big + 0x500, fr, 4, &n, &err), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(fr[0].line, 12);
    assert_int_equal(gh_func_find(tab, TEXT, &fn, &err), GH_OK);
    assert_int_equal(gh_func_frames(tab, &fn, TEXT, fr, 4, &n, &err), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(fr[0].name, "main.a");
    gh_pclntab_free(tab);

    /* inl2's call site inside itself loops; a call site outside big is bad;
     * an index beyond mapped memory is unreadable. */
    put32(f.gofunc + 0x58, 0x350);
    tab = open_ok(&f, 26);
    assert_int_equal(gh_func_find(tab, big + 0x350, &fn, &err), GH_OK);
    assert_int_equal(gh_func_frames(tab, &fn, big + 0x350, fr, 4, &n, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "deeper"));
    put32(f.gofunc + 0x58, 0x9000);
    assert_int_equal(gh_func_frames(tab, &fn, big + 0x350, fr, 4, &n, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "outside"));
    put32(f.pcln + O_PCLN + (NF + 1) * 8 + BIG * 44 + 44 + 12 + 12, 0xff8); /* entry 1 crosses the end */
    assert_int_equal(gh_func_find(tab, big + 0x350, &fn, &err), GH_OK);
    assert_int_equal(gh_func_frames(tab, &fn, big + 0x350, fr, 4, &n, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "not readable"));
    gh_pclntab_free(tab);
    gh_target_close(f.t);
}

static void func_ids(void **state)
{
    fx f;
    build(&f);
    gh_err err;
    gh_func fn;
    gh_pclntab *tab = open_ok(&f, 24); /* main.tail has raw funcID 17 */
    assert_int_equal(gh_func_find(tab, TEXT + f.entry[NF - 1], &fn, &err), GH_OK);
    assert_int_equal(fn.funcID, 17);
    assert_int_equal(fn.id, GH_FUNCID_RUNFINALIZERS);
    gh_pclntab_free(tab);
    tab = open_ok(&f, 25);
    assert_int_equal(gh_func_find(tab, TEXT + f.entry[NF - 1], &fn, &err), GH_OK);
    assert_int_equal(fn.id, GH_FUNCID_RUNTIME_MAIN);
    gh_pclntab_free(tab);
    gh_target_close(f.t);
    char buf[64];
    gh_funcname_for_print("main.F[go.shape.int,go.shape.string].func1", buf, sizeof buf);
    assert_string_equal(buf, "main.F[...].func1");
    gh_funcname_for_print("main.(*T).M", buf, sizeof buf);
    assert_string_equal(buf, "main.(*T).M");
}

static void bad_headers(void **state)
{
    fx f;
    build(&f);
    put32(f.pcln, 0xfffffff0); /* Go 1.18 magic */
    open_fails(&f, "magic");
    put32(f.pcln, GH_PCLNTAB_MAGIC);
    f.pcln[6] = 4;
    open_fails(&f, "minLC");
    f.pcln[6] = 1;
    f.md.ftab.len = NF;
    open_fails(&f, "ftab entries");
    f.md.ftab.len = NF + 1;
    put64(f.pcln + 8, 1ull << 40);
    open_fails(&f, "ftab entries");
    put64(f.pcln + 8, NF);
    put64(f.pcln + 56, O_PCTAB + 8);
    open_fails(&f, "pctab");
    put64(f.pcln + 56, O_PCTAB);
    f.md.pcHeader = 0x123456; /* unmapped */
    open_fails(&f, "pcHeader");
    f.md.pcHeader = PCLN;
    gh_pclntab_free(open_ok(&f, 26));
    gh_target_close(f.t);
}

static void bad_tables(void **state)
{
    fx f;
    build(&f);
    gh_moduledata good = f.md;
    f.md.pctab.len = 1ull << 40; /* no allocation, no crash */
    open_fails(&f, "implausible");
    f.md = good;
    f.md.filetab.len = PCLN_SIZE; /* runs off the mapped chunk */
    open_fails(&f, "not readable");
    f.md = good;
    f.md.findfunctab = 0x900000;
    open_fails(&f, "findfunctab");
    f.md = good;
    f.md.maxpc += 0x10;
    open_fails(&f, "spans");
    f.md = good;
    f.md.minpc = f.md.maxpc;
    open_fails(&f, "implausible");
    f.md = good;
    f.md.textsectmap = (gh_slice){0x123, 1000};
    open_fails(&f, "text sections");
    f.md = good;
    put32(f.pcln + O_PCLN + 8 * 5, f.entry[3]); /* ftab out of order */
    open_fails(&f, "not sorted");
    put32(f.pcln + O_PCLN + 8 * 5, f.entry[5]);

    /* Hostile offsets found at lookup time. */
    gh_pclntab *tab = open_ok(&f, 26);
    gh_func fn;
    gh_err err;
    put32(f.pcln + O_PCLN + 8 * 2 + 4, 0xfffff);     /* funcoff of function 2 */
    assert_int_equal(gh_func_find(tab, TEXT + f.entry[2], &fn, &err), GH_EFORMAT);
    put32(f.pcln + O_PCLN + 8 * 2 + 4, (uint32_t)f.md.pclntable.len - 40);
    assert_int_equal(gh_func_find(tab, TEXT + f.entry[2], &fn, &err), GH_EFORMAT);
    put32(f.fft, 200);                                 /* bucket 0 base past nfunc */
    assert_int_equal(gh_func_find(tab, TEXT, &fn, &err), GH_EFORMAT);
    put32(f.fft, 5);                                   /* bucket overshoots the pc */
    assert_int_equal(gh_func_find(tab, TEXT, &fn, &err), GH_EFORMAT);
    put32(f.fft, 0);
    assert_int_equal(gh_func_find(tab, TEXT, &fn, &err), GH_OK);
    put32(f.pcln + O_PCLN + (NF + 1) * 8, 0x44);      /* _func.entryOff disagrees */
    assert_int_equal(gh_func_find(tab, TEXT, &fn, &err), GH_EFORMAT);
    gh_pclntab_free(tab);
    gh_target_close(f.t);
}

/* Split text (textsectmap): offsets map through each section's base. */
static void split_text(void **state)
{
    fx f;
    build(&f);
    /* Section 0: text offsets [0, 0x1000) at TEXT; section 1: [0x1000, end)
     * at TEXT + 0x1000 (same place: exercises the walk, not relocation). */
    uint8_t *m = fake_target_map(f.t, 0x800000, 48);
    const uint64_t s[6] = {0, 0x1000, TEXT, 0x1000, f.entry[NF], TEXT + 0x1000};
    memcpy(m, s, sizeof s);
    f.md.textsectmap = (gh_slice){0x800000, 2};
    gh_pclntab *tab = open_ok(&f, 26);
    check_every_pc(tab, &f);
    gh_pclntab_free(tab);
    gh_target_close(f.t);
}

/* Without DWARF the fields come from the built-in offsets of the release. */
static void moduledata_builtin(void **state)
{
    gh_target *t = fake_target_new();
    uint8_t *m = fake_target_map(t, 0x900000, 640); /* the whole struct: up to 592 bytes */
    for (int i = 0; i < 64; i++)
        put64(m + 8 * i, 0x1000 + 8 * (uint64_t)i); /* word at offset o holds 0x1000 + o */
    gh_runtime rt = {.t = t, .firstmoduledata = 0x900000};
    gh_moduledata md;
    gh_err err;
    const struct { int minor; uint64_t gofunc, textsectmap; } want[] = {{22, 320, 328}, {26, 320, 336}, {27, 344, 360}};
    for (int i = 0; i < 3; i++) {
        rt.ver.minor = want[i].minor;
        assert_int_equal(gh_moduledata_read(&rt, &md, &err), GH_OK);
        assert_string_equal(md.layout, "built-in");
        assert_int_equal(md.pcHeader, 0x1000);
        assert_int_equal(md.ftab.ptr, 0x1000 + 128);
        assert_int_equal(md.ftab.len, 0x1000 + 136);
        assert_int_equal(md.findfunctab, 0x1000 + 152);
        assert_int_equal(md.text, 0x1000 + 176);
        assert_int_equal(md.gofunc, 0x1000 + want[i].gofunc);
        assert_int_equal(md.textsectmap.ptr, 0x1000 + want[i].textsectmap);
    }
    rt.firstmoduledata = 0x900000 + 256; /* runs off the mapping */
    assert_int_equal(gh_moduledata_read(&rt, &md, &err), GH_EMEM);
    gh_target_close(t);
}

int run_pclntab_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(find_every_pc), cmocka_unit_test(find_copied),   cmocka_unit_test(pcvalues),
        cmocka_unit_test(pcvalue_hostile), cmocka_unit_test(inline_frames), cmocka_unit_test(func_ids),
        cmocka_unit_test(bad_headers),   cmocka_unit_test(bad_tables),    cmocka_unit_test(split_text),
        cmocka_unit_test(moduledata_builtin),
    };
    return cmocka_run_group_tests_name("pclntab", tests, NULL, NULL);
}
