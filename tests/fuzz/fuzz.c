/* The fuzzing harness (fuzz.h): the base in memory files, its sites found
 * through the engine's own model of the clean base, recipes applied and
 * undone around one goheap session per input. */
#include "fuzz.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/api.h"
#include "binary/exe.h"
#include "goheap/command.h"
#include "goheap/goheap.h"
#include "goroutine/goroutine.h"
#include "graph/graph.h"
#include "heap/heap.h"
#include "runtime/moduledata.h"
#include "session/session.h"

#define CHUNK 4096       /* big regions become sites of this size */
#define MAX_SITES 200000 /* per class */
#define MAX_STEPS 16     /* steps of a recipe applied */
#define NADDR 4          /* live objects whose addresses commands get */

typedef struct site {
    uint8_t exe; /* 0 core, 1 executable */
    uint64_t off, len;
} site;

typedef struct base {
    uint8_t *file[2]; /* the pristine bytes */
    size_t size[2];
    int fd[2];        /* memory files the engine opens */
    char path[2][64];
    site *sites[FZ_NCLASSES];
    size_t nsites[FZ_NCLASSES];
    uint64_t ptrs[64]; /* values worth writing as pointers */
    size_t nptrs;
    char addr[NADDR][32];
    gh_exe *exe;       /* the pristine executable, parsed once (fz_run) */
    uint64_t seg_off[64], seg_len[64]; /* the core's loadable segments with file bytes: where cuts land */
    size_t nsegs;
    int ready;
} base;

static base B;

static void add_site(int cls, int exe, uint64_t off, uint64_t len)
{
    if (!len || off >= B.size[exe])
        return;
    if (len > B.size[exe] - off)
        len = B.size[exe] - off;
    for (uint64_t o = 0; o < len && B.nsites[cls] < MAX_SITES; o += CHUNK) {
        site *s = realloc(B.sites[cls], (B.nsites[cls] + 1) * sizeof *s);
        if (!s)
            return;
        B.sites[cls] = s;
        s[B.nsites[cls]++] = (site){.exe = (uint8_t)exe, .off = off + o, .len = len - o < CHUNK ? len - o : CHUNK};
    }
}

/* The core's file offset of [va, va + len), or -1: its PT_LOAD headers. */
static int64_t core_off(uint64_t va, uint64_t len)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)B.file[0];
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(B.file[0] + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
        if (ph->p_type == PT_LOAD && va >= ph->p_vaddr && va - ph->p_vaddr < ph->p_filesz) {
            if (len > ph->p_filesz - (va - ph->p_vaddr))
                len = ph->p_filesz - (va - ph->p_vaddr);
            return (int64_t)(ph->p_offset + (va - ph->p_vaddr));
        }
    }
    return -1;
}

static void add_mem(int cls, uint64_t va, uint64_t len)
{
    int64_t off = core_off(va, len);
    if (off >= 0)
        add_site(cls, 0, (uint64_t)off, len);
}

static void add_ptr(uint64_t p)
{
    if (B.nptrs < sizeof B.ptrs / sizeof B.ptrs[0])
        B.ptrs[B.nptrs++] = p;
}

