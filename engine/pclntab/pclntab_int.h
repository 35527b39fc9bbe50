/* Internals shared by pclntab.c, pcvalue.c and pclntab_inline.c. */
#ifndef GOHEAP_PCLNTAB_PCLNTAB_INT_H
#define GOHEAP_PCLNTAB_PCLNTAB_INT_H

#include <string.h>

#include "pclntab/pclntab.h"

/* A table in host memory: in place in the target, or a copy we own. */
typedef struct gh_view {
    const uint8_t *p;
    uint64_t len, addr;
    uint8_t *owned;
} gh_view;

typedef struct gh_textsect {
    uint64_t vaddr, end, baseaddr;
} gh_textsect;

struct gh_pclntab {
    const gh_target *t;
    gh_moduledata md;
    int minor;
    const gh_arch *arch;
    unsigned quantum; /* PCQuantum: 1 on amd64, 4 on arm64 (the header says it too) */
    uint32_t nfunc;
    gh_view funcnametab, cutab, filetab, pctab, pclntable, findfunctab;
    gh_textsect *sects; /* only when the text is split */
    size_t nsects;
};

/* _func layout, fixed for pclntab magic 0xfffffff1 (written by the linker,
 * cmd/link/internal/ld/pcln.go writeFuncs). */
#define GH_FUNC_SIZE 44u

/* A raw FuncID in GH_FUNCID_* numbering for the table's release. */
uint8_t gh_pclntab_funcid(const gh_pclntab *tab, uint8_t raw);

static inline uint32_t gh_view_u32(const gh_view *v, uint64_t off)
{
    uint32_t x;
    memcpy(&x, v->p + off, 4);
    return x;
}

/* NUL-terminated string at off, or NULL when it runs past the table. */
static inline const char *gh_view_str(const gh_view *v, uint64_t off)
{
    if (off >= v->len || !memchr(v->p + off, 0, v->len - off))
        return NULL;
    return (const char *)v->p + off;
}

#endif
