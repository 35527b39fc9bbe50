/* The runtime globals the goroutine reader starts from: runtime.allgs (the
 * []*g of every goroutine ever made) and runtime.waitReasonStrings. From
 * the symbol table, or, in a binary without one (-ldflags=-s), by what they
 * hold: section headers survive stripping, so the writable sections are
 * searched and a place is accepted only when exactly one fits. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goroutine/goroutine_int.h"

#define MAX_SECTION (64u << 20)
#define MAX_ALLGS (1u << 24)

typedef unsigned long long ull;

/* Calls fn on every 8-byte-aligned offset of every writable, allocated
 * section (copied from the target, bss included), until fn returns < 0.
 * Returns the number of offsets fn accepted (returned 1), and the last. */
static size_t search_writable(const gh_runtime *rt, int (*fn)(const gh_runtime *, const gh_glayout *,
                                                            const uint8_t *, uint64_t, uint64_t),
                              const gh_glayout *L, size_t need, uint64_t *found)
{
    size_t n, hits = 0;
    const gh_section *sec = gh_exe_sections(rt->exe, &n);
    for (size_t i = 0; i < n; i++) {
        if (!(sec[i].flags & SHF_WRITE) || !(sec[i].flags & SHF_ALLOC) || sec[i].size > MAX_SECTION ||
            sec[i].size < need)
            continue;
        uint64_t addr = sec[i].addr + rt->bias;
        uint8_t *buf = malloc(sec[i].size);
        gh_err e;
        if (!buf || gh_read(rt->t, addr, buf, sec[i].size, &e)) {
            free(buf);
            continue;
        }
        for (uint64_t x = 0; x + need <= sec[i].size; x += 8) {
            int r = fn(rt, L, buf + x, addr + x, sec[i].size - x);
            if (r > 0) {
                hits++;
                *found = addr + x;
            }
        }
        free(buf);
    }
    return hits;
}

static uint64_t w64(const uint8_t *p, uint64_t off)
{
    uint64_t v;
    memcpy(&v, p + off, 8);
    return v;
}

/* Is this g's saved context its own? newproc1 sets sched.g to the g. */
static int is_g(const gh_runtime *rt, const gh_glayout *L, uint64_t g)
{
    gh_err e;
    uint64_t self, lo, hi;
    if (!g || g % 8 || gh_read_u64(rt->t, g + L->g_sched_g.offset, &self, &e) || self != g ||
        gh_read_u64(rt->t, g + L->g_stack_lo.offset, &lo, &e) ||
        gh_read_u64(rt->t, g + L->g_stack_hi.offset, &hi, &e))
        return 0;
    return lo <= hi && hi - lo <= (1ull << 30);
}

/* allgs: {ptr, len, cap} whose first and last elements are goroutines, the
 * first being the main goroutine (goid 1: it is made before any other). */
static int probe_allgs(const gh_runtime *rt, const gh_glayout *L, const uint8_t *p, uint64_t addr, uint64_t left)
{
    (void)addr;
    (void)left;
    uint64_t ptr = w64(p, 0), len = w64(p, 8), cap = w64(p, 16);
    if (!ptr || ptr % 8 || !len || len > cap || cap > MAX_ALLGS)
        return 0;
    gh_err e;
    uint64_t first, last;
    if (gh_read_u64(rt->t, ptr, &first, &e) || gh_read_u64(rt->t, ptr + 8 * (len - 1), &last, &e))
        return 0;
    uint64_t goid;
    return is_g(rt, L, first) && is_g(rt, L, last) && !gh_read_u64(rt->t, first + L->g_goid.offset, &goid, &e) &&
           goid == 1;
}

int gh_find_allgs(const gh_runtime *rt, const gh_glayout *L, uint64_t *allgs, char *source, size_t cap,
                  gh_err *err)
{
    *allgs = getenv("GOHEAP_DISCOVER") ? 0 : gh_runtime_sym(rt, "runtime.allgs");
    if (*allgs) {
        snprintf(source, cap, "symbols");
        return GH_OK;
    }
    size_t hits = search_writable(rt, probe_allgs, L, 24, allgs);
    if (hits != 1)
        return gh_errorf(err, GH_EUNSUPP,
                         "%s has no symbol table and runtime.allgs could not be located by its contents "
                         "(%llu candidates)",
                         gh_exe_path(rt->exe), (ull)hits);
    snprintf(source, cap, "found by content (no symbol table)");
    return GH_OK;
}

/* A Go string header pointing at exactly these bytes. */
static int is_str(const gh_runtime *rt, const uint8_t *hdr, const char *want)
{
    size_t n = strlen(want);
    char buf[64];
    gh_err e;
    return w64(hdr, 8) == n && n < sizeof buf && !gh_read(rt->t, w64(hdr, 0), buf, n, &e) && !memcmp(buf, want, n);
}

/* waitReasonStrings starts "", "GC assist marking", "IO wait" in every
 * release since 1.11. */
static int probe_reasons(const gh_runtime *rt, const gh_glayout *L, const uint8_t *p, uint64_t addr, uint64_t left)
{
    (void)L;
    (void)addr;
    return left >= 48 && w64(p, 8) == 0 && is_str(rt, p + 16, "GC assist marking") && is_str(rt, p + 32, "IO wait");
}

int gh_read_waitreasons(const gh_runtime *rt, char ***out, size_t *n, gh_err *err)
{
    *out = NULL;
    *n = 0;
    uint64_t addr = 0, count = 0;
    const gh_sym *sym = getenv("GOHEAP_DISCOVER") ? NULL : gh_exe_sym(rt->exe, "runtime.waitReasonStrings");
    if (sym) {
        addr = sym->addr + rt->bias;
        count = sym->size / 16;
    } else if (search_writable(rt, probe_reasons, NULL, 48, &addr) == 1) {
        count = 256; /* waitReason is a uint8; the walk below stops at the first non-string */
    } else {
        return GH_OK; /* reasons are then printed by number */
    }
    if (count > 256)
        count = 256;
    char **v = calloc(count ? count : 1, sizeof *v);
    if (!v)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    size_t i;
    for (i = 0; i < count; i++) {
        uint8_t hdr[16];
        gh_err e;
        if (gh_read(rt->t, addr + 16 * i, hdr, 16, &e))
            break;
        uint64_t p = w64(hdr, 0), len = w64(hdr, 8);
        if (len > 128 || (len && !p))
            break;
        char *s = malloc(len + 1);
        if (!s)
            break;
        if (len && gh_read(rt->t, p, s, len, &e)) {
            free(s);
            break;
        }
        s[len] = 0;
        int printable = 1;
        for (size_t k = 0; k < len; k++)
            if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] > 0x7e)
                printable = 0;
        if (!printable || (i > 0 && !len && !sym)) {
            free(s);
            break;
        }
        v[i] = s;
    }
    *out = v;
    *n = i;
    return GH_OK;
}

void gh_free_waitreasons(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}
