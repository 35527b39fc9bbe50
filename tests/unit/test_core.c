#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_target.h"
#include "target/overlay.h"
#include "target/target.h"
#include "tests.h"

/* Synthetic files, written into a temp dir:
 *   exe:  ET_EXEC, entry 0x401000. LOAD 0x400000 (file 0..0x2000, r-x) holding
 *         the headers and a Go build-id note at 0x400200; LOAD 0x700000
 *         (file 0x2000..0x2800, memsz 0x2000: the rest is bss).
 *   core: NOTE (2 x NT_PRSTATUS, NT_AUXV, NT_FILE), LOAD 0x400000 (first page
 *         dumped, the rest left to the exe), LOAD 0x600000 and 0x600100
 *         (adjacent; the second dumps only 0x80 of 0x100), LOAD 0x700000
 *         (nothing dumped). */

#define EXE_SIZE 0x2800
#define SEG_DATA 0x2000 /* core offset of 0x600000's bytes */
#define CORE_SIZE 0x2180

static char dir[64], exe_path[128], core_path[128], other_path[128];
static uint8_t exe[EXE_SIZE];

typedef struct opts {
    const char *nt_file_name; /* NT_FILE's name for the exe mapping */
    const char *buildid;      /* the Go build id in the exe */
    uint64_t first_filesz;    /* dumped bytes of the 0x400000 segment */
    uint32_t exe_flags;       /* e_flags: lets a test make headers differ */
    uint64_t nt_file_count;   /* 0: the real count (1) */
    int huge_note;            /* a note whose descsz runs past the notes */
    int short_prstatus;
    const uint64_t (*extra)[3]; /* more NT_FILE mappings of the exe: start, end, page */
    size_t nextra;
} opts;

static void put(uint8_t *b, size_t off, const void *p, size_t n) { memcpy(b + off, p, n); }
static void put64(uint8_t *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }

/* namesz 0: strlen(name) + 1. Go pads its owner name: "Go\0\0", namesz 4. */
static size_t note_sz(uint8_t *b, size_t off, const char *name, uint32_t namesz, uint32_t type,
                      const void *desc, uint32_t descsz)
{
    uint32_t hdr[3] = {namesz ? namesz : (uint32_t)strlen(name) + 1, descsz, type};
    put(b, off, hdr, 12);
    off += 12;
    memset(b + off, 0, hdr[0]);
    put(b, off, name, strlen(name));
    off += (hdr[0] + 3) & ~3u;
    if (desc)
        put(b, off, desc, descsz);
    return off + ((descsz + 3) & ~3u);
}

static size_t note(uint8_t *b, size_t off, const char *name, uint32_t type, const void *desc,
                   uint32_t descsz)
{
    return note_sz(b, off, name, 0, type, desc, descsz);
}

static void build_exe(const opts *o)
{
    memset(exe, 0, sizeof exe);
    for (size_t i = 0x400; i < EXE_SIZE; i++)
        exe[i] = (uint8_t)(i * 7 + 1);
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0x401000;
    eh.e_phoff = 64;
    eh.e_ehsize = 64;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 3;
    eh.e_flags = o->exe_flags;
    put(exe, 0, &eh, sizeof eh);
    const char *id = o->buildid ? o->buildid : "abcdefgh/ijklmnop";
    size_t nend = note_sz(exe, 0x200, "Go", 4, 4, id, (uint32_t)strlen(id));
    Elf64_Phdr ph[3] = {
        {.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0, .p_vaddr = 0x400000,
         .p_filesz = 0x2000, .p_memsz = 0x2000, .p_align = 0x1000},
        {.p_type = PT_NOTE, .p_flags = PF_R, .p_offset = 0x200, .p_vaddr = 0x400200,
         .p_filesz = nend - 0x200, .p_memsz = nend - 0x200, .p_align = 4},
        {.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = 0x2000, .p_vaddr = 0x700000,
         .p_filesz = 0x800, .p_memsz = 0x2000, .p_align = 0x1000},
    };
    put(exe, 64, ph, sizeof ph);
}

