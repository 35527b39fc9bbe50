/* pprof profiles (pprof.h): strings, functions and locations interned,
 * samples encoded as they come, the whole written through zlib's gzip. */
#include "export/pprof.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/hash.h"
#include "base/hmap.h"
#include "base/vec.h"
#include "export/protobuf.h"

/* profile.proto field numbers */
enum {
    P_SAMPLE_TYPE = 1, P_SAMPLE = 2, P_LOCATION = 4, P_FUNCTION = 5, P_STRING_TABLE = 6,
    P_PERIOD_TYPE = 11, P_PERIOD = 12, P_COMMENT = 13, P_DEFAULT_SAMPLE_TYPE = 14,
    VT_TYPE = 1, VT_UNIT = 2,
    S_LOCATION_ID = 1, S_VALUE = 2,
    S_LABEL = 3, LB_KEY = 1, LB_NUM = 3,
    L_ID = 1, L_ADDRESS = 3, L_LINE = 4,
    LN_FUNCTION_ID = 1, LN_LINE = 2,
    F_ID = 1, F_NAME = 2, F_SYSTEM_NAME = 3, F_FILENAME = 4, F_START_LINE = 5,
};

typedef struct pfunc {
    uint64_t name, sys, file; /* string indexes */
    int64_t start_line;
} pfunc;

typedef struct ploc {
    uint64_t addr;            /* 0: a name frame */
    size_t line0, nlines;     /* into lines */
} ploc;

typedef struct pline {
    uint64_t func;            /* function id */
    int64_t line;
} pline;

struct gh_pprof {
    char **strings;      /* the string table; [0] is "" */
    size_t nstrings, capstrings;
    gh_hmap byhash;      /* hash of a string: its indexes */
    uint64_t *func_of;   /* per string: the location id of that name frame, 0 none yet */
    size_t capfunc;
    pfunc *funcs;        /* function id - 1 */
    size_t nfuncs, capfuncs;
    gh_hmap funcbykey;   /* hash of (name, file): function indexes */
    ploc *locs;          /* location id - 1 */
    size_t nlocs, caplocs;
    gh_hmap locbyaddr;   /* address: location indexes */
    pline *lines;
    size_t nlines, caplines;
    uint64_t period_type[2];
    int64_t period;
    int has_period;
    gh_pb samples;       /* field 2 messages, one after another */
    uint64_t types[GH_PPROF_MAX_VALUES][2];
    size_t ntypes;
    uint64_t *comments;
    size_t ncomments, capcomments;
};

static int intern(gh_pprof *p, const char *s, uint64_t *out)
{
    uint64_t h = gh_hash64(s, strlen(s), 0);
    for (size_t i = gh_hmap_first(&p->byhash, h); i != GH_HMAP_END; i = gh_hmap_next(&p->byhash, h, i))
        if (!strcmp(p->strings[p->byhash.vals[i]], s)) {
            *out = p->byhash.vals[i];
            return 0;
        }
    char *c = strdup(s);
    if (!c || gh_grow(&p->strings, &p->capstrings, p->nstrings + 1, sizeof *p->strings) ||
        gh_hmap_add(&p->byhash, h, p->nstrings)) {
        free(c);
        return -1;
    }
    p->strings[p->nstrings] = c;
    *out = p->nstrings++;
    return 0;
}

gh_pprof *gh_pprof_new(void)
{
    gh_pprof *p = calloc(1, sizeof *p);
    uint64_t empty;
    if (!p || intern(p, "", &empty)) {
        gh_pprof_free(p);
        return NULL;
    }
    return p;
}

void gh_pprof_free(gh_pprof *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nstrings; i++)
        free(p->strings[i]);
    free(p->strings);
    gh_hmap_free(&p->byhash);
    free(p->func_of);
    free(p->funcs);
    gh_hmap_free(&p->funcbykey);
    free(p->locs);
    gh_hmap_free(&p->locbyaddr);
    free(p->lines);
    free(p->comments);
    gh_pb_free(&p->samples);
    free(p);
}

