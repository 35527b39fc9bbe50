/* Physical frames from a pc and sp, as runtime/traceback.go's unwinder
 * computes them on amd64: fp = sp + pcsp(pc) + 8 (the return address), the
 * caller's pc is the word below fp, varp skips the saved frame pointer. */
#include <stdio.h>
#include <string.h>

#include "goroutine/unwind.h"

typedef unsigned long long ull;

#define STOP(...) snprintf(res->stop, sizeof res->stop, __VA_ARGS__)

void gh_unwind(const gh_target *t, const gh_pclntab *tab, const gh_ustart *st, uint64_t lo, uint64_t hi,
               gh_pframe *out, size_t max, gh_uresult *res)
{
    memset(res, 0, sizeof *res);
    uint64_t pc = st->pc, sp = st->sp;
    int trap = st->trap, innermost = 1;
    uint8_t callee = GH_FUNCID_NORMAL;
    gh_err e;
    if (pc == 0) {
        /* A call through a nil func value: start in the caller. */
        if (sp < lo || sp + 8 > hi || gh_read_u64(t, sp, &pc, &e)) {
            STOP("pc 0 and no return address at sp 0x%llx", (ull)sp);
            return;
        }
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
        f->fp = sp + (uint64_t)delta + 8;
        if (f->fp > hi) {
            STOP("frame of %s at sp 0x%llx ends at 0x%llx, past the stack", name, (ull)sp, (ull)f->fp);
            return;
        }
        f->varp = f->fp - 8;
        if (f->varp > f->sp)
            f->varp -= 8; /* the saved frame pointer */
        f->argp = f->fp;
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
        uint64_t lr;
        if (gh_read_u64(t, f->fp - 8, &lr, &e)) {
            STOP("return address of %s at 0x%llx is not readable", name, (ull)(f->fp - 8));
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
        trap = id == GH_FUNCID_SIGPANIC || id == GH_FUNCID_ASYNCPREEMPT || id == GH_FUNCID_DEBUGCALLV2;
        callee = id;
        pc = lr;
        sp = f->fp;
        innermost = 0;
    }
}
