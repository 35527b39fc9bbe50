/* The session's graph index: the object graph of a core saved in a cache
 * directory after it was built, and loaded instead of built the next time
 * the same core is opened with the same executable and the same goheap
 * (graph/store.h checks that, and the heap and the roots, on load).
 *
 * Files are named by the core and executable they describe, so a newer
 * goheap replaces its predecessor's file for a core; the directory is kept
 * under a size budget by dropping the least recently used files. */
#include "session/index.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "goheap/version.h"
#include "graph/dominators.h"
#include "graph/store.h"
#include "session/source_id.h"

#define SUFFIX ".graph"
#define DOM_SUFFIX ".dom" /* the dominator tree, beside its graph */
#define DEFAULT_BUDGET_MB 4096
#define AUTO_MIN_SECONDS 1.0 /* auto: graphs that took less are quicker built again */
#define KEY_WORDS 12
#define FORMAT_OF_KEY 1 /* what the words of the key mean */

int gh_index_mode_default(void)
{
    const char *v = getenv("GOHEAP_INDEX");
    if (!v || !*v || !strcmp(v, "auto"))
        return GH_INDEX_AUTO;
    if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no"))
        return GH_INDEX_OFF;
    if (!strcmp(v, "1") || !strcmp(v, "always") || !strcmp(v, "on"))
        return GH_INDEX_ALWAYS;
    return GH_INDEX_AUTO;
}

int gh_session_set_index(gh_session *s, int mode, const char *dir, gh_err *err)
{
    if (mode == GH_INDEX_DEFAULT)
        mode = gh_index_mode_default();
    if (mode != GH_INDEX_OFF && mode != GH_INDEX_AUTO && mode != GH_INDEX_ALWAYS)
        return gh_errorf(err, GH_EARG, "index mode %d: not off, auto or always", mode);
    const char *env = getenv("GOHEAP_INDEX_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char buf[sizeof s->index_dir];
    if (dir && *dir)
        snprintf(buf, sizeof buf, "%s", dir);
    else if (env && *env)
        snprintf(buf, sizeof buf, "%s", env);
    else if (xdg && *xdg == '/')
        snprintf(buf, sizeof buf, "%s/goheap", xdg);
    else if (home && *home == '/')
        snprintf(buf, sizeof buf, "%s/.cache/goheap", home);
    else
        buf[0] = 0;
    if (mode != GH_INDEX_OFF && !buf[0])
        return gh_errorf(err, GH_EARG, "no directory for the graph index: set GOHEAP_INDEX_DIR or HOME");
    if (strlen(buf) + 64 > sizeof buf)
        return gh_errorf(err, GH_EARG, "index directory name too long");
    s->index_mode = mode;
    memcpy(s->index_dir, buf, sizeof buf);
    return GH_OK;
}

/* Which goheap this is: its version and a hash of the engine's sources
 * (generated at build time). A goheap built from other sources may mark or
 * type differently, so it does not take this one's files; the CLI, the lldb
 * plugin and the gdb helper of one build share them. */
static void library_id(uint64_t id[4])
{
    id[0] = GOHEAP_VERSION_NUMBER;
    id[1] = gh_hash64(GH_SOURCE_ID, sizeof GH_SOURCE_ID - 1, 0);
    id[2] = gh_hash64(GH_SOURCE_ID, sizeof GH_SOURCE_ID - 1, id[1]);
    id[3] = FORMAT_OF_KEY;
}

/* The key and the file for the session's target; 0 when it has none (not
 * a core). */
static int index_file(gh_session *s, uint64_t key[KEY_WORDS], char *path, size_t cap)
{
    if (gh_core_file_id(s->t, key) || gh_core_truncated(s->t, NULL, NULL))
        return 0; /* a truncated core's graph says what its marking could read (heap/coverage.h) */
    library_id(key + 8);
    uint64_t name = gh_hash64(key, 8 * sizeof *key, 0);
    snprintf(path, cap, "%s/%016" PRIx64 SUFFIX, s->index_dir, name);
    return 1;
}

/* The dominator tree's file: the graph's, with its own suffix. */
static void dom_file(char *path)
{
    size_t l = strlen(path);
    if (l >= sizeof SUFFIX - 1 && !strcmp(path + l - (sizeof SUFFIX - 1), SUFFIX))
        strcpy(path + l - (sizeof SUFFIX - 1), DOM_SUFFIX);
}

static void note(gh_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(gh_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->index_note, sizeof s->index_note, fmt, ap);
    va_end(ap);
}

int gh_session_index_load(gh_session *s, const gh_heap *h, const gh_roots *rs, const gh_types_env *tenv,
                          gh_graph **out)
{
    uint64_t key[KEY_WORDS];
    char path[sizeof s->index_dir + 64];
    *out = NULL;
    if (s->index_mode == GH_INDEX_OFF || !index_file(s, key, path, sizeof path))
        return 0;
    gh_clock c0 = gh_clock_now();
    gh_err e = {0};
    int rc = gh_graph_load(h, rs, tenv, s->threads, path, key, KEY_WORDS, out, &e);
    gh_clock_add(&s->phase[GH_PHASE_INDEX], c0);
    if (rc == GH_OK) {
        utimensat(AT_FDCWD, path, NULL, 0); /* recently used: kept longest */
        note(s, "loaded %s", path);
        return 1;
    }
    if (rc == GH_ENOENT)
        note(s, "none yet for this core (%s)", path);
    else
        note(s, "not used %s: %s", path, e.msg);
    return 0;
}

typedef struct cached {
    char name[300];
    uint64_t size;
    struct timespec used;
} cached;

static int older(const void *a, const void *b)
{
    const cached *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    return (x->used.tv_nsec > y->used.tv_nsec) - (x->used.tv_nsec < y->used.tv_nsec);
}

/* Drops the least recently used files until the directory is within its
 * budget (GOHEAP_INDEX_MAX_MB), never the one just written. */
static void keep_budget(const char *dir, const char *keep)
{
    const char *v = getenv("GOHEAP_INDEX_MAX_MB");
    uint64_t budget = (uint64_t)(v && *v ? strtoull(v, NULL, 10) : DEFAULT_BUDGET_MB) << 20;
    DIR *d = opendir(dir);
    if (!d)
        return;
    cached *c = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        int graph = l >= sizeof SUFFIX && !strcmp(de->d_name + l - (sizeof SUFFIX - 1), SUFFIX);
        int dom = l >= sizeof DOM_SUFFIX && !strcmp(de->d_name + l - (sizeof DOM_SUFFIX - 1), DOM_SUFFIX);
        if ((!graph && !dom) || l >= sizeof c->name)
            continue;
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &st) || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            cached *g = realloc(c, nc * sizeof *c);
            if (!g)
                break;
            c = g;
            cap = nc;
        }
        memcpy(c[n].name, de->d_name, l + 1);
        c[n].size = (uint64_t)st.st_size;
        c[n].used = st.st_mtim;
        total += c[n].size;
        n++;
    }
    closedir(d);
    if (n)
        qsort(c, n, sizeof *c, older);
    for (size_t i = 0; i < n && total > budget; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, c[i].name);
        if (strcmp(p, keep) && !unlink(p))
            total -= c[i].size;
    }
    free(c);
}

