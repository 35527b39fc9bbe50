/* The target interface: everything the engine needs from a debugger or a file,
 * in the spirit of ClrMD's data reader. Backends: a core file (target_core.c),
 * a live process through /proc (target_live.c), and the LLDB SB API (in the
 * plugin). The engine reads symbols, DWARF and Go metadata itself from the
 * executable; a target only hands out bytes, regions and registers. */
#ifndef GOHEAP_TARGET_TARGET_H
#define GOHEAP_TARGET_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#include "goheap/target.h" /* gh_region, gh_thread, gh_target_ops */
#include "base/arch.h"

typedef struct gh_target {
    const gh_target_ops *ops;
    void *ctx;
    const char *kind; /* "core", "live", "lldb" */
    /* The machine: a core's e_machine, the host for a live process, the
     * executable's for a caller's target (set when the session opens). */
    const gh_arch *arch;
    /* Registers of the threads when the architecture's set does not fit
     * gh_thread.regs (arm64 cores): arch->nregs words per thread, in the
     * order ops->threads gives them; NULL otherwise. */
    const uint64_t *xregs;
    int concurrent;   /* read and direct may be called from several threads at once */
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

/* A thread's registers in its architecture's NT_PRSTATUS order (arch->nregs
 * words: GH_X86_* or GH_A64_*), or NULL when the target has none for it. th
 * must come from t's threads callback. */
const uint64_t *gh_thread_regs(const gh_target *t, const gh_thread *th);

/* Closes the target and frees it: t is invalid afterwards. */
void gh_target_close(gh_target *t);

/* Core file backend. exe may be NULL: the executable is then found from the
 * core's NT_FILE note. The executable must match the core (Go build id). */
int gh_core_open(const char *core_path, const char *exe_path, gh_target **out, gh_err *err);
/* What was wrong with a core that still opened (it is truncated: some
 * segments' bytes are missing and read as unreadable), or NULL. NULL for
 * targets that are not cores. */
const char *gh_core_warning(gh_target *t);
/* Whether the core file is shorter than its program headers say (*have its
 * size, *want the size they describe; either may be NULL): 0 for complete
 * cores and targets that are not cores. */
int gh_core_truncated(const gh_target *t, uint64_t *have, uint64_t *want);
/* How many reads so far met bytes the truncation took (0 for complete cores
 * and other targets): a model built while it did not grow read nothing
 * that is missing. */
uint64_t gh_core_lost_reads(const gh_target *t);
/* Whether some byte of [addr, addr+len) is one the truncation took (not
 * counted as a read): 0 for complete cores and other targets. */
int gh_core_lost(const gh_target *t, uint64_t addr, uint64_t len);
/* Which files a core target reads: the core's and the executable's device,
 * inode, size and modification time (ns), 8 words. GH_EUNSUPP for targets
 * that are not cores. */
int gh_core_file_id(const gh_target *t, uint64_t id[8]);
/* The core file was compressed: what decompressing it cost (unpack.h), or
 * NULL (not compressed, not a core). */
struct gh_unpack_info;
const struct gh_unpack_info *gh_core_unpacked(const gh_target *t);
/* The same in one line for the user ("decompressed zstd core: 44.3 MiB in
 * 0.2 s (from 3.1 MiB; ...)"), or NULL. */
const char *gh_core_note(gh_target *t);

/* Live process backend: /proc/PID/maps and /proc/PID/mem. With stop set, the
 * process is attached with ptrace and stopped (all threads) for the target's
 * lifetime, and registers are read; when it is already traced (by a debugger)
 * the target reads memory only and threads have has_regs == 0. */
int gh_live_open(int pid, int stop, gh_target **out, gh_err *err);

/* Adapters that know registers (a debugger) hand them to a live target. */
int gh_live_set_threads(gh_target *t, const gh_thread *threads, size_t n, gh_err *err);

#endif
