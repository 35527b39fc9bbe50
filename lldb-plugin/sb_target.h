// A goheap target (goheap/target.h) over LLDB's SB API: memory through SBProcess::ReadMemory in
// 64 KiB blocks held in a direct-mapped cache (never a call per word),
// regions, thread registers, the executable and its load bias.
#ifndef GOHEAP_LLDB_SB_TARGET_H
#define GOHEAP_LLDB_SB_TARGET_H

#include <lldb/API/SBProcess.h>
#include <lldb/API/SBTarget.h>

#include "goheap/goheap.h"

// Opens a session over the process through the SB API (gh_open_target);
// *ctx is the target's context, for goheap_sb_target_sync. exe may be NULL.
int goheap_sb_target_open(lldb::SBTarget target, lldb::SBProcess process, const char *exe, gh_session **out,
                          void **ctx, gh_err *err);

// Opens a session over a process on this machine through /proc/PID/mem (the
// process is stopped by lldb), with lldb's registers of its threads: reads in
// large blocks, far faster than SBProcess::ReadMemory. Fails (and the caller
// takes the SB API) when /proc/PID/mem cannot be read.
int goheap_local_open(lldb::SBProcess process, gh_session **out, gh_err *err);

// Takes the process's current stop id: call before each command. A changed
// stop id (the process ran) drops cached memory, regions and registers, and
// is the target's new generation, so the session rebuilds its models.
void goheap_sb_target_sync(void *ctx);

#endif
