/* Internal: the short type names two import paths share (shortnames.c). */
#ifndef GOHEAP_TYPES_SHORTNAMES_H
#define GOHEAP_TYPES_SHORTNAMES_H

#include <stddef.h>

#include "types/gotype.h"

/* The short names (reflect's) that two types of different import paths
 * share among the types the graph knows, sorted. */
typedef struct gh_shortnames {
    const char **names; /* valid while the types live */
    size_t n;
} gh_shortnames;
int gh_typenames_shared(gh_types *ty, gh_shortnames *out); /* -1 out of memory */
int gh_shortnames_has(const gh_shortnames *sn, const char *name);
/* Whether name is, or holds as a whole type name, a shared short name
 * ("[8]*scanner.Scanner"). */
int gh_shortnames_holds(const gh_shortnames *sn, const char *name);
void gh_shortnames_free(gh_shortnames *sn);

#endif
