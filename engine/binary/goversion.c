/* Go release strings and the experiments each release turns on. */
#include "binary/goversion.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; unsigned bit; } experiments[] = {
    {"allocheaders", GH_EXP_ALLOCHEADERS},
    {"swissmap", GH_EXP_SWISSMAP},
    {"greenteagc", GH_EXP_GREENTEAGC},
    {"mapsplitgroup", GH_EXP_MAPSPLITGROUP},
    {"randomizedheapbase64", GH_EXP_RANDHEAPBASE},
};

static void parse_experiments(const char *s, gh_goversion *v)
{
    while (*s) {
        size_t n = strcspn(s, ",");
        int off = n > 2 && strncmp(s, "no", 2) == 0;
        const char *name = off ? s + 2 : s;
        size_t len = off ? n - 2 : n;
        for (size_t i = 0; i < sizeof experiments / sizeof experiments[0]; i++) {
            if (strlen(experiments[i].name) == len && strncmp(name, experiments[i].name, len) == 0) {
                if (off)
                    v->exp_off |= experiments[i].bit;
                else
                    v->exp_on |= experiments[i].bit;
            }
        }
        s += n;
        if (*s == ',')
            s++;
    }
}

static int read_int(const char **p, int *out)
{
    if (!isdigit((unsigned char)**p))
        return 0;
    long n = 0;
    while (isdigit((unsigned char)**p) && n < 100000)
        n = n * 10 + (*(*p)++ - '0');
    *out = (int)n;
    return 1;
}

int gh_goversion_parse(const char *s, gh_goversion *v, gh_err *err)
{
    memset(v, 0, sizeof *v);
    snprintf(v->text, sizeof v->text, "%s", s);
    const char *p = s;
    if (strncmp(p, "devel ", 6) == 0) {
        v->devel = 1;
        p += 6;
    }
    if (strncmp(p, "go", 2) != 0)
        return gh_errorf(err, GH_ENOTGO, "not a Go version string: \"%.60s\"", s);
    p += 2;
    if (!read_int(&p, &v->major) || *p++ != '.' || !read_int(&p, &v->minor))
        return gh_errorf(err, GH_EFORMAT, "malformed Go version \"%.60s\"", s);
    if (*p == '.') {
        p++;
        if (!read_int(&p, &v->patch))
            return gh_errorf(err, GH_EFORMAT, "malformed Go version \"%.60s\"", s);
    } else if (strncmp(p, "rc", 2) == 0 || strncmp(p, "beta", 4) == 0) {
        v->devel = 1;
    }
    const char *x = strstr(p, "X:");
    if (x)
        parse_experiments(x + 2, v);
    return GH_OK;
}

unsigned gh_goversion_experiments(const gh_goversion *v)
{
    unsigned on = 0;
    if (v->minor >= 22)
        on |= GH_EXP_ALLOCHEADERS;
    if (v->minor >= 24)
        on |= GH_EXP_SWISSMAP;
    if (v->minor >= 26)
        on |= GH_EXP_GREENTEAGC | GH_EXP_RANDHEAPBASE;
    on = (on | v->exp_on) & ~v->exp_off;
    /* Experiments that the release made permanent cannot be turned off. */
    if (v->minor >= 23)
        on |= GH_EXP_ALLOCHEADERS;
    if (v->minor >= 26)
        on |= GH_EXP_SWISSMAP;
    return on;
}

int gh_goversion_check(const gh_goversion *v, int *newer, gh_err *err)
{
    if (newer)
        *newer = 0;
    if (v->major != 1 || v->minor < GH_GO_MINOR_MIN)
        return gh_errorf(err, GH_EVERSION,
                         "unsupported Go version %s: goheap supports go1.%d through go1.%d",
                         v->text, GH_GO_MINOR_MIN, GH_GO_MINOR_TESTED);
    if (gh_goversion_experiments(v) & GH_EXP_ALLOCHEADERS ? 0 : 1)
        return gh_errorf(err, GH_EVERSION,
                         "unsupported Go build %s: GOEXPERIMENT=noallocheaders is not supported",
                         v->text);
    if (newer && v->minor > GH_GO_MINOR_TESTED)
        *newer = 1;
    return GH_OK;
}
