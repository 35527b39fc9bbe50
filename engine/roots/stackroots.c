/* Goroutine stacks as GC roots, scanned the way runtime.scanstack does:
 * every frame's live pointer words from its stack maps (locals below varp,
 * arguments from argp) at the frame's continuation pc; asyncPreempt and
 * debugCall frames and the frame they interrupted conservatively; stack
 * objects (address-taken variables) only when a pointer into the stack
 * reaches them; sched.ctxt, defer records and the panic; and the registers
 * of goroutines stopped mid-instruction (a thread's or a signal's context),
 * whose innermost frame is scanned conservatively too. Regions are split
 * per DWARF variable where the binary has DWARF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "dwarf/dwarfvars.h"
#include "rtype/gcprog.h"
#include "roots/roots.h"
#include "dwarf/framevars.h"
#include "goroutine/goroutine_int.h"
#include "goroutine/unwind.h"

#define ARGS_SIZE_UNKNOWN INT32_MIN /* abi.ArgsSizeUnknown */
#define MAX_STACKMAP_BITS (1u << 24) /* a frame of 128 MiB */
#define MAX_STACK_OBJECTS 65536       /* records of one function */
#define MAX_DEFERS 10000

typedef unsigned long long ull;

enum { R_LOCALS, R_ARGS, R_FRAME, R_OBJECT };

/* A region of one frame waiting to be emitted. mask_at indexes sc.masks;
 * conservative regions have none. */
typedef struct region {
    uint64_t addr, nwords;
    size_t mask_at;
    uint8_t conservative, kind;
    uint32_t pframe;
} region;

typedef struct sobj {
    uint64_t base, size, ptrdata, gcdata;
    uint32_t pframe;
    uint8_t gcprog, reached;
} sobj;

typedef struct sctx {
    const gh_roots_env *env;
    const gh_target *t;
    const gh_pclntab *tab;
    gh_roots *rs;
    gh_dwarf_vars *dv;    /* types of variables (rtype), may be NULL */
    gh_framevars *fv;     /* variables at a pc, may be NULL */
    int minor;
    uint64_t rodata;
    region *reg;
    size_t nreg, capreg;
    sobj *obj;
    size_t nobj, capobj;
    uint8_t *masks;
    size_t nmasks, capmasks;
    uint64_t *ptrs; /* values pointing into the goroutine's stack */
    size_t nptrs, capptrs;
    uint64_t *words;
    size_t capwords;
    int *owner;
    size_t capowner;
    uint8_t *sub;
    size_t capsub;
    size_t incomplete, unreadable, nomap;
    char first_incomplete[300];
    gh_gptrs *out; /* one goroutine's pointer words (gh_goroutine_pointers), or NULL */
    int oom;
} sctx;

/* Room for need elements in *v (a T **), or 0 with sc->oom set. */
static int want(sctx *sc, void *v, size_t *cap, size_t need, size_t elem)
{
    if (gh_grow(v, cap, need, elem)) {
        sc->oom = 1;
        return 0;
    }
    return 1;
}

static int push_ptr(sctx *sc, uint64_t v)
{
    void *p = sc->ptrs;
    if (!want(sc, &p, &sc->capptrs, sc->nptrs + 1, sizeof *sc->ptrs))
        return 0;
    sc->ptrs = p;
    sc->ptrs[sc->nptrs++] = v;
    return 1;
}

/* Room for a bitmap of nbits, returned as an index into sc->masks. */
static int new_mask(sctx *sc, uint64_t nbits, size_t *at)
{
    size_t bytes = (size_t)((nbits + 7) / 8);
    void *p = sc->masks;
    if (!want(sc, &p, &sc->capmasks, sc->nmasks + bytes, 1))
        return 0;
    sc->masks = p;
    *at = sc->nmasks;
    memset(sc->masks + *at, 0, bytes);
    sc->nmasks += bytes;
    return 1;
}

