// goheap's LLDB plugin. `plugin load libgoheap-lldb.so` calls
// lldb::PluginInitialize, which registers go-NAME for every command of the
// engine's command layer (overview, breakdown, ...), with the engine's help.
// The loaded model is kept per process and reused until the process runs.
#include <lldb/API/SBCommandInterpreter.h>
#include <lldb/API/SBCommandReturnObject.h>
#include <lldb/API/SBDebugger.h>
#include <lldb/API/SBFileSpec.h>
#include <lldb/API/SBPlatform.h>
#include <lldb/API/SBProcess.h>
#include <lldb/API/SBExpressionOptions.h>
#include <lldb/API/SBFrame.h>
#include <lldb/API/SBTarget.h>
#include <lldb/API/SBThread.h>
#include <lldb/API/SBValue.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "sb_target.h"


namespace lldb {
bool PluginInitialize(SBDebugger debugger);
}

namespace {

// One cached session: the target it belongs to, and whether it reads the core
// file directly (mmapped) or through the SB API.
struct Cached {
    gh_session *s = nullptr;
    void *sb = nullptr; // the SB API target's context (null for a mmapped core)
    uint32_t process_uid = 0;
    std::string key;
};
Cached cached;

void append(void *ctx, const char *s, size_t n) { static_cast<std::string *>(ctx)->append(s, n); }

int poll_interrupt(void *ctx) { return static_cast<lldb::SBDebugger *>(ctx)->InterruptRequested(); }

// Progress of a long phase on lldb's error stream when it is a terminal:
// one line rewritten in place and erased at the end (the command's output
// is printed when the command returns).
struct Progress {
    FILE *f = nullptr;
    bool shown = false;
    void clear()
    {
        if (shown) {
            fputs("\r\033[K", f);
            fflush(f);
            shown = false;
        }
    }
};

void progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    auto *p = static_cast<Progress *>(ctx);
    if (total && done >= total) {
        p->clear();
        return;
    }
    if (total)
        fprintf(p->f, "\r\033[Kgoheap: %s %llu/%llu (%d%%)", phase, (unsigned long long)done,
                (unsigned long long)total, (int)(100.0 * (double)done / (double)total));
    else
        fprintf(p->f, "\r\033[Kgoheap: %s %llu", phase, (unsigned long long)done);
    fflush(p->f);
    p->shown = true;
}

// A core file lldb loaded: open it with the engine's own core backend, which
// maps the file (far faster than SBProcess::ReadMemory). GOHEAP_LLDB_SBAPI=1
// forces the SB API path (tests use it to check both).
std::string core_path(lldb::SBProcess p)
{
    if (std::getenv("GOHEAP_LLDB_SBAPI"))
        return "";
    lldb::SBFileSpec core = p.GetCoreFile();
    char buf[4096];
    if (!core.IsValid() || core.GetPath(buf, sizeof buf) == 0)
        return "";
    struct stat st;
    return stat(buf, &st) == 0 ? buf : "";
}

int fail(gh_err *err, int code, const std::string &msg)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof err->msg, "%s", msg.c_str());
    }
    return code;
}

