/* runtime.moduledata of the main module and of the modules after it. */
#include "runtime/moduledata.h"

#include <stddef.h>
#include <string.h>

/* Upper bound on what we read of moduledata (it is ~600 bytes). */
#define MD_MAX 4096

enum { WORD, SLICE, BITVEC };

/* One field: name in DWARF, where it goes, and its offset in Go 1.22,
 * 1.23-1.25, 1.26 and 1.27 for binaries without DWARF (checked against the
 * DWARF of each release's corpus). Slices are {ptr, len, cap}; bitvectors
 * (runtime.bitvector) {n int32, bytedata *uint8}. */
typedef struct mdfield {
    const char *name;
    size_t where;
    int kind;
    uint16_t off[4];
} mdfield;

/* sizeof(runtime.moduledata) in the same releases. */
static const uint16_t builtin_size[4] = {592, 584, 592, 568};

#define M(f) offsetof(gh_moduledata, f)
static const mdfield fields[] = {
    {"pcHeader", M(pcHeader), WORD, {0, 0, 0, 0}},
    {"funcnametab", M(funcnametab), SLICE, {8, 8, 8, 8}},
    {"cutab", M(cutab), SLICE, {32, 32, 32, 32}},
    {"filetab", M(filetab), SLICE, {56, 56, 56, 56}},
    {"pctab", M(pctab), SLICE, {80, 80, 80, 80}},
    {"pclntable", M(pclntable), SLICE, {104, 104, 104, 104}},
    {"ftab", M(ftab), SLICE, {128, 128, 128, 128}},
    {"findfunctab", M(findfunctab), WORD, {152, 152, 152, 152}},
    {"minpc", M(minpc), WORD, {160, 160, 160, 160}},
    {"maxpc", M(maxpc), WORD, {168, 168, 168, 168}},
    {"text", M(text), WORD, {176, 176, 176, 176}},
    {"etext", M(etext), WORD, {184, 184, 184, 184}},
    {"noptrdata", M(noptrdata), WORD, {192, 192, 192, 192}},
    {"enoptrdata", M(enoptrdata), WORD, {200, 200, 200, 200}},
    {"data", M(data), WORD, {208, 208, 208, 208}},
    {"edata", M(edata), WORD, {216, 216, 216, 216}},
    {"bss", M(bss), WORD, {224, 224, 224, 224}},
    {"ebss", M(ebss), WORD, {232, 232, 232, 232}},
    {"noptrbss", M(noptrbss), WORD, {240, 240, 240, 240}},
    {"enoptrbss", M(enoptrbss), WORD, {248, 248, 248, 248}},
    {"gcdata", M(gcdata), WORD, {280, 280, 280, 280}},
    {"gcbss", M(gcbss), WORD, {288, 288, 288, 288}},
    {"types", M(types), WORD, {296, 296, 296, 296}},
    {"etypes", M(etypes), WORD, {304, 304, 304, 312}},
    {"rodata", M(rodata), WORD, {312, 312, 312, 336}},
    {"gofunc", M(gofunc), WORD, {320, 320, 320, 344}},
    {"textsectmap", M(textsectmap), SLICE, {328, 328, 336, 360}},
    {"gcdatamask", M(gcdatamask), BITVEC, {536, 536, 544, 520}},
    {"gcbssmask", M(gcbssmask), BITVEC, {552, 552, 560, 536}},
    {"next", M(next), WORD, {584, 576, 584, 560}},
};
#undef M

static uint64_t word(const uint8_t *buf, uint64_t off)
{
    uint64_t v;
    memcpy(&v, buf + off, 8);
    return v;
}

int gh_moduledata_read(const gh_runtime *rt, gh_moduledata *md, gh_err *err)
{
    if (!rt->firstmoduledata) {
        memset(md, 0, sizeof *md);
        return gh_errorf(err, GH_ENOTGO, "%s has no runtime.firstmoduledata", gh_exe_path(rt->exe));
    }
    return gh_moduledata_read_at(rt, rt->firstmoduledata, md, err);
}

int gh_moduledata_read_at(const gh_runtime *rt, uint64_t addr, gh_moduledata *md, gh_err *err)
{
    memset(md, 0, sizeof *md);
    md->addr = addr;
    int col = rt->ver.minor <= 22 ? 0 : rt->ver.minor <= 25 ? 1 : rt->ver.minor == 26 ? 2 : 3;
    uint64_t size = 0;
    if (rt->dwarf && gh_dwarf_type_size(rt->dwarf, "runtime.moduledata", &size) == GH_OK) {
        md->layout = "DWARF";
        if (size < 8 || size > MD_MAX)
            return gh_errorf(err, GH_EFORMAT, "runtime.moduledata is %llu bytes in DWARF", (unsigned long long)size);
    } else {
        md->layout = "built-in";
        size = builtin_size[col];
    }
    uint8_t buf[MD_MAX];
    int rc = gh_read(rt->t, md->addr, buf, size, err);
    if (rc)
        return gh_err_wrap(err, "reading runtime.moduledata at 0x%llx", (unsigned long long)addr);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const mdfield *f = &fields[i];
        uint64_t off = f->off[col], need = f->kind == WORD ? 8 : 16;
        if (md->layout[0] == 'D') {
            gh_field df;
            if (gh_dwarf_field(rt->dwarf, "runtime.moduledata", f->name, &df) != GH_OK)
                return gh_errorf(err, GH_EFORMAT, "%s's DWARF has no runtime.moduledata.%s", gh_exe_path(rt->exe),
                                 f->name);
            uint64_t want = f->kind == SLICE ? 24 : f->kind == BITVEC ? 16 : 8;
            if (df.size != want)
                return gh_errorf(err, GH_EFORMAT, "runtime.moduledata.%s is %llu bytes in DWARF", f->name,
                                 (unsigned long long)df.size);
            off = df.offset;
        }
        if (off + need > size)
            return gh_errorf(err, GH_EFORMAT, "runtime.moduledata.%s at %llu is past its end", f->name,
                             (unsigned long long)off);
        uint64_t *dst = (uint64_t *)((char *)md + f->where);
        if (f->kind == BITVEC) {
            uint32_t n;
            memcpy(&n, buf + off, 4); /* int32 n; then bytedata at +8 */
            dst[0] = word(buf, off + 8);
            dst[1] = (int32_t)n < 0 ? 0 : n;
            continue;
        }
        dst[0] = word(buf, off);
        if (f->kind == SLICE)
            dst[1] = word(buf, off + 8);
    }
    return GH_OK;
}
