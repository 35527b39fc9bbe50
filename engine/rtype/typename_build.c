/* Names of unnamed composite types built from their structure, in the
 * format both cmd/compile (types.tconv, fmtTypeIDName) and reflect (SliceOf,
 * MapOf, ChanOf, FuncOf, StructOf, ArrayOf, PointerTo) write into Str. */
#include "rtype/typename_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field offsets after the 48-byte abi.Type, the same in 1.22-1.27. */
enum {
    ELEM = 48,                          /* Pointer, Slice, Array, Chan */
    ARRAY_LEN = 64, CHAN_DIR = 56,
    MAP_KEY = 48, MAP_ELEM = 56,
    FUNC_IN = 48, FUNC_OUT = 50, FUNC_PARAMS = 56, /* FuncType is 52 bytes, padded to 56 */
    IFACE_PKGPATH = 48, IFACE_METHODS = 56,
    STRUCT_FIELDS = 56, FIELD_SIZE = 24, FIELD_TYP = 8,
    UNCOMMON_SIZE = 16,
};
enum { CHAN_RECV = 1, CHAN_SEND = 2, CHAN_BOTH = 3 };

static int rd64(gh_typenames *c, uint64_t addr, uint64_t *v, gh_err *err)
{
    return gh_read_u64(c->t, addr, v, err);
}

/* Appends the type a descriptor field points to. */
static int put_field_type(gh_typenames *c, uint64_t field, int depth, gh_err *err)
{
    uint64_t p;
    int rc = rd64(c, field, &p, err);
    if (rc)
        return rc;
    if (!p)
        return gh_errorf(err, GH_EFORMAT, "nil element type at 0x%llx", (unsigned long long)field);
    return tn_append(c, p, depth + 1, err);
}

/* strconv.Quote of a struct tag. Non-ASCII needs Unicode's printable
 * tables to quote as Go does: refused rather than approximated. */
static int put_quoted(gh_typenames *c, uint64_t addr, uint64_t n, gh_err *err)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t *tag = malloc(n ? n : 1);
    if (!tag)
        return gh_errorf(err, GH_ENOMEM, "out of memory for a %llu-byte tag", (unsigned long long)n);
    int rc = gh_read(c->t, addr, tag, n, err);
    if (!rc)
        rc = tn_put(c, "\"", 1, err);
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint8_t b = tag[i];
        char esc[4] = {'\\', 0, 0, 0};
        const char *simple = strchr("\a\b\f\n\r\t\v\\\"", b);
        if (b >= 0x80) {
            rc = gh_errorf(err, GH_EUNSUPP, "struct tag at 0x%llx has non-ASCII bytes", (unsigned long long)addr);
        } else if (b && simple) {
            esc[1] = "abfnrtv\\\""[simple - "\a\b\f\n\r\t\v\\\""];
            rc = tn_put(c, esc, 2, err);
        } else if (b < 0x20 || b == 0x7f) {
            char x[4] = {'\\', 'x', hex[b >> 4], hex[b & 15]};
            rc = tn_put(c, x, 4, err);
        } else {
            rc = tn_put(c, (const char *)&b, 1, err);
        }
    }
    free(tag);
    return rc ? rc : tn_put(c, "\"", 1, err);
}

static int build_array(gh_typenames *c, const gh_rtype *rt, int depth, gh_err *err)
{
    uint64_t len;
    char s[32];
    int rc = rd64(c, rt->addr + ARRAY_LEN, &len, err);
    if (rc)
        return rc;
    snprintf(s, sizeof s, "[%llu]", (unsigned long long)len);
    if ((rc = tn_puts(c, s, err)))
        return rc;
    return put_field_type(c, rt->addr + ELEM, depth, err);
}

