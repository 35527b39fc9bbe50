/* pc-value tables (runtime.pcvalue/step) and what is read through them:
 * sp delta, pcdata, file and line; and funcdata addresses. */
#include "pclntab/pclntab_int.h"

typedef unsigned long long ull;

/* A uvarint of at most 5 bytes (a uint32, as the linker writes them):
 * 0, or -1 truncated, -2 too long. */
static int uvarint(const gh_view *v, uint64_t *pos, uint32_t *out)
{
    uint32_t x = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (*pos >= v->len)
            return -1;
        uint8_t b = v->p[(*pos)++];
        x |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = x;
            return 0;
        }
    }
    return -2;
}

int gh_pcvalue(const gh_pclntab *tab, const gh_func *fn, uint32_t off, uint64_t targetpc, int32_t *val,
               gh_err *err)
{
    *val = -1;
    if (off == 0)
        return GH_OK; /* no table */
    const gh_view *v = &tab->pctab;
    if (off >= v->len)
        return gh_errorf(err, GH_EFORMAT, "pclntab: pc-value table pctab+0x%x of %s is past pctab (%llu bytes)",
                         off, gh_func_name(tab, fn), (ull)v->len);
    uint64_t pos = off, pc = fn->entry;
    uint32_t x = (uint32_t)-1; /* unsigned: hostile deltas may wrap */
    for (;;) {
        if (pos < v->len && v->p[pos] == 0 && pc != fn->entry)
            break; /* a zero value delta after the first pair ends the table */
        uint32_t uv, pcd;
        int r = uvarint(v, &pos, &uv);
        if (!r)
            r = uvarint(v, &pos, &pcd);
        if (r)
            return gh_errorf(err, GH_EFORMAT, "pclntab: pc-value table pctab+0x%x of %s has a %s varint at +%llu",
                             off, gh_func_name(tab, fn), r == -1 ? "truncated" : "too long", (ull)(pos - off));
        x += (uv >> 1) ^ (0u - (uv & 1)); /* zig-zag */
        pc += (uint64_t)pcd * tab->quantum;
        if (targetpc < pc) {
            *val = (int32_t)x;
            return GH_OK;
        }
    }
    return gh_errorf(err, GH_EFORMAT, "pclntab: pc-value table pctab+0x%x of %s ends at 0x%llx, before pc 0x%llx",
                     off, gh_func_name(tab, fn), (ull)pc, (ull)targetpc);
}

int gh_func_spdelta(const gh_pclntab *tab, const gh_func *fn, uint64_t pc, int32_t *delta, gh_err *err)
{
    return gh_pcvalue(tab, fn, fn->pcsp, pc, delta, err);
}

/* Word k of the u32 arrays after fn's _func record (pcdata, then funcdata
 * offsets), bounds-checked again in case fn came from elsewhere. */
static int func_word(const gh_pclntab *tab, const gh_func *fn, uint64_t k, uint32_t *w, gh_err *err)
{
    uint64_t at = (uint64_t)fn->funcoff + GH_FUNC_SIZE + 4 * k;
    if (at + 4 > tab->pclntable.len)
        return gh_errorf(err, GH_EFORMAT, "pclntab: data word %llu of %s is past pclntable", (ull)k,
                         gh_func_name(tab, fn));
    *w = gh_view_u32(&tab->pclntable, at);
    return GH_OK;
}

int gh_func_pcdata(const gh_pclntab *tab, const gh_func *fn, uint32_t idx, uint64_t pc, int32_t *val,
                   gh_err *err)
{
    *val = -1;
    if (idx >= fn->npcdata)
        return GH_OK;
    uint32_t off = 0;
    int rc = func_word(tab, fn, idx, &off, err);
    return rc ? rc : gh_pcvalue(tab, fn, off, pc, val, err);
}

int gh_func_funcdata(const gh_pclntab *tab, const gh_func *fn, uint32_t idx, uint64_t *addr, gh_err *err)
{
    *addr = 0;
    if (idx >= fn->nfuncdata)
        return GH_OK;
    uint32_t off = 0;
    int rc = func_word(tab, fn, (uint64_t)fn->npcdata + idx, &off, err);
    if (rc)
        return rc;
    if (off != UINT32_MAX) /* ^0: this function has none */
        *addr = tab->md.gofunc + off;
    return GH_OK;
}

int gh_func_fileline(const gh_pclntab *tab, const gh_func *fn, uint64_t pc, const char **file, int *line,
                     gh_err *err)
{
    *file = "?";
    *line = 0;
    int32_t fileno, ln;
    int rc = gh_pcvalue(tab, fn, fn->pcfile, pc, &fileno, err);
    if (!rc)
        rc = gh_pcvalue(tab, fn, fn->pcln, pc, &ln, err);
    if (rc)
        return rc;
    if (fileno == -1 || ln == -1)
        return GH_OK; /* no position, as runtime.funcline1 says "?" */
    uint64_t ci = (uint64_t)fn->cuOffset + (uint32_t)fileno;
    if (fileno < 0 || ci >= tab->cutab.len / 4)
        return gh_errorf(err, GH_EFORMAT, "pclntab: file %d of %s (CU at %u) is past cutab", fileno,
                         gh_func_name(tab, fn), fn->cuOffset);
    uint32_t fo = gh_view_u32(&tab->cutab, ci * 4);
    if (fo == UINT32_MAX)
        return GH_OK;
    const char *s = gh_view_str(&tab->filetab, fo);
    if (!s)
        return gh_errorf(err, GH_EFORMAT, "pclntab: file name at filetab+0x%x of %s is out of bounds", fo,
                         gh_func_name(tab, fn));
    *file = s;
    *line = ln;
    return GH_OK;
}
