/* Go names of type descriptors: nameOff strings of every module, with a cache. */
#include "rtype/typename_int.h"

#include "base/vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Descriptors one query may read, and bytes of names one context may cache:
 * a hostile type graph fails or stops caching instead of stalling. */
#define VISIT_BUDGET (UINT64_C(1) << 20)
#define CACHED_BYTES_MAX (UINT64_C(64) << 20)
/* Bytes in one module's types range: Go's are tens of MiB at most. */
#define TYPES_MAX (UINT64_C(1) << 32)

static uint64_t generation(const gh_target *t)
{
    return t->ops->generation ? t->ops->generation(t->ctx) : 0;
}

/* moduledata offsets of types, etypes and next for binaries without DWARF
 * (runtime/symtab.go; checked against the DWARF of each release's corpus). */
static int builtin_offsets(int minor, gh_field *ft, gh_field *fe, gh_field *fn)
{
    if (minor < 22 || minor > 27)
        return -1;
    ft->offset = 296;
    fe->offset = minor >= 27 ? 312 : 304; /* 1.27 inserts typedesclen */
    fn->offset = minor == 22 || minor == 26 ? 584 : minor == 27 ? 560 : 576;
    ft->size = fe->size = fn->size = 8;
    return 0;
}

int gh_typename_modules(const gh_runtime *rt, gh_module_types *mods, size_t cap, size_t *n,
                        gh_err *err)
{
    gh_field ft, fe, fn;
    *n = 0;
    if (rt->dwarf) {
        if (gh_dwarf_field(rt->dwarf, "runtime.moduledata", "types", &ft) ||
            gh_dwarf_field(rt->dwarf, "runtime.moduledata", "etypes", &fe) ||
            gh_dwarf_field(rt->dwarf, "runtime.moduledata", "next", &fn))
            return gh_errorf(err, GH_EFORMAT, "%s's DWARF has no runtime.moduledata types, etypes or next",
                             gh_exe_path(rt->exe));
    } else if (builtin_offsets(rt->ver.minor, &ft, &fe, &fn)) {
        return gh_errorf(err, GH_EUNSUPP, "%s has no DWARF and goheap knows no moduledata layout for Go %s",
                         gh_exe_path(rt->exe), rt->ver.text);
    }
    if (ft.size != 8 || fe.size != 8 || fn.size != 8)
        return gh_errorf(err, GH_EFORMAT, "runtime.moduledata types/etypes/next are not 8 bytes in DWARF");
    if (!rt->firstmoduledata)
        return gh_errorf(err, GH_ENOTGO, "%s has no runtime.firstmoduledata symbol", gh_exe_path(rt->exe));
    for (uint64_t md = rt->firstmoduledata; md;) {
        if (*n == cap)
            return gh_errorf(err, GH_EFORMAT, "more than %zu modules on runtime.firstmoduledata's list "
                             "(a cycle?)", cap);
        uint64_t types, etypes, next;
        int rc;
        if ((rc = gh_read_u64(rt->t, md + ft.offset, &types, err)) ||
            (rc = gh_read_u64(rt->t, md + fe.offset, &etypes, err)) ||
            (rc = gh_read_u64(rt->t, md + fn.offset, &next, err)))
            return gh_err_wrap(err, "moduledata at 0x%llx", (unsigned long long)md);
        if (types == 0 || etypes <= types || etypes - types > TYPES_MAX)
            return gh_errorf(err, GH_EFORMAT, "moduledata at 0x%llx: types [0x%llx, 0x%llx) is not a "
                             "range of type descriptors", (unsigned long long)md,
                             (unsigned long long)types, (unsigned long long)etypes);
        mods[*n].types = types;
        mods[*n].etypes = etypes;
        (*n)++;
        md = next;
    }
    return GH_OK;
}

gh_typenames *gh_typenames_new(const gh_target *t, int go_minor, const gh_module_types *mods,
                               size_t n)
{
    gh_typenames *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->buf = malloc(GH_TYPENAME_MAX + 1);
    if (!c->buf) {
        gh_typenames_free(c);
        return NULL;
    }
    c->t = t;
    c->go_minor = go_minor;
    c->nmods = n < GH_TYPENAME_MAX_MODULES ? n : GH_TYPENAME_MAX_MODULES;
    memcpy(c->mods, mods, c->nmods * sizeof *mods);
    c->gen = generation(t);
    return c;
}