static int add_region(sctx *sc, uint64_t addr, uint64_t nwords, size_t mask_at, int conservative, int kind,
                      uint32_t pframe)
{
    if (!nwords)
        return 1;
    void *p = sc->reg;
    if (!want(sc, &p, &sc->capreg, sc->nreg + 1, sizeof *sc->reg))
        return 0;
    sc->reg = p;
    sc->reg[sc->nreg++] = (region){addr, nwords, mask_at, (uint8_t)conservative, (uint8_t)kind, pframe};
    return 1;
}

static int bit(const uint8_t *m, uint64_t i) { return m[i >> 3] >> (i & 7) & 1; }

/* Bitmap i of a runtime.stackmap {n int32, nbit int32, bytedata}: *nbit 0
 * when the map has no pointers. Returns 0 with a note when it is missing or
 * does not cover index. */
static int stackmap(sctx *sc, uint64_t addr, int32_t index, const char *what, const char *fname, uint64_t maxbits,
                    uint64_t *nbit, size_t *mask_at)
{
    *nbit = 0;
    int32_t hdr[2];
    gh_err e;
    if (!addr || gh_read(sc->t, addr, hdr, sizeof hdr, &e)) {
        gh_roots_note(sc->rs, "%s has no readable %s stack map: that part of its frames is not scanned", fname, what);
        sc->nomap++;
        return 0;
    }
    if (hdr[1] == 0)
        return 1;
    if (hdr[0] <= 0 || index < 0 || index >= hdr[0] || hdr[1] < 0 || (uint64_t)hdr[1] > maxbits ||
        (uint64_t)hdr[1] > MAX_STACKMAP_BITS) {
        gh_roots_note(sc->rs, "%s: %s stack map %d of %d (%d bits) does not fit its frame: not scanned", fname, what,
                      index, hdr[0], hdr[1]);
        sc->nomap++;
        return 0;
    }
    uint64_t bytes = ((uint64_t)hdr[1] + 7) / 8;
    if (!new_mask(sc, (uint64_t)hdr[1], mask_at))
        return 0;
    if (gh_read(sc->t, addr + 8 + (uint64_t)index * bytes, sc->masks + *mask_at, bytes, &e)) {
        gh_roots_note(sc->rs, "%s: %s stack map at 0x%llx is not readable", fname, what, (ull)addr);
        sc->nomap++;
        return 0;
    }
    *nbit = (uint64_t)hdr[1];
    return 1;
}

/* The stack object records of one frame (runtime.stackObjectRecord). */
static void stack_objects(sctx *sc, const gh_pframe *f, uint32_t pi, const char *fname)
{
    uint64_t p;
    gh_err e;
    if (gh_func_funcdata(sc->tab, &f->fn, GH_FUNCDATA_STACKOBJECTS, &p, &e) || !p)
        return;
    uint64_t n;
    if (gh_read_u64(sc->t, p, &n, &e) || n > MAX_STACK_OBJECTS) {
        gh_roots_note(sc->rs, "%s: stack object records at 0x%llx are not readable", fname, (ull)p);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        int32_t rec[4];
        if (gh_read(sc->t, p + 8 + 16 * i, rec, sizeof rec, &e)) {
            gh_roots_note(sc->rs, "%s: stack object record %llu is not readable", fname, (ull)i);
            return;
        }
        int64_t ptrdata = rec[2];
        int gcprog = 0;
        if (ptrdata < 0 && sc->minor <= 23) {
            gcprog = 1; /* Go 1.22-1.23: a GC program instead of a mask */
            ptrdata = -ptrdata;
        }
        if (rec[1] <= 0 || ptrdata < 0 || ptrdata > rec[1])
            continue;
        uint64_t base = rec[0] < 0 ? f->varp : f->argp;
        uint64_t at = base + (uint64_t)(int64_t)rec[0];
        if (at < f->sp)
            continue; /* not allocated in the frame yet */
        void *v = sc->obj;
        if (!want(sc, &v, &sc->capobj, sc->nobj + 1, sizeof *sc->obj))
            return;
        sc->obj = v;
        sc->obj[sc->nobj++] = (sobj){at, (uint64_t)rec[1], (uint64_t)ptrdata, sc->rodata + (uint32_t)rec[3], pi,
                                     (uint8_t)gcprog, 0};
    }
}

