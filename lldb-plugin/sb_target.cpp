#include "sb_target.h"

#include <lldb/API/SBAddress.h>
#include <lldb/API/SBError.h>
#include <lldb/API/SBFileSpec.h>
#include <lldb/API/SBFrame.h>
#include <lldb/API/SBMemoryRegionInfo.h>
#include <lldb/API/SBMemoryRegionInfoList.h>
#include <lldb/API/SBModule.h>
#include <lldb/API/SBSection.h>
#include <lldb/API/SBThread.h>
#include <lldb/API/SBValue.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr uint64_t kBlock = 64 * 1024;
constexpr size_t kSlots = 1024; // 64 MiB of cache at most

constexpr uint64_t kPage = 4096;

struct Block {
    uint64_t base = ~0ull;
    uint16_t valid = 0; // one bit per readable 4 KiB page
    std::vector<uint8_t> bytes;
};

struct SBContext {
    gh_target t;
    lldb::SBTarget target;
    lldb::SBProcess process;
    std::string exe;
    std::vector<gh_region> regions;
    std::vector<std::string> region_names;
    std::vector<gh_thread> threads;
    std::vector<Block> cache{kSlots};
    uint32_t cache_stop = 0;
};

// Fills a block. A block that is only partly readable (a region starts or
// ends inside it) is read page by page, and each page remembers whether it
// could be read.
void fill(SBContext *c, Block &b, uint64_t base)
{
    b.base = base;
    b.bytes.resize(kBlock);
    lldb::SBError e;
    size_t n = c->process.ReadMemory(base, b.bytes.data(), kBlock, e);
    if (e.Success() && n == kBlock) {
        b.valid = 0xffff;
        return;
    }
    b.valid = 0;
    for (uint64_t p = 0; p < kBlock / kPage; p++) {
        uint64_t a = base + p * kPage;
        uint8_t *dst = b.bytes.data() + p * kPage;
        lldb::SBError pe;
        if (c->process.ReadMemory(a, dst, kPage, pe) == kPage && pe.Success()) {
            b.valid |= static_cast<uint16_t>(1u << p);
            continue;
        }
        // A core holds no read-only file mappings (text, rodata, type
        // descriptors): the target reads those from the executable's sections.
        lldb::SBError te;
        if (c->target.ReadMemory(lldb::SBAddress(a, c->target), dst, kPage, te) == kPage && te.Success())
            b.valid |= static_cast<uint16_t>(1u << p);
    }
}

size_t sb_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    auto *c = static_cast<SBContext *>(ctx);
    uint32_t stop = c->process.GetStopID();
    if (stop != c->cache_stop) { // the process ran: memory may differ
        for (auto &b : c->cache)
            b.base = ~0ull;
        c->cache_stop = stop;
    }
    size_t done = 0;
    while (done < len) {
        uint64_t a = addr + done;
        uint64_t base = a & ~(kBlock - 1);
        Block &b = c->cache[(base / kBlock) % kSlots];
        if (b.base != base)
            fill(c, b, base);
        uint64_t off = a - base;
        if (!(b.valid >> (off / kPage) & 1))
            break;
        uint64_t end = (off / kPage + 1) * kPage; // readable up to the end of this page
        size_t n = std::min<size_t>(len - done, end - off);
        std::memcpy(static_cast<uint8_t *>(buf) + done, b.bytes.data() + off, n);
        done += n;
    }
    return done;
}

void sb_regions(void *ctx, const gh_region **out, size_t *n)
{
    auto *c = static_cast<SBContext *>(ctx);
    *out = c->regions.data();
    *n = c->regions.size();
}

void sb_threads(void *ctx, const gh_thread **out, size_t *n)
{
    auto *c = static_cast<SBContext *>(ctx);
    *out = c->threads.data();
    *n = c->threads.size();
}

const char *sb_exe_path(void *ctx) { return static_cast<SBContext *>(ctx)->exe.c_str(); }

