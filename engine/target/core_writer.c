/* Writes a snapshot (snapshot.h) as a linux/amd64 ELF core in the kernel's
 * layout, which goheap (target_core.c), gdb and lldb read: a PT_NOTE segment
 * (NT_PRSTATUS per thread, NT_PRPSINFO, NT_AUXV, NT_FILE), then one PT_LOAD
 * per mapping at page-aligned offsets. A mapping not copied has p_filesz 0;
 * pages of zeros are never written, so they are holes of a sparse file. */
#include "target/snapshot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u
#define NT_FILE_NOTE 0x46494c45u /* "FILE" */

_Static_assert(sizeof(struct elf_prstatus) == 336, "x86-64 NT_PRSTATUS is 336 bytes");
_Static_assert(sizeof(struct elf_prpsinfo) == 136, "x86-64 NT_PRPSINFO is 136 bytes");
_Static_assert(sizeof(elf_gregset_t) == GH_X86_NREGS * 8, "pr_reg is user_regs_struct");

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} buf;

static void put(buf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n)
            nc *= 2;
        uint8_t *p = realloc(b->p, nc);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = nc;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void pad4(buf *b)
{
    static const uint8_t zero[4];
    put(b, zero, align_up(b->len, 4) - b->len);
}

/* One note, as the kernel writes them: owner "CORE", or "LINUX" for
 * extended register state. */
static void note_of(buf *b, const char *owner, uint32_t type, const void *desc, size_t len)
{
    uint32_t hdr[3] = {(uint32_t)strlen(owner) + 1, (uint32_t)len, type};
    put(b, hdr, sizeof hdr);
    put(b, owner, hdr[0]);
    pad4(b);
    put(b, desc, len);
    pad4(b);
}

static void note(buf *b, uint32_t type, const void *desc, size_t len) { note_of(b, "CORE", type, desc, len); }

static int is_file(const gh_snap_map *m) { return m->name && strcmp(m->name, "[vdso]") != 0; }

static void nt_file(buf *b, const gh_snap *s)
{
    buf d = {0};
    uint64_t count = 0, page = PAGE;
    for (size_t i = 0; i < s->nmaps; i++)
        count += is_file(&s->maps[i]);
    put(&d, &count, 8);
    put(&d, &page, 8);
    for (size_t i = 0; i < s->nmaps; i++) {
        const gh_snap_map *m = &s->maps[i];
        uint64_t e[3] = {m->start, m->end, m->pgoff / PAGE};
        if (is_file(m))
            put(&d, e, sizeof e);
    }
    for (size_t i = 0; i < s->nmaps; i++)
        if (is_file(&s->maps[i]))
            put(&d, s->maps[i].name, strlen(s->maps[i].name) + 1);
    if (d.oom)
        b->oom = 1;
    else
        note(b, NT_FILE_NOTE, d.p, d.len);
    free(d.p);
}

static void prstatus(buf *b, const gh_snap *s, size_t i)
{
    struct elf_prstatus st;
    memset(&st, 0, sizeof st);
    st.pr_cursig = SIGSTOP; /* how it was stopped */
    st.pr_info.si_signo = SIGSTOP;
    st.pr_pid = s->threads[i].tid;
    st.pr_ppid = s->ppid;
    st.pr_pgrp = s->pgrp;
    st.pr_sid = s->sid;
    memcpy(&st.pr_reg, s->threads[i].regs, sizeof st.pr_reg);
    st.pr_fpvalid = s->fp && s->fp[i].has_fpregs;
    note(b, NT_PRSTATUS, &st, sizeof st);
}

static void prpsinfo(buf *b, const gh_snap *s)
{
    struct elf_prpsinfo ps;
    memset(&ps, 0, sizeof ps);
    ps.pr_sname = 'T';
    ps.pr_state = 3; /* index of 'T' in the kernel's "RSDTZW" */
    ps.pr_uid = s->uid;
    ps.pr_gid = s->gid;
    ps.pr_pid = s->pid;
    ps.pr_ppid = s->ppid;
    ps.pr_pgrp = s->pgrp;
    ps.pr_sid = s->sid;
    memcpy(ps.pr_fname, s->comm, sizeof ps.pr_fname);
    memcpy(ps.pr_psargs, s->psargs, sizeof ps.pr_psargs);
    note(b, NT_PRPSINFO, &ps, sizeof ps);
}

/* In the kernel's order: a thread's NT_PRSTATUS opens its notes (readers
 * give the notes after it to that thread); the process's notes follow the
 * first thread's. */
static void notes(buf *b, const gh_snap *s)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        prstatus(b, s, i);
        if (i == 0) {
            prpsinfo(b, s);
            note(b, NT_AUXV, s->auxv, s->auxv_len);
            nt_file(b, s);
        }
        if (s->fp && s->fp[i].has_fpregs)
            note(b, NT_FPREGSET, s->fp[i].fpregs, sizeof s->fp[i].fpregs);
        if (s->fp && s->fp[i].xstate_len)
            note_of(b, "LINUX", NT_X86_XSTATE, s->fp[i].xstate, s->fp[i].xstate_len);
    }
}

static int write_at(int fd, const void *p, size_t n, uint64_t off, const char *path, gh_err *err)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return gh_errorf(err, GH_EIO, "cannot write %s: %s", path, w < 0 ? strerror(errno) : "no space");
        p = (const uint8_t *)p + w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return GH_OK;
}

