/* Opening and validating the function table, and pc -> function. */
#include <stdio.h>
#include <stdlib.h>

#include "pclntab/pclntab_int.h"

/* Bounds that keep hostile moduledata from asking for unbounded memory. */
#define MAX_TABLE (1ull << 30)
#define MAX_FUNCS (1u << 26)
#define MAX_TEXTSECTS 256
#define BUCKET_SIZE 4096u /* abi.FuncTabBucketSize */
#define SUBBUCKETS 16u
#define HDR_SIZE 72u

typedef unsigned long long ull;

static int view(const gh_pclntab *tab, const char *what, uint64_t addr, uint64_t len, gh_view *v, gh_err *err)
{
    memset(v, 0, sizeof *v);
    v->addr = addr;
    v->len = len;
    if (len > MAX_TABLE || addr + len < addr)
        return gh_errorf(err, GH_EFORMAT, "pclntab: %s at 0x%llx has implausible size %llu", what, (ull)addr,
                         (ull)len);
    if (len == 0) {
        v->p = (const uint8_t *)"";
        return GH_OK;
    }
    if ((v->p = gh_direct(tab->t, addr, len)))
        return GH_OK;
    /* Copy. Both ends must be readable first, so a hostile length costs no
     * allocation. */
    uint8_t b;
    gh_err e;
    if (gh_read(tab->t, addr, &b, 1, &e) || gh_read(tab->t, addr + len - 1, &b, 1, &e))
        return gh_errorf(err, GH_EFORMAT, "pclntab: %s [0x%llx, +%llu) is not readable: %s", what, (ull)addr,
                         (ull)len, e.msg);
    if (!(v->owned = malloc(len)))
        return gh_errorf(err, GH_ENOMEM, "out of memory for %llu bytes of %s", (ull)len, what);
    if (gh_read(tab->t, addr, v->owned, len, &e))
        return gh_errorf(err, GH_EFORMAT, "pclntab: %s [0x%llx, +%llu) is not readable: %s", what, (ull)addr,
                         (ull)len, e.msg);
    v->p = v->owned;
    return GH_OK;
}

static uint64_t hdr_word(const uint8_t *h, unsigned off)
{
    uint64_t v;
    memcpy(&v, h + off, 8);
    return v;
}

/* pcHeader: the format is fixed by its magic (runtime/symtab.go pcHeader,
 * written by cmd/link generatePCHeader); its offsets must agree with the
 * slices in moduledata. */
static int check_header(gh_pclntab *tab, gh_err *err)
{
    const gh_moduledata *md = &tab->md;
    uint8_t h[HDR_SIZE];
    gh_err e;
    if (gh_read(tab->t, md->pcHeader, h, sizeof h, &e))
        return gh_errorf(err, GH_EFORMAT, "pclntab: pcHeader at 0x%llx is not readable: %s", (ull)md->pcHeader,
                         e.msg);
    uint32_t magic;
    memcpy(&magic, h, 4);
    if (magic != GH_PCLNTAB_MAGIC)
        return gh_errorf(err, GH_EFORMAT, "pclntab: pcHeader at 0x%llx has magic 0x%x, not 0x%x",
                         (ull)md->pcHeader, magic, GH_PCLNTAB_MAGIC);
    if (h[4] || h[5] || h[6] != tab->quantum || h[7] != 8)
        return gh_errorf(err, GH_EFORMAT, "pclntab: pcHeader has pad %u %u, minLC %u, ptrSize %u (want 0 0 %u 8)",
                         h[4], h[5], h[6], h[7], tab->quantum);
    uint64_t nfunc = hdr_word(h, 8);
    if (nfunc == 0 || nfunc > MAX_FUNCS || md->ftab.len != nfunc + 1)
        return gh_errorf(err, GH_EFORMAT, "pclntab: %llu functions but %llu ftab entries", (ull)nfunc,
                         (ull)md->ftab.len);
    tab->nfunc = (uint32_t)nfunc;
    static const char *names[] = {"funcnametab", "cutab", "filetab", "pctab", "pclntable"};
    const uint64_t ptrs[] = {md->funcnametab.ptr, md->cutab.ptr, md->filetab.ptr, md->pctab.ptr,
                             md->pclntable.ptr};
    for (unsigned i = 0; i < 5; i++)
        if (md->pcHeader + hdr_word(h, 32 + 8 * i) != ptrs[i])
            return gh_errorf(err, GH_EFORMAT, "pclntab: pcHeader puts %s at +0x%llx, moduledata at 0x%llx",
                             names[i], (ull)hdr_word(h, 32 + 8 * i), (ull)ptrs[i]);
    if (md->ftab.ptr != md->pclntable.ptr)
        return gh_errorf(err, GH_EFORMAT, "pclntab: ftab 0x%llx does not start pclntable 0x%llx",
                         (ull)md->ftab.ptr, (ull)md->pclntable.ptr);
    return GH_OK;
}

