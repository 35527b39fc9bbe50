/* Compressed cores: the format from the magic bytes, the private temporary
 * file they are decompressed into (unlinked before a byte is written, so
 * nothing is left behind whatever happens), and its limits. Runs of zero
 * pages are left as holes: cores are mostly zeros, and the file then takes
 * the disk the uncompressed core would have taken as a sparse file. */
#include "target/unpack.h"

#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PAGE 4096u
/* Disk left free for everyone else when a core is decompressed. */
#define RESERVE ((uint64_t)64 << 20)

gh_pack gh_unpack_detect(const uint8_t *head, size_t n)
{
    static const uint8_t zstd[] = {0x28, 0xb5, 0x2f, 0xfd}, xz[] = {0xfd, '7', 'z', 'X', 'Z', 0},
                         gz[] = {0x1f, 0x8b}, lz4[] = {0x04, 0x22, 0x4d, 0x18};
    if (n >= sizeof zstd && !memcmp(head, zstd, sizeof zstd))
        return GH_PACK_ZSTD;
    if (n >= sizeof xz && !memcmp(head, xz, sizeof xz))
        return GH_PACK_XZ;
    if (n >= sizeof gz && !memcmp(head, gz, sizeof gz))
        return GH_PACK_GZIP;
    if (n >= sizeof lz4 && !memcmp(head, lz4, sizeof lz4))
        return GH_PACK_LZ4;
    return GH_PACK_NONE;
}

const char *gh_pack_name(gh_pack f)
{
    switch (f) {
    case GH_PACK_ZSTD: return "zstd";
    case GH_PACK_XZ: return "xz";
    case GH_PACK_GZIP: return "gzip";
    case GH_PACK_LZ4: return "lz4";
    default: return "uncompressed";
    }
}

/* ---- the sink ---- */

static int all_zero(const uint8_t *p, size_t n)
{
    static const uint8_t zero[PAGE];
    return memcmp(p, zero, n) == 0;
}

/* Bytes from offset at to the next page boundary, at most n. */
static size_t to_page_end(uint64_t at, size_t n)
{
    size_t k = PAGE - (size_t)(at % PAGE);
    return k < n ? k : n;
}

static int write_at(gh_sink *s, const uint8_t *p, size_t n, uint64_t at)
{
    if (n > s->room || s->stored > s->room - n)
        return gh_errorf(s->err, GH_EIO,
                         "core %s: no room to decompress it in %s (%llu MiB free; set TMPDIR to a "
                         "larger file system)",
                         s->path, s->dir, (unsigned long long)((s->room + RESERVE) >> 20));
    while (n) {
        ssize_t w = pwrite(s->fd, p, n, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return gh_errorf(s->err, GH_EIO, "core %s: cannot write its decompressed copy in %s: %s", s->path,
                             s->dir, w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
        at += (uint64_t)w;
        s->stored += (uint64_t)w;
    }
    return GH_OK;
}

int gh_sink_write(gh_sink *s, const uint8_t *p, size_t n)
{
    if (n > GH_UNPACK_MAX - s->size)
        return gh_errorf(s->err, GH_EFORMAT, "core %s: decompresses to more than %llu GiB, more than any core goheap reads",
                         s->path, (unsigned long long)(GH_UNPACK_MAX >> 30));
    size_t i = 0;
    while (i < n) {
        size_t j = i; /* a run of pages with data, then a run of zero pages */
        for (size_t k; j < n && !all_zero(p + j, k = to_page_end(s->size + j, n - j));)
            j += k;
        if (j > i) {
            int rc = write_at(s, p + i, j - i, s->size + i);
            if (rc)
                return rc;
        }
        for (size_t k; j < n && all_zero(p + j, k = to_page_end(s->size + j, n - j));)
            j += k;
        i = j;
    }
    s->size += n;
    return GH_OK;
}

/* ---- the file ---- */

/* An unlinked file in dir: O_TMPFILE, or mkstemp and unlink where the file
 * system has no O_TMPFILE. -1 with errno set when dir takes no file. */
static int tmp_in(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    char name[512];
    if ((size_t)snprintf(name, sizeof name, "%s/.goheap-core-XXXXXX", dir) >= sizeof name) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(name, O_CLOEXEC);
    if (fd >= 0)
        unlink(name);
    return fd;
}

/* The first of $TMPDIR, the core's directory, /var/tmp and /tmp that takes
 * a file; its name goes to dir. */
static int open_tmp(const char *path, char *dir, size_t cap, gh_err *err)
{
    char own[256];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(own, sizeof own, ".");
    else if (slash == path)
        snprintf(own, sizeof own, "/");
    else
        snprintf(own, sizeof own, "%.*s", (int)(slash - path < 255 ? slash - path : 255), path);
    const char *tmpdir = getenv("TMPDIR");
    const char *dirs[] = {tmpdir && *tmpdir ? tmpdir : NULL, own, "/var/tmp", "/tmp"};
    int first = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        if (!dirs[i])
            continue;
        int fd = tmp_in(dirs[i]);
        if (fd >= 0) {
            snprintf(dir, cap, "%s", dirs[i]);
            return fd;
        }
        if (!first)
            first = errno;
    }
    return gh_errorf(err, GH_EIO, "core %s is compressed, and no directory takes its decompressed copy (%s: %s)",
                     path, tmpdir && *tmpdir ? tmpdir : own, strerror(first));
}

int gh_unpack(int fd, const char *path, gh_pack format, int *out, gh_unpack_info *info, gh_err *err)
{
    *out = -1;
    memset(info, 0, sizeof *info);
    info->format = format;
    struct stat st;
    if (fstat(fd, &st) == 0)
        info->packed = (uint64_t)st.st_size;
    gh_clock t0 = gh_clock_now();
    int tfd = open_tmp(path, info->dir, sizeof info->dir, err);
    if (tfd < 0)
        return tfd;
    gh_sink s = {.fd = tfd, .path = path, .dir = info->dir, .format = gh_pack_name(format), .err = err};
    struct statvfs v;
    uint64_t avail = fstatvfs(tfd, &v) == 0 ? (uint64_t)v.f_bavail * v.f_frsize : UINT64_MAX;
    s.room = avail > RESERVE ? avail - RESERVE : 0;
    int rc;
    switch (format) {
    case GH_PACK_ZSTD: rc = gh_unpack_zstd(fd, &s); break;
    case GH_PACK_XZ: rc = gh_unpack_xz(fd, &s); break;
    case GH_PACK_GZIP: rc = gh_unpack_gzip(fd, &s); break;
    case GH_PACK_LZ4: rc = gh_unpack_lz4(fd, &s); break;
    default: rc = gh_errorf(err, GH_EARG, "core %s: not compressed", path);
    }
    /* The size the core had: a trailing run of zero pages is a hole still. */
    if (!rc && ftruncate(tfd, (off_t)s.size) < 0)
        rc = gh_errorf(err, GH_EIO, "core %s: cannot size its decompressed copy in %s: %s", path, info->dir,
                       strerror(errno));
    if (rc) {
        close(tfd);
        return rc;
    }
    info->size = s.size;
    info->stored = s.stored;
    info->seconds = gh_clock_now().wall - t0.wall;
    *out = tfd;
    return GH_OK;
}
