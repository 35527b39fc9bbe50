/* Go 1.22-1.23 GC programs: the compact form of the pointer bitmap of types
 * whose mask would exceed 2048 bytes (cmd/internal/gcprog writes them,
 * runtime.runGCProg runs them). Gone from 1.24 on. */
#ifndef GOHEAP_RTYPE_GCPROG_H
#define GOHEAP_RTYPE_GCPROG_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Runs the program prog[0, len), which starts after the 4-byte length that
 * prefixes it in a type's GCData, and writes the bits it emits to dst, LSB
 * first (bit i is dst[i/8] >> i%8 & 1). dst holds (max_bits + 7) / 8 bytes
 * and is zeroed first. *nbits is the number of bits emitted.
 * Codes: 0x00 stop; 0nnnnnnn: n literal bits in the next (n+7)/8 bytes;
 * 1nnnnnnn c: repeat the last n bits c times (n == 0: n is a varint before c).
 * GH_EFORMAT for a program that is truncated, lacks its stop code, repeats
 * more bits than were written, or emits more than max_bits. */
int gh_gcprog_run(const uint8_t *prog, size_t len, uint8_t *dst, uint64_t max_bits,
                  uint64_t *nbits, gh_err *err);

#endif
