#include "sb_target.h"

#include <lldb/API/SBData.h>
#include <lldb/API/SBError.h>
#include <lldb/API/SBFileSpec.h>
#include <lldb/API/SBFrame.h>
#include <lldb/API/SBMemoryRegionInfo.h>
#include <lldb/API/SBMemoryRegionInfoList.h>
#include <lldb/API/SBModule.h>
#include <lldb/API/SBSection.h>
#include <lldb/API/SBThread.h>
#include <lldb/API/SBValue.h>

#include <algorithm>
#include <cstdio>
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

// One of the executable's segments (ELF PT_LOAD: lldb's top-level sections)
// where it is loaded.
struct Segment {
    uint64_t start, end, file_size;
    lldb::SBSection sec;
};

struct SBContext {
    lldb::SBTarget target;
    lldb::SBProcess process;
    std::string exe;
    std::vector<gh_region> regions;
    std::vector<std::string> region_names;
    std::vector<gh_thread> threads;
    std::vector<Segment> segments;
    bool segments_loaded = false;
    std::vector<Block> cache{kSlots};
    // The process's stop id as of the command being run (goheap_sb_target_sync):
    // asking lldb on every read costs more than the read (each SB call is
    // instrumented), and the process cannot run during a command.
    uint32_t stop = 0;
    uint32_t cache_stop = 0; // stop id the cached blocks were read at
    uint32_t state_stop = 0; // stop id the regions and threads were read at
};

void load_regions(SBContext *c);
void load_threads(SBContext *c);
void read_threads(lldb::SBProcess process, std::vector<gh_thread> &out);

// Regions and thread registers as of the current stop: a live process that
// ran has other registers, and may have mapped more memory (a new arena).
void refresh(SBContext *c)
{
    if (c->stop == c->state_stop)
        return;
    load_regions(c);
    load_threads(c);
    c->state_stop = c->stop;
}

void load_segments(SBContext *c)
{
    c->segments_loaded = true;
    lldb::SBModule m = c->target.FindModule(c->target.GetExecutable());
    for (size_t i = 0; m.IsValid() && i < m.GetNumSections(); i++) {
        lldb::SBSection s = m.GetSectionAtIndex(i);
        uint64_t load = s.GetLoadAddress(c->target);
        if (load == LLDB_INVALID_ADDRESS || !s.GetByteSize())
            continue;
        c->segments.push_back({load, load + s.GetByteSize(), s.GetFileByteSize(), s});
    }
}

// A page of the executable's file mapping, read from the file: a core holds
// no read-only file mappings (text, rodata, pclntab, type descriptors). Read
// by segment, not through SBTarget::ReadMemory, which reads one section at a
// time and so stops at the end of .rodata in the middle of a page. Bytes of
// the page past its segment read as zero.
bool read_exe_page(SBContext *c, uint64_t a, uint8_t *dst)
{
    if (!c->segments_loaded)
        load_segments(c);
    std::memset(dst, 0, kPage);
    bool any = false;
    for (Segment &s : c->segments) {
        uint64_t lo = std::max(a, s.start), hi = std::min(a + kPage, s.end);
        if (lo >= hi)
            continue;
        uint64_t off = lo - s.start;
        uint64_t n = off < s.file_size ? std::min(hi - lo, s.file_size - off) : 0;
        if (n) {
            lldb::SBData d = s.sec.GetSectionData(off, n);
            lldb::SBError e;
            if (d.ReadRawData(e, 0, dst + (lo - a), n) != n || e.Fail())
                return false;
        }
        any = true;
    }
    return any;
}

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
        if (read_exe_page(c, a, dst))
            b.valid |= static_cast<uint16_t>(1u << p);
    }
}

size_t sb_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    auto *c = static_cast<SBContext *>(ctx);
    if (c->stop != c->cache_stop) { // the process ran: memory may differ
        for (auto &b : c->cache)
            b.base = ~0ull;
        c->cache_stop = c->stop;
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
    refresh(c);
    *out = c->regions.data();
    *n = c->regions.size();
}

void sb_threads(void *ctx, const gh_thread **out, size_t *n)
{
    auto *c = static_cast<SBContext *>(ctx);
    refresh(c);
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

uint64_t sb_generation(void *ctx) { return static_cast<SBContext *>(ctx)->stop; }

void sb_close(void *ctx) { delete static_cast<SBContext *>(ctx); }

const gh_target_ops sb_ops = {
    sb_read, nullptr, sb_regions, sb_threads, sb_exe_path, sb_load_bias, sb_generation, sb_close,
};

// user_regs_struct order, as the engine's gh_thread wants it.
const char *const reg_names[GH_X86_NREGS] = {
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",      "r8",      "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};

void read_threads(lldb::SBProcess process, std::vector<gh_thread> &out)
{
    out.clear();
    for (uint32_t i = 0; i < process.GetNumThreads(); i++) {
        lldb::SBThread th = process.GetThreadAtIndex(i);
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
        out.push_back(g);
    }
}

void load_threads(SBContext *c) { read_threads(c->process, c->threads); }

void load_regions(SBContext *c)
{
    lldb::SBMemoryRegionInfoList list = c->process.GetMemoryRegions();
    c->regions.clear();
    c->region_names.clear();
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

int goheap_sb_target_open(lldb::SBTarget target, lldb::SBProcess process, const char *exe, gh_session **out,
                          void **ctx, gh_err *err)
{
    *out = nullptr;
    *ctx = nullptr;
    if (!target.IsValid() || !process.IsValid()) {
        if (err) {
            err->code = GH_EARG;
            snprintf(err->msg, sizeof err->msg, "no process: load a core (target create EXE --core CORE) or run a program");
        }
        return GH_EARG;
    }
    auto *c = new SBContext();
    c->target = target;
    c->process = process;
    char path[4096];
    if (target.GetExecutable().GetPath(path, sizeof path) > 0)
        c->exe = path;
    c->stop = c->cache_stop = c->state_stop = process.GetStopID();
    load_regions(c);
    load_threads(c);
    int rc = gh_open_target(&sb_ops, c, exe, out, err); // closes c on failure
    if (!rc)
        *ctx = c;
    return rc;
}

void goheap_sb_target_sync(void *ctx)
{
    if (ctx)
        static_cast<SBContext *>(ctx)->stop = static_cast<SBContext *>(ctx)->process.GetStopID();
}

int goheap_local_open(lldb::SBProcess process, gh_session **out, gh_err *err)
{
    std::vector<gh_thread> threads;
    read_threads(process, threads);
    return gh_open_pid(static_cast<int>(process.GetProcessID()), 0, threads.data(), threads.size(), out, err);
}
