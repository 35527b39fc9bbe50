/* A fast 64-bit hash of bytes, for fingerprints and checksums of large
 * arrays (the saved graph index): four independent lanes over 8-byte words,
 * so it runs at memory speed. Not for hash tables (hmap.h has its own mix)
 * and not cryptographic: it catches damage and staleness, not an attacker. */
#ifndef GOHEAP_BASE_HASH_H
#define GOHEAP_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Hash of n bytes at p, continuing from seed (0 to start). */
uint64_t gh_hash64(const void *p, size_t n, uint64_t seed);

/* One word into a running hash. */
static inline uint64_t gh_hash_word(uint64_t h, uint64_t w)
{
    h ^= w * UINT64_C(0x9e3779b97f4a7c15);
    h = (h << 27 | h >> 37) * UINT64_C(0xff51afd7ed558ccd);
    return h ^ (h >> 31);
}

#endif
