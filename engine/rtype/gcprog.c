/* Go 1.22-1.23 GC programs, run into pointer bitmaps. */
#include "rtype/gcprog.h"

#include <string.h>

#include "base/bits.h"
#include "binary/buildinfo.h"

static int varint(const uint8_t *prog, size_t len, size_t *i, uint64_t *v, gh_err *err)
{
    const uint8_t *p = prog + *i;
    if (!gh_uvarint(&p, prog + len, v))
        return gh_errorf(err, GH_EFORMAT, "GC program: bad varint at byte %zu", *i);
    *i = (size_t)(p - prog);
    return GH_OK;
}

int gh_gcprog_run(const uint8_t *prog, size_t len, uint8_t *dst, uint64_t max_bits,
                  uint64_t *nbits, gh_err *err)
{
    uint64_t pos = 0;
    size_t i = 0;
    int rc;
    memset(dst, 0, (size_t)((max_bits + 7) / 8));
    for (;;) {
        if (i >= len)
            return gh_errorf(err, GH_EFORMAT, "GC program: no stop code in %zu bytes", len);
        size_t at = i;
        uint8_t inst = prog[i++];
        uint64_t n = inst & 0x7f;
        if (!(inst & 0x80)) {
            if (n == 0)
                break;
            size_t nbytes = (size_t)(n + 7) / 8;
            if (len - i < nbytes)
                return gh_errorf(err, GH_EFORMAT, "GC program: literal at byte %zu truncated", at);
            if (n > max_bits - pos)
                return gh_errorf(err, GH_EFORMAT, "GC program: more than %llu bits at byte %zu",
                                 (unsigned long long)max_bits, at);
            /* Bits past n in the last byte are ignored (the compiler zeroes them). */
            for (uint64_t b = 0; b < n; b += 8)
                gh_bits_or(dst, pos + b, prog[i + b / 8], n - b < 8 ? (unsigned)(n - b) : 8);
            i += nbytes;
            pos += n;
            continue;
        }
        uint64_t c;
        if (n == 0 && (rc = varint(prog, len, &i, &n, err)) != GH_OK)
            return rc;
        if ((rc = varint(prog, len, &i, &c, err)) != GH_OK)
            return rc;
        /* n == 0 would make the runtime loop forever; the compiler never emits it. */
        if (n == 0 || n > pos)
            return gh_errorf(err, GH_EFORMAT,
                             "GC program: repeat of %llu bits after %llu at byte %zu",
                             (unsigned long long)n, (unsigned long long)pos, at);
        if (c != 0 && n > (max_bits - pos) / c)
            return gh_errorf(err, GH_EFORMAT, "GC program: more than %llu bits at byte %zu",
                             (unsigned long long)max_bits, at);
        gh_bits_repeat(dst, pos, n, n * c);
        pos += n * c;
    }
    *nbits = pos;
    return GH_OK;
}
