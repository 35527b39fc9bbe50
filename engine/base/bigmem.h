/* Large arrays the marker reaches at random (a type per object, parents,
 * the pointer graph): asked to be backed by huge pages, so each random
 * access costs no TLB miss of its own. Advice only: where the kernel does
 * not give huge pages nothing changes. */
#ifndef GOHEAP_BASE_BIGMEM_H
#define GOHEAP_BASE_BIGMEM_H

#include <stddef.h>

/* Advises huge pages for the whole 2 MiB pages inside [p, p + len). */
void gh_bigmem_advise(void *p, size_t len);

#endif
