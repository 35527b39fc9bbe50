/* A live process's memory, copied in on first touch: 1 MiB chunks of its
 * readable regions, each read from /proc/PID/mem with one pread when first
 * asked, then served from our own memory. The heap is then read like a
 * mapped core (direct pointers, no syscall per word), by several threads at
 * once. A budget bounds the copies; past it, reads go to the process each
 * time. */
#ifndef GOHEAP_TARGET_LIVE_CHUNKS_H
#define GOHEAP_TARGET_LIVE_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

#include "goheap/target.h"

#define GH_CHUNK_SIZE (UINT64_C(1) << 20)

typedef struct gh_chunks gh_chunks;

/* fd: /proc/PID/mem; regions sorted (the readable ones get chunks); budget:
 * bytes of copies at most (0: half of physical memory). NULL when out of
 * memory. */
gh_chunks *gh_chunks_new(int fd, const gh_region *regions, size_t n, uint64_t budget);
void gh_chunks_free(gh_chunks *c);

/* Bytes read from addr on; fewer when memory is not readable. Thread-safe. */
size_t gh_chunks_read(gh_chunks *c, uint64_t addr, void *buf, size_t len);

/* A pointer to [addr, addr + len) in a copy, or NULL (not in one chunk, not
 * readable, or over the budget). Thread-safe; valid until gh_chunks_free. */
const void *gh_chunks_direct(gh_chunks *c, uint64_t addr, size_t len);

/* Bytes held in copies. */
uint64_t gh_chunks_bytes(const gh_chunks *c);

#endif