static size_t build_core(uint8_t *b, const opts *o)
{
    memset(b, 0, CORE_SIZE);
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = 64;
    eh.e_ehsize = 64;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 5;
    put(b, 0, &eh, sizeof eh);

    /* notes at 0x200 */
    size_t off = 0x200;
    for (int t = 0; t < 2; t++) {
        uint8_t pr[336] = {0};
        int32_t pid = 100 + t;
        memcpy(pr + 32, &pid, 4);
        for (int r = 0; r < GH_X86_NREGS; r++)
            put64(pr, 112 + r * 8, 0x1000 * (t + 1) + r);
        off = note(b, off, "CORE", NT_PRSTATUS, pr, o->short_prstatus ? 200 : sizeof pr);
    }
    uint64_t auxv[] = {AT_PHDR, 0x400040, AT_ENTRY, 0x401000, AT_NULL, 0};
    off = note(b, off, "CORE", NT_AUXV, auxv, sizeof auxv);
    uint8_t nf[1024] = {0};
    const char *name = o->nt_file_name ? o->nt_file_name : exe_path;
    size_t count = 1 + o->nextra, nl = strlen(name) + 1, no = 16 + 24 * count;
    put64(nf, 0, o->nt_file_count ? o->nt_file_count : count);
    put64(nf, 8, 4096);
    for (size_t i = 0; i < count; i++) {
        const uint64_t first[3] = {0x400000, 0x402000, 0};
        put(nf, 16 + 24 * i, i ? o->extra[i - 1] : first, 24);
        assert_true(no + nl <= sizeof nf);
        put(nf, no, name, nl);
        no += nl;
    }
    off = note(b, off, "CORE", 0x46494c45, nf, (uint32_t)no);
    off = note(b, off, "LINUX", 0x202, "xstate!", 8);
    if (o->huge_note) /* last: its descriptor runs past the notes */
        off = note(b, off, "CORE", 99, NULL, 0xfffffff0u);
    size_t notes_end = off > 0xfff ? 0xfff : off;

    uint64_t first = o->first_filesz ? o->first_filesz : 0x1000;
    Elf64_Phdr ph[5] = {
        {.p_type = PT_NOTE, .p_offset = 0x200, .p_filesz = notes_end - 0x200, .p_align = 4},
        {.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0x1000, .p_vaddr = 0x400000,
         .p_filesz = first, .p_memsz = 0x2000, .p_align = 0x1000},
        /* listed out of order on purpose: regions come out sorted */
        {.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = SEG_DATA + 0x100,
         .p_vaddr = 0x600100, .p_filesz = 0x80, .p_memsz = 0x100, .p_align = 0x1000},
        {.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = SEG_DATA, .p_vaddr = 0x600000,
         .p_filesz = 0x100, .p_memsz = 0x100, .p_align = 0x1000},
        {.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = CORE_SIZE, .p_vaddr = 0x700000,
         .p_filesz = 0, .p_memsz = 0x2000, .p_align = 0x1000},
    };
    put(b, 64, ph, sizeof ph);
    put(b, 0x1000, exe, first); /* the kernel dumps the exe's first page */
    for (size_t i = 0; i < 0x180; i++)
        b[SEG_DATA + i] = (uint8_t)(i ^ 0x5a);
    return CORE_SIZE;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static uint8_t corebuf[CORE_SIZE];

static void write_pair(const opts *o)
{
    build_exe(o);
    write_file(exe_path, exe, sizeof exe);
    write_file(core_path, corebuf, build_core(corebuf, o));
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/goheap-test-core-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(exe_path, sizeof exe_path, "%s/exe", dir);
    snprintf(core_path, sizeof core_path, "%s/core", dir);
    snprintf(other_path, sizeof other_path, "%s/other", dir);
    return 0;
}

static int teardown(void **state)
{
    unlink(exe_path);
    unlink(core_path);
    unlink(other_path);
    rmdir(dir);
    return 0;
}

static gh_target *open_ok(const char *exe_arg)
{
    gh_target *t = NULL;
    gh_err err = {0};
    int rc = gh_core_open(core_path, exe_arg, &t, &err);
    if (rc)
        fail_msg("gh_core_open: %s", err.msg);
    return t;
}

static int open_err(const char *path, const char *exe_arg, gh_err *err)
{
    gh_target *t = (gh_target *)1;
    int rc = gh_core_open(path, exe_arg, &t, err);
    assert_null(t);
    return rc;
}

static void opens(void **state)
{
    opts o = {0};
    write_pair(&o);
    gh_target *t = open_ok(exe_path);
    assert_string_equal(t->kind, "core");
    assert_null(gh_core_warning(t));
    assert_int_equal(gh_core_truncated(t, NULL, NULL), 0); /* a whole core: the heap is read as always */
    const gh_thread *th;
    size_t n;
    t->ops->threads(t->ctx, &th, &n);
    assert_int_equal(n, 2);
    assert_int_equal(th[0].tid, 100);
    assert_int_equal(th[1].tid, 101);
    assert_true(th[1].has_regs);
    assert_int_equal(th[0].regs[GH_X86_RIP], 0x1000 + GH_X86_RIP);
    assert_int_equal(th[1].regs[GH_X86_RSP], 0x2000 + GH_X86_RSP);
    const gh_region *r;
    t->ops->regions(t->ctx, &r, &n);
    assert_int_equal(n, 4);
    assert_int_equal(r[0].start, 0x400000);
    assert_int_equal(r[0].end, 0x402000);
    assert_int_equal(r[0].prot, GH_PROT_R | GH_PROT_X);
    assert_string_equal(r[0].name, exe_path);
    assert_false(r[0].in_core);
    assert_int_equal(r[1].start, 0x600000);
    assert_true(r[1].in_core);
    assert_null(r[1].name);
    assert_int_equal(r[2].start, 0x600100);
    assert_int_equal(r[3].start, 0x700000);
    assert_string_equal(t->ops->exe_path(t->ctx), exe_path);
    uint64_t bias = 1;
    assert_int_equal(t->ops->load_bias(t->ctx, &bias), GH_OK);
    assert_int_equal(bias, 0);
    assert_int_equal(t->ops->generation(t->ctx), 0);
    gh_target_close(t);

    /* Without --exe: NT_FILE's mapping at AT_ENTRY names it. */
    t = open_ok(NULL);
    assert_string_equal(t->ops->exe_path(t->ctx), exe_path);
    gh_target_close(t);
}

static void reads(void **state)
{
    opts o = {0};
    write_pair(&o);
    gh_target *t = open_ok(exe_path);
    gh_err err;
    uint8_t buf[64];
    uint64_t v;

    /* inside a dumped segment, and straight from the mmapped core */
    assert_int_equal(gh_read(t, 0x600010, buf, 16, &err), GH_OK);
    for (int i = 0; i < 16; i++)
        assert_int_equal(buf[i], (uint8_t)((0x10 + i) ^ 0x5a));
    const uint8_t *d = gh_direct(t, 0x600010, 16);
    assert_non_null(d);
    assert_memory_equal(d, buf, 16);

    /* across the end of one segment into the adjacent one */
    assert_int_equal(gh_read(t, 0x6000f8, buf, 16, &err), GH_OK);
    for (int i = 0; i < 16; i++)
        assert_int_equal(buf[i], (uint8_t)((0xf8 + i) ^ 0x5a));

    /* past p_filesz of an anonymous segment: unreadable, and reads stop there */
    assert_int_equal(gh_read_u64(t, 0x600180, &v, &err), GH_EMEM);
    assert_non_null(strstr(err.msg, "0x600180"));
    assert_int_equal(t->ops->read(t->ctx, 0x600170, buf, 32), 16);
    assert_null(gh_direct(t, 0x600170, 32));

    /* unmapped */
    assert_int_equal(gh_read_u64(t, 0x800000, &v, &err), GH_EMEM);
    assert_int_equal(gh_read_u64(t, 0, &v, &err), GH_EMEM);
    assert_int_equal(gh_read_u64(t, UINT64_MAX - 3, &v, &err), GH_EMEM);

    /* the undumped part of the text comes from the executable */
    assert_int_equal(gh_read(t, 0x401000, buf, 16, &err), GH_OK);
    assert_memory_equal(buf, exe + 0x1000, 16);
    assert_int_equal(gh_read(t, 0x400ff8, buf, 16, &err), GH_OK); /* core, then exe */
    assert_memory_equal(buf, exe + 0xff8, 16);
    d = gh_direct(t, 0x401100, 8);
    assert_non_null(d);
    assert_memory_equal(d, exe + 0x1100, 8);

    /* the executable's data image, then its bss as zeros */
    assert_int_equal(gh_read(t, 0x7007f8, buf, 16, &err), GH_OK);
    assert_memory_equal(buf, exe + 0x27f8, 8);
    for (int i = 8; i < 16; i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(gh_read_u64(t, 0x701ff8, &v, &err), GH_OK);
    assert_int_equal(v, 0);
    assert_int_equal(gh_read_u64(t, 0x702000, &v, &err), GH_EMEM);
    gh_target_close(t);
}

static void finds_mismatched_exe(void **state)
{
    opts o = {0};
    write_pair(&o);
    /* same layout, another build id */
    opts other = {.buildid = "abcdefgh/XXXXXXXX"};
    build_exe(&other);
    write_file(other_path, exe, sizeof exe);
    gh_err err;
    assert_int_equal(open_err(core_path, other_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "does not match the core (Go build id abcdefgh/XXXXXXXX vs abcdefgh/ijklmnop)"));

    /* The core holds the headers but not the note: headers are compared. */
    o.first_filesz = 0x100;
    write_pair(&o);
    gh_target_close(open_ok(exe_path));
    other.exe_flags = 1;
    other.buildid = NULL;
    build_exe(&other);
    write_file(other_path, exe, sizeof exe);
    assert_int_equal(open_err(core_path, other_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "ELF headers differ"));

    /* an executable whose entry point is not the core's */
    put64(exe, offsetof(Elf64_Ehdr, e_entry), 0x401234);
    write_file(other_path, exe, sizeof exe);
    assert_int_equal(open_err(core_path, other_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "entry point"));
}

static void missing_exe(void **state)
{
    opts o = {.nt_file_name = "/nonexistent/goheap/exe"};
    write_pair(&o);
    gh_err err;
    assert_int_equal(open_err(core_path, NULL, &err), GH_EIO);
    assert_string_equal(err.msg, "core names executable /nonexistent/goheap/exe which is not on this machine: pass --exe");
    gh_target_close(open_ok(exe_path)); /* --exe fixes it */
}

static void bad_files(void **state)
{
    gh_err err;
    write_file(other_path, "", 0);
    assert_int_equal(open_err(other_path, NULL, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "not an ELF file"));

    uint8_t junk[4096];
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rand();
    write_file(other_path, junk, sizeof junk);
    assert_int_equal(open_err(other_path, NULL, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "not an ELF file"));

    memcpy(junk, ELFMAG, SELFMAG); /* ELF magic, then garbage */
    write_file(other_path, junk, sizeof junk);
    assert_int_not_equal(open_err(other_path, NULL, &err), GH_OK);

    opts o = {0};
    write_pair(&o);
    assert_int_equal(open_err(exe_path, NULL, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "not a core file (ELF type EXEC)"));
    assert_int_equal(open_err(core_path, core_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "not an executable (ELF type CORE)"));
    assert_int_equal(open_err(dir, NULL, &err), GH_EIO);
    assert_int_equal(open_err("/nonexistent/core", NULL, &err), GH_EIO);

    size_t n = build_core(corebuf, &o);
    corebuf[EI_CLASS] = ELFCLASS32;
    write_file(other_path, corebuf, n);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "64-bit"));
    build_core(corebuf, &o);
    put(corebuf, offsetof(Elf64_Ehdr, e_machine), &(uint16_t){EM_AARCH64}, 2);
    write_file(other_path, corebuf, n);
    /* an arm64 core: its (x86-64 sized) NT_PRSTATUS is too short for arm64's registers */
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "linux/arm64"));
    build_core(corebuf, &o);
    put(corebuf, offsetof(Elf64_Ehdr, e_machine), &(uint16_t){EM_PPC64}, 2);
    write_file(other_path, corebuf, n);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EUNSUPP);
    assert_non_null(strstr(err.msg, "ppc64"));
    assert_non_null(strstr(err.msg, "linux/amd64 and linux/arm64 only"));
}

