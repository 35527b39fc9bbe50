/* Public API: object types, their fields, and counts per type. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "graph/heapview.h"

const char *gh_kind_name(int kind)
{
    static const char *const names[] = {
        "invalid", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32",
        "uint64", "uintptr", "float32", "float64", "complex64", "complex128", "array", "chan", "func",
        "interface", "map", "ptr", "slice", "string", "struct", "unsafe.Pointer",
    };
    if (kind == GH_KIND_RUNTIME)
        return "runtime";
    return kind >= 0 && kind <= GH_KIND_MAX ? names[kind] : "invalid";
}

int gh_type_count(gh_session *s, size_t *count, gh_err *err)
{
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    *count = gh_types_count(g->types);
    return GH_OK;
}

int gh_type_get(gh_session *s, uint32_t id, gh_type *out, gh_err *err)
{
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    gh_typeinfo ti;
    if ((rc = gh_types_info(g->types, id, &ti, err)))
        return rc;
    *out = (gh_type){.id = id, .name = ti.name, .kind = ti.kind, .size = ti.size, .count = ti.count,
                     .rtype = ti.rtype, .nfields = ti.nfields};
    return GH_OK;
}

int gh_type_field_get(gh_session *s, uint32_t id, size_t i, gh_type_field *out, gh_err *err)
{
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    gh_fieldinfo f;
    if ((rc = gh_types_field_info(g->types, id, i, &f, err)))
        return rc;
    *out = (gh_type_field){.name = f.name, .offset = f.offset, .size = f.size, .type = f.type_name ? f.type_name : "",
                           .kind = f.kind, .embedded = f.embedded};
    return GH_OK;
}

static int by_bytes(const void *a, const void *b)
{
    const gh_type_stat *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* The names of untyped rows ("unknown<N>") live in the table's string store. */
int gh_type_stats(gh_session *s, unsigned which, gh_type_stat **out, size_t *n, gh_err *err)
{
    *out = NULL;
    *n = 0;
    if (!which || which & ~(unsigned)GH_OBJECTS_ALL)
        return gh_errorf(err, GH_EARG, "type stats: which must be GH_OBJECTS_LIVE, _GARBAGE or _ALL, not %u", which);
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    gh_typecount tc;
    if ((rc = gh_typecount_build(g, (which & GH_OBJECTS_GARBAGE) != 0, &tc, err)))
        return rc;
    gh_type_stat *v = calloc(tc.n ? tc.n : 1, sizeof *v);
    if (!v) {
        gh_typecount_free(&tc);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < tc.n; i++) {
        const gh_typecount_row *r = &tc.v[i];
        uint64_t count = 0, bytes = 0;
        if (which & GH_OBJECTS_LIVE)
            count += r->live, bytes += r->live_bytes;
        if (which & GH_OBJECTS_GARBAGE) /* every unreachable object, pending finalization included */
            count += r->garbage + r->pending, bytes += r->garbage_bytes + r->pending_bytes;
        if (!count)
            continue;
        const char *name = r->tid ? r->name : gh_types_keep(g->types, r->name);
        if (!name) {
            free(v);
            gh_typecount_free(&tc);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
        v[k++] = (gh_type_stat){.type = r->tid, .name = name, .count = count, .bytes = bytes};
    }
    gh_typecount_free(&tc);
    qsort(v, k, sizeof *v, by_bytes);
    *out = v;
    *n = k;
    return GH_OK;
}

void gh_type_stats_free(gh_type_stat *v) { free(v); }
