/* Every goroutine on runtime.allgs: status, wait reason, creator, and frames
 * from where it stopped (see goroutine.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "base/vec.h"
#include "goroutine/goroutine_int.h"
#include "goroutine/unwind.h"

#define MAX_FRAMES 10000 /* per goroutine; deeper stacks are cut and say so */
#define MAX_INLINE 64    /* inlined calls expanded at one pc */
#define MAX_SIGFRAMES 256
#define MAX_HOPS 4       /* signal frames and stack switches followed from a thread */
#define POOL_CHUNK 65536

typedef unsigned long long ull;

const char *gh_gstatus_name(uint32_t status, int minor)
{
    static const char *const names[] = {"idle", "runnable", "running", "syscall", "waiting", "???",
                                        "dead", "???", "copystack", "preempted", "leaked", "deadextra"};
    status &= ~(uint32_t)GH_G_SCAN;
    if (status >= sizeof names / sizeof names[0] || (status >= GH_G_LEAKED && minor < 26))
        return "???";
    return names[status];
}

int64_t gh_wait_minutes(uint32_t status, int64_t waitsince, int64_t now)
{
    status &= ~(uint32_t)GH_G_SCAN;
    int64_t d;
    if ((status != GH_G_WAITING && status != GH_G_SYSCALL) || !waitsince || now <= 0 ||
        __builtin_sub_overflow(now, waitsince, &d))
        return -1;
    return d > 0 ? d / 60000000000ll : 0; /* waitfor = (nanotime() - gp.waitsince) / 60e9 */
}

