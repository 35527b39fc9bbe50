/* The Go function table (pclntab, magic 0xfffffff1: Go 1.20 and later):
 * pc -> function, its name, file:line, pc-value tables (sp delta, pcdata),
 * funcdata, and the inlined calls at a pc. The goroutine unwinder and the
 * stack-root scanner stand on it.
 *
 * Tables are read from target memory once at open: used in place when the
 * target maps them (cores serve them from the executable), else copied. Every
 * offset read from them is bounds-checked; corrupt tables give GH_EFORMAT. */
#ifndef GOHEAP_PCLNTAB_PCLNTAB_H
#define GOHEAP_PCLNTAB_PCLNTAB_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/moduledata.h"
#include "runtime/runtime.h"
#include "target/target.h"

#define GH_PCLNTAB_MAGIC 0xfffffff1u

/* internal/abi: PCDATA and FUNCDATA table numbers (1.22-1.27). */
enum {
    GH_PCDATA_UNSAFEPOINT = 0,
    GH_PCDATA_STACKMAPINDEX = 1,
    GH_PCDATA_INLTREEINDEX = 2,
    GH_PCDATA_ARGLIVEINDEX = 3,
};
enum {
    GH_FUNCDATA_ARGSPOINTERMAPS = 0,
    GH_FUNCDATA_LOCALSPOINTERMAPS = 1,
    GH_FUNCDATA_STACKOBJECTS = 2,
    GH_FUNCDATA_INLTREE = 3,
    GH_FUNCDATA_OPENCODEDDEFERINFO = 4,
    GH_FUNCDATA_ARGINFO = 5,
    GH_FUNCDATA_ARGLIVEINFO = 6,
    GH_FUNCDATA_WRAPINFO = 7,
};
/* _func.flag bits. */
enum { GH_FUNCFLAG_TOPFRAME = 1, GH_FUNCFLAG_SPWRITE = 2, GH_FUNCFLAG_ASM = 4 };

/* Special functions, numbered as Go 1.25+ numbers them. Go 1.22-1.24 numbers
 * are translated (their runfinq is RUNFINALIZERS; RUNCLEANUPS is new in 1.25). */
enum {
    GH_FUNCID_NORMAL, GH_FUNCID_ABORT, GH_FUNCID_ASMCGOCALL, GH_FUNCID_ASYNCPREEMPT,
    GH_FUNCID_CGOCALLBACK, GH_FUNCID_COROSTART, GH_FUNCID_DEBUGCALLV2, GH_FUNCID_GCBGMARKWORKER,
    GH_FUNCID_GOEXIT, GH_FUNCID_GOGO, GH_FUNCID_GOPANIC, GH_FUNCID_HANDLEASYNCEVENT, GH_FUNCID_MCALL,
    GH_FUNCID_MORESTACK, GH_FUNCID_MSTART, GH_FUNCID_PANICWRAP, GH_FUNCID_RT0_GO,
    GH_FUNCID_RUNTIME_MAIN, GH_FUNCID_RUNFINALIZERS, GH_FUNCID_RUNCLEANUPS, GH_FUNCID_SIGPANIC,
    GH_FUNCID_SYSTEMSTACK, GH_FUNCID_SYSTEMSTACK_SWITCH, GH_FUNCID_WRAPPER,
    GH_FUNCID_UNKNOWN = 255, /* a raw value this release does not define */
};

typedef struct gh_pclntab gh_pclntab;

/* One function: where it is and the raw fields of its _func record. */
typedef struct gh_func {
    uint64_t entry, end;  /* [entry, end): end is the next function's entry */
    uint32_t index;       /* in ftab */
    uint32_t funcoff;     /* of the _func record in pclntable */
    int32_t nameOff, args;
    uint32_t deferreturn, pcsp, pcfile, pcln, npcdata, cuOffset;
    int32_t startLine;
    uint8_t funcID;       /* raw, as this release numbers it */
    uint8_t id;           /* GH_FUNCID_* */
    uint8_t flag;         /* GH_FUNCFLAG_* */
    uint8_t nfuncdata;
} gh_func;

