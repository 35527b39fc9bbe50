/* A target the caller supplies: the callback table goheap reads memory,
 * regions and threads through, in the spirit of ClrMD's data reader. The
 * library's own backends (core files, /proc) and the LLDB plugin's SB API
 * backend implement the same table. goheap reads symbols, DWARF and Go
 * metadata itself from the executable; a target only hands out bytes,
 * regions and registers. Open one with gh_open_target (goheap.h). */
#ifndef GOHEAP_TARGET_H
#define GOHEAP_TARGET_H

#include "goheap/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { GH_PROT_R = 1, GH_PROT_W = 2, GH_PROT_X = 4 };

typedef struct gh_region {
    uint64_t start, end;  /* [start, end) */
    unsigned prot;        /* GH_PROT_* */
    uint64_t file_offset; /* offset in the mapped file, when name is set */
    const char *name;     /* mapped file, or NULL for anonymous memory */
    int in_core;          /* bytes are present in the dump (core targets) */
} gh_region;

/* x86-64 registers in the kernel's user_regs_struct order (NT_PRSTATUS).
 * gh_thread holds this set only: for a linux/arm64 target (an executable for
 * arm64) the registers a caller's target hands over are not used, and its
 * running goroutines are walked from their last saved context, with a note.
 * goheap's own core reader keeps an arm64 core's registers itself. */
enum {
    GH_X86_R15, GH_X86_R14, GH_X86_R13, GH_X86_R12, GH_X86_RBP, GH_X86_RBX,
    GH_X86_R11, GH_X86_R10, GH_X86_R9, GH_X86_R8, GH_X86_RAX, GH_X86_RCX,
    GH_X86_RDX, GH_X86_RSI, GH_X86_RDI, GH_X86_ORIG_RAX, GH_X86_RIP, GH_X86_CS,
    GH_X86_EFLAGS, GH_X86_RSP, GH_X86_SS, GH_X86_FS_BASE, GH_X86_GS_BASE,
    GH_X86_DS, GH_X86_ES, GH_X86_FS, GH_X86_GS, GH_X86_NREGS
};

typedef struct gh_thread {
    int tid;            /* LWP id; equals the Go runtime's m.procid */
    int has_regs;       /* 0 when the backend could not read them */
    uint64_t regs[GH_X86_NREGS];
} gh_thread;

typedef struct gh_target_ops {
    /* Reads up to len bytes at addr into buf; returns the number of bytes
     * read from the start (0 when addr is not readable). Never faults. */
    size_t (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
    /* Optional fast path: a host pointer valid for len bytes at addr, or NULL
     * when the range is not contiguous in host memory. */
    const void *(*direct)(void *ctx, uint64_t addr, size_t len);
    /* Mapped regions, sorted by start, non-overlapping. */
    void (*regions)(void *ctx, const gh_region **out, size_t *n);
    void (*threads)(void *ctx, const gh_thread **out, size_t *n);
    /* The main executable's path on the host, and how far it was loaded from
     * its link-time addresses (PIE), as far as the target knows it. Both
     * optional; load_bias returns 0 when it knows. */
    const char *(*exe_path)(void *ctx);
    int (*load_bias)(void *ctx, uint64_t *bias);
    /* A number that changes whenever the target's memory may have changed
     * (a live process ran). Constant for cores. Optional. */
    uint64_t (*generation)(void *ctx);
    /* Called once when the session closes (or fails to open). Optional. */
    void (*close)(void *ctx);
} gh_target_ops;

#ifdef __cplusplus
}
#endif

#endif