/* Every prefix of the core either fails with a message or opens with a
 * warning, and every byte of every region can be asked for. */
static void truncated_everywhere(void **state)
{
    opts o = {0};
    write_pair(&o);
    size_t n = CORE_SIZE;
    static uint8_t buf[0x4000];
    for (size_t len = 0; len < n; len += len < 0x400 ? 1 : 0x40) {
        write_file(other_path, corebuf, len);
        gh_target *t = NULL;
        gh_err err = {0};
        int rc = gh_core_open(other_path, exe_path, &t, &err);
        if (rc) {
            assert_null(t);
            assert_true(strlen(err.msg) > 0);
            continue;
        }
        const char *w = gh_core_warning(t);
        assert_non_null(w);
        assert_non_null(strstr(w, "core is truncated: segment at 0x"));
        const gh_region *r;
        size_t nr;
        t->ops->regions(t->ctx, &r, &nr);
        for (size_t i = 0; i < nr; i++) {
            size_t want = (size_t)(r[i].end - r[i].start);
            if (want > sizeof buf)
                want = sizeof buf;
            assert_true(t->ops->read(t->ctx, r[i].start, buf, want) <= want);
        }
        gh_target_close(t);
    }
    /* The notes are at 0x200..0x5xx: cut after them, the core still opens. */
    write_file(other_path, corebuf, 0x1800);
    gh_target *t = NULL;
    gh_err err;
    assert_int_equal(gh_core_open(other_path, exe_path, &t, &err), GH_OK);
    assert_string_equal(gh_core_warning(t),
                        "core is truncated: segment at 0x400000 needs 4096 bytes at offset 4096, file has 6144 "
                        "(71.6% of the 8576 bytes its program headers describe; 3 segments incomplete, their "
                        "missing bytes unreadable)");
    uint64_t v, have, want;
    assert_int_equal(gh_core_truncated(t, &have, &want), 1);
    assert_int_equal(have, 0x1800);
    assert_int_equal(want, 8576);
    assert_int_equal(gh_core_lost_reads(t), 0);
    assert_int_equal(gh_core_lost(t, 0x4007f8, 8), 0);
    assert_int_equal(gh_core_lost(t, 0x4007f8, 16), 1);
    assert_int_equal(gh_read_u64(t, 0x4007f8, &v, &err), GH_OK);
    assert_int_equal(gh_core_lost_reads(t), 0);
    assert_int_equal(gh_read_u64(t, 0x400800, &v, &err), GH_EMEM); /* lost, not served from the exe */
    assert_true(gh_core_lost_reads(t) > 0);
    assert_int_equal(gh_core_lost(t, 0x600000, 8), 1); /* a later segment, lost whole */
    assert_int_equal(gh_core_lost(t, 0x800000, 8), 0); /* in no segment: unmapped, not lost */
    assert_int_equal(gh_read_u64(t, 0x600000, &v, &err), GH_EMEM);
    gh_target_close(t);
    write_file(other_path, corebuf, 0x300);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "core is truncated: notes need"));
}