int gh_typenames_open(const gh_runtime *rt, gh_typenames **out, gh_err *err)
{
    gh_module_types mods[GH_TYPENAME_MAX_MODULES];
    size_t n;
    *out = NULL;
    int rc = gh_typename_modules(rt, mods, GH_TYPENAME_MAX_MODULES, &n, err);
    if (rc)
        return rc;
    if (!(*out = gh_typenames_new(rt->t, rt->ver.minor, mods, n)))
        return gh_errorf(err, GH_ENOMEM, "out of memory for the type name cache");
    (*out)->rt = rt;
    return GH_OK;
}

static void clear(gh_typenames *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].s);
    gh_hmap_free(&c->index);
    c->n = 0;
}

void gh_typenames_free(gh_typenames *c)
{
    if (!c)
        return;
    clear(c);
    free(c->v);
    free(c->buf);
    free(c);
}

/* The entry of key, or NULL. */
static tn_entry *find(const gh_typenames *c, uint64_t key)
{
    const uint64_t *i = gh_hmap_get(&c->index, key);
    return i ? &c->v[*i] : NULL;
}

/* Remembers a name or a failure; a full cache just stops remembering. */
static void remember(gh_typenames *c, uint64_t key, int state, int code, const char *s, size_t n)
{
    if (c->n >= GH_TYPENAME_MAX_CACHED)
        return;
    char *copy = malloc(n + 1);
    if (!copy || gh_grow(&c->v, &c->cap, c->n + 1, sizeof *c->v) || gh_hmap_put(&c->index, key, c->n)) {
        free(copy);
        return;
    }
    memcpy(copy, s, n);
    copy[n] = 0;
    tn_entry *e = &c->v[c->n];
    e->key = key;
    e->state = state;
    e->code = code;
    e->s = copy;
    c->n++;
}

const gh_module_types *tn_module(const gh_typenames *c, uint64_t addr)
{
    for (size_t i = 0; i < c->nmods; i++)
        if (addr >= c->mods[i].types && addr < c->mods[i].etypes)
            return &c->mods[i];
    return NULL;
}

int tn_put(gh_typenames *c, const char *s, size_t n, gh_err *err)
{
    if (n > GH_TYPENAME_MAX - c->len)
        return gh_errorf(err, GH_EFORMAT, "type name longer than %d bytes", GH_TYPENAME_MAX);
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    return GH_OK;
}

int tn_puts(gh_typenames *c, const char *s, gh_err *err)
{
    return tn_put(c, s, strlen(s), err);
}

int tn_put_mem(gh_typenames *c, uint64_t addr, uint64_t n, gh_err *err)
{
    if (n > GH_TYPENAME_MAX - c->len)
        return gh_errorf(err, GH_EFORMAT, "type name longer than %d bytes", GH_TYPENAME_MAX);
    int rc = gh_read(c->t, addr, c->buf + c->len, n, err);
    if (rc)
        return gh_err_wrap(err, "name bytes");
    c->len += n;
    return GH_OK;
}

/* abi.Name's lengths: uvarints below 1<<29 (abi.NewName), so at most 5 bytes. */
static int read_uvarint(gh_typenames *c, uint64_t addr, uint64_t *v, uint64_t *nbytes, gh_err *err)
{
    *v = 0;
    for (unsigned i = 0; i < 5; i++) {
        uint8_t x;
        int rc = gh_read_u8(c->t, addr + i, &x, err);
        if (rc)
            return rc;
        *v |= (uint64_t)(x & 0x7f) << (7 * i);
        if (!(x & 0x80)) {
            *nbytes = i + 1;
            return GH_OK;
        }
    }
    return gh_errorf(err, GH_EFORMAT, "name length at 0x%llx is not a varint below 2^35",
                     (unsigned long long)addr);
}