static int zero_page(const uint8_t *p)
{
    static const uint8_t zero[PAGE];
    return memcmp(p, zero, PAGE) == 0;
}

/* The copied bytes of one mapping at its offset in the file, pages of zeros
 * left out. Runs are page-aligned and whole pages. */
static int write_map(int fd, const gh_snap *s, const gh_snap_map *m, uint64_t file_off, const char *path,
                     gh_err *err)
{
    for (size_t r = m->first_run; r < m->first_run + m->nruns; r++) {
        const gh_snap_run *run = &s->runs[r];
        const uint8_t *src = s->data + run->pos;
        for (uint64_t a = 0; a < run->len;) {
            while (a < run->len && zero_page(src + a))
                a += PAGE;
            uint64_t b = a;
            while (b < run->len && b - a < (UINT64_C(64) << 20) && !zero_page(src + b))
                b += PAGE;
            if (b > a) {
                int rc = write_at(fd, src + a, (size_t)(b - a), file_off + (run->addr - m->start) + a, path, err);
                if (rc)
                    return rc;
            }
            a = b;
        }
    }
    return GH_OK;
}

static int write_all(int fd, const gh_snap *s, const char *path, uint64_t *size, gh_err *err)
{
    size_t nph = 1 + s->nmaps;
    if (nph >= PN_XNUM)
        return gh_errorf(err, GH_EUNSUPP, "process %d has %zu mappings, more than an ELF core's %d", s->pid,
                         s->nmaps, PN_XNUM - 1);
    buf nb = {0};
    notes(&nb, s);
    Elf64_Phdr *ph = calloc(nph, sizeof *ph);
    if (nb.oom || !ph) {
        free(nb.p);
        free(ph);
        return gh_errorf(err, GH_ENOMEM, "out of memory for the core's headers");
    }
    uint64_t note_off = sizeof(Elf64_Ehdr) + nph * sizeof *ph, off = align_up(note_off + nb.len, PAGE);
    ph[0] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = note_off, .p_filesz = nb.len, .p_align = 4};
    for (size_t i = 0; i < s->nmaps; i++) {
        const gh_snap_map *m = &s->maps[i];
        ph[1 + i] = (Elf64_Phdr){
            .p_type = PT_LOAD,
            .p_flags = (m->prot & GH_PROT_R ? PF_R : 0) | (m->prot & GH_PROT_W ? PF_W : 0) |
                       (m->prot & GH_PROT_X ? PF_X : 0),
            .p_offset = off,
            .p_vaddr = m->start,
            .p_filesz = m->filesz,
            .p_memsz = m->end - m->start,
            .p_align = PAGE,
        };
        off += m->filesz;
    }
    Elf64_Ehdr eh = {
        .e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE},
        .e_type = ET_CORE,
        .e_machine = EM_X86_64,
        .e_version = EV_CURRENT,
        .e_phoff = sizeof(Elf64_Ehdr),
        .e_ehsize = sizeof(Elf64_Ehdr),
        .e_phentsize = sizeof(Elf64_Phdr),
        .e_phnum = (uint16_t)nph,
    };
    int rc = write_at(fd, &eh, sizeof eh, 0, path, err);
    if (!rc)
        rc = write_at(fd, ph, nph * sizeof *ph, sizeof eh, path, err);
    if (!rc)
        rc = write_at(fd, nb.p, nb.len, note_off, path, err);
    for (size_t i = 0; !rc && i < s->nmaps; i++)
        rc = write_map(fd, s, &s->maps[i], ph[1 + i].p_offset, path, err);
    free(nb.p);
    free(ph);
    if (!rc && ftruncate(fd, (off_t)off) < 0) /* the holes at the end */
        rc = gh_errorf(err, GH_EIO, "cannot size %s: %s", path, strerror(errno));
    *size = off;
    return rc;
}

int gh_core_out_open(const char *path, gh_core_out *o, gh_err *err)
{
    /* A new file renamed over path at the end: a reader never sees half a
     * core, and an old one is not truncated first (slow for GiBs). mkstemp
     * makes it 0600: a core holds whatever secrets the process held. */
    size_t n = strlen(path);
    o->path = path;
    o->fd = -1;
    if (!(o->tmp = malloc(n + 8)))
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".XXXXXX", 8);
    if ((o->fd = mkostemp(o->tmp, O_CLOEXEC)) < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        return gh_errorf(err, GH_EIO, "cannot create %s: %s", path, strerror(e));
    }
    return GH_OK;
}

void gh_core_out_abandon(gh_core_out *o)
{
    if (o->fd >= 0) {
        close(o->fd);
        unlink(o->tmp);
    }
    free(o->tmp);
    o->tmp = NULL;
    o->fd = -1;
}

int gh_snap_write(const gh_snap *s, gh_core_out *o, uint64_t *size, uint64_t *disk, gh_err *err)
{
    int rc = write_all(o->fd, s, o->path, size, err);
    struct stat st;
    if (!rc && fstat(o->fd, &st) == 0)
        *disk = (uint64_t)st.st_blocks * 512;
    int fd = o->fd;
    o->fd = -1;
    if (close(fd) < 0 && !rc)
        rc = gh_errorf(err, GH_EIO, "cannot write %s: %s", o->path, strerror(errno));
    if (!rc && rename(o->tmp, o->path) < 0)
        rc = gh_errorf(err, GH_EIO, "cannot rename %s to %s: %s", o->tmp, o->path, strerror(errno));
    if (rc)
        unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}
