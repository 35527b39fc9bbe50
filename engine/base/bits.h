/* Bit vectors in the Go runtime's order: bit i is v[i/8] >> (i%8) & 1.
 * Writers OR into vectors the caller zeroed, so they never clear a bit. */
#ifndef GOHEAP_BASE_BITS_H
#define GOHEAP_BASE_BITS_H

#include <stdint.h>

/* The widest run moved at once: a run starting mid-byte still fits in the
 * 8 bytes a uint64_t holds. */
#define GH_BITS_CHUNK 56

static inline int gh_bit(const uint8_t *v, uint64_t i)
{
    return v[i >> 3] >> (i & 7) & 1;
}

/* k <= GH_BITS_CHUNK bits at pos; touches only the bytes holding them. */
static inline uint64_t gh_bits_get(const uint8_t *v, uint64_t pos, unsigned k)
{
    if (k == 0)
        return 0;
    uint64_t first = pos >> 3, last = (pos + k - 1) >> 3, x = 0;
    for (uint64_t b = first; b <= last; b++)
        x |= (uint64_t)v[b] << (8 * (b - first));
    return x >> (pos & 7) & ((UINT64_C(1) << k) - 1);
}

/* ORs the k <= GH_BITS_CHUNK low bits of x in at pos. */
static inline void gh_bits_or(uint8_t *v, uint64_t pos, uint64_t x, unsigned k)
{
    if (k == 0)
        return;
    x &= (UINT64_C(1) << k) - 1;
    x <<= pos & 7;
    uint64_t first = pos >> 3, last = (pos + k - 1) >> 3;
    for (uint64_t b = first; b <= last; b++, x >>= 8)
        v[b] |= (uint8_t)x;
}

/* ORs n bits of src at spos into dst at dpos; the ranges must not overlap. */
static inline void gh_bits_copy(uint8_t *dst, uint64_t dpos, const uint8_t *src, uint64_t spos,
                                uint64_t n)
{
    while (n > 0) {
        unsigned k = n < GH_BITS_CHUNK ? (unsigned)n : GH_BITS_CHUNK;
        gh_bits_or(dst, dpos, gh_bits_get(src, spos, k), k);
        dpos += k;
        spos += k;
        n -= k;
    }
}

/* Writes n bits at pos that continue the period-bit pattern ending at pos
 * (period <= pos): an LZ77-style overlapping copy. The copy distance grows
 * in multiples of the period, so short periods cost n/56 steps, not n. */
static inline void gh_bits_repeat(uint8_t *v, uint64_t pos, uint64_t period, uint64_t n)
{
    for (uint64_t done = 0; done < n;) {
        uint64_t dist = (done + period) / period * period; /* written, periodic */
        uint64_t k = n - done;
        if (k > dist)
            k = dist;
        if (k > GH_BITS_CHUNK)
            k = GH_BITS_CHUNK;
        gh_bits_or(v, pos + done, gh_bits_get(v, pos + done - dist, (unsigned)k), (unsigned)k);
        done += k;
    }
}

#endif
