/* The executable's ELF header tables, checked against the file before libelf
 * or the core backend trusts them: libelf quietly drops section headers that
 * lie past the end of the file (the executable then looks like no Go program
 * at all), and a loadable segment whose file offset disagrees with its
 * address would shift every byte read through it. */
#include "binary/exehdr.h"

#include <elf.h>
#include <string.h>

static int in_file(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

static int check_sections(const uint8_t *map, size_t size, const Elf64_Ehdr *eh, const char *path, gh_err *err)
{
    if (!eh->e_shoff)
        return GH_OK; /* no section headers: "not a Go program" says the rest */
    uint64_t n = eh->e_shnum;
    if (n == 0 || eh->e_shstrndx == SHN_XINDEX) { /* extended numbering: section 0 holds the counts */
        if (!in_file(eh->e_shoff, sizeof(Elf64_Shdr), size))
            return gh_errorf(err, GH_EFORMAT,
                             "executable %s: section header 0 at offset %llu is past the end of the file "
                             "(%zu bytes)",
                             path, (unsigned long long)eh->e_shoff, size);
        Elf64_Shdr s0;
        memcpy(&s0, map + eh->e_shoff, sizeof s0);
        if (n == 0)
            n = s0.sh_size;
    }
    if (eh->e_shentsize != sizeof(Elf64_Shdr))
        return gh_errorf(err, GH_EFORMAT, "executable %s has section headers of %u bytes, not %zu", path,
                         eh->e_shentsize, sizeof(Elf64_Shdr));
    if (n > size / sizeof(Elf64_Shdr) || !in_file(eh->e_shoff, n * sizeof(Elf64_Shdr), size))
        return gh_errorf(err, GH_EFORMAT,
                         "executable %s: %llu section headers at offset %llu run past the end of the file "
                         "(%zu bytes)",
                         path, (unsigned long long)n, (unsigned long long)eh->e_shoff, size);
    for (uint64_t i = 0; i < n; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, map + eh->e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL && !in_file(sh.sh_offset, sh.sh_size, size))
            return gh_errorf(err, GH_EFORMAT,
                             "executable %s: section %llu (%llu bytes at offset %llu) runs past the end of the "
                             "file (%zu bytes)",
                             path, (unsigned long long)i, (unsigned long long)sh.sh_size,
                             (unsigned long long)sh.sh_offset, size);
    }
    return GH_OK;
}

static int check_segments(const uint8_t *map, size_t size, const Elf64_Ehdr *eh, const char *path, gh_err *err)
{
    uint64_t n = eh->e_phnum;
    if (n == 0)
        return GH_OK;
    if (n == PN_XNUM)
        return GH_OK; /* the count is in section header 0: no Go executable has that many */
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return gh_errorf(err, GH_EFORMAT, "executable %s has program headers of %u bytes, not %zu", path,
                         eh->e_phentsize, sizeof(Elf64_Phdr));
    if (!in_file(eh->e_phoff, n * sizeof(Elf64_Phdr), size))
        return gh_errorf(err, GH_EFORMAT,
                         "executable %s: %llu program headers at offset %llu run past the end of the file "
                         "(%zu bytes)",
                         path, (unsigned long long)n, (unsigned long long)eh->e_phoff, size);
    for (uint64_t i = 0; i < n; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, map + eh->e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD)
            continue;
        if (!in_file(ph.p_offset, ph.p_filesz, size))
            return gh_errorf(err, GH_EFORMAT,
                             "executable %s: loadable segment %llu at 0x%llx (%llu bytes at offset %llu) runs "
                             "past the end of the file (%zu bytes)",
                             path, (unsigned long long)i, (unsigned long long)ph.p_vaddr,
                             (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_offset, size);
        /* ELF requires p_offset = p_vaddr modulo p_align (the kernel maps
         * whole pages): anything else is a corrupt header. */
        uint64_t a = ph.p_align;
        if (a > 1 && !(a & (a - 1)) && (ph.p_offset & (a - 1)) != (ph.p_vaddr & (a - 1)))
            return gh_errorf(err, GH_EFORMAT,
                             "executable %s: loadable segment %llu at 0x%llx has file offset 0x%llx, not its "
                             "address modulo its alignment 0x%llx (corrupt program header)",
                             path, (unsigned long long)i, (unsigned long long)ph.p_vaddr,
                             (unsigned long long)ph.p_offset, (unsigned long long)a);
    }
    return GH_OK;
}

int gh_exe_check_headers(const uint8_t *map, size_t size, const char *path, gh_err *err)
{
    Elf64_Ehdr eh;
    if (size < sizeof eh)
        return gh_errorf(err, GH_EFORMAT, "%s is not an ELF executable", path);
    memcpy(&eh, map, sizeof eh);
    int rc = check_segments(map, size, &eh, path, err);
    return rc ? rc : check_sections(map, size, &eh, path, err);
}