static int read_textsects(gh_pclntab *tab, gh_err *err)
{
    const gh_slice *s = &tab->md.textsectmap;
    if (s->len <= 1)
        return GH_OK; /* one text section: offsets are from md.text */
    if (s->len > MAX_TEXTSECTS)
        return gh_errorf(err, GH_EFORMAT, "pclntab: %llu text sections", (ull)s->len);
    tab->sects = calloc(s->len, sizeof *tab->sects);
    if (!tab->sects)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    tab->nsects = s->len;
    if (gh_read(tab->t, s->ptr, tab->sects, s->len * sizeof *tab->sects, err))
        return gh_err_wrap(err, "pclntab: textsectmap");
    return GH_OK;
}

/* moduledata.textAddr: text offset -> pc. */
static uint64_t text_addr(const gh_pclntab *tab, uint32_t off)
{
    for (size_t i = 0; i < tab->nsects; i++) {
        const gh_textsect *s = &tab->sects[i];
        if ((off >= s->vaddr && off < s->end) || (i == tab->nsects - 1 && off == s->end))
            return s->baseaddr + off - s->vaddr;
    }
    return tab->md.text + off;
}

/* moduledata.textOff: pc -> text offset; 0 when pc is in no section. */
static int text_off(const gh_pclntab *tab, uint64_t pc, uint32_t *off)
{
    if (!tab->nsects) {
        if (pc < tab->md.text || pc - tab->md.text > UINT32_MAX)
            return 0;
        *off = (uint32_t)(pc - tab->md.text);
        return 1;
    }
    for (size_t i = 0; i < tab->nsects; i++) {
        const gh_textsect *s = &tab->sects[i];
        if (s->baseaddr > pc)
            return 0;
        uint64_t end = s->baseaddr + (s->end - s->vaddr) + (i == tab->nsects - 1);
        if (pc < end) {
            *off = (uint32_t)(pc - s->baseaddr + s->vaddr);
            return 1;
        }
    }
    *off = (uint32_t)(pc - tab->md.text);
    return 1;
}

static void ftab_at(const gh_pclntab *tab, uint32_t i, uint32_t *entryoff, uint32_t *funcoff)
{
    *entryoff = gh_view_u32(&tab->pclntable, (uint64_t)i * 8);
    *funcoff = gh_view_u32(&tab->pclntable, (uint64_t)i * 8 + 4);
}

/* The ftab must be sorted and span [minpc, maxpc), as the runtime's
 * moduledataverify1 demands, so lookups can trust it. */
static int check_ftab(gh_pclntab *tab, gh_err *err)
{
    if (((uint64_t)tab->nfunc + 1) * 8 > tab->pclntable.len)
        return gh_errorf(err, GH_EFORMAT, "pclntab: ftab of %u functions overruns pclntable (%llu bytes)",
                         tab->nfunc, (ull)tab->pclntable.len);
    uint32_t prev = 0, e, f;
    for (uint32_t i = 0; i <= tab->nfunc; i++) {
        ftab_at(tab, i, &e, &f);
        if (i && e < prev)
            return gh_errorf(err, GH_EFORMAT, "pclntab: ftab not sorted at entry %u (0x%x < 0x%x)", i, e, prev);
        prev = e;
    }
    ftab_at(tab, 0, &e, &f);
    uint64_t min = text_addr(tab, e);
    ftab_at(tab, tab->nfunc, &e, &f);
    uint64_t max = text_addr(tab, e);
    if (min != tab->md.minpc || max != tab->md.maxpc)
        return gh_errorf(err, GH_EFORMAT, "pclntab: ftab spans [0x%llx, 0x%llx), moduledata [0x%llx, 0x%llx)",
                         (ull)min, (ull)max, (ull)tab->md.minpc, (ull)tab->md.maxpc);
    return GH_OK;
}