static void hostile_notes(void **state)
{
    gh_err err;
    opts o = {.nt_file_count = 0x0aaaaaaaaaaaaaabULL}; /* count * 24 wraps to 8 */
    write_pair(&o);
    assert_int_equal(open_err(core_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "NT_FILE note claims"));
    o.nt_file_count = 2; /* fits the triples but the second name is missing */
    write_pair(&o);
    assert_int_equal(open_err(core_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "NT_FILE"));

    opts h = {.huge_note = 1};
    write_pair(&h);
    assert_int_equal(open_err(core_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "descriptor"));

    opts s = {.short_prstatus = 1};
    write_pair(&s);
    assert_int_equal(open_err(core_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "NT_PRSTATUS"));

    /* a huge namesz */
    opts ok = {0};
    write_pair(&ok);
    uint32_t big = 0xffffffffu;
    memcpy(corebuf + 0x200, &big, 4);
    write_file(other_path, corebuf, CORE_SIZE);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "name"));
}

static void hostile_headers(void **state)
{
    gh_err err;
    opts o = {0};
    write_pair(&o);
    Elf64_Phdr ph;

    build_core(corebuf, &o);
    put(corebuf, offsetof(Elf64_Ehdr, e_phnum), &(uint16_t){0xfff0}, 2);
    write_file(other_path, corebuf, CORE_SIZE);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "program headers need"));

    build_core(corebuf, &o);
    put64(corebuf, offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 8);
    write_file(other_path, corebuf, CORE_SIZE);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);

    build_core(corebuf, &o);
    put(corebuf, offsetof(Elf64_Ehdr, e_phnum), &(uint16_t){PN_XNUM}, 2);
    put64(corebuf, offsetof(Elf64_Ehdr, e_shoff), 0x100000);
    write_file(other_path, corebuf, CORE_SIZE);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "PN_XNUM"));

    /* overlapping segments */
    build_core(corebuf, &o);
    memcpy(&ph, corebuf + 64 + 2 * sizeof ph, sizeof ph);
    ph.p_vaddr = 0x6000f0;
    put(corebuf, 64 + 2 * sizeof ph, &ph, sizeof ph);
    write_file(other_path, corebuf, CORE_SIZE);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "overlap"));

    /* a segment that wraps the address space */
    build_core(corebuf, &o);
    ph.p_vaddr = UINT64_MAX - 0x10;
    put(corebuf, 64 + 2 * sizeof ph, &ph, sizeof ph);
    write_file(other_path, corebuf, CORE_SIZE);
    assert_int_equal(open_err(other_path, exe_path, &err), GH_EFORMAT);
    assert_non_null(strstr(err.msg, "wraps"));

    /* a segment whose bytes would be far past the end: a warning, reads fail */
    build_core(corebuf, &o);
    memcpy(&ph, corebuf + 64 + 3 * sizeof ph, sizeof ph);
    ph.p_offset = UINT64_MAX - 4;
    put(corebuf, 64 + 3 * sizeof ph, &ph, sizeof ph);
    write_file(other_path, corebuf, CORE_SIZE);
    gh_target *t = NULL;
    assert_int_equal(gh_core_open(other_path, exe_path, &t, &err), GH_OK);
    assert_non_null(gh_core_warning(t));
    uint64_t v;
    assert_int_equal(gh_read_u64(t, 0x600000, &v, &err), GH_EMEM);
    gh_target_close(t);
}

