/* Grouping goroutines by identical stacks (see group.h). */
#include "goroutine/group.h"

#include <stdlib.h>
#include <string.h>

#define MAX_GROUP_SCAN 64 /* distinct stacks compared within one hash bucket */


static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull;
}

/* Over what makes two goroutines one group: status, wait reason, and the
 * frames (function, file, line), and where a walk stopped early. */
static uint64_t stack_hash(const gh_goroutine *g)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = hash_str(h, g->status_name);
    h = hash_str(h, g->wait_reason);
    h = hash_str(h, g->stop);
    for (size_t i = 0; i < g->nframes; i++) {
        h = hash_str(h, g->frames[i].function);
        h = hash_str(h, g->frames[i].file);
        h = (h ^ (uint64_t)(uint32_t)g->frames[i].line ^ ((uint64_t)g->frames[i].inlined << 32)) * 0x100000001b3ull;
    }
    return h;
}

static int str_eq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static int same_stack(const gh_goroutine *a, const gh_goroutine *b)
{
    if (a->status != b->status || !str_eq(a->wait_reason, b->wait_reason) || !str_eq(a->stop, b->stop) ||
        a->truncated != b->truncated || a->nframes != b->nframes)
        return 0;
    for (size_t i = 0; i < a->nframes; i++) {
        const gh_frame *x = &a->frames[i], *y = &b->frames[i];
        if (x->line != y->line || x->inlined != y->inlined || !str_eq(x->function, y->function) ||
            !str_eq(x->file, y->file))
            return 0;
    }
    return 1;
}

typedef struct hkey {
    uint64_t h;
    size_t i;
} hkey;

static int cmp_hkey(const void *a, const void *b)
{
    const hkey *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int cmp_group(const void *a, const void *b)
{
    const gh_ggroup *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static void group_add(gh_ggroup *gr, const gh_goroutine *g)
{
    gr->count++;
    if (g->wait_minutes >= 0) {
        if (gr->min_wait < 0 || g->wait_minutes < gr->min_wait)
            gr->min_wait = g->wait_minutes;
        if (g->wait_minutes > gr->max_wait)
            gr->max_wait = g->wait_minutes;
    }
    size_t k = gr->nids;
    if (k == GH_GROUP_IDS && g->goid >= gr->ids[k - 1])
        return;
    if (k == GH_GROUP_IDS)
        k--; /* the largest drops out */
    while (k > 0 && gr->ids[k - 1] > g->goid) {
        gr->ids[k] = gr->ids[k - 1];
        k--;
    }
    gr->ids[k] = g->goid;
    if (gr->nids < GH_GROUP_IDS)
        gr->nids++;
}

int gh_goroutines_group(const gh_goroutines *gs, const size_t *sel, size_t n, gh_ggroup **out, size_t *ngroups,
                        gh_err *err)
{
    *out = NULL;
    *ngroups = 0;
    hkey *keys = malloc((n ? n : 1) * sizeof *keys);
    gh_ggroup *groups = malloc((n ? n : 1) * sizeof *groups);
    if (!keys || !groups) {
        free(keys);
        free(groups);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (hkey){stack_hash(&gs->v[sel[i]]), sel[i]};
    qsort(keys, n, sizeof *keys, cmp_hkey);
    size_t ng = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && keys[b].h == keys[a].h)
            b++;
        size_t g0 = ng; /* groups of this hash */
        for (size_t i = a; i < b; i++) {
            const gh_goroutine *g = &gs->v[keys[i].i];
            size_t k = g0;
            while (k < ng && k - g0 < MAX_GROUP_SCAN && !same_stack(&gs->v[groups[k].first], g))
                k++;
            if (k == ng || k - g0 == MAX_GROUP_SCAN) {
                k = ng++;
                groups[k] = (gh_ggroup){.first = keys[i].i, .min_wait = -1, .max_wait = -1};
            }
            group_add(&groups[k], g);
        }
        a = b;
    }
    free(keys);
    qsort(groups, ng, sizeof *groups, cmp_group);
    *out = groups;
    *ngroups = ng;
    return GH_OK;
}