lldb::SBSection find_section(lldb::SBSection s, const char *name)
{
    if (s.GetName() && std::strcmp(s.GetName(), name) == 0)
        return s;
    for (size_t i = 0; i < s.GetNumSubSections(); i++) {
        lldb::SBSection r = find_section(s.GetSubSectionAtIndex(i), name);
        if (r.IsValid())
            return r;
    }
    return lldb::SBSection();
}

int sb_load_bias(void *ctx, uint64_t *bias)
{
    auto *c = static_cast<SBContext *>(ctx);
    lldb::SBModule m = c->target.FindModule(c->target.GetExecutable());
    for (size_t i = 0; m.IsValid() && i < m.GetNumSections(); i++) {
        lldb::SBSection s = find_section(m.GetSectionAtIndex(i), ".text");
        if (s.IsValid()) {
            uint64_t load = s.GetLoadAddress(c->target);
            if (load == LLDB_INVALID_ADDRESS)
                break;
            *bias = load - s.GetFileAddress();
            return GH_OK;
        }
    }
    return GH_EFORMAT;
}

uint64_t sb_generation(void *ctx) { return static_cast<SBContext *>(ctx)->process.GetStopID(); }

void sb_close(void *ctx) { delete static_cast<SBContext *>(ctx); }

const gh_target_ops sb_ops = {
    sb_read, nullptr, sb_regions, sb_threads, sb_exe_path, sb_load_bias, sb_generation, sb_close,
};

// user_regs_struct order, as the engine's gh_thread wants it.
const char *const reg_names[GH_X86_NREGS] = {
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",      "r8",      "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};

void load_threads(SBContext *c)
{
    for (uint32_t i = 0; i < c->process.GetNumThreads(); i++) {
        lldb::SBThread th = c->process.GetThreadAtIndex(i);
        gh_thread g{};
        g.tid = static_cast<int>(th.GetThreadID());
        lldb::SBFrame f = th.GetFrameAtIndex(0);
        for (int r = 0; f.IsValid() && r < GH_X86_NREGS; r++) {
            lldb::SBValue v = f.FindRegister(reg_names[r]);
            if (v.IsValid()) {
                g.regs[r] = v.GetValueAsUnsigned();
                if (r == GH_X86_RIP)
                    g.has_regs = 1;
            }
        }
        c->threads.push_back(g);
    }
}

void load_regions(SBContext *c)
{
    lldb::SBMemoryRegionInfoList list = c->process.GetMemoryRegions();
    c->region_names.reserve(list.GetSize());
    for (uint32_t i = 0; i < list.GetSize(); i++) {
        lldb::SBMemoryRegionInfo info;
        if (!list.GetMemoryRegionAtIndex(i, info) || !info.IsReadable())
            continue;
        gh_region r{};
        r.start = info.GetRegionBase();
        r.end = info.GetRegionEnd();
        r.prot = GH_PROT_R | (info.IsWritable() ? GH_PROT_W : 0) | (info.IsExecutable() ? GH_PROT_X : 0);
        r.in_core = 1;
        c->region_names.push_back(info.GetName() ? info.GetName() : "");
        c->regions.push_back(r);
    }
    for (size_t i = 0; i < c->regions.size(); i++) // names after the vector stopped growing
        c->regions[i].name = c->region_names[i].empty() ? nullptr : c->region_names[i].c_str();
}

} // namespace

int goheap_sb_target_open(lldb::SBTarget target, lldb::SBProcess process, gh_target **out, gh_err *err)
{
    *out = nullptr;
    if (!target.IsValid() || !process.IsValid())
        return gh_errorf(err, GH_EARG, "no process: load a core (target create EXE --core CORE) or run a program");
    auto *c = new SBContext();
    c->t.ops = &sb_ops;
    c->t.ctx = c;
    c->t.kind = "lldb";
    c->target = target;
    c->process = process;
    char path[4096];
    if (target.GetExecutable().GetPath(path, sizeof path) > 0)
        c->exe = path;
    c->cache_stop = process.GetStopID();
    load_regions(c);
    load_threads(c);
    *out = &c->t;
    return GH_OK;
}
