/* What the engine knows of the heap object holding an address: its type
 * (the object graph's, which paths and objects print, else the type the
 * allocator recorded) and the field at the address. */
#include "cmd/objdesc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/render.h"
#include "heap/heapscan.h"
#include "rtype/typename.h"
#include "types/gotype.h"

static void field_of(gh_session *s, gh_types *ty, gh_tid t, uint64_t off, gh_objdesc *d)
{
    gh_types_field(ty, t, off, d->field, sizeof d->field);
    uint64_t rt = d->field[0] ? gh_types_field_rtype(ty, t, off) : 0;
    gh_typenames *tn;
    const char *name, *full;
    if (!rt || gh_session_typenames(s, &tn, NULL) != GH_OK || gh_typename_ref(tn, rt, &name, NULL) != GH_OK)
        return;
    snprintf(d->field_type, sizeof d->field_type, "%s", name);
    if (gh_typename_full_ref(tn, rt, &full, NULL) != GH_OK || !strcmp(full, d->field_type)) /* name shares its buffer */
        return;
    snprintf(d->field_full_type, sizeof d->field_full_type, "%s", full);
    /* In full as text names other types: a shared short name in it, or
     * --full-names. */
    gh_shortnames sn;
    if (s->full_names)
        d->field_show_full = 1;
    else if (gh_typenames_shared(ty, &sn) == 0) {
        d->field_show_full = gh_shortnames_holds(&sn, d->field_type);
        gh_shortnames_free(&sn);
    }
}

/* The full name of graph type t, and whether text shows it: the rule heap
 * and paths follow (gh_render_tname). */
static void full_of(gh_session *s, gh_graph *g, gh_tid t, gh_objdesc *d)
{
    const char *full = gh_types_full_name(g->types, t);
    snprintf(d->full_type, sizeof d->full_type, "%s", full);
    if (s->full_names)
        d->show_full = 1;
    else if (strcmp(full, d->type)) { /* a path that is not its name: is the short name shared? */
        gh_shortnames sn;
        if (gh_typenames_shared(g->types, &sn) == 0) {
            d->show_full = gh_render_tname(s, &sn, g->types, t, d->type) != d->type;
            gh_shortnames_free(&sn);
        }
    }
}

void gh_objdesc_get(gh_session *s, gh_graph *g, const gh_obj *o, uint64_t addr, gh_objdesc *d)
{
    memset(d, 0, sizeof *d);
    uint64_t data = gh_obj_data(o);
    gh_tid t = g ? g->type[o->id] : 0;
    if (t == GH_TID_TINY) { /* the typed sub-object holding addr */
        size_t n, k = gh_graph_tiny_of(g, o->id, &n);
        for (size_t i = k; i < k + n; i++) {
            const gh_otype *ot = gh_types_get(g->types, gh_tiny_type(g->tiny[i]));
            uint64_t sz = ot ? gh_types_size(g->types, ot) * ot->count : 0, at = o->addr + gh_tiny_off(g->tiny[i]);
            if (ot && addr >= at && addr < at + (sz ? sz : 1)) {
                d->sub = at;
                snprintf(d->type, sizeof d->type, "%s", gh_types_name(g->types, gh_tiny_type(g->tiny[i])));
                full_of(s, g, gh_tiny_type(g->tiny[i]), d);
                field_of(s, g->types, gh_tiny_type(g->tiny[i]), addr - at, d);
                return;
            }
        }
        d->gap = 1;
        return;
    }
    if (t) {
        snprintf(d->type, sizeof d->type, "%s", gh_types_name(g->types, t));
        full_of(s, g, t, d);
        if (addr >= data)
            field_of(s, g->types, t, addr - data, d);
        return;
    }
    /* No graph, or it did not type the object: the allocator's record. */
    uint64_t ta = 0;
    gh_typenames *tn;
    if (gh_heap_obj_type(s->heap, o, &ta, NULL) == GH_OK && ta && gh_session_typenames(s, &tn, NULL) == GH_OK) {
        const char *full;
        if (gh_typename(tn, ta, d->type, sizeof d->type, NULL) != GH_OK)
            d->type[0] = 0;
        else if (gh_typename_full_ref(tn, ta, &full, NULL) == GH_OK)
            snprintf(d->full_type, sizeof d->full_type, "%s", full);
        /* Without the graph's types to tell a shared short name, only
         * --full-names shows the full one. */
        d->show_full = s->full_names && d->full_type[0];
    }
}

/* The object's type as text names it. */
static const char *shown(const gh_objdesc *d) { return d->show_full && d->full_type[0] ? d->full_type : d->type; }

const char *gh_objdesc_type(const gh_objdesc *d, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s", d->type[0] && !d->sub ? " " : "", d->sub ? "" : shown(d));
    return buf;
}

const char *gh_objdesc_where(const gh_objdesc *d, char *buf, size_t cap)
{
    char f[1024] = "";
    if (d->field[0])
        snprintf(f, sizeof f, "%sfield %s%s%s%s", d->sub ? ", " : ": ", d->field, d->field_type[0] ? " (" : "",
                 d->field_show_full ? d->field_full_type : d->field_type, d->field_type[0] ? ")" : "");
    if (d->sub)
        snprintf(buf, cap, ": a tiny block; the %s at 0x%" PRIx64 "%s", shown(d), d->sub, f);
    else if (d->gap)
        snprintf(buf, cap, ": a tiny block; no object known in it lies here (paths says which are)");
    else
        snprintf(buf, cap, "%s", f);
    return buf;
}

void gh_objdesc_json(const gh_objdesc *d, gh_json *j)
{
    if (d->type[0])
        gh_json_kstr(j, "type", d->type);
    if (d->type[0] && d->full_type[0])
        gh_json_kstr(j, "full_type", d->full_type);
    if (d->field[0])
        gh_json_kstr(j, "field", d->field);
    if (d->field_type[0])
        gh_json_kstr(j, "field_type", d->field_type);
    if (d->field_type[0] && d->field_full_type[0])
        gh_json_kstr(j, "field_full_type", d->field_full_type);
    if (d->sub)
        gh_json_kaddr(j, "sub_object", d->sub);
    if (d->gap)
        gh_json_kbool(j, "no_sub_object", 1);
}