static int build_chan(gh_typenames *c, const gh_rtype *rt, int depth, gh_err *err)
{
    uint64_t dir;
    int rc = rd64(c, rt->addr + CHAN_DIR, &dir, err);
    if (rc)
        return rc;
    if (dir == CHAN_RECV || dir == CHAN_SEND)
        return (rc = tn_puts(c, dir == CHAN_RECV ? "<-chan " : "chan<- ", err)) ? rc
               : put_field_type(c, rt->addr + ELEM, depth, err);
    if (dir != CHAN_BOTH)
        return gh_errorf(err, GH_EFORMAT, "chan type at 0x%llx: direction %llu", (unsigned long long)rt->addr,
                         (unsigned long long)dir);
    if ((rc = tn_puts(c, "chan ", err)))
        return rc;
    size_t at = c->len;
    if ((rc = put_field_type(c, rt->addr + ELEM, depth, err)))
        return rc;
    /* "chan (<-chan T)": "<-" binds to the leftmost chan (reflect.ChanOf). */
    if (c->buf[at] != '<')
        return GH_OK;
    if ((rc = tn_put(c, ")", 1, err)))
        return rc;
    if (c->len + 1 > GH_TYPENAME_MAX)
        return gh_errorf(err, GH_EFORMAT, "type name longer than %d bytes", GH_TYPENAME_MAX);
    memmove(c->buf + at + 1, c->buf + at, c->len - at);
    c->buf[at] = '(';
    c->len++;
    return GH_OK;
}

static int build_map(gh_typenames *c, const gh_rtype *rt, int depth, gh_err *err)
{
    int rc;
    if ((rc = tn_puts(c, "map[", err)) || (rc = put_field_type(c, rt->addr + MAP_KEY, depth, err)) ||
        (rc = tn_puts(c, "]", err)))
        return rc;
    return put_field_type(c, rt->addr + MAP_ELEM, depth, err);
}

/* func(A, B, ...C) R or (R1, R2); interface methods omit "func". */
static int build_func(gh_typenames *c, const gh_rtype *rt, int depth, int omit_func, gh_err *err)
{
    uint16_t in, out;
    int rc;
    if ((rc = gh_read_u16(c->t, rt->addr + FUNC_IN, &in, err)) ||
        (rc = gh_read_u16(c->t, rt->addr + FUNC_OUT, &out, err)))
        return rc;
    int variadic = (out & 0x8000) != 0;
    out &= 0x7fff;
    if (variadic && in == 0)
        return gh_errorf(err, GH_EFORMAT, "func type at 0x%llx: variadic without parameters",
                         (unsigned long long)rt->addr);
    uint64_t params = rt->addr + FUNC_PARAMS + (rt->tflag & GH_TFLAG_UNCOMMON ? UNCOMMON_SIZE : 0);
    if ((rc = tn_puts(c, omit_func ? "(" : "func(", err)))
        return rc;
    for (unsigned i = 0; i < in; i++) {
        if (i && (rc = tn_puts(c, ", ", err)))
            return rc;
        if (variadic && i == in - 1u) {
            /* ...T: the last parameter is []T. */
            uint64_t p;
            gh_rtype s;
            if ((rc = rd64(c, params + 8 * i, &p, err)) || (rc = gh_rtype_read(c->t, c->go_minor, p, &s, err)))
                return rc;
            if (s.kind != GH_KIND_SLICE)
                return gh_errorf(err, GH_EFORMAT, "func type at 0x%llx: variadic parameter is not a slice",
                                 (unsigned long long)rt->addr);
            if ((rc = tn_puts(c, "...", err)) || (rc = put_field_type(c, p + ELEM, depth + 1, err)))
                return rc;
        } else if ((rc = put_field_type(c, params + 8 * i, depth, err))) {
            return rc;
        }
    }
    if ((rc = tn_puts(c, out == 1 ? ") " : out > 1 ? ") (" : ")", err)))
        return rc;
    for (unsigned i = 0; i < out; i++)
        if ((i && (rc = tn_puts(c, ", ", err))) || (rc = put_field_type(c, params + 8 * (in + i), depth, err)))
            return rc;
    return out > 1 ? tn_puts(c, ")", err) : GH_OK;
}