static int load_file(int i, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    B.file[i] = malloc((size_t)n);
    if (!B.file[i] || fread(B.file[i], 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return -1;
    }
    fclose(f);
    B.size[i] = (size_t)n;
    B.fd[i] = memfd_create(i ? "fuzz-exe" : "fuzz-core", 0);
    if (B.fd[i] < 0 || pwrite(B.fd[i], B.file[i], B.size[i], 0) != (ssize_t)B.size[i])
        return -1;
    snprintf(B.path[i], sizeof B.path[i], "/proc/self/fd/%d", B.fd[i]);
    return 0;
}

/* The executable's sections by name into the ELF, metadata and DWARF classes. */
static void exe_sites(void)
{
    const uint8_t *f = B.file[1];
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
    add_site(FZ_EXE_ELF, 1, 0, sizeof *eh);
    add_site(FZ_EXE_ELF, 1, eh->e_phoff, (uint64_t)eh->e_phnum * eh->e_phentsize);
    add_site(FZ_EXE_ELF, 1, eh->e_shoff, (uint64_t)eh->e_shnum * eh->e_shentsize);
    if (eh->e_shstrndx >= eh->e_shnum)
        return;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f + eh->e_shoff);
    const char *names = (const char *)f + sh[eh->e_shstrndx].sh_offset;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        const char *n = names + sh[i].sh_name;
        if (sh[i].sh_type == SHT_NOBITS)
            continue;
        if (!strncmp(n, ".debug_", 7) || !strncmp(n, ".zdebug_", 8))
            add_site(FZ_EXE_DWARF, 1, sh[i].sh_offset, sh[i].sh_size);
        else if (!strcmp(n, ".gopclntab") || !strcmp(n, ".go.buildinfo") || !strcmp(n, ".noptrdata") ||
                 !strcmp(n, ".typelink") || !strcmp(n, ".itablink") || !strcmp(n, ".symtab") ||
                 !strcmp(n, ".strtab") || !strcmp(n, ".note.go.buildid") || !strcmp(n, ".data.rel.ro"))
            add_site(FZ_EXE_META, 1, sh[i].sh_offset, sh[i].sh_size);
    }
}

/* Sites in target memory, found through the engine's model of the clean base. */
static int memory_sites(void)
{
    gh_session *s;
    gh_err err;
    if (gh_open_core(B.path[0], B.path[1], &s, &err)) {
        fprintf(stderr, "fuzz: the base does not open: %s\n", err.msg);
        return -1;
    }
    gh_heap *h;
    gh_graph *g;
    if (gh_session_heap(s, &h, &err) || gh_session_graph(s, &g, &err)) {
        fprintf(stderr, "fuzz: the base's heap: %s\n", err.msg);
        gh_close(s);
        return -1;
    }
    add_mem(FZ_HEAP, s->rt.mheap, 65536);
    add_ptr(s->rt.mheap);
    for (size_t i = 0; i < h->nspans; i++) {
        const gh_span *sp = &h->spans[i];
        add_mem(FZ_HEAP, sp->mspan, 168);
        if (sp->allocbits)
            add_mem(FZ_HEAP, sp->allocbits, sp->nelems / 8 + 8);
        if (sp->specials)
            add_mem(FZ_ROOTS, sp->specials, 64);
        if (i % 64 == 0)
            add_ptr(sp->base);
    }
    for (size_t i = 0; i < h->narenas; i++)
        add_mem(FZ_HEAP, h->arena_meta[i], 80 * 1024);
    const gh_goroutines *gs;
    if (gh_session_goroutines_cached(s, &gs, &err) == GH_OK)
        for (size_t i = 0; i < gs->n; i++) {
            add_mem(FZ_ROOTS, gs->v[i].g, 448);
            uint64_t lo = gs->v[i].stack_lo, hi = gs->v[i].stack_hi;
            if (hi > lo)
                add_mem(FZ_ROOTS, hi - 8192 > lo ? hi - 8192 : lo, hi - lo < 8192 ? hi - lo : 8192);
            add_ptr(gs->v[i].g);
        }
    gh_moduledata md;
    if (gh_moduledata_read(&s->rt, &md, &err) == GH_OK) {
        add_mem(FZ_ROOTS, md.data, md.edata - md.data);
        add_mem(FZ_ROOTS, md.bss, md.ebss - md.bss);
        add_mem(FZ_ROOTS, md.noptrdata, md.enoptrdata - md.noptrdata);
        add_ptr(md.text);
    }
    size_t naddr = 0, nobj = 0;
    for (uint32_t id = 0; id < h->nslots && nobj < 20000; id++) {
        gh_obj o;
        if (!gh_heap_allocated(h, id) || !gh_heap_slot(h, id, &o))
            continue;
        add_mem(FZ_OBJECTS, o.addr, o.size < 256 ? o.size : 256);
        nobj++;
        if (nobj % 500 == 1)
            add_ptr(o.addr), add_ptr(o.addr + 8), add_ptr(o.addr + 1);
        if (naddr < NADDR && gh_graph_live(g, id) && g->type[id])
            snprintf(B.addr[naddr++], sizeof B.addr[0], "%#llx", (unsigned long long)o.addr);
    }
    for (; naddr < NADDR; naddr++)
        snprintf(B.addr[naddr], sizeof B.addr[0], "%#llx", (unsigned long long)s->rt.mheap);
    gh_close(s);
    return 0;
}