static int is_injected(const gh_pframe *f)
{
    return f->fn.id == GH_FUNCID_ASYNCPREEMPT || f->fn.id == GH_FUNCID_DEBUGCALLV2;
}

/* One frame's regions (runtime.scanframeworker). */
static void scan_frame(sctx *sc, const gh_goroutine *g, uint32_t i)
{
    const gh_pframe *f = &g->pframes[i];
    const char *fname = gh_func_name(sc->tab, &f->fn);
    int injected = is_injected(f) || (i > 0 && is_injected(&g->pframes[i - 1]));
    int conservative = injected || (i == 0 && (g->from == GH_FROM_THREAD || g->from == GH_FROM_SIGNAL));
    if (conservative) {
        if (f->varp > f->sp)
            add_region(sc, f->sp, (f->varp - f->sp) / 8, 0, 1, R_FRAME, i);
        uint64_t nbit, addr = 0;
        size_t mask;
        gh_err e;
        /* A frame stopped mid-instruction in an assembly function (no
         * PCDATA at all; ABI0 with the argument map the linker made from its
         * Go declaration, valid at every pc) has its arguments scanned with
         * that map: stale result words of a system call in progress
         * (Syscall6 on arm64) are not pointers to the GC. */
        if (!injected && f->fn.args > 0 && f->fn.npcdata == 0 &&
            !gh_func_funcdata(sc->tab, &f->fn, GH_FUNCDATA_ARGSPOINTERMAPS, &addr, &e) && addr) {
            /* The map covers every word the arguments touch: a 28-byte
             * argument area (write1's three arguments and int32 result) is
             * four words. */
            if (stackmap(sc, addr, 0, "argument", fname, ((uint64_t)f->fn.args + 7) / 8, &nbit, &mask)) {
                if (nbit)
                    add_region(sc, f->argp, nbit, mask, 0, R_ARGS, i);
                return;
            }
        }
        if (f->fn.args > 0)
            add_region(sc, f->argp, (uint64_t)f->fn.args / 8, 0, 1, R_ARGS, i);
        return;
    }
    if (!f->continpc)
        return; /* dead: stopped by a fault it will not return from */
    uint64_t target = f->continpc;
    int32_t idx = -1;
    gh_err e;
    if (target != f->fn.entry) {
        target--;
        if (gh_func_pcdata(sc->tab, &f->fn, GH_PCDATA_STACKMAPINDEX, target, &idx, &e))
            idx = -1;
    }
    if (idx == -1)
        idx = 0; /* the prologue: assume the entry map, as the runtime does */
    uint64_t nbit, addr;
    size_t mask;
    /* runtime.getStackMap: locals only when the frame holds more than
     * sys.MinFrameSize bytes below varp (sys.StackAlign on arm64). */
    if (f->varp > f->sp && f->varp - f->sp > sc->env->rt->arch->locals_minsize) {
        gh_func_funcdata(sc->tab, &f->fn, GH_FUNCDATA_LOCALSPOINTERMAPS, &addr, &e);
        if (stackmap(sc, addr, idx, "locals", fname, (f->varp - f->sp) / 8, &nbit, &mask) && nbit)
            add_region(sc, f->varp - 8 * nbit, nbit, mask, 0, R_LOCALS, i);
    }
    if (f->fn.args == ARGS_SIZE_UNKNOWN) {
        /* reflect.makeFuncStub and methodValueCall: their argument size is
         * only known from the call; scanned conservatively instead. */
        if (f->varp > f->sp)
            add_region(sc, f->sp, (f->varp - f->sp) / 8, 0, 1, R_FRAME, i);
        gh_roots_note(sc->rs, "%s has a variable argument frame: its frame is scanned conservatively", fname);
        return;
    }
    if (f->fn.args >= 8) {
        gh_func_funcdata(sc->tab, &f->fn, GH_FUNCDATA_ARGSPOINTERMAPS, &addr, &e);
        if (stackmap(sc, addr, idx, "argument", fname, (uint64_t)f->fn.args / 8, &nbit, &mask) && nbit)
            add_region(sc, f->argp, nbit, mask, 0, R_ARGS, i);
    }
    stack_objects(sc, f, i, fname);
}

