/* The architectures goheap reads (arch.h): linux/amd64 and linux/arm64. */
#include "base/arch.h"

#include <elf.h>
#include <stdio.h>

#include "goheap/target.h"

#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif

static const char *const x86_names[GH_X86_NREGS] = {
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",      "r8",      "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};
/* rax..r15 but rsp and rip */
static const int x86_gprs[] = {GH_X86_RAX, GH_X86_RBX, GH_X86_RCX, GH_X86_RDX, GH_X86_RSI,
                               GH_X86_RDI, GH_X86_RBP, GH_X86_R8,  GH_X86_R9,  GH_X86_R10,
                               GH_X86_R11, GH_X86_R12, GH_X86_R13, GH_X86_R14, GH_X86_R15};
/* amd64 ucontext: uc_mcontext at 40 past sigtramp's frame (the kernel's
 * rt_sigframe starts with the return address, then the ucontext): r8..r15,
 * rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip. */
static const int x86_uc[] = {
    GH_X86_R8,  GH_X86_R9,  GH_X86_R10, GH_X86_R11, GH_X86_R12, GH_X86_R13, GH_X86_R14, GH_X86_R15, GH_X86_RDI,
    GH_X86_RSI, GH_X86_RBP, GH_X86_RBX, GH_X86_RDX, GH_X86_RAX, GH_X86_RCX, GH_X86_RSP, GH_X86_RIP,
};

/* DWARF's amd64 numbering: rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8..r15, rip. */
static const int x86_dwarf[] = {GH_X86_RAX, GH_X86_RDX, GH_X86_RCX, GH_X86_RBX, GH_X86_RSI, GH_X86_RDI,
                                GH_X86_RBP, GH_X86_RSP, GH_X86_R8,  GH_X86_R9,  GH_X86_R10, GH_X86_R11,
                                GH_X86_R12, GH_X86_R13, GH_X86_R14, GH_X86_R15, GH_X86_RIP};
/* preempt_amd64.s: MOVQ AX, 0(SP) ... MOVQ R15, 104(SP) */
static const int x86_preempt[] = {GH_X86_RAX, GH_X86_RCX, GH_X86_RDX, GH_X86_RBX, GH_X86_RSI,
                                  GH_X86_RDI, GH_X86_R8,  GH_X86_R9,  GH_X86_R10, GH_X86_R11,
                                  GH_X86_R12, GH_X86_R13, GH_X86_R14, GH_X86_R15};

const gh_arch gh_arch_amd64 = {
    .name = "linux/amd64", .goarch = "amd64", .machine = EM_X86_64, .pcquantum = 1, .minframe = 0, .stackalign = 8, .locals_minsize = 0,
    .uses_lr = 0, .arena_base_offset = 0xffff800000000000ull, .nregs = GH_X86_NREGS, .reg_sp = GH_X86_RSP,
    .reg_pc = GH_X86_RIP, .reg_lr = -1, .reg_names = x86_names, .gprs = x86_gprs,
    .ngprs = sizeof x86_gprs / sizeof x86_gprs[0], .uc_regs_at = 40, .uc_regs = x86_uc,
    .nuc = sizeof x86_uc / sizeof x86_uc[0], .dwarf_regs = x86_dwarf, .ndwarf = sizeof x86_dwarf / sizeof x86_dwarf[0],
    .preempt_at = 0, .preempt_regs = x86_preempt, .npreempt = sizeof x86_preempt / sizeof x86_preempt[0],
};

static const char *const a64_names[GH_A64_NREGS] = {
    "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10", "x11", "x12", "x13", "x14", "x15", "x16",
    "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",  "pc",  "cpsr",
};
/* x0..x30: x28 is g, x29 the frame pointer, x30 the link register */
static const int a64_gprs[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                               16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
/* arm64: the kernel's rt_sigframe is siginfo (128 bytes), then the ucontext,
 * whose uc_mcontext (struct sigcontext) is at 176: fault_address, then
 * regs[31], sp, pc, pstate in NT_PRSTATUS order (runtime/defs_linux_arm64.go).
 * runtime.sigtramp's frame address is the sp the kernel set: the frame. */
static const int a64_uc[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                             17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33};

/* DWARF's arm64 numbering: x0..x30, sp. */
static const int a64_dwarf[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
/* preempt_arm64.s: STP (R0, R1), 8(RSP) ... STP (R16, R17), 136(RSP), then
 * R19..R26 from 152 (R18 is the platform's, R27 the assembler's, R28 g) */
static const int a64_preempt[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                  13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26};

const gh_arch gh_arch_arm64 = {
    .name = "linux/arm64", .goarch = "arm64", .machine = EM_AARCH64, .pcquantum = 4, .minframe = 8, .stackalign = 16, .locals_minsize = 16,
    .uses_lr = 1, .arena_base_offset = 0, .nregs = GH_A64_NREGS, .reg_sp = GH_A64_SP, .reg_pc = GH_A64_PC,
    .reg_lr = GH_A64_LR, .reg_names = a64_names, .gprs = a64_gprs, .ngprs = sizeof a64_gprs / sizeof a64_gprs[0],
    .uc_regs_at = 128 + 176 + 8, .uc_regs = a64_uc, .nuc = sizeof a64_uc / sizeof a64_uc[0],
    .dwarf_regs = a64_dwarf, .ndwarf = sizeof a64_dwarf / sizeof a64_dwarf[0],
    .preempt_at = 8, .preempt_regs = a64_preempt, .npreempt = sizeof a64_preempt / sizeof a64_preempt[0],
};

_Static_assert(GH_X86_NREGS <= GH_MAX_NREGS && GH_A64_NREGS <= GH_MAX_NREGS, "GH_MAX_NREGS holds every set");

const gh_arch *gh_arch_of_machine(unsigned machine)
{
    if (machine == EM_X86_64)
        return &gh_arch_amd64;
    if (machine == EM_AARCH64)
        return &gh_arch_arm64;
    return NULL;
}

const char *gh_machine_name(unsigned machine, char *buf, size_t cap)
{
    static const struct {
        unsigned m;
        const char *name;
    } known[] = {{EM_386, "i386"},       {EM_ARM, "arm"},         {EM_X86_64, "x86-64"},   {EM_AARCH64, "aarch64"},
                 {EM_PPC64, "ppc64"},    {EM_S390, "s390x"},      {EM_MIPS, "mips"},       {243, "riscv"},
                 {258, "loongarch"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].m == machine) {
            snprintf(buf, cap, "%s (ELF machine %u)", known[i].name, machine);
            return buf;
        }
    snprintf(buf, cap, "ELF machine %u", machine);
    return buf;
}

const gh_arch *gh_arch_host(void)
{
#if defined(__x86_64__)
    return &gh_arch_amd64;
#else
    return NULL; /* live processes are read on linux/amd64 hosts only (ptrace's register sets) */
#endif
}