const char *gh_gfrom_name(gh_gfrom f)
{
    static const char *const names[] = {"none", "sched", "syscall", "thread", "signal", "vdso"};
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

int gh_frame_is_runtime(const gh_frame *f)
{
    const char *name = f->function;
    if (!strncmp(name, "runtime.", 8))
        return !(name[8] >= 'A' && name[8] <= 'Z'); /* exported runtime functions are the program's calls */
    return !strchr(name, '.') || !strncmp(name, "internal/", 9) || !strncmp(name, "runtime/internal/", 17) ||
           !strncmp(name, "iter.", 5) || !strncmp(name, "syscall.", 8) || strstr(f->file, "/src/runtime/") != NULL;
}

#define USER_DEPTH 30 /* frames searched for the user frame, as Delve does */

const gh_frame *gh_goroutine_where(const gh_goroutine *g)
{
    for (size_t i = 0; i < g->nframes && i < USER_DEPTH; i++)
        if (!gh_frame_is_runtime(&g->frames[i]))
            return &g->frames[i];
    return NULL;
}

int gh_goroutine_frame_regs(const gh_target *t, const gh_goroutine *g, size_t i, uint64_t regs[GH_MAX_NREGS],
                            uint64_t *known)
{
    const gh_arch *a = t ? t->arch : NULL;
    *known = 0;
    memset(regs, 0, GH_MAX_NREGS * sizeof *regs);
    if (!a || i >= g->npframes || a->nregs > 64)
        return 0;
    if (i == 0 && g->has_regs && (g->from == GH_FROM_THREAD || g->from == GH_FROM_SIGNAL)) {
        memcpy(regs, g->regs, a->nregs * sizeof *regs);
        for (size_t k = 0; k < a->ngprs; k++)
            *known |= 1ull << a->gprs[k];
        *known |= 1ull << a->reg_sp | 1ull << a->reg_pc;
        return 1;
    }
    const gh_pframe *pre = i ? &g->pframes[i - 1] : NULL;
    if (!pre || pre->fn.id != GH_FUNCID_ASYNCPREEMPT || a->npreempt > GH_MAX_NREGS)
        return 0;
    if (i == 1) {
        /* Stopped in asyncPreempt itself: at its first instruction (the
         * signal handler has just injected the call) the registers are
         * still the interrupted frame's; past it, only some are saved. */
        if (!(g->has_regs && (g->from == GH_FROM_THREAD || g->from == GH_FROM_SIGNAL) && pre->pc == pre->fn.entry))
            return 0;
        memcpy(regs, g->regs, a->nregs * sizeof *regs);
        for (size_t k = 0; k < a->ngprs; k++)
            if (a->gprs[k] != a->reg_lr)
                *known |= 1ull << a->gprs[k]; /* lr: the injected call's return address now */
        regs[a->reg_sp] = g->pframes[1].sp;
        regs[a->reg_pc] = g->pframes[1].pc;
        *known |= 1ull << a->reg_sp | 1ull << a->reg_pc;
        return 1;
    }
    uint64_t saved[GH_MAX_NREGS];
    if (gh_read(t, pre->sp + a->preempt_at, saved, a->npreempt * sizeof *saved, NULL))
        return 0;
    for (size_t k = 0; k < a->npreempt; k++) {
        regs[a->preempt_regs[k]] = saved[k];
        *known |= 1ull << a->preempt_regs[k];
    }
    regs[a->reg_sp] = g->pframes[i].sp;
    regs[a->reg_pc] = g->pframes[i].pc;
    *known |= 1ull << a->reg_sp | 1ull << a->reg_pc;
    return 1;
}

const gh_frame *gh_goroutine_top(const gh_goroutine *g) { return g->nframes ? &g->frames[0] : NULL; }

const gh_frame *gh_goroutine_start_frame(const gh_goroutine *g)
{
    /* runtime.goexit, then the wrappers the compiler makes for go
     * statements with arguments (main.f.gowrap1) */
    size_t n = g->nframes;
    while (n > 1 && (!strcmp(g->frames[n - 1].function, "runtime.goexit") ||
                     strstr(g->frames[n - 1].function, ".gowrap")))
        n--;
    return n ? &g->frames[n - 1] : NULL;
}

const gh_goroutine *gh_goroutine_find(const gh_goroutines *gs, int64_t goid)
{
    for (size_t i = 0; i < gs->n; i++)
        if (gs->v[i].goid == goid)
            return &gs->v[i];
    return NULL;
}

/* --- storage --------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
} chunk;

typedef struct loader {
    const gh_runtime *rt;
    gh_cancel *cc;
    const gh_target *t;
    const gh_pclntab *tab;
    gh_glayout L;
    int minor;
    gh_goroutines *gs;
    const gh_thread *threads;
    size_t nthreads;
    const char **reasons; /* pooled copies of runtime.waitReasonStrings */
    size_t nreasons;
    gh_pframe *scratch, *sigscratch;
    size_t cap, pfcap, frcap, pf_at_cap, fr_at_cap;
    size_t *pf_at, *fr_at; /* per goroutine: first index in gs->pf, gs->fr */
    gh_hmap names;         /* raw name's address -> its printed form (names with shape arguments) */
    int oom;
} loader;

static char *pool_alloc(gh_goroutines *gs, size_t len)
{
    len = (len + 7) & ~(size_t)7; /* keeps pointer arrays aligned */
    chunk *c = gs->pool;
    if (!c || c->cap - c->used < len) {
        size_t cap = len > POOL_CHUNK ? len : POOL_CHUNK;
        chunk *n = malloc(sizeof *n + cap);
        if (!n)
            return NULL;
        n->used = 0;
        n->cap = cap;
        n->next = c;
        gs->pool = c = n;
    }
    char *p = c->data + c->used;
    c->used += len;
    return p;
}

static const char *pool_str(loader *ld, const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = pool_alloc(ld->gs, len);
    if (!p) {
        ld->oom = 1;
        return "?";
    }
    memcpy(p, s, len);
    return p;
}

static void note(loader *ld, const char *fmt, ...)
{
    gh_goroutines *gs = ld->gs;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < gs->nnotes; i++)
        if (!strcmp(gs->notes[i], buf))
            return;
    if (gs->nnotes < sizeof gs->notes / sizeof gs->notes[0])
        gs->notes[gs->nnotes++] = (char *)pool_str(ld, buf);
}

/* The printed form of a function name: names without shape arguments are
 * used as the table holds them; others are converted once and cached by
 * the raw name's address (stable for the table's life). */