/* An unexported method is printed qualified by its package's name. Only
 * the import path is recorded; "main" is the one path whose package name
 * is certain. */
static int put_method_name(gh_typenames *c, const gh_rtype *rt, const gh_module_types *m, const tn_name *n,
                           gh_err *err)
{
    if (n->flags & TN_NAME_EXPORTED)
        return tn_put_mem(c, n->name_addr, n->name_len, err);
    char path[8] = {0};
    int rc;
    tn_name pn;
    if (n->flags & TN_NAME_PKGPATH) {
        uint32_t off;
        uint64_t end = n->tag_addr ? n->tag_addr + n->tag_len : n->name_addr + n->name_len;
        if ((rc = gh_read_u32(c->t, end, &off, err)))
            return rc;
        if ((int32_t)off <= 0 || m->types + off >= m->etypes)
            return gh_errorf(err, GH_EFORMAT, "interface type at 0x%llx: method package path offset %d",
                             (unsigned long long)rt->addr, (int32_t)off);
        if ((rc = tn_read_name(c, m->types + off, m->etypes, &pn, err)))
            return rc;
    } else {
        uint64_t p;
        if ((rc = rd64(c, rt->addr + IFACE_PKGPATH, &p, err)))
            return rc;
        if (!p)
            return gh_errorf(err, GH_EFORMAT, "interface type at 0x%llx: unexported method, no package path",
                             (unsigned long long)rt->addr);
        if ((rc = tn_read_name(c, p, 0, &pn, err)))
            return rc;
    }
    if (c->full) /* full names: the method qualified by its package's import path */
        return (rc = tn_put_mem(c, pn.name_addr, pn.name_len, err)) || (rc = tn_puts(c, ".", err))
                   ? rc
                   : tn_put_mem(c, n->name_addr, n->name_len, err);
    if (pn.name_len == 4 && (rc = gh_read(c->t, pn.name_addr, path, 4, err)))
        return rc;
    if (strcmp(path, "main") != 0)
        return gh_errorf(err, GH_EUNSUPP, "interface type at 0x%llx: unexported method of a package other "
                         "than main: its package name is not recorded", (unsigned long long)rt->addr);
    if ((rc = tn_puts(c, "main.", err)))
        return rc;
    return tn_put_mem(c, n->name_addr, n->name_len, err);
}

static int build_interface(gh_typenames *c, const gh_rtype *rt, int depth, gh_err *err)
{
    uint64_t methods, n;
    int rc;
    if ((rc = rd64(c, rt->addr + IFACE_METHODS, &methods, err)) ||
        (rc = rd64(c, rt->addr + IFACE_METHODS + 8, &n, err)))
        return rc;
    if (n == 0)
        return tn_puts(c, "interface {}", err);
    /* Imethods are offsets into the interface's own module. */
    const gh_module_types *m = tn_module(c, rt->addr);
    if (!m)
        return gh_errorf(err, GH_EUNSUPP, "interface type at 0x%llx is outside every module",
                         (unsigned long long)rt->addr);
    if (n > GH_TYPENAME_MAX)
        return gh_errorf(err, GH_EFORMAT, "interface type at 0x%llx: %llu methods",
                         (unsigned long long)rt->addr, (unsigned long long)n);
    if ((rc = tn_puts(c, "interface {", err)))
        return rc;
    for (uint64_t i = 0; i < n; i++) {
        int32_t off[2]; /* Name NameOff, Typ TypeOff */
        tn_name name;
        gh_rtype ft;
        if ((rc = tn_puts(c, i ? "; " : " ", err)) || (rc = gh_read(c->t, methods + 8 * i, off, 8, err)))
            return rc;
        if (off[0] <= 0 || off[1] <= 0 || m->types + (uint64_t)off[1] >= m->etypes)
            return gh_errorf(err, GH_EFORMAT, "interface type at 0x%llx: method %llu has offsets %d, %d",
                             (unsigned long long)rt->addr, (unsigned long long)i, off[0], off[1]);
        if ((rc = tn_read_name(c, m->types + (uint64_t)off[0], m->etypes, &name, err)) ||
            (rc = put_method_name(c, rt, m, &name, err)) ||
            (rc = gh_rtype_read(c->t, c->go_minor, m->types + (uint64_t)off[1], &ft, err)))
            return rc;
        if (ft.kind != GH_KIND_FUNC)
            return gh_errorf(err, GH_EFORMAT, "interface type at 0x%llx: method %llu is not a func type",
                             (unsigned long long)rt->addr, (unsigned long long)i);
        if (depth + 1 > GH_TYPENAME_MAX_DEPTH)
            return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: element types nest more than %d deep",
                             (unsigned long long)rt->addr, GH_TYPENAME_MAX_DEPTH);
        if ((rc = build_func(c, &ft, depth + 1, 1, err)))
            return rc;
    }
    return tn_puts(c, " }", err);
}

