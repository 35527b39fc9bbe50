/* Inlined frames at a pc (runtime/symtabinl.go inlineUnwinder). */
#include "pclntab/pclntab_int.h"

typedef unsigned long long ull;

/* Valid trees are a few dozen deep; more means a loop in hostile data. */
#define MAX_DEPTH 1024
/* The runtime views the tree as *[1 << 20]inlinedCall. */
#define MAX_INDEX (1 << 20)

int gh_func_frames(const gh_pclntab *tab, const gh_func *fn, uint64_t pc, gh_inl_frame *out, size_t max,
                   size_t *n, gh_err *err)
{
    *n = 0;
    uint64_t tree;
    int rc = gh_func_funcdata(tab, fn, GH_FUNCDATA_INLTREE, &tree, err);
    if (rc)
        return rc;
    for (size_t depth = 0;; depth++) {
        if (depth == MAX_DEPTH)
            return gh_errorf(err, GH_EFORMAT, "pclntab: inline tree of %s at pc 0x%llx is deeper than %d",
                             gh_func_name(tab, fn), (ull)pc, MAX_DEPTH);
        int32_t ix = -1;
        if (tree && (rc = gh_func_pcdata(tab, fn, GH_PCDATA_INLTREEINDEX, pc, &ix, err)))
            return rc;
        gh_inl_frame fr = {.pc = pc, .inlined = ix >= 0};
        if ((rc = gh_func_fileline(tab, fn, pc, &fr.file, &fr.line, err)))
            return rc;
        int32_t parent = 0;
        if (ix < 0) {
            fr.name = gh_func_name(tab, fn);
            fr.startLine = fn->startLine;
            fr.id = fn->id;
        } else {
            /* inlinedCall: funcID u8 @0, nameOff @4, parentPc @8, startLine @12. */
            uint8_t rec[16];
            gh_err e;
            if (ix >= MAX_INDEX || gh_read(tab->t, tree + 16 * (uint64_t)ix, rec, sizeof rec, &e))
                return gh_errorf(err, GH_EFORMAT, "pclntab: inline tree entry %d of %s at 0x%llx is not readable",
                                 ix, gh_func_name(tab, fn), (ull)(tree + 16 * (uint64_t)ix));
            int32_t nameoff;
            memcpy(&nameoff, rec + 4, 4);
            memcpy(&parent, rec + 8, 4);
            memcpy(&fr.startLine, rec + 12, 4);
            fr.name = gh_pclntab_funcname(tab, nameoff);
            fr.id = gh_pclntab_funcid(tab, rec[0]);
        }
        if (*n < max)
            out[*n] = fr;
        ++*n;
        if (ix < 0)
            return GH_OK;
        /* The call site is an instruction of fn whose position is the caller's. */
        if (parent < 0 || fn->entry + (uint64_t)parent >= fn->end)
            return gh_errorf(err, GH_EFORMAT, "pclntab: inline tree entry %d of %s has call site +%d outside it",
                             ix, gh_func_name(tab, fn), parent);
        pc = fn->entry + (uint64_t)parent;
    }
}