int tn_read_name(gh_typenames *c, uint64_t addr, uint64_t end, tn_name *out, gh_err *err)
{
    memset(out, 0, sizeof *out);
    uint64_t nb;
    int rc = gh_read_u8(c->t, addr, &out->flags, err);
    if (rc || (rc = read_uvarint(c, addr + 1, &out->name_len, &nb, err)))
        return gh_err_wrap(err, "name at 0x%llx", (unsigned long long)addr);
    out->name_addr = addr + 1 + nb;
    uint64_t stop = out->name_addr + out->name_len;
    if (out->name_len > GH_TYPENAME_MAX)
        return gh_errorf(err, GH_EFORMAT, "name at 0x%llx is %llu bytes long", (unsigned long long)addr,
                         (unsigned long long)out->name_len);
    if (out->flags & TN_NAME_TAG) {
        if ((rc = read_uvarint(c, stop, &out->tag_len, &nb, err)))
            return gh_err_wrap(err, "tag of the name at 0x%llx", (unsigned long long)addr);
        if (out->tag_len > GH_TYPENAME_MAX)
            return gh_errorf(err, GH_EFORMAT, "tag of the name at 0x%llx is %llu bytes long",
                             (unsigned long long)addr, (unsigned long long)out->tag_len);
        out->tag_addr = stop + nb;
        stop = out->tag_addr + out->tag_len;
    }
    if (end && stop > end)
        return gh_errorf(err, GH_EFORMAT, "name at 0x%llx runs past its module's types end 0x%llx",
                         (unsigned long long)addr, (unsigned long long)end);
    return GH_OK;
}

static int composite(unsigned kind)
{
    switch (kind) {
    case GH_KIND_ARRAY: case GH_KIND_CHAN: case GH_KIND_FUNC: case GH_KIND_INTERFACE:
    case GH_KIND_MAP: case GH_KIND_POINTER: case GH_KIND_SLICE: case GH_KIND_STRUCT:
        return 1;
    }
    return 0;
}

/* The descriptor's Str, as reflect's rtype.String() reads it. */
static int str_name(gh_typenames *c, const gh_rtype *rt, const gh_module_types *m, gh_err *err)
{
    /* The compiler's offsets are positive; reflect's run-time ids negative. */
    if (rt->str <= 0 || m->types + (uint64_t)rt->str >= m->etypes)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: name offset %d outside its module's types",
                         (unsigned long long)rt->addr, rt->str);
    tn_name n;
    int rc = tn_read_name(c, m->types + (uint64_t)rt->str, m->etypes, &n, err);
    if (rc)
        return gh_err_wrap(err, "type at 0x%llx", (unsigned long long)rt->addr);
    if (!(rt->tflag & GH_TFLAG_EXTRASTAR)) {
        if (n.name_len == 0)
            return gh_errorf(err, GH_EFORMAT, "type at 0x%llx has an empty name", (unsigned long long)rt->addr);
        return tn_put_mem(c, n.name_addr, n.name_len, err);
    }
    /* ExtraStar: the string is "*T", shared with the pointer type. */
    uint8_t star;
    if (n.name_len < 2 || (rc = gh_read_u8(c->t, n.name_addr, &star, err)) || star != '*')
        return rc ? rc : gh_errorf(err, GH_EFORMAT, "type at 0x%llx: ExtraStar name does not start with '*'",
                                   (unsigned long long)rt->addr);
    return tn_put_mem(c, n.name_addr + 1, n.name_len - 1, err);
}

/* Where a named type's abi.UncommonType lies: after the kind's own
 * descriptor (internal/abi's Uncommon()). 0 when the layout is not known
 * (a map type when the map implementation is not). */
static uint64_t uncommon_off(const gh_typenames *c, const gh_rtype *rt)
{
    switch (rt->kind) {
    case GH_KIND_STRUCT: case GH_KIND_INTERFACE: return 80; /* PkgPath, Fields or Methods */
    case GH_KIND_POINTER: case GH_KIND_SLICE: case GH_KIND_FUNC: return 56;
    case GH_KIND_ARRAY: return 72;
    case GH_KIND_CHAN: return 64;
    case GH_KIND_MAP:
        if (c->go_minor >= 26)
            return 112;
        if (!c->rt)
            return 0;
        return c->rt->exps & GH_EXP_SWISSMAP ? 112 : 88; /* Swiss MapType; the classic one */
    default: return 48;
    }
}