static const char *printed(loader *ld, const char *raw)
{
    if (!strchr(raw, '['))
        return raw;
    const uint64_t *hit = gh_hmap_get(&ld->names, (uintptr_t)raw);
    if (hit)
        return (const char *)(uintptr_t)*hit;
    char buf[1024];
    gh_funcname_for_print(raw, buf, sizeof buf);
    const char *p = pool_str(ld, buf);
    if (gh_hmap_put(&ld->names, (uintptr_t)raw, (uintptr_t)p))
        ld->oom = 1;
    return p;
}

/* --- one goroutine ----------------------------------------------------- */

static uint64_t fld(const uint8_t *buf, gh_field f) { return gh_field_get(buf, f); }

static const gh_thread *thread_of(const loader *ld, uint64_t procid)
{
    for (size_t i = 0; i < ld->nthreads; i++)
        if (procid && (uint64_t)ld->threads[i].tid == procid)
            return &ld->threads[i];
    return NULL;
}

static int read_stack(loader *ld, uint64_t g, uint64_t *lo, uint64_t *hi)
{
    gh_err e;
    *lo = *hi = 0;
    return g && !gh_read_u64(ld->t, g + ld->L.g_stack_lo.offset, lo, &e) &&
           !gh_read_u64(ld->t, g + ld->L.g_stack_hi.offset, hi, &e) && *lo < *hi;
}

static int in(uint64_t x, uint64_t lo, uint64_t hi) { return x >= lo && x < hi; }

/* A running goroutine: its thread's registers, followed through signal
 * frames (the context the kernel saved above runtime.sigtramp on the
 * signal stack) to the goroutine's own stack. 0 when the registers lead to
 * g0 (systemstack: the saved context is current) or nowhere. */
static int running_start(loader *ld, gh_goroutine *g, gh_ustart *st)
{
    const gh_thread *th = thread_of(ld, (uint64_t)g->tid);
    const uint64_t *tregs = th ? gh_thread_regs(ld->t, th) : NULL;
    if (!tregs) {
        note(ld, "goroutine %lld is running but its thread %d has no registers: walked from its last saved context",
             (long long)g->goid, g->tid);
        return 0;
    }
    const gh_glayout *L = &ld->L;
    gh_err e;
    uint64_t g0 = 0, gsig = 0, vdsosp = 0, vdsopc = 0, g0lo, g0hi, slo, shi;
    gh_read_u64(ld->t, g->m + L->m_g0.offset, &g0, &e);
    gh_read_u64(ld->t, g->m + L->m_gsignal.offset, &gsig, &e);
    gh_read_u64(ld->t, g->m + L->m_vdsoSP.offset, &vdsosp, &e);
    gh_read_u64(ld->t, g->m + L->m_vdsoPC.offset, &vdsopc, &e);
    read_stack(ld, g0, &g0lo, &g0hi);
    read_stack(ld, gsig, &slo, &shi);
    const gh_arch *a = ld->rt->arch;
    uint64_t regs[GH_MAX_NREGS] = {0};
    memcpy(regs, tregs, a->nregs * 8);
    gh_gfrom from = GH_FROM_THREAD;
    for (int hop = 0; hop < MAX_HOPS; hop++) {
        uint64_t sp = regs[a->reg_sp], pc = regs[a->reg_pc], lr = a->reg_lr >= 0 ? regs[a->reg_lr] : 0;
        if (in(sp, g->stack_lo, g->stack_hi)) {
            *st = (gh_ustart){pc, sp, 1, 0, lr};
            memcpy(g->regs, regs, sizeof regs);
            g->has_regs = 1;
            g->from = from;
            return 1;
        }
        if (vdsosp && in(vdsosp, g->stack_lo, g->stack_hi)) {
            /* In a vDSO call on g0: vdsoPC/SP are the Go caller's. */
            *st = (gh_ustart){vdsopc, vdsosp, 0, 0, 0};
            g->from = GH_FROM_VDSO;
            return 1;
        }
        if (!in(sp, slo, shi))
            break; /* on g0 (systemstack, mcall) or unknown */
        gh_uresult r;
        gh_ustart sst = {pc, sp, 1, 0, lr};
        gh_unwind(ld->t, ld->tab, &sst, slo, shi, ld->sigscratch, MAX_SIGFRAMES, &r);
        const gh_pframe *tramp = NULL;
        for (size_t i = 0; i < r.n; i++) {
            const char *name = gh_func_name(ld->tab, &ld->sigscratch[i].fn);
            if (!strcmp(name, "runtime.sigtramp") || !strcmp(name, "runtime.cgoSigtramp"))
                tramp = &ld->sigscratch[i];
        }
        uint64_t mc[GH_MAX_NREGS];
        if (!tramp || a->nuc > GH_MAX_NREGS || gh_read(ld->t, tramp->fp + a->uc_regs_at, mc, a->nuc * 8, &e)) {
            note(ld, "goroutine %lld: its thread %d is in a signal handler whose context could not be found%s%s",
                 (long long)g->goid, g->tid, r.stop[0] ? ": " : "", r.stop);
            return 0;
        }
        for (size_t k = 0; k < a->nuc; k++)
            regs[a->uc_regs[k]] = mc[k];
        from = GH_FROM_SIGNAL;
    }
    uint64_t sp = regs[a->reg_sp];
    if (!in(sp, g0lo, g0hi))
        note(ld, "goroutine %lld is running but its thread %d's sp 0x%llx is on none of its stacks: walked from its "
                 "last saved context",
             (long long)g->goid, g->tid, (ull)sp);
    return 0;
}