int session_for(lldb::SBDebugger &dbg, gh_session **out, gh_err *err)
{
    lldb::SBTarget target = dbg.GetSelectedTarget();
    lldb::SBProcess process = target.GetProcess();
    if (!target.IsValid() || !process.IsValid())
        return fail(err, GH_EARG, "no process: load a core (target create EXE --core CORE) or run a program");
    switch (process.GetState()) {
    case lldb::eStateExited:
        return fail(err, GH_EARG, "no process: it exited with status " + std::to_string(process.GetExitStatus()));
    case lldb::eStateDetached:
    case lldb::eStateUnloaded:
    case lldb::eStateInvalid:
        return fail(err, GH_EARG, "no process: load a core (target create EXE --core CORE) or run a program");
    case lldb::eStateRunning:
    case lldb::eStateStepping:
    case lldb::eStateLaunching:
    case lldb::eStateAttaching:
        return fail(err, GH_EARG, "the process is running: stop it first (process interrupt)");
    default:
        break;
    }
    char exe[4096] = "";
    target.GetExecutable().GetPath(exe, sizeof exe);
    std::string core = core_path(process);
    std::string key = std::string(exe) + "|" + core + "|" + std::to_string(process.GetProcessID());
    // A local process read through /proc is a new target at each stop.
    lldb::SBPlatform platform = target.GetPlatform();
    const char *pname = platform.IsValid() ? platform.GetName() : nullptr;
    bool local = core.empty() && !std::getenv("GOHEAP_LLDB_SBAPI") && pname && std::string(pname) == "host";
    if (local)
        key += "|stop " + std::to_string(process.GetStopID());
    if (cached.s && cached.key == key && cached.process_uid == process.GetUniqueID()) {
        goheap_sb_target_sync(cached.sb);
        *out = cached.s;
        return GH_OK;
    }
    gh_close(cached.s);
    cached.s = nullptr;
    cached.sb = nullptr;
    gh_session *s;
    void *sb = nullptr;
    int rc;
    if (!core.empty()) {
        rc = gh_open_core(core.c_str(), exe[0] ? exe : nullptr, &s, err);
        gh_err ignored{};
        if (!rc) // the graph index as GOHEAP_INDEX says (auto): no directory, no index
            gh_set_index(s, GH_INDEX_DEFAULT, nullptr, &ignored);
    } else {
        // On this machine the process's memory is read from /proc/PID/mem
        // in large blocks; the SB API (remote targets, or where /proc is
        // refused) reads through lldb.
        rc = local ? goheap_local_open(process, &s, err) : GH_EUNSUPP;
        if (rc)
            rc = goheap_sb_target_open(target, process, exe[0] ? exe : nullptr, &s, &sb, err);
        if (!rc)
            gh_set_description(s, ("lldb process " + std::to_string(process.GetProcessID())).c_str());
    }
    if (rc)
        return rc;
    cached.s = s;
    cached.sb = sb;
    cached.key = key;
    cached.process_uid = process.GetUniqueID();
    *out = s;
    return GH_OK;
}

// An argument that is not goheap's (gh_command_debugger_arg: a register,
// $1, a local, arithmetic) evaluated by lldb: SBFrame::EvaluateExpression in
// the selected frame (SBTarget's without one), then the frame's variable
// path (Go locals lldb's C++ evaluator cannot parse). A pointer or integer
// gives its value, any other value the address it is stored at.
bool lldb_value(lldb::SBDebugger &dbg, const char *text, uint64_t *v, std::string *why)
{
    lldb::SBTarget target = dbg.GetSelectedTarget();
    lldb::SBFrame frame = target.GetProcess().GetSelectedThread().GetSelectedFrame();
    // lldb has no Go evaluator: C++ reads registers, $1, casts and arithmetic
    lldb::SBExpressionOptions opts;
    opts.SetLanguage(lldb::eLanguageTypeC_plus_plus);
    opts.SetTryAllThreads(false);
    opts.SetSuppressPersistentResult(true); // the user's $0, $1... stay theirs
    opts.SetTimeoutInMicroSeconds(5000000);
    lldb::SBValue val = frame.IsValid() ? frame.EvaluateExpression(text, opts) : target.EvaluateExpression(text, opts);
    lldb::SBError verr = val.IsValid() ? val.GetError() : lldb::SBError();
    if (!val.IsValid() || verr.Fail()) {
        const char *e = verr.GetCString();
        // its first line, without "error: <user expression 1>:1:1: "
        std::string m = e ? e : "lldb cannot evaluate it";
        m = m.substr(0, m.find('\n'));
        if (m.rfind("error: ", 0) == 0)
            m = m.substr(7);
        if (m.rfind("<user expression", 0) == 0 && m.find(": ") != std::string::npos)
            m = m.substr(m.find(": ") + 2);
        *why = m;
        // Go locals and their fields by lldb's variable path; registers by name
        lldb::SBValue var = frame.IsValid() ? frame.GetValueForVariablePath(text) : lldb::SBValue();
        if ((!var.IsValid() || var.GetError().Fail()) && frame.IsValid() && text[0] == '$')
            var = frame.FindRegister(text + 1);
        if (!var.IsValid() || var.GetError().Fail())
            return false;
        val = var;
    }
    lldb::SBError err;
    uint64_t x = val.GetValueAsUnsigned(err, 0);
    if (err.Success() && val.GetNumChildren() == 0) {
        *v = x;
        return true;
    }
    if (val.GetType().IsPointerType() && err.Success()) {
        *v = x;
        return true;
    }
    lldb::addr_t a = val.GetLoadAddress();
    if (a == LLDB_INVALID_ADDRESS) {
        *why = "its value is neither a number nor stored in memory";
        return false;
    }
    *v = a;
    return true;
}

