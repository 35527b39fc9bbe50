/* The .go.buildinfo section parser: Go version and build settings. */
#include "binary/buildinfo.h"

#include <stdio.h>
#include <string.h>

static const char magic[14] = "\xff Go buildinf:";

int gh_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t x = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = x;
            return 1;
        }
    }
    return 0;
}

static void copy_str(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

/* Finds "key" at the start of a line in modinfo and copies the rest of that line. */
static void modinfo_field(const uint8_t *m, size_t n, const char *key, char *dst, size_t cap)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen <= n;) {
        const uint8_t *nl = memchr(m + i, '\n', n - i);
        size_t line_end = nl ? (size_t)(nl - m) : n;
        if (line_end - i >= klen && memcmp(m + i, key, klen) == 0) {
            copy_str(dst, cap, m + i + klen, line_end - i - klen);
            return;
        }
        i = line_end + 1;
    }
}

int gh_buildinfo_parse(const uint8_t *data, size_t len, gh_buildinfo *bi, gh_err *err)
{
    memset(bi, 0, sizeof *bi);
    if (len < 32 || memcmp(data, magic, sizeof magic) != 0)
        return gh_errorf(err, GH_ENOTGO, ".go.buildinfo has no Go build-info header");
    bi->ptrsize = data[14];
    bi->big_endian = data[15] & 1;
    if (bi->ptrsize != 4 && bi->ptrsize != 8)
        return gh_errorf(err, GH_EFORMAT, ".go.buildinfo: bad pointer size %d", bi->ptrsize);
    if (!(data[15] & 2))
        return gh_errorf(err, GH_EVERSION,
                         ".go.buildinfo uses the pre-Go 1.18 layout: goheap supports go1.22 and later");
    const uint8_t *p = data + 32, *end = data + len;
    uint64_t n;
    if (!gh_uvarint(&p, end, &n) || n > (uint64_t)(end - p))
        return gh_errorf(err, GH_EFORMAT, ".go.buildinfo: truncated version string");
    copy_str(bi->version, sizeof bi->version, p, (size_t)n);
    p += n;
    if (!gh_uvarint(&p, end, &n) || n > (uint64_t)(end - p))
        return gh_errorf(err, GH_EFORMAT, ".go.buildinfo: truncated module info");
    /* modinfo is framed by 16-byte sentinels when present. */
    const uint8_t *m = p;
    size_t mlen = (size_t)n;
    if (mlen >= 33) {
        m += 16;
        mlen -= 32;
    }
    modinfo_field(m, mlen, "path\t", bi->path, sizeof bi->path);
    modinfo_field(m, mlen, "build\tGOEXPERIMENT=", bi->experiment, sizeof bi->experiment);
    modinfo_field(m, mlen, "build\t-buildmode=", bi->buildmode, sizeof bi->buildmode);
    return GH_OK;
}