/* A named type's package path (uncommon.PkgPath), appended in place of the
 * package name that starts the name built from start: "util.Item" becomes
 * "example.com/a/util.Item". The import path is what tells two packages of
 * one name apart; type arguments inside brackets are not recorded in the
 * descriptor and stay as Str spells them. Nothing changes for a type with
 * no package (int, error) or no recorded path. */
static int qualify(gh_typenames *c, const gh_rtype *rt, const gh_module_types *m, size_t start, gh_err *err)
{
    uint64_t uo = uncommon_off(c, rt);
    int32_t off;
    tn_name pn;
    if (!(rt->tflag & GH_TFLAG_UNCOMMON) || !uo || gh_read(c->t, rt->addr + uo, &off, 4, NULL) || off <= 0 ||
        m->types + (uint64_t)off >= m->etypes || tn_read_name(c, m->types + (uint64_t)off, m->etypes, &pn, NULL) ||
        !pn.name_len || pn.name_len > 4096)
        return GH_OK;
    size_t len = c->len - start, dot = 0;
    if (len > pn.name_len && c->buf[start + pn.name_len] == '.') { /* already the path: go.shape.int */
        char head[4097];
        if (gh_read(c->t, pn.name_addr, head, pn.name_len, NULL) == GH_OK && !memcmp(head, c->buf + start, pn.name_len))
            return GH_OK;
    }
    while (dot < len && c->buf[start + dot] != '.' && c->buf[start + dot] != '[')
        dot++;
    if (dot == len || c->buf[start + dot] != '.')
        return GH_OK;
    char path[4097], *tail = malloc(len - dot + 1);
    if (!tail)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    memcpy(tail, c->buf + start + dot, len - dot);
    tail[len - dot] = 0;
    int rc = gh_read(c->t, pn.name_addr, path, pn.name_len, err);
    if (rc == GH_OK) {
        path[pn.name_len] = 0;
        c->len = start;
        rc = tn_puts(c, path, err);
        if (rc == GH_OK)
            rc = tn_puts(c, tail, err);
    }
    free(tail);
    return rc;
}

/* The name of the type at addr, appended without consulting the cache. */
static int name_of(gh_typenames *c, uint64_t addr, int depth, int built, gh_err *err)
{
    gh_rtype rt;
    int rc = gh_rtype_read(c->t, c->go_minor, addr, &rt, err);
    if (rc)
        return rc;
    const gh_module_types *m = tn_module(c, addr);
    if (m && c->full && !built) {
        /* Full names: a named type's Str with its import path; an unnamed
         * composite from its structure, whose element names are full too
         * (Str, where the structure cannot be named). */
        size_t start = c->len;
        if (rt.tflag & GH_TFLAG_NAMED)
            return (rc = str_name(c, &rt, m, err)) ? rc : qualify(c, &rt, m, start, err);
        if (composite(rt.kind) && tn_build(c, &rt, depth, 0, NULL) == GH_OK)
            return GH_OK;
        c->len = start;
    }
    if (m && !built) {
        size_t start = c->len;
        if ((rc = str_name(c, &rt, m, err)) == GH_OK)
            return GH_OK;
        c->len = start;
        /* A bad Str leaves an unnamed composite its structure; a named
         * type has nothing else to go by. */
        if ((rt.tflag & GH_TFLAG_NAMED) || !composite(rt.kind))
            return rc;
    }
    if (!m && c->go_minor <= 23 && (rt.tflag & GH_TFLAG_UNROLLEDBITMAP))
        return gh_errorf(err, GH_EUNSUPP, "type at 0x%llx is the allocator's unrolled GC bitmap of a "
                         "GC-program type (Go 1.22-1.23 large objects): the object's type is not recorded",
                         (unsigned long long)addr);
    if (rt.tflag & GH_TFLAG_NAMED)
        return gh_errorf(err, GH_EUNSUPP, "named type at 0x%llx %s", (unsigned long long)addr,
                         m ? "has no structure to build its name from"
                           : "is outside every module: its name would be in the runtime's reflectOffs");
    if (!composite(rt.kind))
        return gh_errorf(err, GH_EUNSUPP, "type at 0x%llx of kind %u is unnamed and outside every module",
                         (unsigned long long)addr, rt.kind);
    return tn_build(c, &rt, depth, 0, err);
}

