/* What an object type is, for the public API: its kind, size and count, and
 * the fields of a struct (from its runtime descriptor, else from DWARF). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtype/typename_int.h"
#include "types/gotype_int.h"

/* Strings that must live as long as the table (field names). */
typedef struct strchunk {
    struct strchunk *next;
    size_t used, cap;
    char data[];
} strchunk;

const char *gh_types_keep(gh_types *ty, const char *s)
{
    size_t n = strlen(s) + 1;
    strchunk *c = ty->strs;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        strchunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->used = 0;
        nc->cap = cap;
        ty->strs = c = nc;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    c->used += n;
    return p;
}

void gh_types_free_strs(gh_types *ty)
{
    for (strchunk *c = ty->strs, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    ty->strs = NULL;
}

int gh_types_info(gh_types *ty, gh_tid id, gh_typeinfo *out, gh_err *err)
{
    const gh_otype *ot = gh_types_get(ty, id);
    if (!ot)
        return gh_errorf(err, GH_ENOENT, "no type %u", id);
    memset(out, 0, sizeof *out);
    out->name = gh_types_name(ty, id);
    out->count = ot->count;
    out->size = gh_types_size(ty, ot);
    if (ot->syn) {
        out->kind = GH_KIND_RUNTIME;
        return GH_OK;
    }
    if (ot->rtype) {
        rinfo *ri = gh_types_rinfo(ty, ot->rtype);
        out->rtype = ot->rtype;
        if (ri) {
            out->kind = ri->r.kind;
            out->nfields = ri->r.kind == GH_KIND_STRUCT ? ri->nfields : 0;
        }
        return GH_OK;
    }
    gh_dtype dt;
    if (ty->env.dv && !gh_dwarf_type(ty->env.dv, ot->die, &dt, NULL)) {
        out->kind = dt.kind;
        out->rtype = dt.rtype;
        out->nfields = dt.kind == GH_KIND_STRUCT ? dt.nfields : 0;
    }
    return GH_OK;
}

int gh_types_field_info(gh_types *ty, gh_tid id, size_t i, gh_fieldinfo *out, gh_err *err)
{
    gh_typeinfo ti;
    int rc = gh_types_info(ty, id, &ti, err);
    if (rc)
        return rc;
    if (i >= ti.nfields)
        return gh_errorf(err, GH_ENOENT, "type %s has %zu fields, not %zu", ti.name, ti.nfields, i + 1);
    const gh_otype *ot = gh_types_get(ty, id);
    memset(out, 0, sizeof *out);
    if (ot->rtype) {
        rinfo *ri = gh_types_rinfo(ty, ot->rtype);
        uint64_t nameaddr, typ, off;
        if (!ri || gh_types_field_at(ty, ri, (uint32_t)i, &nameaddr, &typ, &off))
            return gh_errorf(err, GH_EMEM, "field %zu of %s is not readable", i, ti.name);
        char name[512];
        gh_types_field_name(ty, nameaddr, name, sizeof name);
        tn_name n;
        if (ty->env.names && !tn_read_name(ty->env.names, nameaddr, 0, &n, NULL))
            out->embedded = (n.flags & TN_NAME_EMBEDDED) != 0;
        out->name = gh_types_keep(ty, name);
        out->offset = off;
        out->type = gh_types_intern(ty, &(gh_otype){.rtype = typ, .count = 1});
    } else {
        gh_dfield f;
        if (!ty->env.dv || (rc = gh_dwarf_type_field(ty->env.dv, ot->die, i, &f, err)))
            return rc ? rc : gh_errorf(err, GH_EFORMAT, "no DWARF for type %s", ti.name);
        out->name = gh_types_keep(ty, f.name ? f.name : "");
        out->offset = f.offset;
        out->embedded = f.embedded;
        out->type = gh_types_intern(ty, &(gh_otype){.die = f.type, .count = 1});
    }
    if (!out->name || !out->type)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    gh_typeinfo fi;
    if (!gh_types_info(ty, out->type, &fi, NULL)) {
        out->size = fi.size;
        out->kind = fi.kind;
        out->type_name = fi.name;
    }
    return GH_OK;
}