/* Random byte flips in the headers and notes: errors or a working target,
 * never a crash (the sanitizer build checks for over-reads). */
static void flips(void **state)
{
    opts o = {0};
    write_pair(&o);
    srand(12345);
    for (int round = 0; round < 400; round++) {
        build_core(corebuf, &o);
        for (int k = 0; k < 4; k++)
            corebuf[(size_t)rand() % 0x800] ^= (uint8_t)(1 + rand() % 255);
        write_file(other_path, corebuf, CORE_SIZE);
        gh_target *t = NULL;
        gh_err err;
        if (gh_core_open(other_path, exe_path, &t, &err) != GH_OK)
            continue;
        const gh_region *r;
        size_t nr;
        uint8_t buf[256];
        t->ops->regions(t->ctx, &r, &nr);
        for (size_t i = 0; i < nr; i++)
            t->ops->read(t->ctx, r[i].end - 8, buf, sizeof buf);
        gh_target_close(t);
    }
}

/* NT_FILE mappings without a PT_LOAD (gdb's gcore leaves out read-only file
 * mappings) are regions, read from the executable; overlapping mappings in a
 * hostile note still give sorted, disjoint regions. */
static void file_gaps(void **state)
{
    static const uint64_t extra[][3] = {
        {0x500000, 0x501000, 2},                        /* exe file offset 0x2000 */
        {0x5ff000, 0x602000, 0}, {0x5ff800, 0x601000, 0}, /* around 0x600000's segments */
        {0x5fe000, 0x5ff800, 0}, {0x601000, 0x601000, 0}, /* overlapping; empty */
    };
    opts o = {.extra = extra, .nextra = sizeof extra / sizeof extra[0]};
    write_pair(&o);
    gh_target *t = open_ok(exe_path);
    const gh_region *r;
    size_t n;
    t->ops->regions(t->ctx, &r, &n);
    for (size_t i = 1; i < n; i++)
        assert_true(r[i].start >= r[i - 1].end);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].start == 0x500000) {
            assert_int_equal(r[i].end, 0x501000);
            assert_string_equal(r[i].name, exe_path);
            assert_int_equal(r[i].file_offset, 0x2000);
            assert_int_equal(r[i].prot, GH_PROT_R);
            assert_false(r[i].in_core);
            seen |= 1;
        }
        if (r[i].start == 0x5fe000 && r[i].end == 0x600000)
            seen |= 2;
        if (r[i].start == 0x600200 && r[i].end == 0x602000)
            seen |= 4;
    }
    assert_int_equal(seen, 7);
    assert_int_equal(n, 7);
    uint8_t buf[16];
    gh_err err;
    assert_int_equal(gh_read(t, 0x500010, buf, 16, &err), GH_OK);
    assert_memory_equal(buf, exe + 0x2010, 16);
    /* the mapping runs past the end of the executable file: a short read */
    assert_int_equal(t->ops->read(t->ctx, 0x5007f8, buf, 16), 8);
    assert_memory_equal(buf, exe + 0x27f8, 8);
    gh_target_close(t);
}