int gh_pprof_sample_type(gh_pprof *p, const char *type, const char *unit, gh_err *err)
{
    if (p->ntypes == GH_PPROF_MAX_VALUES)
        return gh_errorf(err, GH_EARG, "pprof: at most %d sample types", GH_PPROF_MAX_VALUES);
    if (intern(p, type, &p->types[p->ntypes][0]) || intern(p, unit, &p->types[p->ntypes][1]))
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    p->ntypes++;
    return GH_OK;
}

int gh_pprof_comment(gh_pprof *p, const char *text, gh_err *err)
{
    uint64_t s;
    if (intern(p, text, &s) || gh_grow(&p->comments, &p->capcomments, p->ncomments + 1, sizeof *p->comments))
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    p->comments[p->ncomments++] = s;
    return GH_OK;
}

/* pprof shortens names as C++ ones: it drops "<...>" and "(...)". The
 * shown name has them as "[...]" and "{...}"; the system name keeps them. */
static char *shown(const char *name)
{
    char *c = strdup(name);
    for (char *q = c; q && *q; q++)
        *q = *q == '<' ? '[' : *q == '>' ? ']' : *q == '(' ? '{' : *q == ')' ? '}' : *q;
    return c;
}

static int new_func(gh_pprof *p, uint64_t name, uint64_t sys, uint64_t file, int64_t start, uint64_t *id)
{
    if (gh_grow(&p->funcs, &p->capfuncs, p->nfuncs + 1, sizeof *p->funcs))
        return -1;
    p->funcs[p->nfuncs++] = (pfunc){.name = name, .sys = sys, .file = file, .start_line = start};
    *id = p->nfuncs;
    return 0;
}

static int new_loc(gh_pprof *p, uint64_t addr, const pline *lines, size_t n, uint64_t *id)
{
    if (gh_grow(&p->locs, &p->caplocs, p->nlocs + 1, sizeof *p->locs) ||
        gh_grow(&p->lines, &p->caplines, p->nlines + n + 1, sizeof *p->lines))
        return -1;
    memcpy(p->lines + p->nlines, lines, n * sizeof *lines);
    p->locs[p->nlocs++] = (ploc){.addr = addr, .line0 = p->nlines, .nlines = n};
    p->nlines += n;
    *id = p->nlocs;
    return 0;
}

/* The location id of a frame name: one function, one location. */
static int location(gh_pprof *p, const char *name, uint64_t *id)
{
    uint64_t s;
    if (intern(p, name, &s))
        return -1;
    if (s >= p->capfunc) {
        size_t old = p->capfunc;
        if (gh_grow(&p->func_of, &p->capfunc, s + 1, sizeof *p->func_of))
            return -1;
        memset(p->func_of + old, 0, (p->capfunc - old) * sizeof *p->func_of);
    }
    if (!p->func_of[s]) {
        char *c = shown(name);
        uint64_t sh, fid, lid;
        int bad = !c || intern(p, c, &sh);
        free(c);
        if (bad || new_func(p, sh, s, 0, 0, &fid))
            return -1;
        pline ln = {.func = fid};
        if (new_loc(p, 0, &ln, 1, &lid))
            return -1;
        /* intern may have grown the table past s: func_of covers s only */
        p->func_of[s] = lid;
    }
    *id = p->func_of[s];
    return 0;
}

/* The function id of a code function (name, file), made on first use. */
static int code_func(gh_pprof *p, const gh_pprof_line *l, uint64_t *id)
{
    uint64_t name, file;
    if (intern(p, l->func, &name) || intern(p, l->file ? l->file : "", &file))
        return -1;
    uint64_t key = name * 0x9e3779b97f4a7c15ull ^ file;
    for (size_t i = gh_hmap_first(&p->funcbykey, key); i != GH_HMAP_END; i = gh_hmap_next(&p->funcbykey, key, i)) {
        const pfunc *f = &p->funcs[p->funcbykey.vals[i]];
        if (f->sys == name && f->file == file) {
            *id = p->funcbykey.vals[i] + 1;
            return 0;
        }
    }
    /* Go's own names, as the runtime's profiles carry them: pprof knows them */
    if (new_func(p, name, name, file, l->start_line, id) || gh_hmap_add(&p->funcbykey, key, *id - 1))
        return -1;
    return 0;
}

