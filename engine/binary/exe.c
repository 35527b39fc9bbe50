/* The executable: ELF sections, symbols and its DWARF, mapped read-only. */
#include "binary/exe.h"

#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binary/exehdr.h"
#include "dwarf/dwarf_index.h"

struct gh_exe {
    char *path;
    int fd;
    const uint8_t *map;
    size_t size;
    Elf *elf;
    uint64_t entry;
    const gh_arch *arch;
    gh_section *sects;
    size_t nsects;
    gh_sym *syms;     /* sorted by address */
    size_t nsyms;
    uint32_t *byname; /* indexes into syms, sorted by name */
    gh_dwarf *dwarf;
    int dwarf_tried;
    unsigned refs;    /* gh_exe_ref; freed by the last gh_exe_close */
};

static int cmp_addr(const void *a, const void *b)
{
    const gh_sym *x = a, *y = b;
    /* At one address the largest symbol last: gh_exe_sym_at returns it, not
     * a zero-size marker there (runtime.data starts where a variable does). */
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

/* By name, through the index (qsort_r: no file-scope state, sessions may open in parallel). */
static int cmp_name(const void *a, const void *b, void *syms)
{
    const gh_sym *s = syms;
    return strcmp(s[*(const uint32_t *)a].name, s[*(const uint32_t *)b].name);
}

static int load_symbols(gh_exe *e, gh_err *err)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e->elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data)
            return gh_errorf(err, GH_EFORMAT, "%s: unreadable symbol table", e->path);
        size_t n = sh.sh_size / sh.sh_entsize;
        e->syms = calloc(n ? n : 1, sizeof *e->syms);
        if (!e->syms)
            return gh_errorf(err, GH_ENOMEM, "out of memory for %zu symbols", n);
        for (size_t i = 0; i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(data, (int)i, &s))
                continue;
            int type = GELF_ST_TYPE(s.st_info);
            if (s.st_shndx == SHN_UNDEF || (type != STT_OBJECT && type != STT_FUNC && type != STT_NOTYPE))
                continue;
            const char *name = elf_strptr(e->elf, sh.sh_link, s.st_name);
            if (!name || !*name)
                continue;
            e->syms[e->nsyms++] = (gh_sym){s.st_value, s.st_size, name, type == STT_FUNC};
        }
        break;
    }
    if (!e->nsyms)
        return GH_OK; /* stripped: callers report what they miss */
    qsort(e->syms, e->nsyms, sizeof *e->syms, cmp_addr);
    e->byname = malloc(e->nsyms * sizeof *e->byname);
    if (!e->byname)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the symbol index");
    for (size_t i = 0; i < e->nsyms; i++)
        e->byname[i] = (uint32_t)i;
    qsort_r(e->byname, e->nsyms, sizeof *e->byname, cmp_name, e->syms);
    return GH_OK;
}

static int load_sections(gh_exe *e, gh_err *err)
{
    size_t shstrndx, n;
    if (elf_getshdrstrndx(e->elf, &shstrndx) != 0 || elf_getshdrnum(e->elf, &n) != 0)
        return gh_errorf(err, GH_EFORMAT, "%s: bad section headers", e->path);
    e->sects = calloc(n ? n : 1, sizeof *e->sects);
    if (!e->sects)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e->elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        const char *name = elf_strptr(e->elf, shstrndx, sh.sh_name);
        if (!name)
            continue;
        e->sects[e->nsects++] = (gh_section){name, sh.sh_addr, sh.sh_size, sh.sh_offset, sh.sh_flags,
                                             sh.sh_type == SHT_NOBITS};
    }
    return GH_OK;
}