static void creator(loader *ld, gh_goroutine *g)
{
    gh_func fn;
    gh_err e;
    if (g->gopc && !gh_func_find(ld->tab, g->gopc, &fn, &e)) {
        g->creator = printed(ld, gh_func_name(ld->tab, &fn));
        uint64_t pc = g->gopc > fn.entry ? g->gopc - 1 : g->gopc;
        if (gh_func_fileline(ld->tab, &fn, pc, &g->creator_file, &g->creator_line, &e))
            g->creator_file = "?";
    }
    if (g->startpc && !gh_func_find(ld->tab, g->startpc, &fn, &e)) {
        g->start = printed(ld, gh_func_name(ld->tab, &fn));
        /* runtime.isSystemGoroutine as newproc1 asks it: what NumGoroutine
         * leaves out (the finalizer and cleanup goroutines included). */
        g->system = fn.id != GH_FUNCID_RUNTIME_MAIN && fn.id != GH_FUNCID_COROSTART &&
                    fn.id != GH_FUNCID_HANDLEASYNCEVENT && !strncmp(gh_func_name(ld->tab, &fn), "runtime.", 8);
    }
}

/* A string of the target, cut at MAX_LABEL_STR bytes, pooled. */
#define MAX_LABELS 64
#define MAX_LABEL_STR 1024

static const char *target_str(loader *ld, gh_strhdr h, int *cut)
{
    char buf[MAX_LABEL_STR + 4];
    uint64_t len = h.len;
    gh_err e;
    if (len > MAX_LABEL_STR) {
        len = MAX_LABEL_STR;
        *cut = 1;
    }
    if (len && gh_read(ld->t, h.ptr, buf, len, &e)) {
        *cut = 1;
        return "?";
    }
    buf[len] = 0;
    if (h.len > len)
        memcpy(buf + len, "...", 4);
    for (uint64_t i = 0; i < len; i++)
        if (!buf[i])
            buf[i] = '?'; /* a NUL inside would cut the C string short */
    return pool_str(ld, buf);
}

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const gh_glabel *)a)->key, ((const gh_glabel *)b)->key);
}