int gh_pprof_location(gh_pprof *p, uint64_t addr, const gh_pprof_line *lines, size_t n, uint64_t *id, gh_err *err)
{
    if (addr)
        for (size_t i = gh_hmap_first(&p->locbyaddr, addr); i != GH_HMAP_END;
             i = gh_hmap_next(&p->locbyaddr, addr, i)) {
            *id = p->locbyaddr.vals[i] + 1;
            return GH_OK;
        }
    pline stackbuf[16] = {{0}}, *ls = n <= 16 ? stackbuf : malloc(n * sizeof *ls);
    if (!ls)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        ls[i].line = lines[i].line;
        bad = code_func(p, &lines[i], &ls[i].func);
    }
    if (!bad)
        bad = new_loc(p, addr, ls, n, id) || (addr && gh_hmap_add(&p->locbyaddr, addr, *id - 1));
    if (ls != stackbuf)
        free(ls);
    return bad ? gh_errorf(err, GH_ENOMEM, "out of memory") : GH_OK;
}

int gh_pprof_period(gh_pprof *p, const char *type, const char *unit, int64_t period, gh_err *err)
{
    if (intern(p, type, &p->period_type[0]) || intern(p, unit, &p->period_type[1]))
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    p->period = period;
    p->has_period = 1;
    return GH_OK;
}

static int add_sample(gh_pprof *p, const uint64_t *ids, size_t n, const int64_t *values, const char *label,
                      int64_t num, gh_err *err)
{
    uint64_t v[GH_PPROF_MAX_VALUES];
    for (size_t i = 0; i < p->ntypes; i++)
        v[i] = (uint64_t)values[i];
    gh_pb s = {0}, lb = {0};
    gh_pb_packed(&s, S_LOCATION_ID, ids, n);
    gh_pb_packed(&s, S_VALUE, v, p->ntypes);
    if (label) {
        uint64_t k;
        if (intern(p, label, &k)) {
            gh_pb_free(&s);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
        gh_pb_int(&lb, LB_KEY, (int64_t)k);
        gh_pb_int(&lb, LB_NUM, num);
        gh_pb_msg(&s, S_LABEL, &lb);
    }
    gh_pb_msg(&p->samples, P_SAMPLE, &s);
    gh_pb_free(&s);
    gh_pb_free(&lb);
    return p->samples.oom ? gh_errorf(err, GH_ENOMEM, "out of memory for the profile") : GH_OK;
}

int gh_pprof_add_locs(gh_pprof *p, const uint64_t *locs, size_t n, const int64_t *values, const char *label,
                      int64_t num, gh_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!locs[i] || locs[i] > p->nlocs)
            return gh_errorf(err, GH_EARG, "pprof: no location %llu", (unsigned long long)locs[i]);
    return add_sample(p, locs, n, values, label, num, err);
}