/* A frame at a pc, innermost first: inlined calls, then the function itself. */
typedef struct gh_inl_frame {
    const char *name;  /* function this frame runs in */
    const char *file;  /* position in it ("?" when the tables have none) */
    int line;
    uint64_t pc;       /* pc the position is for: pc itself, then call sites */
    int32_t startLine; /* line of the function's func keyword */
    uint8_t id;        /* GH_FUNCID_* of the function */
    int inlined;       /* 1 when inlined into the next frame */
} gh_inl_frame;

/* Opens the main module's table (runtime.firstmoduledata). */
int gh_pclntab_open(const gh_runtime *rt, gh_pclntab **out, gh_err *err);
/* Same from moduledata already read; minor is the Go release (1.minor), for
 * funcID numbering. Used by gh_pclntab_open and by tests. */
int gh_pclntab_open_md(const gh_target *t, const gh_moduledata *md, int minor, gh_pclntab **out, gh_err *err);
/* The architecture the table's code is for (PC quantum, frame layout). */
const gh_arch *gh_pclntab_arch(const gh_pclntab *tab);
void gh_pclntab_free(gh_pclntab *tab);

const gh_moduledata *gh_pclntab_md(const gh_pclntab *tab);
uint32_t gh_pclntab_nfunc(const gh_pclntab *tab);

/* The function containing pc, found through the findfunctab buckets in
 * constant time. GH_EARG when pc is not in the module's Go text. Like the
 * runtime, padding after a function belongs to it. */
int gh_func_find(const gh_pclntab *tab, uint64_t pc, gh_func *out, gh_err *err);
/* Function number i < gh_pclntab_nfunc() in pc order. */
int gh_func_at(const gh_pclntab *tab, uint32_t i, gh_func *out, gh_err *err);

/* Function names as the linker wrote them (generic instances carry their
 * shape: "main.F[go.shape.int]"); "?" when out of bounds. */
const char *gh_func_name(const gh_pclntab *tab, const gh_func *fn);
const char *gh_pclntab_funcname(const gh_pclntab *tab, int32_t nameOff);
/* The runtime's printed form: shape arguments become "[...]". */
void gh_funcname_for_print(const char *name, char *buf, size_t size);

/* The value of the pc-value table at pctab offset off for targetpc (zig-zag
 * varint value deltas and pc deltas from fn's entry, starting at -1). off 0
 * (no table) gives -1. GH_EFORMAT when the table is truncated or ends before
 * targetpc. */
int gh_pcvalue(const gh_pclntab *tab, const gh_func *fn, uint32_t off, uint64_t targetpc, int32_t *val,
               gh_err *err);
/* Frame size at pc: bytes between SP and the return address. */
int gh_func_spdelta(const gh_pclntab *tab, const gh_func *fn, uint64_t pc, int32_t *delta, gh_err *err);
/* PCDATA table idx at pc; -1 when the function has no such table. */
int gh_func_pcdata(const gh_pclntab *tab, const gh_func *fn, uint32_t idx, uint64_t pc, int32_t *val,
                   gh_err *err);
/* Address of FUNCDATA idx (md.gofunc + offset), 0 when absent. */
int gh_func_funcdata(const gh_pclntab *tab, const gh_func *fn, uint32_t idx, uint64_t *addr, gh_err *err);
/* Source position of pc in fn's own tables (the innermost inlined body's
 * file and line, like the runtime's funcline). "?" and 0 when fn has none. */
int gh_func_fileline(const gh_pclntab *tab, const gh_func *fn, uint64_t pc, const char **file, int *line,
                     gh_err *err);
/* Expands pc into its frames through FUNCDATA_InlTree and
 * PCDATA_InlTreeIndex. Fills up to max frames; *n is the total (may be larger
 * than max). For a return address pass pc-1, as the runtime does. */
int gh_func_frames(const gh_pclntab *tab, const gh_func *fn, uint64_t pc, gh_inl_frame *out, size_t max,
                   size_t *n, gh_err *err);

#endif