/* g.labels: its pprof labels, sorted by key as pprof prints them. */
static void labels(loader *ld, gh_goroutine *g, uint64_t p)
{
    gh_strhdr kv[2 * MAX_LABELS];
    size_t n = 0;
    gh_err e;
    g->labels_ptr = p;
    if (!p)
        return;
    if (gh_glabels_read(ld->t, ld->minor, p, kv, MAX_LABELS, &n, &e)) {
        g->labels_error = pool_str(ld, e.msg);
        return;
    }
    size_t k = n < MAX_LABELS ? n : MAX_LABELS;
    g->labels = k ? (gh_glabel *)pool_alloc(ld->gs, k * sizeof *g->labels) : NULL;
    if (k && !g->labels) {
        ld->oom = 1;
        return;
    }
    int cut = 0;
    for (size_t i = 0; i < k; i++)
        g->labels[i] = (gh_glabel){target_str(ld, kv[2 * i], &cut), target_str(ld, kv[2 * i + 1], &cut)};
    g->nlabels = k;
    if (k > 1)
        qsort(g->labels, k, sizeof *g->labels, label_cmp);
    if (n > k || cut) {
        char buf[160];
        snprintf(buf, sizeof buf, "%zu labels, %zu shown%s", n, k, cut ? "; strings cut or unreadable" : "");
        g->labels_error = pool_str(ld, buf);
    }
}

/* Frames of g into the session-wide arrays. */
static int walk(loader *ld, gh_goroutine *g, size_t gi, const gh_ustart *st)
{
    gh_goroutines *gs = ld->gs;
    gh_uresult r;
    gh_unwind(ld->t, ld->tab, st, g->stack_lo, g->stack_hi, ld->scratch, MAX_FRAMES, &r);
    g->truncated = r.truncated;
    if (r.stop[0])
        g->stop = pool_str(ld, r.stop);
    size_t at = ld->pf_at[gi];
    if (gh_grow(&gs->pf, &ld->pfcap, at + r.n, sizeof *gs->pf))
        return 0;
    if (r.n)
        memcpy(gs->pf + at, ld->scratch, r.n * sizeof *gs->pf);
    g->npframes = r.n;
    size_t fat = ld->fr_at[gi];
    gh_inl_frame inl[MAX_INLINE];
    for (size_t i = 0; i < r.n; i++) {
        const gh_pframe *pf = &ld->scratch[i];
        size_t k = 0;
        gh_err e;
        if (gh_func_frames(ld->tab, &pf->fn, gh_pframe_sympc(pf), inl, MAX_INLINE, &k, &e) || !k) {
            inl[0] = (gh_inl_frame){.name = gh_func_name(ld->tab, &pf->fn), .file = "?"};
            k = 1;
        }
        if (k > MAX_INLINE)
            k = MAX_INLINE;
        if (gh_grow(&gs->fr, &ld->frcap, fat + g->nframes + k, sizeof *gs->fr))
            return 0;
        for (size_t j = 0; j < k; j++)
            gs->fr[fat + g->nframes++] = (gh_frame){printed(ld, inl[j].name), inl[j].file, inl[j].line,
                                                    (uint8_t)inl[j].inlined, (uint32_t)i};
    }
    return 1;
}

