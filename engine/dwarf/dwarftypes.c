/* Go types as the executable's DWARF describes them: name, kind, size,
 * alignment, runtime type descriptor, element and key types, array length
 * and struct fields. Described on demand and cached by DIE offset. */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf/dwarfvars_int.h"
#include "base/vec.h"
#include "goheap/goheap.h" /* GH_KIND_* */

/* Nesting of types by value (struct in array in struct ...) while computing
 * sizes and alignments: Go types nest far less, hostile DWARF may loop. */

int gh_dw_ref(Dwarf_Die *die, unsigned at, Dwarf_Off *off)
{
    Dwarf_Attribute a;
    Dwarf_Die r;
    if (!dwarf_attr(die, at, &a) || !dwarf_formref_die(&a, &r))
        return -1;
    *off = dwarf_dieoffset(&r);
    return 0;
}

int gh_dw_udata(Dwarf_Die *die, unsigned at, uint64_t *v)
{
    Dwarf_Attribute a;
    if (!dwarf_attr(die, at, &a))
        return -1;
    if (dwarf_whatform(&a) == DW_FORM_addr) {
        Dwarf_Addr x;
        if (dwarf_formaddr(&a, &x) != 0)
            return -1;
        *v = x;
        return 0;
    }
    Dwarf_Word w;
    if (dwarf_formudata(&a, &w) != 0)
        return -1;
    *v = w;
    return 0;
}

static int is_type_tag(int tag)
{
    switch (tag) {
    case DW_TAG_base_type: case DW_TAG_pointer_type: case DW_TAG_structure_type: case DW_TAG_array_type:
    case DW_TAG_typedef: case DW_TAG_subroutine_type: case DW_TAG_unspecified_type:
        return 1;
    default:
        return 0;
    }
}

static int base_kind(Dwarf_Die *die, uint64_t size)
{
    uint64_t enc = 0;
    if (gh_dw_udata(die, DW_AT_encoding, &enc) != 0)
        return GH_KIND_INVALID;
    switch (enc) {
    case DW_ATE_boolean:
        return GH_KIND_BOOL;
    case DW_ATE_signed: case DW_ATE_signed_char:
        return size == 1 ? GH_KIND_INT8 : size == 2 ? GH_KIND_INT16 : size == 4 ? GH_KIND_INT32
             : size == 8 ? GH_KIND_INT64 : GH_KIND_INVALID;
    case DW_ATE_unsigned: case DW_ATE_unsigned_char:
        return size == 1 ? GH_KIND_UINT8 : size == 2 ? GH_KIND_UINT16 : size == 4 ? GH_KIND_UINT32
             : size == 8 ? GH_KIND_UINT64 : GH_KIND_INVALID;
    case DW_ATE_float:
        return size == 4 ? GH_KIND_FLOAT32 : size == 8 ? GH_KIND_FLOAT64 : GH_KIND_INVALID;
    case DW_ATE_complex_float:
        return size == 8 ? GH_KIND_COMPLEX64 : size == 16 ? GH_KIND_COMPLEX128 : GH_KIND_INVALID;
    default:
        return GH_KIND_INVALID;
    }
}

/* ---- cache ---- */

static dtype_slot *slot_find(gh_dwarf_vars *dv, uint64_t off)
{
    const uint64_t *i = gh_hmap_get(&dv->tindex, off);
    return i ? &dv->tslots[*i] : NULL;
}

static dtype_slot *slot_insert(gh_dwarf_vars *dv, const gh_dtype *t, gh_dfield *fields)
{
    if (gh_grow(&dv->tslots, &dv->captypes, dv->ntypes + 1, sizeof *dv->tslots) ||
        gh_hmap_put(&dv->tindex, t->off, dv->ntypes))
        return NULL;
    dtype_slot *s = &dv->tslots[dv->ntypes++];
    s->t = *t;
    s->fields = fields;
    return s;
}

void gh_dwarf_types_free(gh_dwarf_vars *dv)
{
    for (size_t i = 0; i < dv->ntypes; i++)
        free(dv->tslots[i].fields);
    free(dv->tslots);
    gh_hmap_free(&dv->tindex);
    dv->tslots = NULL;
    dv->captypes = dv->ntypes = 0;
}

/* ---- describing ---- */

/* The descriptor a DW_AT_go_runtime_type value names (see dwarfvars.h). */
static uint64_t rtype_addr(const gh_dwarf_vars *dv, uint64_t v)
{
    if (!v || !dv->types)
        return 0;
    if (v < dv->etypes - dv->types)
        return dv->types + v;
    if (v + dv->bias >= dv->types && v + dv->bias < dv->etypes)
        return v + dv->bias;
    return 0;
}

static int describe(gh_dwarf_vars *dv, uint64_t off, int depth, dtype_slot **out, gh_err *err);

/* Size and alignment of the type at off (cached). */
static int size_align(gh_dwarf_vars *dv, uint64_t off, int depth, uint64_t *size, uint64_t *align, gh_err *err)
{
    dtype_slot *s;
    int rc = describe(dv, off, depth, &s, err);
    if (rc)
        return rc;
    *size = s->t.size;
    *align = s->t.align;
    return GH_OK;
}