int gh_exe_open(const char *path, gh_exe **out, gh_err *err)
{
    *out = NULL;
    gh_exe *e = calloc(1, sizeof *e);
    if (!e)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    e->fd = -1;
    e->refs = 1;
    e->path = strdup(path);
    int rc;
    struct stat st;
    e->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (e->fd < 0 || fstat(e->fd, &st) != 0) {
        rc = gh_errorf(err, GH_EIO, "cannot open executable %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 64) {
        rc = gh_errorf(err, GH_EFORMAT, "%s is not an ELF executable", path);
        goto fail;
    }
    e->size = (size_t)st.st_size;
    /* Writable private (copy-on-write) mapping: libdw decompresses DWARF
     * sections in place in the ELF image. The file is never modified. */
    e->map = mmap(NULL, e->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, e->fd, 0);
    if (e->map == MAP_FAILED) {
        e->map = NULL;
        rc = gh_errorf(err, GH_EIO, "cannot map %s: %s", path, strerror(errno));
        goto fail;
    }
    elf_version(EV_CURRENT);
    e->elf = elf_memory((char *)e->map, e->size);
    GElf_Ehdr eh;
    if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh)) {
        rc = gh_errorf(err, GH_EFORMAT, "%s is not an ELF file", path);
        goto fail;
    }
    if (eh.e_type == ET_CORE) {
        rc = gh_errorf(err, GH_EFORMAT, "%s is a core file, not an executable", path);
        goto fail;
    }
    e->arch = gh_arch_of_machine(eh.e_machine);
    if (gelf_getclass(e->elf) != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || !e->arch) {
        char m[64];
        rc = gh_errorf(err, GH_EUNSUPP, "%s is a %d-bit executable for %s: goheap reads linux/amd64 and linux/arm64 only",
                       path, gelf_getclass(e->elf) == ELFCLASS64 ? 64 : 32,
                       gh_machine_name(eh.e_machine, m, sizeof m));
        goto fail;
    }
    e->entry = eh.e_entry;
    if ((rc = gh_exe_check_headers(e->map, e->size, path, err)) || (rc = load_sections(e, err)) || (rc = load_symbols(e, err)))
        goto fail;
    *out = e;
    return GH_OK;
fail:
    gh_exe_close(e);
    return rc;
}

gh_exe *gh_exe_ref(gh_exe *e)
{
    e->refs++;
    return e;
}

void gh_exe_close(gh_exe *e)
{
    if (!e || --e->refs)
        return;
    gh_dwarf_index_free(e->dwarf);
    if (e->elf)
        elf_end(e->elf);
    if (e->map)
        munmap((void *)e->map, e->size);
    if (e->fd >= 0)
        close(e->fd);
    free(e->syms);
    free(e->byname);
    free(e->sects);
    free(e->path);
    free(e);
}

const char *gh_exe_path(const gh_exe *e) { return e->path; }
size_t gh_exe_nsyms(const gh_exe *e) { return e->nsyms; }
uint64_t gh_exe_entry(const gh_exe *e) { return e->entry; }
const gh_arch *gh_exe_arch(const gh_exe *e) { return e->arch; }

const gh_sym *gh_exe_sym(const gh_exe *e, const char *name)
{
    size_t lo = 0, hi = e->nsyms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(e->syms[e->byname[mid]].name, name);
        if (c == 0)
            return &e->syms[e->byname[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const gh_sym *gh_exe_sym_at(const gh_exe *e, uint64_t addr)
{
    size_t lo = 0, hi = e->nsyms;
    while (lo < hi) { /* first symbol with addr > target */
        size_t mid = (lo + hi) / 2;
        if (e->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const gh_sym *s = &e->syms[lo - 1];
    return addr < s->addr + (s->size ? s->size : 1) ? s : NULL;
}

const gh_section *gh_exe_sections(const gh_exe *e, size_t *n)
{
    *n = e->nsects;
    return e->sects;
}

const gh_section *gh_exe_section(const gh_exe *e, const char *name)
{
    for (size_t i = 0; i < e->nsects; i++)
        if (strcmp(e->sects[i].name, name) == 0)
            return &e->sects[i];
    return NULL;
}

const uint8_t *gh_exe_section_data(const gh_exe *e, const gh_section *s)
{
    if (!s || s->nobits || s->offset > e->size || s->size > e->size - s->offset)
        return NULL;
    return e->map + s->offset;
}

gh_dwarf *gh_exe_dwarf(gh_exe *e)
{
    if (!e->dwarf_tried) {
        e->dwarf_tried = 1;
        e->dwarf = gh_dwarf_index_new(e->elf);
    }
    return e->dwarf;
}