static int load_one(loader *ld, uint64_t gp, const uint8_t *gb)
{
    const gh_glayout *L = &ld->L;
    gh_goroutines *gs = ld->gs;
    uint32_t raw = (uint32_t)fld(gb, L->g_atomicstatus), status = raw & ~(uint32_t)GH_G_SCAN;
    if (status == GH_G_DEAD || (status == GH_G_DEADEXTRA && ld->minor >= 26)) {
        gs->ndead++;
        return 1;
    }
    size_t gi = gs->n;
    if (gh_grow(&gs->v, &ld->cap, gi + 1, sizeof *gs->v) ||
        gh_grow(&ld->pf_at, &ld->pf_at_cap, gi + 1, sizeof *ld->pf_at) ||
        gh_grow(&ld->fr_at, &ld->fr_at_cap, gi + 1, sizeof *ld->fr_at))
        return 0;
    gh_goroutine *g = &gs->v[gi];
    memset(g, 0, sizeof *g);
    gs->n++;
    size_t prev_pf = gi ? ld->pf_at[gi - 1] + gs->v[gi - 1].npframes : 0;
    size_t prev_fr = gi ? ld->fr_at[gi - 1] + gs->v[gi - 1].nframes : 0;
    ld->pf_at[gi] = prev_pf;
    ld->fr_at[gi] = prev_fr;
    g->g = gp;
    g->raw_status = raw;
    g->status = status;
    g->status_name = gh_gstatus_name(status, ld->minor);
    g->goid = (int64_t)fld(gb, L->g_goid);
    g->parent_goid = (int64_t)fld(gb, L->g_parentGoid);
    g->waitreason = (uint8_t)fld(gb, L->g_waitreason);
    g->waitsince = (int64_t)fld(gb, L->g_waitsince);
    g->wait_minutes = -1;
    if ((status == GH_G_WAITING || (status == GH_G_LEAKED && ld->minor >= 26)) && g->waitreason) {
        if (g->waitreason < ld->nreasons && ld->reasons[g->waitreason]) {
            g->wait_reason = ld->reasons[g->waitreason];
        } else {
            char buf[32];
            snprintf(buf, sizeof buf, "wait reason %u", g->waitreason);
            g->wait_reason = pool_str(ld, buf);
        }
    }
    g->stack_lo = fld(gb, L->g_stack_lo);
    g->stack_hi = fld(gb, L->g_stack_hi);
    g->m = fld(gb, L->g_m);
    g->gopc = fld(gb, L->g_gopc);
    g->startpc = fld(gb, L->g_startpc);
    g->ctxt = fld(gb, L->g_sched_ctxt);
    g->defer = fld(gb, L->g_defer);
    g->panic = fld(gb, L->g_panic);
    gh_err e;
    uint64_t procid;
    if (g->m && !gh_read_u64(ld->t, g->m + L->m_procid.offset, &procid, &e) && procid <= INT32_MAX)
        g->tid = (int)procid;
    creator(ld, g);
    labels(ld, g, fld(gb, L->g_labels));
    if (g->stack_lo >= g->stack_hi || g->stack_hi - g->stack_lo > (1ull << 30)) {
        /* lo == hi: no stack yet or any more; anything else the runtime
         * never leaves in a g (its stacks are at most 1 GB). */
        char why[160];
        if (g->stack_lo > g->stack_hi)
            snprintf(why, sizeof why, "corrupt stack bounds: stack.lo 0x%llx is above stack.hi 0x%llx",
                     (unsigned long long)g->stack_lo, (unsigned long long)g->stack_hi);
        else if (g->stack_lo < g->stack_hi)
            snprintf(why, sizeof why, "corrupt stack bounds: stack.lo 0x%llx to stack.hi 0x%llx is larger than "
                     "any Go stack", (unsigned long long)g->stack_lo, (unsigned long long)g->stack_hi);
        g->stop = pool_str(ld, g->stack_lo == g->stack_hi ? "no stack" : why);
        g->stack_corrupt = g->stack_lo != g->stack_hi;
        return !ld->oom;
    }
    gh_ustart st = {0};
    int ok = 0;
    if (status == GH_G_RUNNING && g->m)
        ok = running_start(ld, g, &st);
    uint64_t syscallsp = fld(gb, L->g_syscallsp);
    if (!ok && syscallsp) {
        st = (gh_ustart){fld(gb, L->g_syscallpc), syscallsp, 0, 1, 0};
        g->from = GH_FROM_SYSCALL;
        ok = 1;
    }
    if (!ok) {
        st = (gh_ustart){fld(gb, L->g_sched_pc), fld(gb, L->g_sched_sp), 0, 0,
                         L->g_sched_lr.size ? fld(gb, L->g_sched_lr) : 0};
        g->from = GH_FROM_SCHED;
        ok = st.pc || st.sp;
    }
    if (!ok) {
        g->from = GH_FROM_NONE;
        g->stop = pool_str(ld, "no saved context");
        return !ld->oom;
    }
    return walk(ld, g, gi, &st) && !ld->oom;
}

/* --- the time of the stop ---------------------------------------------- */

#define MAX_PS 65536 /* entries of runtime.allp read */