class GoCommand : public lldb::SBCommandPluginInterface {
public:
    explicit GoCommand(std::string name) : name_(std::move(name)) {}

    bool DoExecute(lldb::SBDebugger dbg, char **command, lldb::SBCommandReturnObject &result) override
    {
        std::vector<char *> argv{const_cast<char *>(name_.c_str())};
        for (char **a = command; a && *a; a++)
            argv.push_back(*a);
        std::string text;
        gh_out out{append, &text, 0};
        gh_err err{};
        gh_session *s = nullptr;
        int rc = GH_OK;
        bool help = false;
        for (size_t i = 1; i < argv.size(); i++)
            help = help || std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h";
        if (help) {
            rc = gh_command_help(name_.c_str(), &out, &err);
        } else if (!(rc = session_for(dbg, &s, &err)) && (rc = debugger_arg(dbg, argv, &err)) == GH_OK) {
            gh_set_interrupt(s, poll_interrupt, &dbg);
            Progress prog;
            prog.f = dbg.GetErrorFileHandle();
            if (prog.f && isatty(fileno(prog.f)))
                gh_set_progress(s, progress, &prog);
            rc = gh_command_run(s, static_cast<int>(argv.size()), argv.data(), &out, &err);
            if (rc && !lldb_why_.empty() && (strstr(err.msg, ": no local ") || strstr(err.msg, ": only a piece of ") ||
                                             strstr(err.msg, "--frame @"))) {
                // Neither lldb nor the selected Go frame knows the name: lldb's
                // error, as without a frame, and what the frame said.
                std::string m = name_ + ": " + arg_ + ": not a goheap expression, and lldb: " + lldb_why_ +
                                "; nor a local of the selected Go frame";
                snprintf(err.msg, sizeof err.msg, "%s", m.c_str());
            }
            prog.clear();
            gh_set_progress(s, nullptr, nullptr);
            gh_set_interrupt(s, nullptr, nullptr);
        }
        if (!text.empty())
            result.Printf("%s", text.c_str());
        if (rc) {
            result.SetError(err.msg);
            result.SetStatus(lldb::eReturnStatusFailed);
            return false;
        }
        result.SetStatus(lldb::eReturnStatusSuccessFinishResult);
        return true;
    }

private:
    std::string name_;
    std::string value_; // an argument lldb evaluated, as a number
    std::string frame_opt_ = "--frame", cfa_; // a Go local: the selected frame, as goheap's --frame @CFA
    std::string arg_, lldb_why_;              // such an argument as typed, and why lldb could not evaluate it

    // A goheap expression stays as typed; anything else lldb evaluates.
    int debugger_arg(lldb::SBDebugger &dbg, std::vector<char *> &argv, gh_err *err)
    {
        arg_.clear();
        lldb_why_.clear();
        int k = gh_command_debugger_arg(static_cast<int>(argv.size()), argv.data());
        if (k <= 0) {
            selected_go_frame(dbg, argv); // held.Name: the local's field, when held is one
            return GH_OK;
        }
        uint64_t v;
        std::string why;
        bool evaluated = lldb_value(dbg, argv[k], &v, &why);
        if (!evaluated && go_local(dbg, argv, k)) {
            lldb_why_ = why; // goheap reads it from the selected frame; lldb's words if that fails too
            return GH_OK;
        }
        if (!evaluated) {
            // lldb removes double quotes: m["k"] typed bare arrives as m[k]
            const char *br = strchr(argv[k], '[');
            std::string hint = br && (isalpha(static_cast<unsigned char>(br[1])) || br[1] == '_')
                                   ? " (a string key needs single quotes around the expression: 'm[\"k\"]')"
                                   : "";
            return fail(err, GH_EARG, name_ + ": " + argv[k] + ": not a goheap expression, and lldb: " + why + hint);
        }
        char buf[32];
        snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
        value_ = buf;
        argv[k] = const_cast<char *>(value_.c_str());
        return GH_OK;
    }

