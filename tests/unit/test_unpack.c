/* Compressed cores (target/unpack.c, unpack_codecs.c): each format made by
 * its own library, decoded back byte for byte with zero pages left as holes;
 * concatenated frames; cut-short and corrupt streams refused with a message
 * saying which. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "target/unpack.h"
#include "tests.h"

#define RAW_SIZE (64 * 4096 + 100) /* not a page multiple: the last hole is sized by ftruncate */

static uint8_t raw[RAW_SIZE];
static char dir[64];

/* Pages of data among runs of zero pages, and zeros at the end. */
static void make_raw(void)
{
    memset(raw, 0, sizeof raw);
    uint32_t x = 12345;
    for (size_t pg = 0; pg < 64; pg++) {
        if (pg % 5 >= 2 || pg >= 60)
            continue;
        for (size_t i = 0; i < 4096; i++) {
            x = x * 1103515245u + 12345u;
            raw[pg * 4096 + i] = (uint8_t)(x >> 24 & 0x3f); /* compressible, not zero */
        }
    }
}

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static blob pack(gh_pack f, const uint8_t *src, size_t n)
{
    blob b = {malloc(n + 65536), 0};
    assert_non_null(b.p);
    size_t cap = n + 65536;
    switch (f) {
    case GH_PACK_ZSTD: { /* with a checksum, as the zstd tool and systemd-coredump write */
        ZSTD_CCtx *c = ZSTD_createCCtx();
        assert_non_null(c);
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));
        b.n = ZSTD_compress2(c, b.p, cap, src, n);
        assert_false(ZSTD_isError(b.n));
        ZSTD_freeCCtx(c);
        break;
    }
    case GH_PACK_XZ:
        assert_int_equal(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, src, n, b.p, &b.n, cap), LZMA_OK);
        break;
    case GH_PACK_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = (Bytef *)src;
        z.avail_in = (uInt)n;
        z.next_out = b.p;
        z.avail_out = (uInt)cap;
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        b.n = cap - z.avail_out;
        deflateEnd(&z);
        break;
    }
    case GH_PACK_LZ4: { /* with a content checksum, as the lz4 tool writes */
        LZ4F_preferences_t prefs;
        memset(&prefs, 0, sizeof prefs);
        prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
        b.n = LZ4F_compressFrame(b.p, cap, src, n, &prefs);
        assert_false(LZ4F_isError(b.n));
        break;
    }
    default:
        fail();
    }
    return b;
}

/* Writes bytes to a file in dir and opens it for reading. */
static int file_of(const char *name, const uint8_t *p, size_t n, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    return fd;
}

static int unpack_bytes(const uint8_t *p, size_t n, gh_pack f, int *out, gh_unpack_info *info, gh_err *err)
{
    char path[128];
    int fd = file_of("packed", p, n, path, sizeof path);
    int rc = gh_unpack(fd, path, f, out, info, err);
    close(fd);
    unlink(path);
    return rc;
}

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/goheap-unpack-XXXXXX");
    assert_non_null(mkdtemp(dir));
    setenv("TMPDIR", dir, 1);
    make_raw();
}

static void teardown_dir(void)
{
    unsetenv("TMPDIR");
    rmdir(dir); /* fails, and the test after says so, if a file was left */
}

static void detects_magic(void **state)
{
    (void)state;
    static const gh_pack fs[] = {GH_PACK_ZSTD, GH_PACK_XZ, GH_PACK_GZIP, GH_PACK_LZ4};
    for (size_t i = 0; i < 4; i++) {
        blob b = pack(fs[i], raw, 4096);
        assert_int_equal(gh_unpack_detect(b.p, b.n), fs[i]);
        assert_int_equal(gh_unpack_detect(b.p, 1), GH_PACK_NONE); /* too short to tell */
        free(b.p);
    }
    static const uint8_t elf[] = {0x7f, 'E', 'L', 'F', 2, 1};
    assert_int_equal(gh_unpack_detect(elf, sizeof elf), GH_PACK_NONE);
    assert_string_equal(gh_pack_name(GH_PACK_ZSTD), "zstd");
    assert_string_equal(gh_pack_name(GH_PACK_LZ4), "lz4");
}