static void live_rejects(void **state)
{
    gh_target *t = (gh_target *)1;
    gh_err err;
    assert_int_equal(gh_live_open(-5, 0, &t, &err), GH_EARG);
    assert_null(t);
    opts o = {0};
    write_pair(&o);
    t = open_ok(exe_path);
    gh_thread th = {.tid = 1};
    assert_int_equal(gh_live_set_threads(t, &th, 1, &err), GH_EARG);
    gh_target_close(t);
    assert_null(gh_core_warning(NULL));
}

/* ---- the live target, on a forked child of ours ---- */

static volatile uint64_t child_word;
static uint8_t child_big[100000]; /* > BIG_READ: read past the page cache */

static pid_t child; /* killed by kill_child even when a test fails */

static int kill_child(void **state)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    child = 0;
    return 0;
}

static char proc_state(pid_t pid);

/* Forks a child that fills child_word and child_big, then sleeps in pause(). */
static pid_t start_child(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        child_word = 0x1122334455667788ULL;
        for (size_t i = 0; i < sizeof child_big; i++)
            child_big[i] = (uint8_t)(i * 13 + 5);
        (void)!write(fds[1], "x", 1);
        for (;;)
            pause();
    }
    char c;
    close(fds[1]);
    if (pid > 0 && read(fds[0], &c, 1) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    close(fds[0]);
    child = pid;
    for (int i = 0; pid > 0 && i < 200 && proc_state(pid) != 'S'; i++)
        usleep(5000); /* let it reach pause() */
    return pid;
}

