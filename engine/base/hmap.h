/* The one hash table: open addressing from 64-bit keys to 64-bit values
 * (an index into the caller's array, an address, a pointer). Lookups are
 * inline: the engine asks it once per object and per pointer.
 *
 * Two uses:
 *   - one value per key (an address, a DIE offset, a pc): get and put;
 *   - several values under one key, where the key is a hash of what the
 *     caller compares itself (an interned type, a name): walk the values
 *     with gh_hmap_first and gh_hmap_next, and add another with gh_hmap_add. */
#ifndef GOHEAP_BASE_HMAP_H
#define GOHEAP_BASE_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct gh_hmap {
    uint64_t *keys, *vals;
    uint8_t *full;   /* per slot: in use */
    size_t cap, n;   /* cap is 0 or a power of two, never more than half full */
} gh_hmap;

#define GH_HMAP_END SIZE_MAX

static inline size_t gh_hmap_slot0(const gh_hmap *m, uint64_t key)
{
    uint64_t x = key;
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return (size_t)x & (m->cap - 1);
}

/* The slot of the first value under key at or after slot i (probing), or
 * GH_HMAP_END. */
static inline size_t gh_hmap_scan(const gh_hmap *m, uint64_t key, size_t i)
{
    for (; m->full[i]; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == key)
            return i;
    return GH_HMAP_END;
}

/* The value stored for key, or NULL (the first, when several are). */
static inline uint64_t *gh_hmap_get(const gh_hmap *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t i = gh_hmap_scan(m, key, gh_hmap_slot0(m, key));
    return i == GH_HMAP_END ? NULL : &m->vals[i];
}

/* Several values under one key: the slot of the first, and of the one after
 * slot i; m->vals[slot] is the value. GH_HMAP_END when there are no more. */
static inline size_t gh_hmap_first(const gh_hmap *m, uint64_t key)
{
    return m->cap ? gh_hmap_scan(m, key, gh_hmap_slot0(m, key)) : GH_HMAP_END;
}
static inline size_t gh_hmap_next(const gh_hmap *m, uint64_t key, size_t i)
{
    return gh_hmap_scan(m, key, (i + 1) & (m->cap - 1));
}

/* Stores val for key, replacing the value there is. 0, or -1 when out of
 * memory (the table is then unchanged). */
int gh_hmap_put(gh_hmap *m, uint64_t key, uint64_t val);
/* Adds val under key beside any values already there. 0 or -1. */
int gh_hmap_add(gh_hmap *m, uint64_t key, uint64_t val);
/* Room for n entries without growing. 0 or -1. */
int gh_hmap_reserve(gh_hmap *m, size_t n);
void gh_hmap_free(gh_hmap *m);

#endif