static int array_len(Dwarf_Die *arr, uint64_t *len)
{
    Dwarf_Die c;
    if (dwarf_child(arr, &c) != 0)
        return -1;
    do {
        if (dwarf_tag(&c) != DW_TAG_subrange_type)
            continue;
        uint64_t v;
        if (gh_dw_udata(&c, DW_AT_count, &v) == 0) {
            *len = v;
            return 0;
        }
        Dwarf_Attribute a;
        Dwarf_Sword ub;
        if (dwarf_attr(&c, DW_AT_upper_bound, &a) && dwarf_formsdata(&a, &ub) == 0) {
            *len = ub < 0 ? 0 : (uint64_t)ub + 1;
            return 0;
        }
        return -1;
    } while (dwarf_siblingof(&c, &c) == 0);
    return -1;
}

/* The members of a struct, with the alignment of the whole. */
static int struct_fields(gh_dwarf_vars *dv, Dwarf_Die *st, uint64_t off, int depth, gh_dfield **out, size_t *n,
                         uint64_t *align, gh_err *err)
{
    *out = NULL;
    *n = 0;
    *align = 1;
    Dwarf_Die c;
    if (dwarf_child(st, &c) != 0)
        return GH_OK;
    size_t cap = 0;
    gh_dfield *f = NULL;
    int rc = GH_OK;
    do {
        if (dwarf_tag(&c) != DW_TAG_member)
            continue;
        if (*n >= GH_DWARF_MAX_FIELDS) {
            rc = gh_errorf(err, GH_EFORMAT, "DWARF struct at 0x%llx has over %u members", (unsigned long long)off,
                           GH_DWARF_MAX_FIELDS);
            goto fail;
        }
        gh_dfield d = {dwarf_diename(&c), 0, 0, 0};
        Dwarf_Off t;
        uint64_t v;
        if (gh_dw_ref(&c, DW_AT_type, &t) != 0) {
            rc = gh_errorf(err, GH_EFORMAT, "DWARF struct at 0x%llx: member %s has no type", (unsigned long long)off,
                           d.name ? d.name : "?");
            goto fail;
        }
        d.type = t;
        if (gh_dw_udata(&c, DW_AT_data_member_location, &v) == 0)
            d.offset = v;
        Dwarf_Attribute a;
        bool flag;
        if (dwarf_attr(&c, GH_DW_AT_go_embedded_field, &a) && dwarf_formflag(&a, &flag) == 0)
            d.embedded = flag;
        uint64_t fsize, falign;
        if ((rc = size_align(dv, t, depth + 1, &fsize, &falign, err)))
            goto fail;
        if (falign > *align)
            *align = falign;
        if (gh_grow(&f, &cap, *n + 1, sizeof *f)) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory for DWARF fields");
            goto fail;
        }
        f[(*n)++] = d;
    } while (dwarf_siblingof(&c, &c) == 0);
    *out = f;
    return GH_OK;
fail:
    free(f);
    *n = 0;
    return rc;
}