int tn_append(gh_typenames *c, uint64_t addr, int depth, gh_err *err)
{
    if (depth > GH_TYPENAME_MAX_DEPTH)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: element types nest more than %d deep (a cycle?)",
                         (unsigned long long)addr, GH_TYPENAME_MAX_DEPTH);
    if (c->visits == 0)
        return gh_errorf(err, GH_EFORMAT, "type at 0x%llx: more than %llu descriptors in one name",
                         (unsigned long long)addr, (unsigned long long)VISIT_BUDGET);
    c->visits--;
    uint64_t key = c->full ? addr | TN_FULL_KEY : addr;
    tn_entry *e = find(c, key);
    if (e && e->state == TN_OK)
        return tn_puts(c, e->s, err);
    if (e && e->state == TN_FAIL)
        return gh_errorf(err, e->code, "%s", e->s);
    size_t start = c->len;
    int rc = name_of(c, addr, depth, 0, err);
    if (rc == GH_OK)
        remember(c, key, TN_OK, 0, c->buf + start, c->len - start);
    else if (depth == 0) /* deeper failures can depend on the depth they were met at */
        remember(c, key, TN_FAIL, rc, err ? err->msg : "", err ? strlen(err->msg) : 0);
    return rc;
}

/* Starts a query: forgets everything when the target ran. */
static void begin(gh_typenames *c)
{
    uint64_t gen = generation(c->t);
    if (gen != c->gen) {
        clear(c);
        c->gen = gen;
        gh_module_types mods[GH_TYPENAME_MAX_MODULES];
        size_t n;
        gh_err ignore;
        /* Plugins can add modules to a live process. */
        if (c->rt && gh_typename_modules(c->rt, mods, GH_TYPENAME_MAX_MODULES, &n, &ignore) == GH_OK) {
            memcpy(c->mods, mods, n * sizeof *mods);
            c->nmods = n;
        }
    }
    c->len = 0;
    c->visits = VISIT_BUDGET;
    c->full = 0;
}

static int finish(gh_typenames *c, uint64_t addr, int rc, char *buf, size_t cap, gh_err *err)
{
    if (rc == GH_OK && c->len >= cap)
        rc = gh_errorf(err, GH_EARG, "type at 0x%llx: its %zu-byte name does not fit a %zu-byte buffer",
                       (unsigned long long)addr, c->len, cap);
    if (cap == 0)
        return rc;
    if (rc == GH_OK) {
        memcpy(buf, c->buf, c->len);
        buf[c->len] = 0;
    } else {
        snprintf(buf, cap, "unknown<type 0x%llx>", (unsigned long long)addr);
    }
    return rc;
}

int gh_typename(gh_typenames *c, uint64_t type_addr, char *buf, size_t cap, gh_err *err)
{
    begin(c);
    return finish(c, type_addr, tn_append(c, type_addr, 0, err), buf, cap, err);
}

int gh_typename_ref(gh_typenames *c, uint64_t type_addr, const char **name, gh_err *err)
{
    begin(c);
    int rc = tn_append(c, type_addr, 0, err);
    if (rc)
        snprintf(c->buf, GH_TYPENAME_MAX + 1, "unknown<type 0x%llx>", (unsigned long long)type_addr);
    else
        c->buf[c->len] = 0;
    *name = c->buf;
    return rc;
}

int gh_typename_built(gh_typenames *c, uint64_t type_addr, char *buf, size_t cap, gh_err *err)
{
    begin(c);
    c->visits--;
    return finish(c, type_addr, name_of(c, type_addr, 0, 1, err), buf, cap, err);
}

int gh_typename_full_ref(gh_typenames *c, uint64_t type_addr, const char **name, gh_err *err)
{
    begin(c);
    c->full = 1;
    int rc = tn_append(c, type_addr, 0, err);
    c->full = 0;
    if (rc)
        snprintf(c->buf, GH_TYPENAME_MAX + 1, "unknown<type 0x%llx>", (unsigned long long)type_addr);
    else
        c->buf[c->len] = 0;
    *name = c->buf;
    return rc;
}