static void core_elf_sites(void)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)B.file[0];
    add_site(FZ_CORE_ELF, 0, 0, sizeof *eh + (uint64_t)eh->e_phnum * eh->e_phentsize);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(B.file[0] + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
        if (ph->p_type == PT_NOTE)
            add_site(FZ_CORE_NOTES, 0, ph->p_offset, ph->p_filesz);
        if (ph->p_type == PT_LOAD && ph->p_filesz && B.nsegs < 64 && ph->p_offset < B.size[0]) {
            B.seg_off[B.nsegs] = ph->p_offset;
            B.seg_len[B.nsegs++] = ph->p_filesz < B.size[0] - ph->p_offset ? ph->p_filesz : B.size[0] - ph->p_offset;
        }
    }
}

int fz_init(void)
{
    if (B.ready)
        return 0;
    const char *dir = getenv("GOHEAP_FUZZ_BASE");
#ifdef FZ_DEFAULT_BASE
    if (!dir)
        dir = FZ_DEFAULT_BASE;
#endif
    if (!dir) {
        fprintf(stderr, "fuzz: set GOHEAP_FUZZ_BASE to a corpus directory (core and exe)\n");
        return -1;
    }
    setenv("GOHEAP_INDEX", "off", 1); /* the memory files keep their identity: never a stale index */
    char p[4096];
    snprintf(p, sizeof p, "%s/core", dir);
    if (load_file(0, p)) {
        fprintf(stderr, "fuzz: cannot load %s\n", p);
        return -1;
    }
    snprintf(p, sizeof p, "%s/exe", dir);
    if (load_file(1, p)) {
        fprintf(stderr, "fuzz: cannot load %s\n", p);
        return -1;
    }
    core_elf_sites();
    exe_sites();
    if (memory_sites())
        return -1;
    gh_err err;
    if (!getenv("GOHEAP_FUZZ_NO_SHARED_EXE") && gh_exe_open(B.path[1], &B.exe, &err) == GH_OK)
        (void)gh_exe_dwarf(B.exe); /* indexed now, not inside the first input */
    B.ready = 1;
    return 0;
}

size_t fz_sites(int cls) { return cls >= 0 && cls < FZ_NCLASSES ? B.nsites[cls] : 0; }

/* --- one input --- */

typedef struct undo {
    uint8_t exe;
    uint64_t off;
    uint8_t len;
} undo;

static const uint64_t interesting[] = {
    0, 1, 2, 7, 8, 16, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
    0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, 0xc000000000ull, 1ull << 40,
};

static void put(undo *u, size_t *nu, int exe, uint64_t off, const void *v, uint8_t len)
{
    if (off + len > B.size[exe] || *nu >= MAX_STEPS)
        return;
    u[(*nu)++] = (undo){.exe = (uint8_t)exe, .off = off, .len = len};
    (void)!pwrite(B.fd[exe], v, len, (off_t)off);
}

