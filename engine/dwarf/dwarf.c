/* The DWARF struct-layout index: runtime types and fields by name, from libdw. */
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "dwarf/dwarf_index.h"

typedef struct entry {
    const char *name;
    Dwarf_Off off;
} entry;

struct gh_dwarf {
    Dwarf *dw;
    entry *types;
    size_t ntypes, cap;
};

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static int push(gh_dwarf *d, const char *name, Dwarf_Off off)
{
    if (gh_grow(&d->types, &d->cap, d->ntypes + 1, sizeof *d->types))
        return -1;
    d->types[d->ntypes++] = (entry){name, off};
    return 0;
}

gh_dwarf *gh_dwarf_index_new(Elf *elf)
{
    Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
    if (!dw)
        return NULL;
    gh_dwarf *d = calloc(1, sizeof *d);
    if (!d) {
        dwarf_end(dw);
        return NULL;
    }
    d->dw = dw;
    Dwarf_Off off = 0, next;
    size_t hsize;
    /* Go puts named types at the top level of its compile units. */
    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, child;
        if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
            do {
                int tag = dwarf_tag(&child);
                if (tag != DW_TAG_structure_type && tag != DW_TAG_typedef && tag != DW_TAG_base_type &&
                    tag != DW_TAG_pointer_type && tag != DW_TAG_array_type)
                    continue;
                const char *name = dwarf_diename(&child);
                if (name && push(d, name, dwarf_dieoffset(&child)) != 0)
                    goto fail;
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        off = next;
    }
    if (d->ntypes == 0)
        goto fail;
    qsort(d->types, d->ntypes, sizeof *d->types, cmp_entry);
    return d;
fail:
    gh_dwarf_index_free(d);
    return NULL;
}

void gh_dwarf_index_free(gh_dwarf *d)
{
    if (!d)
        return;
    dwarf_end(d->dw);
    free(d->types);
    free(d);
}

size_t gh_dwarf_ntypes(const gh_dwarf *d) { return d ? d->ntypes : 0; }
Dwarf *gh_dwarf_libdw(gh_dwarf *d) { return d ? d->dw : NULL; }

static int find_type(gh_dwarf *d, const char *name, Dwarf_Die *die)
{
    entry key = {name, 0};
    entry *e = bsearch(&key, d->types, d->ntypes, sizeof *d->types, cmp_entry);
    /* A name may be indexed twice (declaration and definition): prefer a struct. */
    if (!e)
        return -1;
    while (e > d->types && strcmp(e[-1].name, name) == 0)
        e--;
    for (; e < d->types + d->ntypes && strcmp(e->name, name) == 0; e++) {
        if (dwarf_offdie(d->dw, e->off, die) && dwarf_tag(die) == DW_TAG_structure_type)
            return 0;
    }
    e = bsearch(&key, d->types, d->ntypes, sizeof *d->types, cmp_entry);
    return dwarf_offdie(d->dw, e->off, die) ? 0 : -1;
}

/* Follows typedefs to the type that has the layout. */
static int strip_typedefs(Dwarf_Die *die)
{
    for (int depth = 0; depth < 16 && dwarf_tag(die) == DW_TAG_typedef; depth++) {
        Dwarf_Attribute a;
        if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, die))
            return -1;
    }
    return 0;
}

int gh_dwarf_type_size(gh_dwarf *d, const char *type, uint64_t *size)
{
    Dwarf_Die die;
    Dwarf_Word sz;
    if (!d || find_type(d, type, &die) != 0)
        return GH_EFORMAT;
    if (strip_typedefs(&die) != 0 || dwarf_aggregate_size(&die, &sz) != 0)
        return GH_EFORMAT;
    *size = sz;
    return GH_OK;
}

static int member(Dwarf_Die *st, const char *name, size_t len, Dwarf_Die *out, uint64_t *off)
{
    Dwarf_Die child;
    if (dwarf_child(st, &child) != 0)
        return -1;
    do {
        if (dwarf_tag(&child) != DW_TAG_member)
            continue;
        const char *n = dwarf_diename(&child);
        if (!n || strlen(n) != len || strncmp(n, name, len) != 0)
            continue;
        Dwarf_Attribute a;
        Dwarf_Word w = 0;
        if (dwarf_attr(&child, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &w) != 0)
            return -1;
        *off = w;
        if (!dwarf_attr_integrate(&child, DW_AT_type, &a) || !dwarf_formref_die(&a, out))
            return -1;
        return 0;
    } while (dwarf_siblingof(&child, &child) == 0);
    return -1;
}

int gh_dwarf_field(gh_dwarf *d, const char *type, const char *path, gh_field *out)
{
    Dwarf_Die die;
    if (!d || find_type(d, type, &die) != 0)
        return GH_EFORMAT;
    uint64_t total = 0;
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ".");
        uint64_t off;
        if (strip_typedefs(&die) != 0 || member(&die, p, len, &die, &off) != 0)
            return GH_EFORMAT;
        total += off;
        p += len;
        if (*p == '.')
            p++;
    }
    Dwarf_Word sz;
    if (strip_typedefs(&die) != 0 || dwarf_aggregate_size(&die, &sz) != 0)
        return GH_EFORMAT;
    out->offset = total;
    out->size = sz;
    return GH_OK;
}