static int open_md(const gh_target *t, const gh_arch *arch, const gh_moduledata *md, int minor, gh_pclntab **out,
                   gh_err *err)
{
    *out = NULL;
    gh_pclntab *tab = calloc(1, sizeof *tab);
    if (!tab)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    tab->t = t;
    tab->md = *md;
    tab->minor = minor;
    tab->arch = arch;
    tab->quantum = arch->pcquantum;
    int rc;
    if ((rc = check_header(tab, err)))
        goto fail;
    if (md->minpc >= md->maxpc || md->maxpc - md->minpc > UINT32_MAX || md->minpc < md->text) {
        rc = gh_errorf(err, GH_EFORMAT, "pclntab: text [0x%llx, 0x%llx) with text at 0x%llx is implausible",
                       (ull)md->minpc, (ull)md->maxpc, (ull)md->text);
        goto fail;
    }
    /* findfunctab: 4-byte base + 16 subbucket bytes per 4 KiB bucket; the
     * linker writes only the subbuckets that cover text (4*nb + nsub). */
    uint64_t span = md->maxpc - md->minpc;
    uint64_t nsub = (span + BUCKET_SIZE / SUBBUCKETS - 1) / (BUCKET_SIZE / SUBBUCKETS);
    uint64_t nb = (span + BUCKET_SIZE - 1) / BUCKET_SIZE;
    if (md->cutab.len > MAX_TABLE / 4) {
        rc = gh_errorf(err, GH_EFORMAT, "pclntab: cutab has implausible length %llu", (ull)md->cutab.len);
        goto fail;
    }
    if ((rc = view(tab, "funcnametab", md->funcnametab.ptr, md->funcnametab.len, &tab->funcnametab, err)) ||
        (rc = view(tab, "cutab", md->cutab.ptr, md->cutab.len * 4, &tab->cutab, err)) ||
        (rc = view(tab, "filetab", md->filetab.ptr, md->filetab.len, &tab->filetab, err)) ||
        (rc = view(tab, "pctab", md->pctab.ptr, md->pctab.len, &tab->pctab, err)) ||
        (rc = view(tab, "pclntable", md->pclntable.ptr, md->pclntable.len, &tab->pclntable, err)) ||
        (rc = view(tab, "findfunctab", md->findfunctab, 4 * nb + nsub, &tab->findfunctab, err)) ||
        (rc = read_textsects(tab, err)) || (rc = check_ftab(tab, err)))
        goto fail;
    *out = tab;
    return GH_OK;
fail:
    gh_pclntab_free(tab);
    return rc;
}

int gh_pclntab_open_md(const gh_target *t, const gh_moduledata *md, int minor, gh_pclntab **out, gh_err *err)
{
    return open_md(t, t->arch ? t->arch : &gh_arch_amd64, md, minor, out, err);
}

int gh_pclntab_open(const gh_runtime *rt, gh_pclntab **out, gh_err *err)
{
    gh_moduledata md;
    int rc = gh_moduledata_read(rt, &md, err);
    if (rc)
        return rc;
    return open_md(rt->t, rt->arch, &md, rt->ver.minor, out, err);
}

const gh_arch *gh_pclntab_arch(const gh_pclntab *tab) { return tab->arch; }

void gh_pclntab_free(gh_pclntab *tab)
{
    if (!tab)
        return;
    gh_view *views[] = {&tab->funcnametab, &tab->cutab, &tab->filetab, &tab->pctab, &tab->pclntable,
                        &tab->findfunctab};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        free(views[i]->owned);
    free(tab->sects);
    free(tab);
}

const gh_moduledata *gh_pclntab_md(const gh_pclntab *tab) { return &tab->md; }
uint32_t gh_pclntab_nfunc(const gh_pclntab *tab) { return tab->nfunc; }

/* Go 1.22-1.24 FuncIDs 17-22 in 1.25 numbers (runfinq became runFinalizers
 * and moved after runtime_main; runCleanups was inserted). */
uint8_t gh_pclntab_funcid(const gh_pclntab *tab, uint8_t raw)
{
    static const uint8_t old[] = {GH_FUNCID_RUNFINALIZERS, GH_FUNCID_RUNTIME_MAIN, GH_FUNCID_SIGPANIC,
                                  GH_FUNCID_SYSTEMSTACK, GH_FUNCID_SYSTEMSTACK_SWITCH, GH_FUNCID_WRAPPER};
    if (tab->minor >= 25 || raw < GH_FUNCID_RUNTIME_MAIN)
        return raw <= GH_FUNCID_WRAPPER ? raw : GH_FUNCID_UNKNOWN;
    unsigned k = (unsigned)raw - GH_FUNCID_RUNTIME_MAIN;
    return k < sizeof old ? old[k] : GH_FUNCID_UNKNOWN;
}

