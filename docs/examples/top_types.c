/* top_types: the ten types holding the most live bytes in a Go core, and
 * what keeps the biggest object of the first of them alive.
 *
 *   cc top_types.c $(pkg-config --cflags --libs goheap) -o top_types
 *   ./top_types CORE [EXE]
 */
#include <inttypes.h>
#include <stdio.h>

#include <goheap/goheap.h>

int main(int argc, char **argv)
{
    gh_err err;
    gh_session *s;
    gh_type_stat *stats;
    size_t nstats;
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORE [EXE]\n", argv[0]);
        return 2;
    }
    if (gh_open_core(argv[1], argc > 2 ? argv[2] : NULL, &s, &err) ||
        gh_type_stats(s, GH_OBJECTS_LIVE, &stats, &nstats, &err)) {
        fprintf(stderr, "top_types: %s\n", err.msg);
        return 1;
    }
    printf("%s, libgoheap %s\n", gh_go_version(s, NULL, NULL, NULL), gh_version(NULL, NULL, NULL));
    for (size_t i = 0; i < nstats && i < 10; i++)
        printf("%10" PRIu64 " %12" PRIu64 "  %s\n", stats[i].count, stats[i].bytes, stats[i].name);

    /* The biggest live object of the top type, and its shortest path. */
    gh_object big = {0}, buf[256];
    gh_object_iter *it;
    if (nstats && stats[0].type && !gh_objects_begin(s, GH_OBJECTS_LIVE, &it, &err)) {
        for (size_t got; (got = gh_objects_next(it, buf, 256));)
            for (size_t i = 0; i < got; i++)
                if (buf[i].type == stats[0].type && buf[i].size > big.size)
                    big = buf[i];
        gh_objects_end(it);
    }
    gh_path *paths;
    size_t npaths;
    if (big.size && !gh_paths(s, big.addr, 1, &paths, &npaths, &err) && npaths) {
        const gh_root_info *r = &paths[0].root;
        printf("\n0x%" PRIx64 " %s (%" PRIu64 " bytes) is kept alive by %s %s", big.addr, stats[0].name, big.size,
               gh_root_kind_str(r->kind), r->name ? r->name : r->function ? r->function : "");
        if (r->kind == GH_ROOT_STACK)
            printf(" (goroutine %" PRId64 "%s%s)", r->goroutine, r->variable ? ", " : "", r->variable ? r->variable : "");
        for (size_t i = 0; i < paths[0].nhops; i++)
            printf("\n  -> %-20s 0x%" PRIx64 " %s", paths[0].hops[i].field, paths[0].hops[i].addr,
                   paths[0].hops[i].type);
        printf("\n");
        gh_paths_free(paths, npaths);
    }
    gh_type_stats_free(stats);
    gh_close(s);
    return 0;
}