static char proc_state(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] && p[2] ? p[2] : '?';
}

static void live_child(void **state)
{
    pid_t pid = start_child();
    assert_true(pid > 0);
    gh_target *t;
    gh_err err;
    if (gh_live_open(pid, 1, &t, &err) != GH_OK)
        fail_msg("gh_live_open: %s", err.msg);
    assert_string_equal(t->kind, "live");
    /* direct: our copy of the child's memory (live_chunks.c), not ours */
    const uint64_t *p = gh_direct(t, (uint64_t)(uintptr_t)&child_word, 8);
    assert_non_null(p);
    assert_ptr_not_equal(p, &child_word);
    assert_int_equal(*p, 0x1122334455667788ULL);
    assert_int_equal(proc_state(pid), 't'); /* stopped by us */

    uint64_t v = 0;
    assert_int_equal(gh_read_u64(t, (uint64_t)(uintptr_t)&child_word, &v, &err), GH_OK);
    assert_int_equal(v, 0x1122334455667788ULL);
    static uint8_t want[sizeof child_big], got[sizeof child_big];
    for (size_t i = 0; i < sizeof want; i++)
        want[i] = (uint8_t)(i * 13 + 5);
    assert_int_equal(gh_read(t, (uint64_t)(uintptr_t)child_big, got, sizeof got, &err), GH_OK);
    assert_memory_equal(got, want, sizeof want);
    /* small reads through the copies, across a page boundary */
    uint64_t a = ((uint64_t)(uintptr_t)child_big + 8191) & ~4095ULL;
    assert_int_equal(gh_read(t, a - 5, got, 11, &err), GH_OK);
    assert_memory_equal(got, want + (a - 5 - (uint64_t)(uintptr_t)child_big), 11);
    assert_int_equal(gh_read_u64(t, 8, &v, &err), GH_EMEM);

    const gh_thread *th;
    size_t n;
    t->ops->threads(t->ctx, &th, &n);
    assert_int_equal(n, 1);
    assert_int_equal(th[0].tid, pid);
    assert_true(th[0].has_regs);
    const gh_region *r;
    size_t nr;
    t->ops->regions(t->ctx, &r, &nr);
    int rip_in_x = 0, word_in_rw = 0;
    for (size_t i = 0; i < nr; i++) {
        if (i)
            assert_true(r[i].start >= r[i - 1].end);
        rip_in_x |= th[0].regs[GH_X86_RIP] >= r[i].start && th[0].regs[GH_X86_RIP] < r[i].end &&
                    (r[i].prot & GH_PROT_X);
        word_in_rw |= (uintptr_t)&child_word >= r[i].start && (uintptr_t)&child_word < r[i].end &&
                      r[i].prot == (GH_PROT_R | GH_PROT_W);
    }
    assert_true(rip_in_x);
    assert_true(word_in_rw);

    char self[4096];
    ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(l > 0);
    self[l] = 0;
    assert_string_equal(t->ops->exe_path(t->ctx), self);
    uint64_t bias;
    assert_int_equal(t->ops->load_bias(t->ctx, &bias), GH_OK);
    Elf64_Ehdr eh;
    FILE *f = fopen("/proc/self/exe", "rb");
    assert_non_null(f);
    assert_int_equal(fread(&eh, sizeof eh, 1, f), 1);
    fclose(f);
    assert_int_equal(bias + eh.e_entry, getauxval(AT_ENTRY));
    assert_int_equal(t->ops->generation(t->ctx), 0);
    assert_null(gh_core_warning(t));
    gh_target_close(t);

    for (int i = 0; i < 100 && proc_state(pid) != 'S'; i++)
        usleep(10000);
    assert_int_equal(proc_state(pid), 'S'); /* detached: back in pause() */

    /* Without copies (GOHEAP_LIVE_COPY_MB=0) every read goes to the process:
     * no direct pointers, the same bytes. */
    setenv("GOHEAP_LIVE_COPY_MB", "0", 1);
    int rc = gh_live_open(pid, 0, &t, &err);
    unsetenv("GOHEAP_LIVE_COPY_MB");
    if (rc != GH_OK)
        fail_msg("gh_live_open: %s", err.msg);
    assert_null(gh_direct(t, (uint64_t)(uintptr_t)&child_word, 8));
    assert_int_equal(gh_read(t, (uint64_t)(uintptr_t)child_big, got, sizeof got, &err), GH_OK);
    assert_memory_equal(got, want, sizeof want);
    assert_int_equal(gh_read(t, a - 5, got, 11, &err), GH_OK);
    assert_memory_equal(got, want + (a - 5 - (uint64_t)(uintptr_t)child_big), 11);
    gh_target_close(t);
}

