/* The short type names (reflect's, "scanner.Scanner") that two packages of
 * one name share among the core's types: text names those in full
 * ("go/scanner.Scanner"), and aggregation by type keeps them apart. */
#include "types/shortnames.h"

#include <stdlib.h>
#include <string.h>

typedef struct pair {
    const char *name, *full;
} pair;

static int by_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->full, y->full);
}

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int gh_typenames_shared(gh_types *ty, gh_shortnames *out)
{
    memset(out, 0, sizeof *out);
    size_t n = gh_types_count(ty);
    pair *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return -1;
    size_t k = 0;
    for (size_t id = 1; id <= n; id++) {
        const char *name = gh_types_name(ty, (gh_tid)id), *full = gh_types_full_name(ty, (gh_tid)id);
        if (strcmp(name, full))
            v[k++] = (pair){name, full};
    }
    qsort(v, k, sizeof *v, by_pair);
    const char **names = calloc(k ? k : 1, sizeof *names);
    if (!names) {
        free(v);
        return -1;
    }
    /* A short name is shared when two different full names have it. */
    for (size_t i = 0; i + 1 < k; i++)
        if (!strcmp(v[i].name, v[i + 1].name) && strcmp(v[i].full, v[i + 1].full) &&
            (!out->n || strcmp(names[out->n - 1], v[i].name)))
            names[out->n++] = v[i].name;
    free(v);
    out->names = names;
    return 0;
}

int gh_shortnames_has(const gh_shortnames *sn, const char *name)
{
    return sn->n && bsearch(&name, sn->names, sn->n, sizeof *sn->names, by_str) != NULL;
}

void gh_shortnames_free(gh_shortnames *sn)
{
    free(sn->names);
    memset(sn, 0, sizeof *sn);
}

/* Whether name spells a shared short name as a whole type name inside it:
 * "[8]*scanner.Scanner" holds "scanner.Scanner". */
static int holds_shared(const gh_shortnames *sn, const char *name)
{
    static const char ident[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";
    for (size_t k = 0; k < sn->n; k++) {
        size_t len = strlen(sn->names[k]);
        for (const char *p = strstr(name, sn->names[k]); p; p = strstr(p + 1, sn->names[k]))
            if ((p == name || (!strchr(ident, p[-1]) && p[-1] != '/')) && (!p[len] || !strchr(ident, p[len])))
                return 1;
    }
    return 0;
}

int gh_shortnames_holds(const gh_shortnames *sn, const char *name) { return holds_shared(sn, name); }
