/* The target interface: everything the engine needs from a debugger or a file,
 * in the spirit of ClrMD's data reader. Backends: a core file (target_core.c),
 * a live process through /proc (target_live.c), and the LLDB SB API (in the
 * plugin). The engine reads symbols, DWARF and Go metadata itself from the
 * executable; a target only hands out bytes, regions and registers. */
#ifndef GOHEAP_TARGET_H
#define GOHEAP_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "goheap/error.h"

enum { GH_PROT_R = 1, GH_PROT_W = 2, GH_PROT_X = 4 };

typedef struct gh_region {
    uint64_t start, end;  /* [start, end) */
    unsigned prot;        /* GH_PROT_* */
    uint64_t file_offset; /* offset in the mapped file, when name is set */
    const char *name;     /* mapped file, or NULL for anonymous memory */
    int in_core;          /* bytes are present in the dump (core targets) */
} gh_region;

/* x86-64 registers in the kernel's user_regs_struct order (NT_PRSTATUS). */
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
     * its link-time addresses (PIE), as far as the target knows it. */
    const char *(*exe_path)(void *ctx);
    int (*load_bias)(void *ctx, uint64_t *bias);
    /* A number that changes whenever the target's memory may have changed
     * (a live process ran). Constant for cores. */
    uint64_t (*generation)(void *ctx);
    void (*close)(void *ctx);
} gh_target_ops;

typedef struct gh_target {
    const gh_target_ops *ops;
    void *ctx;
    const char *kind; /* "core", "live", "lldb" */
} gh_target;

/* Bounds-checked reads. Each returns GH_OK or GH_EMEM with a message naming
 * the address. */
int gh_read(const gh_target *t, uint64_t addr, void *buf, size_t len, gh_err *err);
int gh_read_u64(const gh_target *t, uint64_t addr, uint64_t *v, gh_err *err);
int gh_read_u32(const gh_target *t, uint64_t addr, uint32_t *v, gh_err *err);
int gh_read_u16(const gh_target *t, uint64_t addr, uint16_t *v, gh_err *err);
int gh_read_u8(const gh_target *t, uint64_t addr, uint8_t *v, gh_err *err);
/* A pointer into host memory for [addr, addr+len), or NULL. */
const void *gh_direct(const gh_target *t, uint64_t addr, size_t len);

/* Closes the target and frees it: t is invalid afterwards. */
void gh_target_close(gh_target *t);

/* Core file backend. exe may be NULL: the executable is then found from the
 * core's NT_FILE note. The executable must match the core (Go build id). */
int gh_core_open(const char *core_path, const char *exe_path, gh_target **out, gh_err *err);
/* What was wrong with a core that still opened (it is truncated: some
 * segments' bytes are missing and read as unreadable), or NULL. NULL for
 * targets that are not cores. */
const char *gh_core_warning(gh_target *t);

/* Live process backend: /proc/PID/maps and /proc/PID/mem. With stop set, the
 * process is attached with ptrace and stopped (all threads) for the target's
 * lifetime, and registers are read; when it is already traced (by a debugger)
 * the target reads memory only and threads have has_regs == 0. */
int gh_live_open(int pid, int stop, gh_target **out, gh_err *err);

/* Adapters that know registers (a debugger) hand them to a live target. */
int gh_live_set_threads(gh_target *t, const gh_thread *threads, size_t n, gh_err *err);

#endif