static void live_no_stop(void **state)
{
    pid_t pid = start_child();
    assert_true(pid > 0);
    gh_target *t;
    gh_err err;
    if (gh_live_open(pid, 0, &t, &err) != GH_OK)
        fail_msg("gh_live_open: %s", err.msg);
    assert_int_equal(proc_state(pid), 'S');
    const gh_thread *th;
    size_t n;
    t->ops->threads(t->ctx, &th, &n);
    assert_int_equal(n, 1);
    assert_false(th[0].has_regs);
    uint64_t v;
    assert_int_equal(gh_read_u64(t, (uint64_t)(uintptr_t)&child_word, &v, &err), GH_OK);
    assert_int_equal(v, 0x1122334455667788ULL);
    /* a debugger adapter hands in registers */
    gh_thread mine[2] = {{.tid = pid, .has_regs = 1}, {.tid = pid + 1}};
    mine[0].regs[GH_X86_RIP] = 0x1234;
    assert_int_equal(gh_live_set_threads(t, mine, 2, &err), GH_OK);
    t->ops->threads(t->ctx, &th, &n);
    assert_int_equal(n, 2);
    assert_int_equal(th[0].regs[GH_X86_RIP], 0x1234);
    assert_int_equal(gh_live_set_threads(t, NULL, 0, &err), GH_OK);
    t->ops->threads(t->ctx, &th, &n);
    assert_int_equal(n, 0);
    gh_target_close(t);
}

/* The overlay: its bytes at GH_OVERLAY_BASE, the target's elsewhere;
 * reads past what it holds fail as unreadable memory does. */
static void overlay_reads(void **state)
{
    (void)state;
    gh_target *t = fake_target_new();
    assert_non_null(fake_target_map(t, 0x1000, 16));
    fake_put_u64(t, 0x1000, 0x1122334455667788ull);
    gh_overlay *o = malloc(sizeof *o);
    assert_non_null(o);
    gh_overlay_init(o, t);
    uint64_t v = 0, a = 0x0102030405060708ull, b[2] = {7, 9};
    assert_int_equal(gh_read_u64(&o->t, 0x1000, &v, NULL), GH_OK);
    assert_true(v == 0x1122334455667788ull);
    uint64_t at = gh_overlay_put(o, &a, 3); /* 3 bytes: the next value starts aligned */
    assert_true(at == GH_OVERLAY_BASE && gh_overlay_addr(at));
    uint64_t at2 = gh_overlay_put(o, b, sizeof b);
    assert_true(at2 == GH_OVERLAY_BASE + 8);
    assert_int_equal(gh_read_u64(&o->t, at2 + 8, &v, NULL), GH_OK);
    assert_true(v == 9);
    uint8_t x[4];
    assert_int_equal(gh_read(&o->t, at, x, 3, NULL), GH_OK);
    assert_true(x[0] == 8 && x[1] == 7 && x[2] == 6);
    assert_int_not_equal(gh_read_u64(&o->t, at2 + 16, &v, NULL), GH_OK); /* past what it holds */
    assert_int_not_equal(gh_read_u64(&o->t, at2 + 12, &v, NULL), GH_OK); /* straddles its end */
    assert_null(gh_direct(&o->t, at2 + 12, 8));
    assert_false(gh_overlay_addr(0x1000));
    char big[GH_OVERLAY_MAX] = {0};
    assert_true(gh_overlay_put(o, big, sizeof big) == 0); /* does not fit */
    assert_true(gh_overlay_put(o, big, 0) == 0);
    free(o);
    gh_target_close(t);
}

int run_core_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opens),
        cmocka_unit_test(overlay_reads),
        cmocka_unit_test(reads),
        cmocka_unit_test(finds_mismatched_exe),
        cmocka_unit_test(missing_exe),
        cmocka_unit_test(bad_files),
        cmocka_unit_test(truncated_everywhere),
        cmocka_unit_test(hostile_notes),
        cmocka_unit_test(hostile_headers),
        cmocka_unit_test(flips),
        cmocka_unit_test(file_gaps),
        cmocka_unit_test(live_rejects),
        cmocka_unit_test_teardown(live_child, kill_child),
        cmocka_unit_test_teardown(live_no_stop, kill_child),
    };
    return cmocka_run_group_tests_name("core", tests, setup, teardown);
}
