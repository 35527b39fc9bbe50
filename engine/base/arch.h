/* The target's architecture: what the engine needs to know about a machine
 * to read a Go program's cores (Go's sys.* constants, the registers of
 * NT_PRSTATUS and of a signal's context). Taken from the ELF header's
 * e_machine of the core and the executable; other machines are refused by
 * name. */
#ifndef GOHEAP_BASE_ARCH_H
#define GOHEAP_BASE_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* arm64 registers in the kernel's user_pt_regs order (NT_PRSTATUS pr_reg).
 * The public gh_thread holds amd64's set only (its size is part of the
 * 1.x binary interface): an arm64 core's registers are kept by the core
 * target beside its threads (gh_thread_regs, target.h). */
enum {
    GH_A64_X0 = 0, GH_A64_X28 = 28, GH_A64_FP = 29, GH_A64_LR = 30, GH_A64_SP = 31, GH_A64_PC = 32,
    GH_A64_PSTATE = 33, GH_A64_NREGS = 34
};
#define GH_MAX_NREGS 34 /* the largest register set of the architectures read */

typedef struct gh_arch {
    const char *name;           /* "linux/amd64" */
    const char *goarch;         /* "amd64" */
    unsigned machine;           /* ELF e_machine */
    unsigned pcquantum;         /* sys.PCQuantum: 1 amd64, 4 arm64 */
    unsigned minframe;          /* sys.MinFrameSize: 0 amd64, 8 arm64 */
    unsigned stackalign;        /* sys.StackAlign: 8 amd64, 16 arm64 */
    unsigned locals_minsize;    /* runtime.getStackMap scans locals of frames with more bytes below
                                   varp: sys.MinFrameSize, sys.StackAlign on arm64 */
    int uses_lr;                /* a link-register machine (return address in a register) */
    uint64_t arena_base_offset; /* runtime.arenaBaseOffset */
    unsigned nregs;             /* words of NT_PRSTATUS pr_reg (gh_thread.regs) */
    int reg_sp, reg_pc, reg_lr; /* indexes into regs; reg_lr -1 without one */
    const char *const *reg_names; /* nregs names, as the debuggers print them */
    /* Registers that may hold pointers at a stop (scanned conservatively). */
    const int *gprs;
    size_t ngprs;
    /* A signal's saved registers (asm/sigcontext.h): nuc words at uc_regs_at
     * past the frame address of runtime.sigtramp, uc_regs[k] is the gh_thread
     * index word k goes to. */
    uint64_t uc_regs_at;
    const int *uc_regs;
    size_t nuc;
    /* DWARF register numbers 0 to ndwarf-1 as indexes into regs (-1: not
     * in the set, as vector registers are not). */
    const int *dwarf_regs;
    size_t ndwarf;
    /* runtime.asyncPreempt saves the interrupted frame's general registers
     * on its own frame: npreempt words at preempt_at past its sp (at its
     * call of asyncPreempt2), word k the regs index preempt_regs[k]. The
     * same layout in every release read (runtime/preempt_*.s, written by
     * mkpreempt.go). */
    uint64_t preempt_at;
    const int *preempt_regs;
    size_t npreempt;
} gh_arch;

extern const gh_arch gh_arch_amd64, gh_arch_arm64;

/* The architecture of an ELF e_machine, or NULL when goheap does not read it. */
const gh_arch *gh_arch_of_machine(unsigned machine);
/* A machine's name for messages ("EM_PPC64 (21)"), in buf. */
const char *gh_machine_name(unsigned machine, char *buf, size_t cap);
/* The host's architecture when goheap reads live processes on it (amd64),
 * else NULL. */
const gh_arch *gh_arch_host(void);

#endif