/* mkdir -p, private to the user. */
static int make_dir(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", dir);
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            if (mkdir(p, 0700) && errno != EEXIST)
                return -1;
            *q = '/';
        }
    return mkdir(p, 0700) && errno != EEXIST ? -1 : 0;
}

void gh_session_index_save(gh_session *s, const gh_graph *g)
{
    uint64_t key[KEY_WORDS];
    char path[sizeof s->index_dir + 64];
    if (s->index_mode == GH_INDEX_OFF || g->partial || !index_file(s, key, path, sizeof path))
        return;
    /* After what loading said, if anything. */
    char had[sizeof s->index_note + 4];
    snprintf(had, sizeof had, "%s%s", s->index_note, s->index_note[0] ? "; " : "");
    double built = g->t_edges.wall + g->t_mark.wall + g->t_types.wall;
    if (s->index_mode == GH_INDEX_AUTO && built < AUTO_MIN_SECONDS) {
        note(s, "%snot saved: the graph took %.2f s to build (auto saves from %.0f s)", had, built, AUTO_MIN_SECONDS);
        return;
    }
    gh_clock c0 = gh_clock_now();
    gh_err e = {0};
    int rc = make_dir(s->index_dir) ? gh_errorf(&e, GH_EIO, "cannot create %s: %s", s->index_dir, strerror(errno))
                                    : gh_graph_save(g, path, key, KEY_WORDS, &e);
    if (rc == GH_OK) {
        keep_budget(s->index_dir, path);
        note(s, "%ssaved %s", had, path);
    } else {
        note(s, "%snot saved: %s", had, e.msg);
    }
    gh_clock_add(&s->phase[GH_PHASE_INDEX], c0);
}

int gh_session_index_dom_load(gh_session *s, gh_graph *g, gh_domtree **out)
{
    uint64_t key[KEY_WORDS];
    char path[sizeof s->index_dir + 64];
    *out = NULL;
    if (s->index_mode == GH_INDEX_OFF || g->partial || !index_file(s, key, path, sizeof path))
        return 0;
    dom_file(path);
    gh_clock c0 = gh_clock_now();
    gh_err e = {0};
    int rc = gh_dom_load(g, path, key, KEY_WORDS, out, &e);
    gh_clock_add(&s->phase[GH_PHASE_INDEX], c0);
    char had[sizeof s->index_note + 4];
    snprintf(had, sizeof had, "%s%s", s->index_note, s->index_note[0] ? "; " : "");
    if (rc == GH_OK) {
        utimensat(AT_FDCWD, path, NULL, 0);
        note(s, "%sdominators loaded %s", had, path);
        return 1;
    }
    if (rc != GH_ENOENT)
        note(s, "%sdominators not used %s: %s", had, path, e.msg);
    return 0;
}

void gh_session_index_dom_save(gh_session *s, const gh_graph *g, const gh_domtree *d)
{
    uint64_t key[KEY_WORDS];
    char path[sizeof s->index_dir + 64];
    if (s->index_mode == GH_INDEX_OFF || g->partial || !index_file(s, key, path, sizeof path))
        return;
    dom_file(path);
    char had[sizeof s->index_note + 4];
    snprintf(had, sizeof had, "%s%s", s->index_note, s->index_note[0] ? "; " : "");
    if (s->index_mode == GH_INDEX_AUTO && d->seconds < AUTO_MIN_SECONDS)
        return; /* quicker built again; said nothing: the graph's note stands */
    gh_clock c0 = gh_clock_now();
    gh_err e = {0};
    int rc = make_dir(s->index_dir) ? gh_errorf(&e, GH_EIO, "cannot create %s: %s", s->index_dir, strerror(errno))
                                    : gh_dom_save(g, d, path, key, KEY_WORDS, &e);
    if (rc == GH_OK) {
        keep_budget(s->index_dir, path);
        note(s, "%sdominators saved %s", had, path);
    } else {
        note(s, "%sdominators not saved: %s", had, e.msg);
    }
    gh_clock_add(&s->phase[GH_PHASE_INDEX], c0);
}
