// goheap's LLDB plugin entry point. `plugin load libgoheap-lldb.so` calls
// lldb::PluginInitialize. The go-* commands are registered here as the engine
// gains them (see docs/lldb.md); until then loading succeeds and adds nothing.
#include <lldb/API/SBDebugger.h>

namespace lldb {
bool PluginInitialize(SBDebugger debugger);
}

bool lldb::PluginInitialize(lldb::SBDebugger debugger)
{
    return debugger.IsValid();
}
