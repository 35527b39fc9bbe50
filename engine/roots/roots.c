/* The root set: a growing array of regions, with their strings, masks and
 * register values copied into one arena so providers can reuse buffers. */
#include "base/vec.h"
#include "roots/roots.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (1u << 20)
#define MAX_NOTES 64

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    unsigned char data[];
} chunk;

struct gh_roots {
    gh_root *v;
    size_t n, cap;
    chunk *arena;
    char *notes[MAX_NOTES];
    size_t nnotes;
};

static const char *const kind_names[GH_ROOT_NKINDS] = {"global", "stack", "finalizer", "cleanup", "runtime"};

const char *gh_root_kind_name(int kind)
{
    return kind >= 0 && kind < GH_ROOT_NKINDS ? kind_names[kind] : "?";
}

gh_roots *gh_roots_new(void) { return calloc(1, sizeof(gh_roots)); }

void gh_roots_free(gh_roots *rs)
{
    if (!rs)
        return;
    for (chunk *c = rs->arena, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    for (size_t i = 0; i < rs->nnotes; i++)
        free(rs->notes[i]);
    free(rs->v);
    free(rs);
}

static void *arena_alloc(gh_roots *rs, size_t len)
{
    len = (len + 7) & ~(size_t)7;
    chunk *c = rs->arena;
    if (!c || c->cap - c->used < len) {
        size_t cap = len > ARENA_CHUNK ? len : ARENA_CHUNK;
        chunk *n = malloc(sizeof *n + cap);
        if (!n)
            return NULL;
        n->used = 0;
        n->cap = cap;
        /* A big block goes behind the current chunk so its space stays usable. */
        if (c && cap == len) {
            n->next = c->next;
            c->next = n;
        } else {
            n->next = c;
            rs->arena = n;
        }
        c = n;
    }
    void *p = c->data + c->used;
    c->used += len;
    return p;
}

static const char *dup_str(gh_roots *rs, const char *s, int *oom)
{
    if (!s)
        return NULL;
    size_t len = strlen(s) + 1;
    char *p = arena_alloc(rs, len);
    if (!p) {
        *oom = 1;
        return NULL;
    }
    memcpy(p, s, len);
    return p;
}

int gh_roots_add(gh_roots *rs, const gh_root *r, gh_err *err)
{
    if (r->size % 8 || r->size > (UINT64_C(1) << 30))
        return gh_errorf(err, GH_EARG, "root region of %llu bytes at 0x%llx", (unsigned long long)r->size,
                         (unsigned long long)r->addr);
    if (gh_grow(&rs->v, &rs->cap, rs->n + 1, sizeof *rs->v))
        return gh_errorf(err, GH_ENOMEM, "out of memory for roots");
    gh_root c = *r;
    int oom = 0;
    size_t words = r->size / 8;
    if (r->mask) {
        uint8_t *m = arena_alloc(rs, (words + 7) / 8);
        if (!m)
            return gh_errorf(err, GH_ENOMEM, "out of memory for roots");
        memcpy(m, r->mask, (words + 7) / 8);
        c.mask = m;
    }
    if (r->values) {
        uint64_t *v = arena_alloc(rs, words * 8);
        if (!v)
            return gh_errorf(err, GH_ENOMEM, "out of memory for roots");
        memcpy(v, r->values, words * 8);
        c.values = v;
    }
    c.name = dup_str(rs, r->name, &oom);
    c.function = dup_str(rs, r->function, &oom);
    c.variable = dup_str(rs, r->variable, &oom);
    if (oom)
        return gh_errorf(err, GH_ENOMEM, "out of memory for roots");
    rs->v[rs->n++] = c;
    return GH_OK;
}

size_t gh_roots_count(const gh_roots *rs) { return rs->n; }

const gh_root *gh_roots_get(const gh_roots *rs, size_t i) { return i < rs->n ? &rs->v[i] : NULL; }

void gh_roots_note(gh_roots *rs, const char *fmt, ...)
{
    if (rs->nnotes == MAX_NOTES)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < rs->nnotes; i++)
        if (!strcmp(rs->notes[i], buf))
            return;
    char *p = strdup(buf);
    if (p)
        rs->notes[rs->nnotes++] = p;
}

size_t gh_roots_nnotes(const gh_roots *rs) { return rs->nnotes; }

const char *gh_roots_get_note(const gh_roots *rs, size_t i) { return i < rs->nnotes ? rs->notes[i] : NULL; }

int gh_root_each_word(const gh_root *r, const gh_target *t, gh_root_word_fn fn, void *ctx)
{
    uint64_t nw = r->size / 8;
    /* A root at a misaligned address (a corrupt record) is read word by word. */
    const uint64_t *direct = r->values ? r->values : (r->addr & 7) ? NULL : gh_direct(t, r->addr, r->size);
    for (uint64_t w = 0; w < nw; w++) {
        if (!r->conservative && r->mask && !(r->mask[w >> 3] >> (w & 7) & 1))
            continue;
        uint64_t v;
        if (direct)
            v = direct[w];
        else if (gh_read_u64(t, r->addr + 8 * w, &v, NULL))
            continue;
        int rc = fn(ctx, w, r->values ? 0 : r->addr + 8 * w, v);
        if (rc)
            return rc;
    }
    return 0;
}
