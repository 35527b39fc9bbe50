/* Compressed cores (zstd as systemd-coredump stores them, xz, gzip, lz4):
 * recognised by their magic bytes and decompressed once into a private,
 * already unlinked temporary file that the core backend then maps like any
 * core. unpack.c holds the file and its limits, unpack_codecs.c the four
 * decoders (libzstd, liblzma, zlib, liblz4). */
#ifndef GOHEAP_TARGET_UNPACK_H
#define GOHEAP_TARGET_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Enough leading bytes to recognise every format. */
#define GH_UNPACK_MAGIC_LEN 6

typedef enum { GH_PACK_NONE, GH_PACK_ZSTD, GH_PACK_XZ, GH_PACK_GZIP, GH_PACK_LZ4 } gh_pack;

/* What decompressing cost, for the user (overview, --stats). */
typedef struct gh_unpack_info {
    gh_pack format;
    uint64_t packed;   /* bytes of the compressed file */
    uint64_t size;     /* bytes decompressed (the core's size) */
    uint64_t stored;   /* of those, bytes written: runs of zero pages stay holes */
    double seconds;    /* wall time */
    char dir[256];     /* where the unlinked file lives */
} gh_unpack_info;

/* The format a file starting with head[0..n) is in; GH_PACK_NONE if none. */
gh_pack gh_unpack_detect(const uint8_t *head, size_t n);
const char *gh_pack_name(gh_pack f);

/* Decompresses the file open as fd (read from its start) into a new
 * unlinked file and returns that file's descriptor in *out (read-write,
 * close-on-exec). path names the file in messages. The file goes into
 * $TMPDIR, else the compressed file's directory, else /var/tmp, else /tmp;
 * its written bytes must fit the free space there, its size GH_UNPACK_MAX.
 * A corrupt or truncated stream is GH_EFORMAT with a one-line message. */
int gh_unpack(int fd, const char *path, gh_pack format, int *out, gh_unpack_info *info, gh_err *err);

/* The largest core unpacked (bytes, holes included). */
#define GH_UNPACK_MAX ((uint64_t)1 << 40)

/* Where decoded bytes go: written at their offset, zero pages skipped. */
typedef struct gh_sink {
    int fd;
    uint64_t size;   /* bytes decoded so far */
    uint64_t stored; /* of those, written (not holes) */
    uint64_t room;   /* stored may not pass this: free space less a reserve */
    const char *path, *dir, *format;
    gh_err *err;
} gh_sink;

int gh_sink_write(gh_sink *s, const uint8_t *p, size_t n);

/* Decoders: read fd to its end, hand every decoded byte to the sink.
 * GH_EFORMAT for a corrupt or truncated stream, or the sink's error. */
int gh_unpack_zstd(int fd, gh_sink *s);
int gh_unpack_xz(int fd, gh_sink *s);
int gh_unpack_gzip(int fd, gh_sink *s);
int gh_unpack_lz4(int fd, gh_sink *s);

#endif