static void apply(const fz_target *t, const uint8_t *data, size_t size, undo *u, size_t *nu)
{
    int cls[FZ_NCLASSES], ncls = 0;
    for (int c = 0; c < FZ_NCLASSES; c++)
        if ((t->classes >> c & 1) && B.nsites[c])
            cls[ncls++] = c;
    if (!ncls)
        return;
    for (size_t k = 0; k + 8 <= size && *nu < MAX_STEPS; k += 8) {
        const uint8_t *st = data + k;
        uint16_t sidx;
        uint32_t arg;
        memcpy(&sidx, st + 2, 2);
        memcpy(&arg, st + 4, 4);
        int c = cls[st[0] % ncls];
        const site *s = &B.sites[c][((uint64_t)sidx + (uint64_t)(arg >> 24) * 65536) % B.nsites[c]];
        uint64_t at = s->off + (arg & 0xffffff) % s->len;
        uint64_t word_at = s->off + ((arg & 0xffffff) % s->len & ~7ull);
        uint64_t cur = 0;
        if (word_at + 8 <= B.size[s->exe])
            memcpy(&cur, B.file[s->exe] + word_at, 8);
        uint64_t v;
        uint8_t b;
        switch (st[1] % 8) {
        case 0: v = interesting[(arg >> 8) % (sizeof interesting / sizeof interesting[0])]; put(u, nu, s->exe, word_at, &v, 8); break;
        case 1: v = cur ^ (1ull << (arg % 64)); put(u, nu, s->exe, word_at, &v, 8); break;
        case 2: v = cur + (uint64_t)(int64_t)(int8_t)(st[1] ^ (uint8_t)arg); put(u, nu, s->exe, word_at, &v, 8); break;
        case 3: b = (uint8_t)(arg >> 16); put(u, nu, s->exe, at, &b, 1); break;
        case 4: { uint32_t w = (uint32_t)interesting[(arg >> 8) % (sizeof interesting / sizeof interesting[0])];
                  put(u, nu, s->exe, at & ~3ull, &w, 4); break; }
        case 5: { uint64_t from = s->off + ((arg >> 12) % s->len & ~7ull);
                  if (from + 8 <= B.size[s->exe]) { memcpy(&v, B.file[s->exe] + from, 8); put(u, nu, s->exe, word_at, &v, 8); }
                  break; }
        case 6: v = B.nptrs ? B.ptrs[(arg >> 8) % B.nptrs] + (uint64_t)(int8_t)st[1] / 8 : 0; put(u, nu, s->exe, word_at, &v, 8); break;
        default: v = 0; put(u, nu, s->exe, word_at, &v, 8); break;
        }
    }
}

/* Output is dropped, or hashed into *ctx (fz_run_digest). */
static void sink(void *ctx, const char *s, size_t n)
{
    uint64_t *h = ctx;
    if (h)
        for (size_t i = 0; i < n; i++)
            *h = (*h ^ (uint8_t)s[i]) * 0x100000001b3ull;
}

static void run_command(gh_session *s, const char *line, uint64_t *digest)
{
    char buf[512], *argv[16];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *p = strtok(buf, " "); p && argc < 16; p = strtok(NULL, " ")) {
        if (!strncmp(p, "ADDR", 4) && p[4] >= '0' && p[4] < '0' + NADDR)
            p = B.addr[p[4] - '0'];
        argv[argc++] = p;
    }
    gh_out out = {.write = sink, .ctx = digest};
    gh_err err;
    int rc = gh_command_run(s, argc, argv, &out, &err);
    if (digest && rc) {
        sink(digest, (const char *)&rc, sizeof rc);
        sink(digest, err.msg, strlen(err.msg));
    }
}

/* One input. A recipe that leaves the executable as it is shares the
 * executable parsed once (its sections, symbols and DWARF index: the bulk
 * of opening a session), through the engine's own gh_session_open_exe;
 * the changed core and every model of it are read anew. A recipe that
 * changes the executable opens it fresh, as gh_open_core does. */