static int describe(gh_dwarf_vars *dv, uint64_t off, int depth, dtype_slot **out, gh_err *err)
{
    dtype_slot *s = slot_find(dv, off);
    if (s) {
        *out = s;
        return GH_OK;
    }
    if (depth > GH_DWARF_MAX_NEST)
        return gh_errorf(err, GH_EFORMAT, "DWARF type at 0x%llx nests more than %d types deep",
                         (unsigned long long)off, GH_DWARF_MAX_NEST);
    for (int i = 0; i < depth; i++)
        if (dv->nest[i] == off)
            return gh_errorf(err, GH_EFORMAT, "DWARF type at 0x%llx contains itself", (unsigned long long)off);
    dv->nest[depth] = off;
    if (dv->ntypes >= GH_DWARF_MAX_TYPES)
        return gh_errorf(err, GH_EFORMAT, "more than %u DWARF types described", GH_DWARF_MAX_TYPES);
    Dwarf_Die die;
    if (!dwarf_offdie(dv->dw, off, &die))
        return gh_errorf(err, GH_EFORMAT, "no DWARF entry at 0x%llx", (unsigned long long)off);
    gh_dtype t = {.off = off};
    int have_kind = 0, have_rtype = 0, have_size = 0, have_elem = 0, have_key = 0;
    int tag;
    for (int chain = 0;; chain++) {
        tag = dwarf_tag(&die);
        if (!is_type_tag(tag))
            return gh_errorf(err, GH_EFORMAT, "DWARF entry at 0x%llx is not a type (tag 0x%x)",
                             (unsigned long long)dwarf_dieoffset(&die), (unsigned)tag);
        uint64_t v;
        Dwarf_Off r;
        if (!t.name)
            t.name = dwarf_diename(&die);
        if (!have_kind && gh_dw_udata(&die, GH_DW_AT_go_kind, &v) == 0) {
            have_kind = 1;
            t.kind = v <= GH_KIND_MAX ? (int)v : GH_KIND_INVALID;
        }
        if (!have_rtype && gh_dw_udata(&die, GH_DW_AT_go_runtime_type, &v) == 0) {
            have_rtype = 1;
            t.rtype = rtype_addr(dv, v);
        }
        if (!have_size && gh_dw_udata(&die, DW_AT_byte_size, &v) == 0) {
            have_size = 1;
            t.size = v;
        }
        if (!have_elem && gh_dw_ref(&die, GH_DW_AT_go_elem, &r) == 0) {
            have_elem = 1;
            t.elem = r;
        }
        if (!have_key && gh_dw_ref(&die, GH_DW_AT_go_key, &r) == 0) {
            have_key = 1;
            t.key = r;
        }
        if (tag != DW_TAG_typedef)
            break;
        if (chain >= GH_DWARF_MAX_DEPTH)
            return gh_errorf(err, GH_EFORMAT, "DWARF typedef chain from 0x%llx is over %d long",
                             (unsigned long long)off, GH_DWARF_MAX_DEPTH);
        Dwarf_Die next;
        Dwarf_Attribute a;
        if (!dwarf_attr(&die, DW_AT_type, &a) || !dwarf_formref_die(&a, &next))
            return gh_errorf(err, GH_EFORMAT, "DWARF typedef at 0x%llx names no type",
                             (unsigned long long)dwarf_dieoffset(&die));
        die = next;
    }
    gh_dfield *fields = NULL;
    size_t nfields = 0;
    Dwarf_Off r;
    int derived = GH_KIND_INVALID;
    int rc;
    switch (tag) {
    case DW_TAG_pointer_type:
        if (gh_dw_ref(&die, DW_AT_type, &r) == 0) {
            if (!have_elem)
                t.elem = r;
            derived = GH_KIND_POINTER;
        } else {
            derived = GH_KIND_UNSAFEPOINTER;
        }
        if (!have_size)
            t.size = 8;
        t.align = 8;
        break;
    case DW_TAG_subroutine_type:
        derived = GH_KIND_FUNC;
        if (!have_size)
            t.size = 8;
        t.align = 8;
        break;
    case DW_TAG_array_type: {
        derived = GH_KIND_ARRAY;
        if (gh_dw_ref(&die, DW_AT_type, &r) != 0)
            return gh_errorf(err, GH_EFORMAT, "DWARF array at 0x%llx has no element type", (unsigned long long)off);
        if (!have_elem)
            t.elem = r;
        if (array_len(&die, &t.len) != 0)
            return gh_errorf(err, GH_EFORMAT, "DWARF array at 0x%llx has no length", (unsigned long long)off);
        uint64_t esize, ealign;
        if ((rc = size_align(dv, r, depth + 1, &esize, &ealign, err)))
            return rc;
        t.align = ealign;
        if (!have_size) {
            if (esize && t.len > UINT64_MAX / esize)
                return gh_errorf(err, GH_EFORMAT, "DWARF array at 0x%llx is too large", (unsigned long long)off);
            t.size = esize * t.len;
        }
        break;
    }
    case DW_TAG_structure_type:
        derived = GH_KIND_STRUCT;
        if ((rc = struct_fields(dv, &die, off, depth, &fields, &nfields, &t.align, err)))
            return rc;
        t.nfields = nfields;
        break;
    case DW_TAG_base_type:
        derived = base_kind(&die, t.size);
        t.align = derived == GH_KIND_COMPLEX64 || derived == GH_KIND_COMPLEX128 ? t.size / 2 : t.size;
        break;
    default:
        break;
    }
    if (!have_kind)
        t.kind = derived;
    /* Go's kinds that are one or more words whatever DWARF's shape. */
    switch (t.kind) {
    case GH_KIND_STRING: case GH_KIND_SLICE: case GH_KIND_INTERFACE: case GH_KIND_MAP: case GH_KIND_CHAN:
    case GH_KIND_FUNC: case GH_KIND_POINTER: case GH_KIND_UNSAFEPOINTER:
        t.align = 8;
        break;
    default:
        break;
    }
    if (t.align == 0 || t.align > 8)
        t.align = t.align ? 8 : 1;
    dtype_slot *ns = slot_insert(dv, &t, fields);
    if (!ns) {
        free(fields);
        return gh_errorf(err, GH_ENOMEM, "out of memory for DWARF types");
    }
    *out = ns;
    return GH_OK;
}

int gh_dwarf_type(gh_dwarf_vars *dv, uint64_t die_off, gh_dtype *out, gh_err *err)
{
    dtype_slot *s;
    int rc = describe(dv, die_off, 0, &s, err);
    if (rc)
        return rc;
    *out = s->t;
    return GH_OK;
}

int gh_dwarf_type_field(gh_dwarf_vars *dv, uint64_t die_off, size_t i, gh_dfield *out, gh_err *err)
{
    dtype_slot *s;
    int rc = describe(dv, die_off, 0, &s, err);
    if (rc)
        return rc;
    if (i >= s->t.nfields)
        return gh_errorf(err, GH_EARG, "DWARF type at 0x%llx has %zu fields, not %zu", (unsigned long long)die_off,
                         s->t.nfields, i + 1);
    *out = s->fields[i];
    return GH_OK;
}
