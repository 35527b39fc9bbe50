/* A cap on goheap's memory, so a huge or hostile core ends a command with
 * an error naming the structure that would not fit, never with the kernel's
 * out-of-memory kill of the host (the user's debugger). Before building a
 * large model (the heap's maps, the object graph, the dominator tree) the
 * caller asks whether its estimated size fits: the process's resident
 * memory now plus the estimate must stay under the limit.
 *
 * The limit: GOHEAP_MEMORY_LIMIT (bytes, with an optional K, M, G or T
 * suffix; 0 or "off" for none), else three quarters of physical memory. */
#ifndef GOHEAP_BASE_MEMCAP_H
#define GOHEAP_BASE_MEMCAP_H

#include <stdint.h>

#include "base/error.h"

/* The limit in bytes (0: none). */
uint64_t gh_mem_limit(void);
/* GH_OK when need more bytes fit; else GH_ENOMEM saying what needs how much. */
int gh_mem_check(uint64_t need, const char *what, gh_err *err);

#endif