int gh_pprof_add(gh_pprof *p, const char *const *frames, size_t nframes, const int64_t *values, gh_err *err)
{
    uint64_t *ids = malloc((nframes ? nframes : 1) * sizeof *ids);
    if (!ids)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    for (size_t i = 0; i < nframes; i++)
        if (location(p, frames[i], &ids[i])) {
            free(ids);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
    int rc = add_sample(p, ids, nframes, values, NULL, 0, err);
    free(ids);
    return rc;
}

int gh_pprof_write(gh_pprof *p, const char *path, gh_err *err)
{
    gh_pb out = {0}, m = {0}, line = {0};
    for (size_t i = 0; i < p->ntypes; i++) {
        gh_pb_reset(&m);
        gh_pb_int(&m, VT_TYPE, (int64_t)p->types[i][0]);
        gh_pb_int(&m, VT_UNIT, (int64_t)p->types[i][1]);
        gh_pb_msg(&out, P_SAMPLE_TYPE, &m);
    }
    if (p->samples.n) {
        size_t before = out.n;
        if (out.n + p->samples.n > out.cap && gh_grow(&out.p, &out.cap, out.n + p->samples.n, 1))
            out.oom = 1;
        else {
            memcpy(out.p + before, p->samples.p, p->samples.n);
            out.n += p->samples.n;
        }
    }
    for (size_t l = 0; l < p->nlocs; l++) {
        const ploc *lc = &p->locs[l];
        gh_pb_reset(&m);
        gh_pb_uint(&m, L_ID, l + 1);
        gh_pb_uint(&m, L_ADDRESS, lc->addr);
        for (size_t k = 0; k < lc->nlines; k++) {
            gh_pb_reset(&line);
            gh_pb_uint(&line, LN_FUNCTION_ID, p->lines[lc->line0 + k].func);
            gh_pb_int(&line, LN_LINE, p->lines[lc->line0 + k].line);
            gh_pb_msg(&m, L_LINE, &line);
        }
        gh_pb_msg(&out, P_LOCATION, &m);
    }
    for (size_t f = 0; f < p->nfuncs; f++) {
        const pfunc *fn = &p->funcs[f];
        gh_pb_reset(&m);
        gh_pb_uint(&m, F_ID, f + 1);
        gh_pb_int(&m, F_NAME, (int64_t)fn->name);
        gh_pb_int(&m, F_SYSTEM_NAME, (int64_t)fn->sys);
        gh_pb_int(&m, F_FILENAME, (int64_t)fn->file);
        gh_pb_int(&m, F_START_LINE, fn->start_line);
        gh_pb_msg(&out, P_FUNCTION, &m);
    }
    for (size_t i = 0; i < p->nstrings; i++)
        gh_pb_str(&out, P_STRING_TABLE, p->strings[i]);
    if (p->has_period) {
        gh_pb_reset(&m);
        gh_pb_int(&m, VT_TYPE, (int64_t)p->period_type[0]);
        gh_pb_int(&m, VT_UNIT, (int64_t)p->period_type[1]);
        gh_pb_msg(&out, P_PERIOD_TYPE, &m);
        gh_pb_int(&out, P_PERIOD, p->period);
    } else if (p->ntypes) { /* the period: one byte of the last sample type's unit */
        gh_pb_reset(&m);
        gh_pb_int(&m, VT_TYPE, (int64_t)p->types[p->ntypes - 1][0]);
        gh_pb_int(&m, VT_UNIT, (int64_t)p->types[p->ntypes - 1][1]);
        gh_pb_msg(&out, P_PERIOD_TYPE, &m);
        gh_pb_int(&out, P_PERIOD, 1);
    }
    gh_pb_packed(&out, P_COMMENT, p->comments, p->ncomments);
    if (p->ntypes > 1 && !p->has_period) /* a heap profile's default is its last type, inuse_space */
        gh_pb_int(&out, P_DEFAULT_SAMPLE_TYPE, (int64_t)p->types[1][0]);
    gh_pb_free(&m);
    gh_pb_free(&line);
    if (out.oom) {
        gh_pb_free(&out);
        return gh_errorf(err, GH_ENOMEM, "out of memory for the profile");
    }
    int rc = GH_OK;
    gzFile gz = gzopen(path, "wb");
    if (!gz) {
        rc = gh_errorf(err, GH_EIO, "cannot create %s: %s", path, strerror(errno ? errno : EIO));
    } else {
        size_t done = 0;
        while (done < out.n && rc == GH_OK) {
            unsigned chunk = out.n - done > (1u << 30) ? (1u << 30) : (unsigned)(out.n - done);
            int k = gzwrite(gz, out.p + done, chunk);
            if (k <= 0)
                rc = gh_errorf(err, GH_EIO, "cannot write %s", path);
            else
                done += (size_t)k;
        }
        if (gzclose(gz) != Z_OK && rc == GH_OK)
            rc = gh_errorf(err, GH_EIO, "cannot write %s", path);
    }
    gh_pb_free(&out);
    return rc;
}
