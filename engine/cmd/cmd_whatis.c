/* whatis ADDR: what an address is — inside a heap object (which slot, how
 * big, allocated or free, its type when the allocator recorded one), in a
 * stack span, or in the executable's data. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/objdesc.h"
#include "cmd/render.h"
#include "heap/coverage.h"
#include "heap/heapscan.h"
#include "rtype/typename.h"

#define MAX_LISTED 4096

typedef struct ptrlist {
    uint64_t data, n, off[MAX_LISTED];
} ptrlist;

static int collect(void *ctx, uint64_t word, uint64_t value)
{
    ptrlist *l = ctx;
    if (l->n < MAX_LISTED)
        l->off[l->n] = word - l->data;
    l->n++;
    return 0;
}

/* The type the allocator recorded for an object: the malloc header of a
 * pointerful object over 512 bytes in a small span, mspan.largeType of a
 * large one. Small and noscan objects record none: 0, and nothing is said. */
typedef struct objtype {
    uint64_t addr;      /* *abi.Type, 0 when none is recorded */
    const char *source; /* "malloc header" or "largeType" */
    char name[1024];
    char full[1024]; /* with import paths, "" unknown */
    int rc;
    gh_err err;
} objtype;

static void object_type(gh_session *s, const gh_obj *o, objtype *ty)
{
    const gh_span *sp = o->span;
    ty->addr = 0;
    ty->rc = GH_OK;
    gh_objlayout layout = gh_span_layout(sp);
    ty->source = layout == GH_LAYOUT_HEADER ? "malloc header" : "largeType";
    if (gh_heap_obj_type(s->heap, o, &ty->addr, &ty->err) != GH_OK)
        ty->addr = 0; /* unreadable header: say nothing rather than guess */
    if (!ty->addr)
        return; /* none recorded, or not yet published (caught mid-allocation) */
    gh_typenames *tn;
    if ((ty->rc = gh_session_typenames(s, &tn, &ty->err)) == GH_OK) {
        ty->rc = gh_typename(tn, ty->addr, ty->name, sizeof ty->name, &ty->err);
        const char *full;
        if (ty->rc == GH_OK && gh_typename_full_ref(tn, ty->addr, &full, NULL) == GH_OK)
            snprintf(ty->full, sizeof ty->full, "%s", full);
    } else {
        snprintf(ty->name, sizeof ty->name, "unknown<type 0x%" PRIx64 ">", ty->addr);
    }
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr;
    int rc = gh_cmd_addr(s, a->pos[0], "whatis", &addr, err);
    if (rc)
        return rc;
    gh_heap *h;
    if ((rc = gh_session_heap(s, &h, err)))
        return rc;
    /* The object graph types the object as paths and objects do; without
     * it (a target it cannot be built on) the allocator's record still does. */
    gh_graph *g = NULL;
    gh_err gerr;
    if (gh_heap_find(h, addr, &(gh_obj){0}) && (rc = gh_session_graph(s, &g, &gerr))) {
        if (rc == GH_EINTR)
            return gh_errorf(err, rc, "%s", gerr.msg);
        g = NULL;
    }
    const gh_span *sp = gh_heap_span_of(h, addr);
    gh_obj o = {0};
    int found = gh_heap_find(h, addr, &o);
    const char *kind = "unknown";
    const gh_sym *sym = NULL;
    if (found)
        kind = "heap";
    else if (sp && sp->state == GH_SPAN_MANUAL)
        kind = "stack";
    else if (sp)
        kind = "heap-free";
    else if ((sym = gh_exe_sym_at(s->exe, addr - s->rt.bias)))
        kind = "global";
    else if (gh_heap_cov_missing(h, addr))
        kind = "heap-missing"; /* a truncated core lost what would say */
    objtype ty = {0};
    gh_objdesc d = {0};
    if (found) {
        object_type(s, &o, &ty);
        gh_objdesc_get(s, g, &o, addr, &d);
    }
    if (a->val[0]) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_kaddr(&j, "addr", addr);
        gh_json_kstr(&j, "kind", kind);
        if (found) {
            gh_json_key(&j, "object");
            gh_json_obj(&j);
            gh_json_kaddr(&j, "addr", o.addr);
            gh_json_ku64(&j, "size", o.size);
            gh_json_ku64(&j, "offset", addr - o.addr);
            gh_objdesc_json(&d, &j); /* the type, the field at the address */
            if (ty.addr) {
                gh_json_kstr(&j, "recorded_type", ty.name);
                if (ty.full[0])
                    gh_json_kstr(&j, "recorded_full_type", ty.full);
                gh_json_kaddr(&j, "type_addr", ty.addr);
                gh_json_kstr(&j, "type_source", ty.source);
                if (ty.rc)
                    gh_json_kstr(&j, "type_error", ty.err.msg);
            }
            /* Pointer words by offset from the data start (after a malloc header). */
            ptrlist *l = calloc(1, sizeof *l); /* 32 KiB: not on a debugger thread's stack */
            gh_typemask_cache *tc = gh_session_typemasks(s);
            gh_err e2;
            int untyped = 0;
            gh_json_kaddr(&j, "data_addr", gh_obj_data(&o));
            if (l)
                l->data = gh_obj_data(&o);
            if (l && tc && gh_heap_scan_object(h, tc, &o, collect, l, &untyped, &e2) == GH_OK) {
                gh_json_ku64(&j, "pointer_words", l->n);
                gh_json_key(&j, "pointer_offsets");
                gh_json_arr(&j);
                for (uint64_t i = 0; i < l->n && i < MAX_LISTED; i++)
                    gh_json_u64(&j, l->off[i]);
                gh_json_end(&j, ']');
                gh_json_kbool(&j, "typed_layout", !untyped);
            } else {
                gh_json_kstr(&j, "layout_error", l && tc ? e2.msg : "out of memory");
            }
            free(l);
            gh_render_alloc_stack(s, o.addr, o.size, &j, NULL);
            gh_json_end(&j, '}');
        }
        if (sp) {
            gh_json_key(&j, "span");
            gh_json_obj(&j);
            gh_json_kaddr(&j, "base", sp->base);
            gh_json_ku64(&j, "pages", sp->npages);
            gh_json_ku64(&j, "elemsize", sp->elemsize);
            gh_json_ku64(&j, "sizeclass", (uint64_t)gh_span_sizeclass(sp));
            gh_json_kbool(&j, "noscan", gh_span_noscan(sp));
            gh_json_kstr(&j, "state", sp->state == GH_SPAN_MANUAL ? "manual" : "in use");
            gh_json_end(&j, '}');
        }
        if (sym) {
            gh_json_kstr(&j, "symbol", sym->name);
            gh_json_ku64(&j, "symbol_offset", addr - s->rt.bias - sym->addr);
        }
        gh_json_end(&j, '}');
        return GH_OK;
    }
    if (found) {
        char tb[600], wb[1800];
        gh_printf(out, "0x%" PRIx64 " is %" PRIu64 " bytes into the heap object at 0x%" PRIx64 "%s (slot size %" PRIu64
                       ", size class %d%s)%s\n",
                  addr, addr - o.addr, o.addr, gh_objdesc_type(&d, tb, sizeof tb), o.size, gh_span_sizeclass(sp),
                  gh_span_noscan(sp) ? ", no pointers" : "", gh_objdesc_where(&d, wb, sizeof wb));
        if (ty.addr) {
            /* In full as the object's type is (docs/typenames.md): a shared
             * short name, or --full-names. */
            int full = ty.full[0] && strcmp(ty.full, ty.name) &&
                       (s->full_names || (d.show_full && !strcmp(d.type, ty.name)));
            if (ty.full[0] && strcmp(ty.full, ty.name) && !full && g) {
                gh_shortnames sn;
                if (gh_typenames_shared(g->types, &sn) == 0) {
                    full = gh_shortnames_has(&sn, ty.name);
                    gh_shortnames_free(&sn);
                }
            }
            gh_printf(out, "  type %s (from the %s: descriptor at 0x%" PRIx64 ")%s%s\n", full ? ty.full : ty.name,
                      ty.source, ty.addr, ty.rc ? ": " : "", ty.rc ? ty.err.msg : "");
        }
        gh_render_alloc_stack(s, o.addr, o.size, NULL, out);
    } else if (sp && sp->state == GH_SPAN_MANUAL)
        gh_printf(out, "0x%" PRIx64 " is in a manual span at 0x%" PRIx64 " (%" PRIu64
                       " pages: goroutine stacks or GC buffers)\n", addr, sp->base, sp->npages);
    else if (sp)
        gh_printf(out, "0x%" PRIx64 " is in the heap span at 0x%" PRIx64 " but in no allocated object\n", addr,
                  sp->base);
    else if (sym)
        gh_printf(out, "0x%" PRIx64 " is %s+%" PRIu64 "\n", addr, sym->name, addr - s->rt.bias - sym->addr);
    else if (!strcmp(kind, "heap-missing")) {
        gh_render_coverage_text(out, s);
        gh_printf(out, "0x%" PRIx64 " is unknown: it may be in a heap span the truncated core does not hold (its "
                       "record, pages or allocation bits are missing)\n", addr);
    } else
        gh_printf(out, "0x%" PRIx64 " is not in the Go heap or the executable\n", addr);
    return GH_OK;
}

static const gh_optspec opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_whatis = {
    .name = "whatis",
    .summary = "what an address is: heap object (and its type when recorded), stack, global",
    .usage = "whatis ADDR [--json]",
    .opts = opts,
    .example = "whatis 0xc000123450",
    .addr_arg = 1,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