static int build_struct(gh_typenames *c, const gh_rtype *rt, int depth, gh_err *err)
{
    uint64_t fields, n;
    int rc;
    if ((rc = rd64(c, rt->addr + STRUCT_FIELDS, &fields, err)) ||
        (rc = rd64(c, rt->addr + STRUCT_FIELDS + 8, &n, err)))
        return rc;
    if (n == 0)
        return tn_puts(c, "struct {}", err);
    if (n > GH_TYPENAME_MAX)
        return gh_errorf(err, GH_EFORMAT, "struct type at 0x%llx: %llu fields", (unsigned long long)rt->addr,
                         (unsigned long long)n);
    if ((rc = tn_puts(c, "struct {", err)))
        return rc;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t f = fields + FIELD_SIZE * i, np;
        tn_name name;
        if ((rc = tn_puts(c, i ? "; " : " ", err)) || (rc = rd64(c, f, &np, err)))
            return rc;
        if (!np)
            return gh_errorf(err, GH_EFORMAT, "struct type at 0x%llx: field %llu has no name",
                             (unsigned long long)rt->addr, (unsigned long long)i);
        if ((rc = tn_read_name(c, np, 0, &name, err)))
            return rc;
        /* Embedded fields print as their type alone. */
        if (!(name.flags & TN_NAME_EMBEDDED) &&
            ((rc = tn_put_mem(c, name.name_addr, name.name_len, err)) || (rc = tn_puts(c, " ", err))))
            return rc;
        if ((rc = put_field_type(c, f + FIELD_TYP, depth, err)))
            return rc;
        if ((name.flags & TN_NAME_TAG) && name.tag_len &&
            ((rc = tn_puts(c, " ", err)) || (rc = put_quoted(c, name.tag_addr, name.tag_len, err))))
            return rc;
    }
    return tn_puts(c, " }", err);
}

int tn_build(gh_typenames *c, const gh_rtype *rt, int depth, int omit_func, gh_err *err)
{
    int rc;
    switch (rt->kind) {
    case GH_KIND_POINTER:
        return (rc = tn_puts(c, "*", err)) ? rc : put_field_type(c, rt->addr + ELEM, depth, err);
    case GH_KIND_SLICE:
        return (rc = tn_puts(c, "[]", err)) ? rc : put_field_type(c, rt->addr + ELEM, depth, err);
    case GH_KIND_ARRAY:
        return build_array(c, rt, depth, err);
    case GH_KIND_CHAN:
        return build_chan(c, rt, depth, err);
    case GH_KIND_MAP:
        return build_map(c, rt, depth, err);
    case GH_KIND_FUNC:
        return build_func(c, rt, depth, omit_func, err);
    case GH_KIND_INTERFACE:
        return build_interface(c, rt, depth, err);
    case GH_KIND_STRUCT:
        return build_struct(c, rt, depth, err);
    }
    return gh_errorf(err, GH_EUNSUPP, "type at 0x%llx of kind %u has no structure to name it by",
                     (unsigned long long)rt->addr, rt->kind);
}
