/* The fuzz targets without libFuzzer, for CI and for replaying findings:
 *
 *   fuzz_replay FILE|DIR...          each file through the target its
 *                                    directory or name starts with
 *                                    (core, exe, heap, roots, print)
 *   fuzz_replay --random N [--seed S] [--target T] [--last FILE]
 *                                    N recipes from a fixed generator,
 *                                    over every target in turn; each is
 *                                    first written to FILE (under
 *                                    tests/fuzz/findings/TARGET/ after a
 *                                    crash, it replays the finding)
 *   fuzz_replay --random N --check-shared ...
 *                                    each recipe twice, with the
 *                                    executable the harness parsed once
 *                                    and with one opened afresh: their
 *                                    outputs must be the same
 *
 * Built with the sanitizers (lldb-asan/ or GOHEAP_SANITIZE=ON), a crash,
 * leak or undefined behaviour ends the run with the sanitizer's report. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fuzz.h"

static const fz_target *target_of(const char *path)
{
    for (size_t i = 0; i < fz_ntargets; i++) {
        const char *n = fz_targets[i].name;
        char needle[64];
        snprintf(needle, sizeof needle, "/%s", n);
        if (strstr(path, needle) || !strncmp(path, n, strlen(n)))
            return &fz_targets[i];
    }
    return NULL;
}

static int run_file(const char *path, unsigned long *n)
{
    const fz_target *t = target_of(path);
    FILE *f = fopen(path, "rb");
    if (!t || !f) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", path, f ? "no target in its name" : "cannot open");
        if (f)
            fclose(f);
        return 1;
    }
    uint8_t buf[4096];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    fz_run(t, buf, len);
    ++*n;
    return 0;
}

static int run_path(const char *path, unsigned long *n)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "fuzz_replay: %s: no such file\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path, n);
    DIR *d = opendir(path);
    if (!d)
        return 1;
    int bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md"))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        bad |= run_path(p, n);
    }
    closedir(d);
    return bad;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int main(int argc, char **argv)
{
    unsigned long random_n = 0, n = 0;
    uint64_t seed = 1;
    const char *only = NULL, *last = NULL;
    int bad = 0, files = 0, check_shared = 0;
    unsigned long differ = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--random") && i + 1 < argc)
            random_n = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0) | 1;
        else if (!strcmp(argv[i], "--target") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--last") && i + 1 < argc)
            last = argv[++i];
        else if (!strcmp(argv[i], "--check-shared"))
            check_shared = 1;
        else
            files = 1;
    }
    if (fz_init())
        return 2;
    for (int c = 0; c < FZ_NCLASSES; c++)
        fprintf(stderr, "%s%zu", c ? " " : "fuzz_replay: sites per class: ", fz_sites(c));
    fprintf(stderr, "\n");
    time_t t0 = time(NULL);
    for (int i = 1; i < argc && files; i++) {
        if (!strcmp(argv[i], "--check-shared"))
            continue;
        if (!strcmp(argv[i], "--random") || !strcmp(argv[i], "--seed") || !strcmp(argv[i], "--target") ||
            !strcmp(argv[i], "--last")) {
            i++;
            continue;
        }
        bad |= run_path(argv[i], &n);
    }
    for (unsigned long k = 0; k < random_n; k++) {
        const fz_target *t = &fz_targets[k % fz_ntargets];
        if (only && strcmp(only, t->name))
            continue;
        uint8_t buf[8 * 16];
        size_t steps = 1 + xorshift(&seed) % 16;
        for (size_t j = 0; j < steps * 8; j += 8) {
            uint64_t r = xorshift(&seed);
            memcpy(buf + j, &r, 8);
        }
        if (last) {
            FILE *f = fopen(last, "wb");
            if (f) {
                fwrite(buf, 1, steps * 8, f);
                fclose(f);
            }
        }
        if (check_shared) {
            uint64_t shared = fz_run_digest(t, buf, steps * 8, 1), fresh = fz_run_digest(t, buf, steps * 8, 0);
            if (shared != fresh) {
                fprintf(stderr, "fuzz_replay: recipe %lu (%s): output differs with the shared executable\n", k,
                        t->name);
                differ++;
            }
        } else
            fz_run(t, buf, steps * 8);
        n++;
    }
    if (check_shared)
        fprintf(stderr, "fuzz_replay: %lu of %lu recipes differ with the shared executable\n", differ, n);
    fprintf(stderr, "fuzz_replay: %lu inputs in %ld s, no crash\n", n, (long)(time(NULL) - t0));
    return bad || differ;
}
