// A gh_target over LLDB's SB API: memory through SBProcess::ReadMemory in
// 64 KiB blocks held in a direct-mapped cache (never a call per word),
// regions, thread registers, the executable and its load bias.
#ifndef GOHEAP_LLDB_SB_TARGET_H
#define GOHEAP_LLDB_SB_TARGET_H

#include <lldb/API/SBProcess.h>
#include <lldb/API/SBTarget.h>

extern "C" {
#include "goheap/target.h"
}

// Creates a target over the process; close it with gh_target_close.
int goheap_sb_target_open(lldb::SBTarget target, lldb::SBProcess process, gh_target **out, gh_err *err);

// Takes the process's current stop id: call before each command. A changed
// stop id (the process ran) drops cached memory, regions and registers, and
// is the target's new generation, so the session rebuilds its models. Does
// nothing for targets of other backends.
void goheap_sb_target_sync(gh_target *t);

#endif