    // The selected frame, when it is Go code and the command names none, as
    // goheap's --frame @CFA: lldb has no Go locals, goheap reads them there
    // (a frame that is no goroutine's matters only to a lone name).
    bool selected_go_frame(lldb::SBDebugger &dbg, std::vector<char *> &argv)
    {
        for (size_t i = 1; i < argv.size(); i++)
            if (!strncmp(argv[i], "--frame", 7))
                return false;
        lldb::SBFrame frame = dbg.GetSelectedTarget().GetProcess().GetSelectedThread().GetSelectedFrame();
        if (!frame.IsValid() || frame.GetCompileUnit().GetLanguage() != lldb::eLanguageTypeGo)
            return false;
        char buf[32];
        snprintf(buf, sizeof buf, "@0x%llx", static_cast<unsigned long long>(frame.GetCFA()));
        cfa_ = buf;
        argv.push_back(const_cast<char *>(frame_opt_.c_str()));
        argv.push_back(const_cast<char *>(cfa_.c_str()));
        return true;
    }

    // A lone name lldb could not evaluate (lldb has no Go locals) is the
    // selected Go frame's, when the expression is goheap's with a frame.
    bool go_local(lldb::SBDebugger &dbg, std::vector<char *> &argv, int k)
    {
        std::vector<char *> with = argv;
        if (!selected_go_frame(dbg, with) || gh_command_debugger_arg(static_cast<int>(with.size()), with.data()) != -1)
            return false; // no Go frame, or not an expression over a local
        arg_ = argv[k];
        argv = with;
        return true;
    }
};

// lldb prints a command's help, then "Syntax: ...", then its long help:
// the long help is what follows the engine's name, summary and usage lines,
// so that nothing is said twice.
std::string long_help(const std::string &help)
{
    size_t at = help.find("\nusage: ");
    at = at == std::string::npos ? 0 : help.find('\n', at + 1);
    if (at == std::string::npos)
        return "";
    while (at + 1 < help.size() && help[at + 1] == '\n')
        at++;
    return help.substr(at); // from the blank line before the options
}

void add(lldb::SBCommandInterpreter &interp, const std::string &full, const char *summary, const std::string &syntax)
{
    if (interp.CommandExists(full.c_str()) || interp.UserCommandExists(full.c_str()))
        return; // never replace an existing command
    std::string help;
    gh_out out{append, &help, 0};
    gh_command_help(full.c_str(), &out, nullptr);
    lldb::SBCommand cmd = interp.AddCommand(full.c_str(), new GoCommand(full), summary, syntax.c_str());
    cmd.SetHelpLong(long_help(help).c_str());
}

} // namespace

bool lldb::PluginInitialize(lldb::SBDebugger debugger)
{
    lldb::SBCommandInterpreter interp = debugger.GetCommandInterpreter();
    const char *summary;
    for (size_t i = 0; const char *name = gh_command_name(i, &summary); i++) {
        std::string full = std::string("go-") + name, syntax = std::string("go-") + gh_command_usage(i);
        add(interp, full, summary, syntax);
        if (const char *alias = gh_command_alias(i)) // go-bt: go-goroutine
            add(interp, std::string("go-") + alias, (std::string("alias of ") + full + ": " + summary).c_str(),
                std::string("go-") + alias + (gh_command_usage(i) + strlen(name)));
    }
    return true;
}
