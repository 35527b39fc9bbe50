/* speclayout: the layouts goheap reads finalizer, cleanup and weak-handle
 * records and the finalizer/cleanup queues with (engine/roots/specials_layout.c),
 * as one JSON document, for scripts/gen-specials-layouts.py and
 * tests/integration/test_nodwarf.py. Not installed.
 *   speclayout [--exe EXE] CORE
 * GOHEAP_LAYOUTS=builtin gives the built-in table's row instead of DWARF. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "session/session.h"
#include "roots/specials.h"

int main(int argc, char **argv)
{
    const char *exe = NULL;
    int i = 1;
    if (argc > 3 && !strcmp(argv[1], "--exe")) {
        exe = argv[2];
        i = 3;
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: speclayout [--exe EXE] CORE\n");
        return 2;
    }
    gh_err err;
    gh_target *t;
    gh_session *s;
    if (gh_core_open(argv[i], exe, &t, &err) || gh_session_open(t, exe, argv[i], &s, &err)) {
        fprintf(stderr, "speclayout: %s\n", err.msg);
        return 1;
    }
    gh_spec_layout L;
    char source[128];
    if (gh_spec_layout_resolve(&s->rt, &L, source, sizeof source, &err)) {
        fprintf(stderr, "speclayout: %s\n", err.msg);
        gh_session_close(s);
        return 1;
    }
    printf("{\"go_version\": \"%s\", \"minor\": %d, \"source\": \"%s\", \"fields\": [", s->rt.ver.text,
           s->rt.ver.minor, source);
    const char *type, *path;
    for (size_t k = 0; gh_spec_layout_describe(k, &type, &path); k++) {
        uint64_t off, size;
        gh_spec_layout_get(&L, k, &off, &size);
        printf("%s\n  {\"type\": \"%s\", \"field\": \"%s\", \"offset\": %" PRIu64 ", \"size\": %" PRIu64 "}",
               k ? "," : "", type, path, off, size);
    }
    printf("\n]}\n");
    gh_session_close(s);
    return 0;
}