static void now_candidate(loader *ld, uint64_t addr, gh_field f, const char *what)
{
    uint64_t v;
    gh_err e;
    if (!addr || f.size != 8 || gh_read_u64(ld->t, addr + f.offset, &v, &e) || (int64_t)v <= ld->gs->now)
        return;
    ld->gs->now = (int64_t)v;
    ld->gs->now_source = what;
}

/* The latest nanotime() the runtime stored (see gh_goroutines.now): each
 * record is a past instant, so the newest is the best lower bound of the
 * time the target stopped. Records whose globals cannot be found (no
 * symbols) are left out. */
static void find_now(loader *ld)
{
    gh_goroutines *gs = ld->gs;
    const gh_runtime *rt = ld->rt;
    const gh_glayout *L = &ld->L;
    for (size_t i = 0; i < gs->n; i++) {
        if (gs->v[i].waitsince > gs->now) {
            gs->now = gs->v[i].waitsince;
            gs->now_source = "g.waitsince";
        }
    }
    /* work.tstart and work.tEnd add nothing: the GC sets waitsince to
     * tstart, and tEnd is last_gc_nanotime. */
    uint64_t sched = gh_runtime_sym(rt, "runtime.sched");
    now_candidate(ld, sched, L->sched_lastpoll, "runtime.sched.lastpoll");
    now_candidate(ld, sched, L->sched_procresizetime, "runtime.sched.procresizetime");
    now_candidate(ld, rt->memstats, L->mstats_last_gc_nanotime, "runtime.memstats.last_gc_nanotime");
    now_candidate(ld, gh_runtime_sym(rt, "runtime.gcCPULimiter"), L->limiter_lastUpdate,
                  "runtime.gcCPULimiter.lastUpdate");
    uint64_t allp = gh_runtime_sym(rt, "runtime.allp"), hdr[2];
    gh_err e;
    if (allp && !gh_read(ld->t, allp, hdr, sizeof hdr, &e)) {
        for (uint64_t i = 0; i < hdr[1] && i < MAX_PS; i++) {
            uint64_t p;
            if (gh_read_u64(ld->t, hdr[0] + 8 * i, &p, &e))
                break;
            now_candidate(ld, p, L->p_schedwhen, "runtime.allp[].sysmontick.schedwhen");
            now_candidate(ld, p, L->p_syscallwhen, "runtime.allp[].sysmontick.syscallwhen");
        }
    }
    for (size_t i = 0; gs->now > 0 && i < gs->n; i++)
        gs->v[i].wait_minutes = gh_wait_minutes(gs->v[i].status, gs->v[i].waitsince, gs->now);
}

/* --- all of them ------------------------------------------------------- */

/* runtime.waitReasonStrings, copied into the pool. */
static int read_reasons(loader *ld, gh_err *err)
{
    char **v;
    size_t n;
    int rc = gh_read_waitreasons(ld->rt, &v, &n, err);
    if (rc)
        return rc;
    ld->reasons = n ? (const char **)pool_alloc(ld->gs, n * sizeof *ld->reasons) : NULL;
    if (n && !ld->reasons)
        ld->oom = 1;
    for (size_t i = 0; ld->reasons && i < n; i++)
        ld->reasons[i] = v[i] ? pool_str(ld, v[i]) : NULL;
    ld->nreasons = ld->reasons ? n : 0;
    ld->gs->nwaitreasons = ld->nreasons;
    gh_free_waitreasons(v, n);
    return GH_OK;
}

static int by_goid(const void *a, const void *b)
{
    int64_t x = ((const gh_goroutine *)a)->goid, y = ((const gh_goroutine *)b)->goid;
    return (x > y) - (x < y);
}