static void run(const fz_target *t, const uint8_t *data, size_t size, int shared, uint64_t *digest)
{
    if (fz_init())
        abort(); /* a harness without its base cannot fuzz anything */
    undo u[MAX_STEPS];
    size_t nu = 0;
    uint64_t cut = 0;
    if (t->cut && size >= 8) { /* the first 8 bytes say where the copy of the core ends */
        memcpy(&cut, data, 8);
        data += 8, size -= 8;
    }
    apply(t, data, size, u, &nu);
    for (size_t i = 0; i < nu; i++)
        if (u[i].exe)
            shared = 0;
    size_t cut_at = B.size[0];
    if (t->cut) {
        /* Inside one of the loadable segments (a uniform cut of a sparse
         * core mostly lands in its zeros), or a quarter of the time anywhere;
         * half the time at a page boundary, as a copy stopped by a full disk
         * or a size limit ends. */
        uint64_t sel = cut & ~(3ull << 62);
        if (B.nsegs && (cut >> 62 & 1) == 0) {
            size_t k = (size_t)(sel % B.nsegs);
            cut_at = (size_t)(B.seg_off[k] + (sel >> 8) % B.seg_len[k]);
        } else
            cut_at = (size_t)(sel % B.size[0]);
        if (cut >> 63)
            cut_at &= ~(size_t)4095;
        if (ftruncate(B.fd[0], (off_t)cut_at))
            cut_at = B.size[0];
    }
    gh_session *s;
    gh_err err;
    int rc = shared && B.exe ? gh_api_open_core_exe(B.path[0], B.exe, &s, &err)
                             : gh_open_core(B.path[0], B.path[1], &s, &err);
    if (rc == GH_OK) {
        for (const char *const *c = t->commands; *c; c++)
            run_command(s, *c, digest);
        gh_close(s);
    } else if (digest) {
        sink(digest, (const char *)&rc, sizeof rc);
        sink(digest, err.msg, strlen(err.msg));
    }
    if (cut_at < B.size[0] && (ftruncate(B.fd[0], (off_t)B.size[0]) ||
                               pwrite(B.fd[0], B.file[0] + cut_at, B.size[0] - cut_at, (off_t)cut_at) !=
                                   (ssize_t)(B.size[0] - cut_at)))
        abort(); /* the base could not be restored: every later input would be wrong */
    while (nu--)
        (void)!pwrite(B.fd[u[nu].exe], B.file[u[nu].exe] + u[nu].off, u[nu].len, (off_t)u[nu].off);
}

void fz_run(const fz_target *t, const uint8_t *data, size_t size) { run(t, data, size, 1, NULL); }

uint64_t fz_run_digest(const fz_target *t, const uint8_t *data, size_t size, int shared)
{
    uint64_t h = 0xcbf29ce484222325ull;
    run(t, data, size, shared, &h);
    return h;
}

/* --- the targets --- */

static const char *const core_cmds[] = {"overview", "mappings", "goroutines", "heap", NULL};
static const char *const exe_cmds[] = {"overview", "layout", "goroutines", "heap", "roots",
                                        "print --frame 1:main.main prev", NULL};
static const char *const heap_cmds[] = {"heap --all", "verify", "breakdown", "objects --limit 20", NULL};
/* Locals of goroutine 1's frames (the base is the demo, whose main.main
 * holds prev, and whose syscall.RawSyscall6 has trap in a register), over
 * stacks, g's and saved registers the recipe changed. */
static const char *const roots_cmds[] = {"roots --list", "heap", "goroutines", "bt 1", "top --limit 3", "sites",
                                         "paths ADDR0 --max 3", "print --frame 1:main.main prev",
                                         "whatis --frame 1:5 prev.User", "print --frame 1:1 trap",
                                         "goroutine 1 --locals", NULL};
static const char *const print_cmds[] = {"print ADDR0", "print ADDR1 --depth 5", "whatis ADDR2", "paths ADDR3",
                                         "graph ADDR0 --depth 3", "retains ADDR1", "heap --retained", NULL};

static const char *const trunc_cmds[] = {"overview", "heap", "verify", "objects --limit 20", "paths ADDR0",
                                         "print ADDR1", "top --limit 3", "heap --retained", NULL};

const fz_target fz_targets[] = {
    {"core", 1u << FZ_CORE_ELF | 1u << FZ_CORE_NOTES, core_cmds, 0},
    {"exe", 1u << FZ_EXE_ELF | 1u << FZ_EXE_META | 1u << FZ_EXE_DWARF, exe_cmds, 0},
    {"heap", 1u << FZ_HEAP | 1u << FZ_OBJECTS, heap_cmds, 0},
    {"roots", 1u << FZ_ROOTS | 1u << FZ_HEAP, roots_cmds, 0},
    {"print", 1u << FZ_OBJECTS | 1u << FZ_EXE_META, print_cmds, 0},
    /* a truncated core (the readable spans' heap, engine/heap/partial.c), its heap and roots changed too */
    {"trunc", 1u << FZ_HEAP | 1u << FZ_ROOTS | 1u << FZ_OBJECTS, trunc_cmds, 1},
};
const size_t fz_ntargets = sizeof fz_targets / sizeof fz_targets[0];