int gh_func_at(const gh_pclntab *tab, uint32_t i, gh_func *fn, gh_err *err)
{
    memset(fn, 0, sizeof *fn);
    if (i >= tab->nfunc)
        return gh_errorf(err, GH_EARG, "function number %u of %u", i, tab->nfunc);
    uint32_t entryoff, funcoff, next, unused;
    ftab_at(tab, i, &entryoff, &funcoff);
    ftab_at(tab, i + 1, &next, &unused);
    const gh_view *v = &tab->pclntable;
    if (funcoff > v->len || v->len - funcoff < GH_FUNC_SIZE)
        return gh_errorf(err, GH_EFORMAT, "pclntab: _func of function %u at pclntable+0x%x is out of bounds", i,
                         funcoff);
    const uint8_t *p = v->p + funcoff;
    uint32_t w[10];
    memcpy(w, p, sizeof w);
    fn->index = i;
    fn->funcoff = funcoff;
    fn->nameOff = (int32_t)w[1];
    fn->args = (int32_t)w[2];
    fn->deferreturn = w[3];
    fn->pcsp = w[4];
    fn->pcfile = w[5];
    fn->pcln = w[6];
    fn->npcdata = w[7];
    fn->cuOffset = w[8];
    fn->startLine = (int32_t)w[9];
    fn->funcID = p[40];
    fn->id = gh_pclntab_funcid(tab, p[40]);
    fn->flag = p[41];
    fn->nfuncdata = p[43];
    fn->entry = text_addr(tab, entryoff);
    fn->end = text_addr(tab, next);
    if (w[0] != entryoff)
        return gh_errorf(err, GH_EFORMAT, "pclntab: function %u starts at text+0x%x in ftab, +0x%x in _func", i,
                         entryoff, w[0]);
    /* npcdata pctab offsets, then nfuncdata gofunc offsets, follow. */
    if (((uint64_t)fn->npcdata + fn->nfuncdata) * 4 > v->len - funcoff - GH_FUNC_SIZE)
        return gh_errorf(err, GH_EFORMAT, "pclntab: function %u has %u pcdata and %u funcdata past pclntable", i,
                         fn->npcdata, fn->nfuncdata);
    return GH_OK;
}

int gh_func_find(const gh_pclntab *tab, uint64_t pc, gh_func *out, gh_err *err)
{
    uint32_t pcoff;
    if (pc < tab->md.minpc || pc >= tab->md.maxpc || !text_off(tab, pc, &pcoff))
        return gh_errorf(err, GH_EARG, "pc 0x%llx is not in Go code [0x%llx, 0x%llx)", (ull)pc,
                         (ull)tab->md.minpc, (ull)tab->md.maxpc);
    /* runtime.findfunc: bucket base index plus subbucket delta, then a short
     * walk forward over the ftab. */
    uint64_t x = (uint64_t)pcoff + tab->md.text - tab->md.minpc;
    uint64_t b = x / BUCKET_SIZE, sub = x % BUCKET_SIZE / (BUCKET_SIZE / SUBBUCKETS);
    uint64_t at = b * (4 + SUBBUCKETS);
    if (at + 4 + sub >= tab->findfunctab.len)
        return gh_errorf(err, GH_EFORMAT, "pclntab: findfunctab bucket %llu for pc 0x%llx is out of bounds",
                         (ull)b, (ull)pc);
    uint64_t idx = (uint64_t)gh_view_u32(&tab->findfunctab, at) + tab->findfunctab.p[at + 4 + sub];
    uint32_t e, f;
    if (idx >= tab->nfunc)
        return gh_errorf(err, GH_EFORMAT, "pclntab: findfunctab gives function %llu of %u for pc 0x%llx",
                         (ull)idx, tab->nfunc, (ull)pc);
    ftab_at(tab, (uint32_t)idx, &e, &f);
    if (e > pcoff)
        return gh_errorf(err, GH_EFORMAT, "pclntab: findfunctab overshoots pc 0x%llx", (ull)pc);
    for (;;) {
        ftab_at(tab, (uint32_t)idx + 1, &e, &f);
        if (e > pcoff)
            break;
        if (++idx == tab->nfunc) /* the end entry is maxpc: cannot happen after the range check */
            return gh_errorf(err, GH_EFORMAT, "pclntab: no function holds pc 0x%llx", (ull)pc);
    }
    return gh_func_at(tab, (uint32_t)idx, out, err);
}

const char *gh_pclntab_funcname(const gh_pclntab *tab, int32_t nameOff)
{
    /* Offset 0 is a real name (the linker's first function), though the
     * runtime prints it as "". */
    const char *s = nameOff >= 0 ? gh_view_str(&tab->funcnametab, (uint64_t)nameOff) : NULL;
    return s ? s : "?";
}

const char *gh_func_name(const gh_pclntab *tab, const gh_func *fn)
{
    return gh_pclntab_funcname(tab, fn->nameOff);
}

/* runtime.funcNamePiecesForPrint: "a[shape]b" -> "a[...]b". */
void gh_funcname_for_print(const char *name, char *buf, size_t size)
{
    if (!size)
        return;
    const char *open = strchr(name, '['), *close = strrchr(name, ']');
    if (!open || !close || close <= open)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "%.*s[...]%s", (int)(open - name), name, close + 1);
}
