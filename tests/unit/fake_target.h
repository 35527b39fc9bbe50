/* An in-memory gh_target for unit tests: chunks of bytes at target addresses. */
#ifndef GOHEAP_FAKE_TARGET_H
#define GOHEAP_FAKE_TARGET_H

#include "target/target.h"

/* Creates an empty fake target; free with gh_target_close. */
gh_target *fake_target_new(void);
/* Adds a zero-filled chunk of len bytes at addr and returns its host memory. */
uint8_t *fake_target_map(gh_target *t, uint64_t addr, size_t len);
void fake_put_u64(gh_target *t, uint64_t addr, uint64_t v);
void fake_put_u32(gh_target *t, uint64_t addr, uint32_t v);
void fake_put_u8(gh_target *t, uint64_t addr, uint8_t v);

#endif