void gh_goroutines_free(gh_goroutines *gs)
{
    if (!gs)
        return;
    for (chunk *c = gs->pool, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(gs->v);
    free(gs->pf);
    free(gs->fr);
    free(gs);
}

int gh_goroutines_load(const gh_runtime *rt, const gh_pclntab *tab, gh_cancel *cc, gh_goroutines **out,
                       gh_err *err)
{
    *out = NULL;
    int rc;
    loader ld = {.rt = rt, .cc = cc, .t = rt->t, .tab = tab, .minor = rt->ver.minor};
    gh_goroutines *gs = calloc(1, sizeof *gs);
    if (!gs)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    ld.gs = gs;
    if ((rc = gh_glayout_resolve(rt, &ld.L, gs->layout_source, sizeof gs->layout_source, err)) ||
        (rc = gh_find_allgs(rt, &ld.L, &gs->allgs, gs->allgs_source, sizeof gs->allgs_source, err)) ||
        (rc = read_reasons(&ld, err)))
        goto done;
    if (!ld.nreasons)
        note(&ld, "runtime.waitReasonStrings not found: wait reasons are shown by number");
    if (rt->t->ops->threads)
        rt->t->ops->threads(rt->t->ctx, &ld.threads, &ld.nthreads);
    uint64_t hdr[3];
    if ((rc = gh_read(rt->t, gs->allgs, hdr, sizeof hdr, err))) {
        gh_err_wrap(err, "runtime.allgs");
        goto done;
    }
    uint64_t len = hdr[1];
    uint64_t allglen = getenv("GOHEAP_DISCOVER") ? 0 : gh_runtime_sym(rt, "runtime.allglen"), n2;
    if (allglen && !gh_read_u64(rt->t, allglen, &n2, NULL) && n2 < len)
        len = n2; /* the runtime publishes allglen after the element */
    if (len > hdr[2] || len > (1u << 24)) {
        rc = gh_errorf(err, GH_EFORMAT, "runtime.allgs has implausible length %llu (cap %llu)", (ull)hdr[1],
                       (ull)hdr[2]);
        goto done;
    }
    uint64_t *gps = malloc((len ? len : 1) * 8);
    uint8_t *gb = malloc(ld.L.g_size);
    ld.scratch = malloc(MAX_FRAMES * sizeof *ld.scratch);
    ld.sigscratch = malloc(MAX_SIGFRAMES * sizeof *ld.sigscratch);
    if (!gps || !gb || !ld.scratch || !ld.sigscratch) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    } else if ((rc = gh_read(rt->t, hdr[0], gps, len * 8, err))) {
        gh_err_wrap(err, "runtime.allgs (%llu goroutines)", (ull)len);
    } else {
        gs->nall = len;
        for (uint64_t i = 0; i < len && !rc; i++) {
            if (gh_cancelled(cc)) {
                rc = gh_errorf(err, GH_EINTR, "interrupted");
                break;
            }
            gh_err e;
            if (!gps[i] || gh_read(rt->t, gps[i], gb, ld.L.g_size, &e)) {
                note(&ld, "allgs[%llu] = 0x%llx is not readable", (ull)i, (ull)gps[i]);
                continue;
            }
            if (!load_one(&ld, gps[i], gb))
                rc = gh_errorf(err, GH_ENOMEM, "out of memory for goroutines");
        }
    }
    free(gps);
    free(gb);
    if (!rc) {
        for (size_t i = 0; i < gs->n; i++) {
            gh_goroutine *g = &gs->v[i];
            g->pframes = g->npframes ? gs->pf + ld.pf_at[i] : NULL;
            g->frames = g->nframes ? gs->fr + ld.fr_at[i] : NULL;
            if (g->system)
                gs->nsystem++;
            else
                gs->nuser++;
        }
        /* allgs is in creation order, but reuses the gs of dead goroutines:
         * listings are by id, as Delve's. Frames are pointers: they move along. */
        if (gs->n > 1) /* qsort's array may not be NULL, even empty */
            qsort(gs->v, gs->n, sizeof *gs->v, by_goid);
        find_now(&ld);
    }
done:
    free(ld.scratch);
    free(ld.sigscratch);
    free(ld.pf_at);
    free(ld.fr_at);
    gh_hmap_free(&ld.names);
    if (!rc && ld.oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for goroutines");
    if (rc) {
        gh_goroutines_free(gs);
        return rc;
    }
    *out = gs;
    return GH_OK;
}
