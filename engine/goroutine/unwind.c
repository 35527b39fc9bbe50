/* Physical frames from a pc and sp, as runtime/traceback.go's unwinder
 * computes them (unwinder.initAt, resolveInternal, next):
 * - amd64: fp = sp + pcsp(pc) + 8 (the return address the CALL pushed), the
 *   caller's pc is the word below fp;
 * - arm64 (a link-register machine): fp = sp + pcsp(pc); a function saves
 *   the link register at 0(sp) in the same instruction that allocates its
 *   frame, so the caller's pc is *sp, except in an innermost frame that has
 *   not allocated one yet (sp == fp), which returns to the LR register;
 *   after a frame the signal handler injected a call into (sigpanic,
 *   asyncPreempt, debugCallV2) the interrupted frame's LR sits at the
 *   injected frame's fp, and its sp is 16 bytes up.
 * Both: varp = fp (less the return address on amd64), less the saved frame
 * pointer when the frame has one; argp = fp + sys.MinFrameSize. */
#include <stdio.h>
#include <string.h>

#include "goroutine/unwind.h"

typedef unsigned long long ull;

#define STOP(...) snprintf(res->stop, sizeof res->stop, __VA_ARGS__)

static int readable_word(const gh_target *t, uint64_t addr, uint64_t lo, uint64_t hi, uint64_t *v)
{
    gh_err e;
    return addr >= lo && addr + 8 <= hi && !gh_read_u64(t, addr, v, &e);
}

void gh_unwind(const gh_target *t, const gh_pclntab *tab, const gh_ustart *st, uint64_t lo, uint64_t hi,
               gh_pframe *out, size_t max, gh_uresult *res)
{
    memset(res, 0, sizeof *res);
    const gh_arch *arch = gh_pclntab_arch(tab);
    const int uses_lr = arch->uses_lr;
    const uint64_t ra = uses_lr ? 0 : 8; /* the return address a CALL pushes */
    uint64_t pc = st->pc, sp = st->sp, lr = uses_lr ? st->lr : 0;
    int trap = st->trap, innermost = 1;
    uint8_t callee = GH_FUNCID_NORMAL;
    gh_err e;
    if (pc == 0) {
        /* A call through a nil func value: start in the caller. */
        if (!readable_word(t, sp, lo, hi, &pc)) {
            STOP("pc 0 and no return address at sp 0x%llx", (ull)sp);
            return;
        }
        if (uses_lr)
            lr = 0;
        else
            sp += 8;
    }
    for (;;) {
        if (res->n == max) {
            res->truncated = 1;
            STOP("more than %llu frames", (ull)max);
            return;
        }
        if (sp < lo || sp >= hi) {
            STOP("sp 0x%llx is outside the stack [0x%llx, 0x%llx) at pc 0x%llx", (ull)sp, (ull)lo, (ull)hi, (ull)pc);
            return;
        }
        gh_pframe *f = &out[res->n];
        memset(f, 0, sizeof *f);
        if (gh_func_find(tab, pc, &f->fn, &e)) {
            STOP("pc 0x%llx (sp 0x%llx) is not in a Go function", (ull)pc, (ull)sp);
            return;
        }
        const char *name = gh_func_name(tab, &f->fn);
        if (f->fn.pcsp == 0) {
            STOP("no frame information for %s at pc 0x%llx", name, (ull)pc);
            return;
        }
        int32_t delta;
        if (gh_func_spdelta(tab, &f->fn, pc, &delta, &e) || delta < 0) {
            STOP("no frame size for %s at pc 0x%llx", name, (ull)pc);
            return;
        }
        uint8_t flag = f->fn.flag;
        if (st->syscall && innermost)
            flag &= (uint8_t)~GH_FUNCFLAG_SPWRITE; /* entersyscall saved pc/sp before any SP write */
        f->pc = pc;
        f->sp = sp;
        f->fp = sp + (uint64_t)delta + ra;
        if (f->fp > hi) {
            STOP("frame of %s at sp 0x%llx ends at 0x%llx, past the stack", name, (ull)sp, (ull)f->fp);
            return;
        }
        f->varp = f->fp - ra;
        if (f->varp > f->sp)
            f->varp -= 8; /* the saved frame pointer */
        f->argp = f->fp + arch->minframe;
        f->trap = (uint8_t)trap;
        f->callee = callee;
        /* A frame interrupted by a panicking fault continues at its
         * deferreturn, if any; otherwise it is dead. */
        f->continpc = pc;
        if (callee == GH_FUNCID_SIGPANIC)
            f->continpc = f->fn.deferreturn ? f->fn.entry + f->fn.deferreturn + 1 : 0;
        res->n++;
        if (flag & GH_FUNCFLAG_TOPFRAME)
            return; /* the bottom of the stack: goexit, mstart, sigtramp... */
        if ((flag & GH_FUNCFLAG_SPWRITE) && !innermost) {
            STOP("%s writes SP: cannot unwind past it (pc 0x%llx)", name, (ull)pc);
            return;
        }
        uint64_t at; /* where the return address is read, 0 when it is the LR register's */
        if (!uses_lr)
            at = f->fp - 8;
        else if ((innermost && f->sp < f->fp) || lr == 0)
            at = f->sp;
        else
            at = 0;
        if (at && !readable_word(t, at, lo, hi, &lr)) {
            STOP("return address of %s at 0x%llx is not readable", name, (ull)at);
            return;
        }
        gh_func caller;
        if (lr == 0 || gh_func_find(tab, lr, &caller, &e)) {
            STOP("unexpected return pc 0x%llx for %s", (ull)lr, name);
            return;
        }
        if (lr == pc && f->fp == sp) {
            STOP("traceback stuck at pc 0x%llx", (ull)pc);
            return;
        }
        uint8_t id = f->fn.id;
        int injected = id == GH_FUNCID_SIGPANIC || id == GH_FUNCID_ASYNCPREEMPT || id == GH_FUNCID_DEBUGCALLV2;
        trap = injected;
        callee = id;
        pc = lr;
        sp = f->fp;
        lr = 0;
        innermost = 0;
        if (uses_lr && injected) {
            /* The signal handler saved the interrupted LR on the stack
             * before faking the call (runtime/signal_arm64.go pushCall). */
            uint64_t x;
            if (!readable_word(t, sp, lo, hi, &x)) {
                STOP("the link register %s saved at 0x%llx is not readable", name, (ull)sp);
                return;
            }
            uint64_t align = arch->stackalign, step = (arch->minframe + align - 1) / align * align;
            sp += step;
            gh_func fn;
            int32_t d;
            if (gh_func_find(tab, pc, &fn, &e))
                pc = x;
            else if (!gh_func_spdelta(tab, &fn, pc, &d, &e) && d == 0)
                lr = x;
        }
    }
}