static void round_trip(gh_pack f, const uint8_t *packed, size_t n)
{
    int fd;
    gh_unpack_info info;
    gh_err err = {0};
    assert_int_equal(unpack_bytes(packed, n, f, &fd, &info, &err), GH_OK);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, RAW_SIZE);
    assert_int_equal(info.size, RAW_SIZE);
    assert_int_equal(info.format, f);
    assert_int_equal(info.packed, n);
    assert_string_equal(info.dir, dir);
    assert_int_equal(st.st_nlink, 0); /* unlinked from the start */
    /* 24 pages hold data; the zero pages are holes, not written. */
    assert_int_equal(info.stored, 24 * 4096);
    uint8_t *m = mmap(NULL, RAW_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(m != MAP_FAILED);
    assert_memory_equal(m, raw, RAW_SIZE);
    munmap(m, RAW_SIZE);
    close(fd);
}

static void decodes_each_format(void **state)
{
    (void)state;
    static const gh_pack fs[] = {GH_PACK_ZSTD, GH_PACK_XZ, GH_PACK_GZIP, GH_PACK_LZ4};
    for (size_t i = 0; i < 4; i++) {
        blob b = pack(fs[i], raw, RAW_SIZE);
        round_trip(fs[i], b.p, b.n);
        /* Two frames (streams, members) one after the other: read on, as the tools do. */
        size_t half = RAW_SIZE / 2 + 7;
        blob x = pack(fs[i], raw, half), y = pack(fs[i], raw + half, RAW_SIZE - half);
        uint8_t *both = malloc(x.n + y.n);
        assert_non_null(both);
        memcpy(both, x.p, x.n);
        memcpy(both + x.n, y.p, y.n);
        round_trip(fs[i], both, x.n + y.n);
        free(both);
        free(x.p);
        free(y.p);
        free(b.p);
    }
}

static void refuses_damage(void **state)
{
    (void)state;
    static const gh_pack fs[] = {GH_PACK_ZSTD, GH_PACK_XZ, GH_PACK_GZIP, GH_PACK_LZ4};
    for (size_t i = 0; i < 4; i++) {
        blob b = pack(fs[i], raw, RAW_SIZE);
        int fd = -2;
        gh_unpack_info info;
        gh_err err = {0};
        /* Cut short, anywhere: in the header, in the middle, before the checksum. */
        size_t cuts[] = {2, b.n / 2, b.n - 1};
        for (size_t k = 0; k < 3; k++) {
            assert_int_equal(unpack_bytes(b.p, cuts[k], fs[i], &fd, &info, &err), GH_EFORMAT);
            assert_int_equal(fd, -1);
            if (!strstr(err.msg, "ends early") && !strstr(err.msg, "corrupt"))
                fail_msg("%s cut at %zu: %s", gh_pack_name(fs[i]), cuts[k], err.msg);
            assert_null(strchr(err.msg, '\n'));
        }
        assert_int_equal(unpack_bytes(b.p, b.n / 2, fs[i], &fd, &info, &err), GH_EFORMAT);
        if (!strstr(err.msg, "ends early"))
            fail_msg("%s cut in half: %s", gh_pack_name(fs[i]), err.msg);
        /* Flipped bytes in the middle: corrupt data, or a checksum that fails
         * (a stream written without a checksum may decode to wrong bytes). */
        for (size_t k = b.n / 2; k < b.n / 2 + 16; k++)
            b.p[k] ^= 0xa5;
        assert_int_equal(unpack_bytes(b.p, b.n, fs[i], &fd, &info, &err), GH_EFORMAT);
        if (!strstr(err.msg, "corrupt"))
            fail_msg("%s flipped: %s", gh_pack_name(fs[i]), err.msg);
        free(b.p);
    }
}

int run_unpack_tests(void)
{
    setup_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detects_magic),
        cmocka_unit_test(decodes_each_format),
        cmocka_unit_test(refuses_damage),
    };
    int failed = cmocka_run_group_tests_name("unpack", tests, NULL, NULL);
    teardown_dir();
    struct stat st;
    if (stat(dir, &st) == 0) {
        fprintf(stderr, "unpack: %s is not empty: a decompressed copy was left behind\n", dir);
        failed++;
    }
    return failed;
}
