/* The decoders for compressed cores: libzstd, liblzma, zlib and liblz4
 * streaming loops, each reading the file in chunks and handing decoded bytes
 * to the sink. Concatenated frames, streams and members are read on, as the
 * command-line tools do. A stream that stops before its end says so: a core
 * cut short is the usual damage, and it is not the same as corrupt data. */
#include "target/unpack.h"

#include <errno.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define CHUNK ((size_t)1 << 20)

typedef struct bufs {
    uint8_t *in, *out;
    uint64_t consumed; /* compressed bytes read so far, for messages */
} bufs;

static int bufs_init(bufs *b, gh_sink *s)
{
    b->in = malloc(CHUNK);
    b->out = malloc(CHUNK);
    b->consumed = 0;
    if (!b->in || !b->out) {
        free(b->in);
        free(b->out);
        return gh_errorf(s->err, GH_ENOMEM, "out of memory for decompressing core %s", s->path);
    }
    return GH_OK;
}

static void bufs_free(bufs *b)
{
    free(b->in);
    free(b->out);
}

/* Reads the next chunk: its length, 0 at the end, or an error code. */
static long long fill(int fd, bufs *b, gh_sink *s)
{
    for (;;) {
        ssize_t n = read(fd, b->in, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return gh_errorf(s->err, GH_EIO, "core %s: read failed: %s", s->path, strerror(errno));
        b->consumed += (uint64_t)n;
        return n;
    }
}

/* left: bytes read but not yet taken by the decoder. */
static int corrupt(gh_sink *s, const bufs *b, uint64_t left, const char *why)
{
    return gh_errorf(s->err, GH_EFORMAT,
                     "core %s: its %s data is corrupt within its first %llu compressed bytes (%llu bytes decompressed): %s",
                     s->path, s->format, (unsigned long long)(b->consumed - left), (unsigned long long)s->size,
                     why);
}

static int cut_short(gh_sink *s, const bufs *b)
{
    return gh_errorf(s->err, GH_EFORMAT,
                     "core %s: its %s data ends early: the file is truncated after %llu bytes (%llu bytes "
                     "decompressed)",
                     s->path, s->format, (unsigned long long)b->consumed, (unsigned long long)s->size);
}

int gh_unpack_zstd(int fd, gh_sink *s)
{
    bufs b;
    int rc = bufs_init(&b, s);
    if (rc)
        return rc;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d) {
        bufs_free(&b);
        return gh_errorf(s->err, GH_ENOMEM, "out of memory for decompressing core %s", s->path);
    }
    /* zstd --long writes windows past the default limit of 128 MiB. */
    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 31);
    size_t last = 0; /* 0: the last frame ended */
    long long n = 0;
    while (!rc && (n = fill(fd, &b, s)) > 0) {
        ZSTD_inBuffer in = {b.in, (size_t)n, 0};
        /* Until the input is used and the output did not fill: then nothing is held back. */
        for (int full = 1; !rc && (in.pos < in.size || full);) {
            ZSTD_outBuffer out = {b.out, CHUNK, 0};
            last = ZSTD_decompressStream(d, &out, &in);
            if (ZSTD_isError(last))
                rc = corrupt(s, &b, 0, ZSTD_getErrorName(last)); /* in.pos is not kept on errors */
            else
                rc = gh_sink_write(s, b.out, out.pos);
            full = out.pos == out.size;
        }
    }
    if (!rc && n < 0)
        rc = (int)n;
    if (!rc && last != 0)
        rc = cut_short(s, &b);
    ZSTD_freeDCtx(d);
    bufs_free(&b);
    return rc;
}

static const char *lzma_why(lzma_ret r)
{
    switch (r) {
    case LZMA_FORMAT_ERROR: return "not in the xz format";
    case LZMA_OPTIONS_ERROR: return "unsupported options";
    case LZMA_DATA_ERROR: return "bad compressed data";
    case LZMA_MEM_ERROR: return "out of memory";
    case LZMA_MEMLIMIT_ERROR: return "needs more memory than allowed";
    default: return "decoder error";
    }
}