/* Reads region words into sc->words; 0 when unreadable. */
static int read_words(sctx *sc, uint64_t addr, uint64_t nwords)
{
    void *p = sc->words;
    if (!want(sc, &p, &sc->capwords, nwords, 8))
        return 0;
    sc->words = p;
    gh_err e;
    return gh_read(sc->t, addr, sc->words, nwords * 8, &e) == GH_OK;
}

static void collect_ptrs(sctx *sc, const region *r, const gh_goroutine *g)
{
    if (!read_words(sc, r->addr, r->nwords))
        return;
    for (uint64_t w = 0; w < r->nwords; w++) {
        uint64_t v = sc->words[w];
        if (v >= g->stack_lo && v < g->stack_hi && (r->conservative || bit(sc->masks + r->mask_at, w)))
            push_ptr(sc, v);
    }
}

static int cmp_obj(const void *a, const void *b)
{
    const sobj *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

static sobj *obj_at(sctx *sc, uint64_t p)
{
    size_t lo = 0, hi = sc->nobj;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sc->obj[mid].base <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return NULL;
    sobj *o = &sc->obj[lo - 1];
    return p < o->base + o->size ? o : NULL;
}

/* The pointer mask of a stack object into sc->masks. */
static int object_mask(sctx *sc, const sobj *o, size_t *at)
{
    uint64_t nbits = o->ptrdata / 8;
    if (!new_mask(sc, nbits, at))
        return 0;
    gh_err e;
    if (!o->gcprog)
        return gh_read(sc->t, o->gcdata, sc->masks + *at, (size_t)((nbits + 7) / 8), &e) == GH_OK;
    uint32_t len;
    if (gh_read_u32(sc->t, o->gcdata, &len, &e) || len > (1u << 20))
        return 0;
    uint8_t *prog = malloc(len ? len : 1);
    uint64_t got = 0;
    int ok = prog && !gh_read(sc->t, o->gcdata + 4, prog, len, &e) &&
             !gh_gcprog_run(prog, len, sc->masks + *at, nbits, &got, &e);
    free(prog);
    return ok;
}

/* Stack objects a pointer into the stack reaches, transitively
 * (runtime.scanstack's stack object walk): they become regions. */
static void reach_objects(sctx *sc, const gh_goroutine *g)
{
    if (!sc->nobj)
        return;
    qsort(sc->obj, sc->nobj, sizeof *sc->obj, cmp_obj);
    for (size_t k = 0; k < sc->nptrs && k < (1u << 24); k++) {
        sobj *o = obj_at(sc, sc->ptrs[k]);
        if (!o || o->reached || !o->ptrdata)
            continue;
        o->reached = 1;
        size_t at;
        if (!object_mask(sc, o, &at)) {
            gh_roots_note(sc->rs, "a stack object's pointer mask at 0x%llx is not readable", (ull)o->gcdata);
            continue;
        }
        region r = {o->base, o->ptrdata / 8, at, 0, R_OBJECT, o->pframe};
        if (!add_region(sc, r.addr, r.nwords, at, 0, R_OBJECT, o->pframe))
            return;
        collect_ptrs(sc, &r, g); /* may grow sc->ptrs: the loop reads it by index */
    }
}

/* --- emission, per DWARF variable ------------------------------------ */

static void record(sctx *sc, uint32_t pframe, const char *name, uint64_t var_addr, uint64_t addr, uint64_t value,
                   int conservative)
{
    gh_gptrs *o = sc->out;
    void *p = o->v;
    if (!want(sc, &p, &o->cap, o->n + 1, sizeof *o->v))
        return;
    o->v = p;
    o->v[o->n++] = (gh_gptr){pframe, name, var_addr, addr, value, (uint8_t)conservative};
}

/* The pointer words of one root of frame pframe into sc->out. */
static void record_root(sctx *sc, const gh_root *root, uint32_t pframe, uint64_t var_addr)
{
    uint64_t n = root->size / 8;
    if (!read_words(sc, root->addr, n)) {
        gh_roots_note(sc->rs, "stack words at 0x%llx are not readable", (ull)root->addr);
        return;
    }
    for (uint64_t w = 0; w < n; w++)
        if (root->conservative || !root->mask || bit(root->mask, w))
            record(sc, pframe, root->variable, var_addr, root->addr + 8 * w, sc->words[w], root->conservative);
}

static void emit(sctx *sc, const gh_goroutine *g, const region *r, uint64_t w0, uint64_t w1, const uint8_t *mask,
                 const char *fname, const gh_fvar *var)
{
    gh_root root = {.kind = GH_ROOT_STACK, .conservative = r->conservative, .addr = r->addr + 8 * w0,
                    .size = 8 * (w1 - w0), .goid = g->goid, .function = fname};
    if (!r->conservative) {
        void *p = sc->sub;
        if (!want(sc, &p, &sc->capsub, (size_t)((w1 - w0 + 7) / 8), 1))
            return;
        sc->sub = p;
        memset(sc->sub, 0, (size_t)((w1 - w0 + 7) / 8));
        for (uint64_t w = w0; w < w1; w++)
            if (bit(mask, w))
                sc->sub[(w - w0) >> 3] |= (uint8_t)(1u << ((w - w0) & 7));
        root.mask = sc->sub;
    }
    uint64_t var_addr = 0;
    if (var) {
        root.variable = var->name;
        var_addr = g->pframes[r->pframe].fp + (uint64_t)var->cfa_off;
        /* Typed only when the root starts where the whole variable does: a
         * piece (one word of a split string or slice) is not the type. */
        gh_dtype dt;
        gh_err e;
        if (var->whole && var->type && root.addr == var_addr) {
            root.dwarf_type = var->type;
            if (sc->dv && gh_dwarf_type(sc->dv, var->type, &dt, &e) == GH_OK)
                root.rtype = dt.rtype;
        }
    }
    if (sc->out) {
        record_root(sc, &root, r->pframe, var_addr);
        return;
    }
    gh_err e;
    if (gh_roots_add(sc->rs, &root, &e) == GH_ENOMEM)
        sc->oom = 1;
}

static int counts(const region *r, const uint8_t *mask, uint64_t w)
{
    return r->conservative || bit(mask, w);
}

/* Splits a region by the frame's DWARF variables: each word belongs to the
 * first variable whose slot covers it (Go can give non-overlapping
 * variables one slot), and each run of words with one owner that holds
 * pointer words becomes a root, named by its variable or unnamed (NULL). */
static void emit_region(sctx *sc, const gh_goroutine *g, const region *r)
{
    const gh_pframe *f = &g->pframes[r->pframe];
    char fname[512];
    gh_funcname_for_print(gh_func_name(sc->tab, &f->fn), fname, sizeof fname);
    const gh_fvar *vars = NULL;
    size_t nvars = 0;
    gh_framevars_at(sc->fv, gh_pframe_sympc(f), &vars, &nvars);
    void *p = sc->owner;
    if (!want(sc, &p, &sc->capowner, (size_t)r->nwords, sizeof *sc->owner))
        return;
    sc->owner = p;
    for (uint64_t w = 0; w < r->nwords; w++)
        sc->owner[w] = -1;
    uint64_t lo = r->addr, hi = r->addr + 8 * r->nwords;
    for (size_t v = 0; v < nvars && v < INT32_MAX; v++) {
        uint64_t a = f->fp + (uint64_t)vars[v].cfa_off, b = a + vars[v].size;
        if (vars[v].size < 8 || a % 8 || b <= lo || a >= hi)
            continue; /* pointers are whole, aligned words */
        uint64_t w0 = (a > lo ? a - lo : 0) / 8, w1 = ((b < hi ? b : hi) - lo) / 8;
        for (uint64_t w = w0; w < w1; w++)
            if (sc->owner[w] < 0)
                sc->owner[w] = (int)v;
    }
    const uint8_t *mask = r->conservative ? NULL : sc->masks + r->mask_at;
    for (uint64_t w = 0; w < r->nwords;) {
        int who = sc->owner[w];
        uint64_t end = w, first = UINT64_MAX, last = 0;
        for (; end < r->nwords && sc->owner[end] == who; end++) {
            if (counts(r, mask, end)) {
                if (first == UINT64_MAX)
                    first = end;
                last = end;
            }
        }
        if (first != UINT64_MAX)
            emit(sc, g, r, first, last + 1, mask, fname, who >= 0 ? &vars[who] : NULL);
        w = end;
    }
}

#define MAX_GPRS 32 /* of any architecture (gh_arch.gprs) */

/* A pseudo-variable root: one word of runtime state, or register values. */
static void emit_word(sctx *sc, const gh_goroutine *g, uint64_t addr, const uint64_t *values, uint64_t nwords,
                      const char *fname, const char *what, int conservative)
{
    gh_root root = {.kind = GH_ROOT_STACK, .conservative = (uint8_t)conservative, .addr = addr, .size = 8 * nwords,
                    .values = values, .goid = g->goid, .function = fname, .variable = what};
    if (sc->out) {
        uint64_t v;
        gh_err e;
        const gh_arch *a = sc->env->rt->arch;
        for (uint64_t k = 0; values && k < nwords && k < a->ngprs; k++)
            record(sc, GH_GPTR_NOFRAME, a->reg_names[a->gprs[k]], 0, 0, values[k], conservative);
        if (!values && !gh_read_u64(sc->t, addr, &v, &e))
            record(sc, GH_GPTR_NOFRAME, what, 0, addr, v, conservative);
        return;
    }
    gh_err e;
    if (gh_roots_add(sc->rs, &root, &e) == GH_ENOMEM)
        sc->oom = 1;
}

static const char *top_function(const gh_goroutine *g) { return g->nframes ? g->frames[0].function : "?"; }

/* sched.ctxt, the defer chain and the panic (runtime.scanstack): with emit
 * 0 their pointers into the stack are collected (stack objects they keep),
 * with 1 the words become roots. */
static void runtime_words(sctx *sc, const gh_goroutine *g, const gh_glayout *L, int emit)
{
    gh_err e;
    if (g->ctxt) {
        if (emit)
            emit_word(sc, g, g->g + L->g_sched_ctxt.offset, NULL, 1, top_function(g), "(closure context)", 0);
        else if (g->ctxt >= g->stack_lo && g->ctxt < g->stack_hi)
            push_ptr(sc, g->ctxt);
    }
    uint64_t d = g->defer;
    for (int n = 0; d && n < MAX_DEFERS; n++) {
        uint64_t fn = 0, link = 0, pc = 0;
        if (gh_read_u64(sc->t, d + L->d_fn.offset, &fn, &e) || gh_read_u64(sc->t, d + L->d_link.offset, &link, &e) ||
            gh_read_u64(sc->t, d + L->d_pc.offset, &pc, &e)) {
            gh_roots_note(sc->rs, "goroutine %lld: defer record at 0x%llx is not readable", (long long)g->goid,
                          (ull)d);
            break;
        }
        char fname[512] = "?";
        gh_func f;
        if (emit && pc && !gh_func_find(sc->tab, pc, &f, &e))
            gh_funcname_for_print(gh_func_name(sc->tab, &f), fname, sizeof fname);
        if (emit) {
            if (fn)
                emit_word(sc, g, d + L->d_fn.offset, NULL, 1, fname, "(defer)", 0);
            if (link)
                emit_word(sc, g, d + L->d_link.offset, NULL, 1, fname, "(defer)", 0);
        } else {
            if (fn >= g->stack_lo && fn < g->stack_hi)
                push_ptr(sc, fn); /* a closure on the stack */
            if (link >= g->stack_lo && link < g->stack_hi)
                push_ptr(sc, link);
        }
        d = link;
    }
    if (!emit && g->panic >= g->stack_lo && g->panic < g->stack_hi)
        push_ptr(sc, g->panic); /* panics live on the stack: keep their stack object */
}

static void scan_goroutine(sctx *sc, const gh_goroutine *g, const gh_glayout *L)
{
    sc->nreg = sc->nobj = sc->nmasks = sc->nptrs = 0;
    if (g->stop) {
        if (!sc->incomplete++)
            snprintf(sc->first_incomplete, sizeof sc->first_incomplete, "goroutine %lld: %s", (long long)g->goid,
                     g->stop);
    }
    for (uint32_t i = 0; i < g->npframes; i++)
        scan_frame(sc, g, i);
    for (size_t r = 0; r < sc->nreg; r++)
        collect_ptrs(sc, &sc->reg[r], g);
    const gh_arch *a = sc->env->rt->arch;
    size_t ngprs = a->ngprs < MAX_GPRS ? a->ngprs : MAX_GPRS;
    uint64_t regs[MAX_GPRS];
    if (g->has_regs) {
        for (size_t k = 0; k < ngprs; k++) {
            regs[k] = g->regs[a->gprs[k]];
            if (regs[k] >= g->stack_lo && regs[k] < g->stack_hi)
                push_ptr(sc, regs[k]);
        }
    }
    runtime_words(sc, g, L, 0);
    reach_objects(sc, g);
    /* Frames first: a marker that keeps the first root to reach an object
     * names the variable rather than a register or a runtime word. */
    for (size_t r = 0; r < sc->nreg && !sc->oom; r++)
        emit_region(sc, g, &sc->reg[r]);
    runtime_words(sc, g, L, 1);
    if (g->has_regs)
        emit_word(sc, g, 0, regs, ngprs, top_function(g), "(registers)", 1);
}

/* What scanning needs besides the goroutines: the function table, the
 * layouts, and DWARF variables where the binary has them. */
static int sctx_init(const gh_roots_env *env, sctx *sc, gh_roots *rs, gh_glayout *L, gh_err *err)
{
    const gh_runtime *rt = env->rt;
    *sc = (sctx){.env = env, .t = rt->t, .rs = rs, .minor = rt->ver.minor};
    char src[96];
    int rc;
    if (!env->tab)
        return gh_errorf(err, GH_EFORMAT, "%s", env->tab_error ? env->tab_error : "no function table");
    if ((rc = gh_glayout_resolve(rt, L, src, sizeof src, err)))
        return rc;
    sc->tab = env->tab;
    sc->rodata = gh_pclntab_md(env->tab)->rodata;
    /* Without dv, variables are still named, their types not resolved to runtime types. */
    sc->dv = env->dv;
    sc->fv = gh_framevars_new(rt->dwarf ? rt->dwarf : gh_exe_dwarf(rt->exe), rt->bias);
    return GH_OK;
}

static void sctx_free(sctx *sc)
{
    free(sc->reg);
    free(sc->obj);
    free(sc->masks);
    free(sc->ptrs);
    free(sc->words);
    free(sc->owner);
    free(sc->sub);
    gh_framevars_free(sc->fv);
}

int gh_roots_stacks(const gh_roots_env *env, gh_roots *rs, gh_err *err)
{
    gh_goroutines *gs;
    int rc = env->tab ? gh_goroutines_load(env->rt, env->tab, env->cc, &gs, err)
                      : gh_errorf(err, GH_EFORMAT, "%s", env->tab_error ? env->tab_error : "no function table");
    if (rc == GH_ENOMEM || rc == GH_EINTR)
        return rc;
    if (rc) {
        gh_roots_note(rs, "goroutine stacks are not scanned: %s", err->msg);
        gh_err_clear(err);
        return GH_OK;
    }
    sctx sc;
    gh_glayout L;
    if ((rc = sctx_init(env, &sc, rs, &L, err))) {
        sctx_free(&sc);
        gh_goroutines_free(gs);
        return rc;
    }
    for (size_t i = 0; i < gs->nnotes; i++)
        gh_roots_note(rs, "%s", gs->notes[i]);
    for (size_t i = 0; i < gs->n && !sc.oom; i++) {
        if (gh_cancelled(env->cc)) {
            rc = gh_errorf(err, GH_EINTR, "interrupted");
            break;
        }
        scan_goroutine(&sc, &gs->v[i], &L);
    }
    if (sc.incomplete)
        gh_roots_note(rs, "the stacks of %zu goroutines could not be walked to their end, their outer frames are not "
                          "scanned (first: %s)",
                      sc.incomplete, sc.first_incomplete);
    if (!rc && sc.oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for stack roots");
    sctx_free(&sc);
    gh_goroutines_free(gs);
    return rc;
}

/* --- one goroutine's pointer words ------------------------------------- */

void gh_gptrs_free(gh_gptrs *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nnotes; i++)
        free(p->notes[i]);
    free(p->notes);
    free(p->v);
    free(p);
}

static int cmp_gptr(const void *a, const void *b)
{
    const gh_gptr *x = a, *y = b;
    if (x->pframe != y->pframe)
        return x->pframe < y->pframe ? -1 : 1;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int gh_goroutine_pointers(const gh_roots_env *env, const gh_goroutine *g, gh_gptrs **out, gh_err *err)
{
    *out = NULL;
    gh_gptrs *p = calloc(1, sizeof *p);
    gh_roots *rs = gh_roots_new(); /* only for the notes scanning makes */
    if (!p || !rs) {
        free(p);
        gh_roots_free(rs);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    sctx sc;
    gh_glayout L;
    int rc = sctx_init(env, &sc, rs, &L, err);
    if (!rc) {
        sc.out = p;
        scan_goroutine(&sc, g, &L);
        if (sc.incomplete)
            gh_roots_note(rs, "the stack could not be walked to its end (%s): its outer frames are not scanned",
                          g->stop);
        size_t k = 0;
        while (k < p->n && p->v[k].pframe != GH_GPTR_NOFRAME)
            k++;
        if (k > 1)
            qsort(p->v, k, sizeof *p->v, cmp_gptr); /* frame words; the others keep their order */
        size_t nn = gh_roots_nnotes(rs);
        p->notes = nn ? calloc(nn, sizeof *p->notes) : NULL;
        for (size_t i = 0; p->notes && i < nn; i++)
            if ((p->notes[i] = strdup(gh_roots_get_note(rs, i))))
                p->nnotes++;
        if (sc.oom || (nn && p->nnotes < nn))
            rc = gh_errorf(err, GH_ENOMEM, "out of memory for stack pointers");
    }
    sctx_free(&sc);
    gh_roots_free(rs);
    if (rc) {
        gh_gptrs_free(p);
        return rc;
    }
    *out = p;
    return GH_OK;
}
