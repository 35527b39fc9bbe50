/* gh_hmap: the engine's one hash table (see hmap.h). */
#include "base/hmap.h"

#include <stdlib.h>
#include <string.h>

static void insert(gh_hmap *m, uint64_t key, uint64_t val)
{
    size_t i = gh_hmap_slot0(m, key);
    while (m->full[i])
        i = (i + 1) & (m->cap - 1);
    m->full[i] = 1;
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
}

int gh_hmap_reserve(gh_hmap *m, size_t n)
{
    if (n <= m->cap / 2)
        return 0;
    size_t cap = m->cap ? m->cap : 64;
    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 32)
            return -1;
        cap *= 2;
    }
    gh_hmap nm = {.keys = malloc(cap * sizeof *nm.keys), .vals = malloc(cap * sizeof *nm.vals),
                  .full = calloc(cap, 1), .cap = cap};
    if (!nm.keys || !nm.vals || !nm.full) {
        gh_hmap_free(&nm);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->full[i])
            insert(&nm, m->keys[i], m->vals[i]);
    gh_hmap_free(m);
    *m = nm;
    return 0;
}

int gh_hmap_add(gh_hmap *m, uint64_t key, uint64_t val)
{
    if (gh_hmap_reserve(m, m->n + 1))
        return -1;
    insert(m, key, val);
    return 0;
}

int gh_hmap_put(gh_hmap *m, uint64_t key, uint64_t val)
{
    uint64_t *v = gh_hmap_get(m, key);
    if (v) {
        *v = val;
        return 0;
    }
    return gh_hmap_add(m, key, val);
}

void gh_hmap_free(gh_hmap *m)
{
    free(m->keys);
    free(m->vals);
    free(m->full);
    memset(m, 0, sizeof *m);
}