int gh_unpack_xz(int fd, gh_sink *s)
{
    bufs b;
    int rc = bufs_init(&b, s);
    if (rc)
        return rc;
    lzma_stream z = LZMA_STREAM_INIT;
    lzma_ret r = lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED);
    if (r != LZMA_OK) {
        bufs_free(&b);
        return gh_errorf(s->err, GH_ENOMEM, "cannot start the xz decoder for core %s: %s", s->path, lzma_why(r));
    }
    lzma_action action = LZMA_RUN;
    for (r = LZMA_OK; !rc && r == LZMA_OK;) {
        if (z.avail_in == 0 && action == LZMA_RUN) {
            long long n = fill(fd, &b, s);
            if (n < 0) {
                rc = (int)n;
                break;
            }
            z.next_in = b.in;
            z.avail_in = (size_t)n;
            if (n == 0)
                action = LZMA_FINISH;
        }
        z.next_out = b.out;
        z.avail_out = CHUNK;
        r = lzma_code(&z, action);
        rc = gh_sink_write(s, b.out, CHUNK - z.avail_out);
    }
    if (!rc && r == LZMA_BUF_ERROR)
        rc = cut_short(s, &b);
    else if (!rc && r != LZMA_STREAM_END)
        rc = corrupt(s, &b, z.avail_in, lzma_why(r));
    lzma_end(&z);
    bufs_free(&b);
    return rc;
}

int gh_unpack_gzip(int fd, gh_sink *s)
{
    bufs b;
    int rc = bufs_init(&b, s);
    if (rc)
        return rc;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip headers only */
        bufs_free(&b);
        return gh_errorf(s->err, GH_ENOMEM, "cannot start the gzip decoder for core %s", s->path);
    }
    int ended = 0; /* the last member ended, and nothing followed yet */
    long long n = 0;
    while (!rc && (n = fill(fd, &b, s)) > 0) {
        z.next_in = b.in;
        z.avail_in = (uInt)n;
        while (!rc && z.avail_in > 0) {
            if (ended) { /* another member follows */
                inflateReset(&z);
                ended = 0;
            }
            z.next_out = b.out;
            z.avail_out = (uInt)CHUNK;
            uInt before = z.avail_in;
            int r = inflate(&z, Z_NO_FLUSH);
            if (r == Z_STREAM_END)
                ended = 1;
            else if (r != Z_OK && r != Z_BUF_ERROR)
                rc = corrupt(s, &b, z.avail_in, z.msg ? z.msg : "bad compressed data");
            else if (z.avail_in == before && z.avail_out == CHUNK)
                rc = corrupt(s, &b, z.avail_in, "the decoder makes no progress");
            if (!rc)
                rc = gh_sink_write(s, b.out, CHUNK - z.avail_out);
        }
    }
    /* Output the last chunk's input left in the decoder. */
    for (int r = Z_OK; !rc && !ended && r == Z_OK;) {
        z.next_out = b.out;
        z.avail_out = (uInt)CHUNK;
        r = inflate(&z, Z_NO_FLUSH);
        if (r == Z_STREAM_END)
            ended = 1;
        else if (r != Z_OK && r != Z_BUF_ERROR)
            rc = corrupt(s, &b, z.avail_in, z.msg ? z.msg : "bad compressed data");
        if (!rc)
            rc = gh_sink_write(s, b.out, CHUNK - z.avail_out);
        if (z.avail_out == CHUNK)
            break; /* no progress: the input is used up */
    }
    if (!rc && n < 0)
        rc = (int)n;
    if (!rc && !ended)
        rc = cut_short(s, &b);
    inflateEnd(&z);
    bufs_free(&b);
    return rc;
}

int gh_unpack_lz4(int fd, gh_sink *s)
{
    bufs b;
    int rc = bufs_init(&b, s);
    if (rc)
        return rc;
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
        bufs_free(&b);
        return gh_errorf(s->err, GH_ENOMEM, "cannot start the lz4 decoder for core %s", s->path);
    }
    size_t hint = 0; /* 0: the last frame ended */
    long long n = 0;
    while (!rc && (n = fill(fd, &b, s)) > 0) {
        size_t pos = 0;
        /* Until the input is used and the output did not fill. */
        for (int full = 1; !rc && (pos < (size_t)n || full);) {
            size_t in = (size_t)n - pos, out = CHUNK;
            hint = LZ4F_decompress(d, b.out, &out, b.in + pos, &in, NULL);
            if (LZ4F_isError(hint)) {
                rc = corrupt(s, &b, (size_t)n - pos, LZ4F_getErrorName(hint));
                break;
            }
            pos += in;
            rc = gh_sink_write(s, b.out, out);
            full = out == CHUNK;
        }
    }
    if (!rc && n < 0)
        rc = (int)n;
    if (!rc && hint != 0)
        rc = cut_short(s, &b);
    LZ4F_freeDecompressionContext(d);
    bufs_free(&b);
    return rc;
}
