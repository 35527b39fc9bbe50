/* Internal: bytes that are in no target's memory (a Go local held in
 * registers, assembled from its parts) made readable through a target, at
 * an address no target maps, so the expression evaluator and the value
 * printer, which read through a target, read them like memory. */
#ifndef GOHEAP_TARGET_OVERLAY_H
#define GOHEAP_TARGET_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#include "target/target.h"

/* Non-canonical on amd64 and arm64 (bits 48-63 neither all 0 nor all 1):
 * no process, core or debugger maps it. */
#define GH_OVERLAY_BASE 0x8000000000000000ull
#define GH_OVERLAY_MAX 1024 /* bytes held */

typedef struct gh_overlay {
    gh_target t;            /* reads here: the bytes at [GH_OVERLAY_BASE, +len), else inner's */
    gh_target_ops ops;
    const gh_target *inner;
    size_t len;
    uint8_t bytes[GH_OVERLAY_MAX];
} gh_overlay;

/* o reads through inner where it holds nothing. o must not move afterwards
 * (o->t points into it). */
void gh_overlay_init(gh_overlay *o, const gh_target *inner);
/* Holds n bytes; returns where they read, 0 when they do not fit. */
uint64_t gh_overlay_put(gh_overlay *o, const void *b, size_t n);
/* Whether addr is in the overlay's range (held or not): no target memory. */
int gh_overlay_addr(uint64_t addr);

#endif
