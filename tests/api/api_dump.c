/* api_dump: everything the public API says about a core, as one JSON
 * document, for tests/integration/test_library.py to compare with the
 * corpus manifest and with the CLI. Built out of tree against the installed
 * library, the way a user links it; it includes only <goheap/goheap.h>.
 *
 *   api_dump CORE EXE [ADDR...]     ADDRs: sentinels to look up */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goheap/goheap.h>

static void str(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void root(const gh_root_info *r)
{
    printf("{\"kind\": ");
    str(gh_root_kind_str(r->kind));
    printf(", \"name\": ");
    str(r->name);
    printf(", \"goroutine\": %" PRId64 ", \"function\": ", r->goroutine);
    str(r->function);
    printf(", \"variable\": ");
    str(r->variable);
    printf(", \"registers\": %d}", r->registers);
}

static int fail(const char *what, const gh_err *err)
{
    printf("\"error\": {\"where\": ");
    str(what);
    printf(", \"code\": %d, \"msg\": ", err->code);
    str(err->msg);
    printf("}}\n");
    return 1;
}

static int interrupted(void *ctx) { return ++*(int *)ctx > 1; }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: api_dump CORE EXE [ADDR...]\n");
        return 2;
    }
    gh_err err;
    gh_session *s;
    int maj, min, pat;
    printf("{\"version\": ");
    str(gh_version(&maj, &min, &pat));
    printf(", \"version_macros\": %d, ", GOHEAP_VERSION_NUMBER == maj * 10000 + min * 100 + pat &&
                                           !strcmp(GOHEAP_VERSION_STRING, gh_version(NULL, NULL, NULL)));
    /* Errors come back as codes with messages. */
    int missing = gh_open_core("/nonexistent/core", NULL, &s, &err);
    printf("\"missing_core\": {\"code\": %d, \"msg\": ", missing);
    str(err.msg);
    int notcore = gh_open_core(argv[2], argv[2], &s, &err);
    printf("}, \"exe_as_core\": {\"code\": %d, \"msg\": ", notcore);
    str(err.msg);
    printf("}, ");

    /* An interrupt before marking ends stops it with GH_EINTR. */
    if (gh_open_core(argv[1], argv[2], &s, &err))
        return fail("open", &err);
    int polls = 0;
    gh_set_interrupt(s, interrupted, &polls);
    gh_heap_summary sum;
    printf("\"interrupt\": %d, ", gh_heap_summary_get(s, &sum, &err));
    gh_close(s);

    if (gh_open_core(argv[1], argv[2], &s, &err))
        return fail("open", &err);
    int gomin;
    printf("\"go_version\": ");
    str(gh_go_version(s, NULL, &gomin, NULL));
    printf(", \"go_minor\": %d, \"executable\": ", gomin);
    str(gh_executable(s));
    printf(", \"description\": ");
    str(gh_description(s));
    if (gh_heap_summary_get(s, &sum, &err))
        return fail("summary", &err);
    printf(", \"summary\": {\"objects\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"live_objects\": %" PRIu64
           ", \"live_bytes\": %" PRIu64 ", \"garbage_objects\": %" PRIu64 ", \"typed_bytes\": %" PRIu64 "}",
           sum.objects, sum.bytes, sum.live_objects, sum.live_bytes, sum.garbage_objects, sum.typed_bytes);
    gh_heap_coverage cov;
    if (gh_heap_coverage_get(s, &cov, &err))
        return fail("coverage", &err);
    printf(", \"coverage\": {\"truncated\": %d, \"percent\": %.2f, \"complete\": %d, \"reach_partial\": %d, "
           "\"readable_span_bytes\": %" PRIu64 ", \"in_use_span_bytes\": %" PRIu64 "}",
           cov.truncated, cov.percent, cov.complete, cov.reach_partial, cov.readable_span_bytes, cov.in_use_span_bytes);

    /* Every object once, counted by type id and compared with the stats. */
    size_t ntypes;
    if (gh_type_count(s, &ntypes, &err))
        return fail("type_count", &err);
    uint64_t *count = calloc(ntypes + 1, sizeof *count), *bytes = calloc(ntypes + 1, sizeof *bytes);
    uint64_t nobj = 0, live = 0, last = 0, ordered = 1;
    gh_object_iter *it;
    gh_object buf[1000];
    if (gh_objects_begin(s, GH_OBJECTS_ALL, &it, &err))
        return fail("objects", &err);
    for (size_t got; (got = gh_objects_next(it, buf, 1000));)
        for (size_t i = 0; i < got; i++) {
            nobj++;
            ordered &= buf[i].addr >= last;
            last = buf[i].addr;
            if (buf[i].live) {
                live++;
                if (buf[i].type <= ntypes) {
                    count[buf[i].type]++;
                    bytes[buf[i].type] += buf[i].size;
                }
            }
        }
    gh_objects_end(it);
    printf(", \"iterated\": {\"objects\": %" PRIu64 ", \"live\": %" PRIu64 ", \"ordered\": %" PRIu64 "}", nobj, live,
           ordered);
    gh_type_stat *st;
    size_t nst;
    if (gh_type_stats(s, GH_OBJECTS_LIVE, &st, &nst, &err))
        return fail("type_stats", &err);
    printf(", \"types\": [");
    for (size_t i = 0; i < nst; i++) {
        gh_type t = {0};
        if (st[i].type && gh_type_get(s, st[i].type, &t, &err))
            return fail("type_get", &err);
        printf("%s{\"name\": ", i ? ", " : "");
        str(st[i].name);
        printf(", \"count\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"iter_count\": %" PRIu64 ", \"kind\": ",
               st[i].count, st[i].bytes, st[i].type ? count[st[i].type] : 0);
        str(st[i].type ? gh_kind_name(t.kind) : NULL);
        printf(", \"size\": %" PRIu64 ", \"fields\": [", t.size);
        for (size_t f = 0; f < t.nfields; f++) {
            gh_type_field tf;
            if (gh_type_field_get(s, st[i].type, f, &tf, &err))
                return fail("type_field", &err);
            printf("%s{\"name\": ", f ? ", " : "");
            str(tf.name);
            printf(", \"offset\": %" PRIu64 ", \"type\": ", tf.offset);
            str(tf.type);
            printf(", \"kind\": ");
            str(gh_kind_name(tf.kind));
            printf("}");
        }
        printf("]}");
    }
    printf("]");
    gh_type_stats_free(st);
    free(count);
    free(bytes);

    /* Roots: kinds, and pointer words that reach objects. */
    size_t nroots;
    if (gh_root_count(s, &nroots, &err))
        return fail("roots", &err);
    uint64_t kinds[GH_ROOT_NKINDS] = {0}, words = 0, to_objects = 0;
    for (size_t i = 0; i < nroots; i++) {
        gh_root_info r;
        gh_root_word w[64];
        if (gh_root_get(s, i, &r, &err))
            return fail("root_get", &err);
        kinds[r.kind]++;
        for (size_t start = 0;;) {
            int n = gh_root_words(s, i, start, w, 64, &err);
            if (n < 0)
                return fail("root_words", &err);
            for (int k = 0; k < n; k++)
                to_objects += w[k].target != GH_NO_OBJECT;
            words += (size_t)n;
            start += (size_t)n;
            if (n < 64)
                break;
        }
    }
    printf(", \"roots\": {\"count\": %zu, \"words\": %" PRIu64 ", \"to_objects\": %" PRIu64 ", \"kinds\": {", nroots,
           words, to_objects);
    for (int k = 0; k < GH_ROOT_NKINDS; k++)
        printf("%s\"%s\": %" PRIu64, k ? ", " : "", gh_root_kind_str(k), kinds[k]);
    printf("}}");

    /* Sentinels: the object, its shortest path, its pointer words. */
    printf(", \"sentinels\": [");
    int first = 1;
    for (int a = 3; a < argc; a++) {
        if (!strncmp(argv[a], "T=", 2))
            continue; /* a type, for retained sizes below */
        uint64_t addr = strtoull(argv[a], NULL, 0);
        gh_object o;
        gh_type t = {0};
        printf("%s{\"addr\": \"%s\"", first ? "" : ", ", argv[a]);
        first = 0;
        if (gh_object_at(s, addr, &o, &err)) {
            printf(", \"error\": ");
            str(err.msg);
            printf("}");
            continue;
        }
        if (o.type)
            gh_type_get(s, o.type, &t, NULL);
        printf(", \"object\": \"0x%" PRIx64 "\", \"live\": %d, \"type\": ", o.addr, o.live);
        str(o.type ? t.name : NULL);
        gh_path *p;
        size_t np;
        if (gh_paths(s, addr, 3, &p, &np, &err))
            return fail("paths", &err);
        printf(", \"paths\": [");
        for (size_t i = 0; i < np; i++) {
            printf("%s{\"root\": ", i ? ", " : "");
            root(&p[i].root);
            printf(", \"hops\": %zu, \"last\": \"0x%" PRIx64 "\"}", p[i].nhops,
                   p[i].nhops ? p[i].hops[p[i].nhops - 1].addr : 0);
        }
        printf("]");
        gh_paths_free(p, np);
        gh_retained r;
        if (gh_retained_get(s, addr, &r, &err))
            return fail("retained", &err);
        printf(", \"retained\": {\"bytes\": %" PRIu64 ", \"objects\": %" PRIu64 ", \"dominator\": \"0x%" PRIx64
               "\", \"dominator_root\": %" PRId64 ", \"slot\": \"0x%" PRIx64 "\", \"slot_size\": %" PRIu64 "}",
               r.bytes, r.objects, r.dominator, r.dominator_root, r.object.addr, r.object.size);
        /* What it dominates, one level down: all, then the largest alone. */
        gh_retained *kids, *one;
        size_t nk, total, n1, total1;
        if (gh_dominated(s, addr, 0, &kids, &nk, &total, &err) || gh_dominated(s, addr, 1, &one, &n1, &total1, &err))
            return fail("dominated", &err);
        printf(", \"dominated\": {\"total\": %zu, \"first_alone\": %d, \"children\": [", total,
               n1 == (total ? 1u : 0u) && total1 == total && (!n1 || one[0].object.addr == kids[0].object.addr));
        for (size_t k = 0; k < nk; k++)
            printf("%s{\"addr\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"objects\": %" PRIu64
                   ", \"dominator\": \"0x%" PRIx64 "\"}", k ? ", " : "", kids[k].object.addr, kids[k].object.size,
                   kids[k].bytes, kids[k].objects, kids[k].dominator);
        printf("]}");
        gh_retainers_free(kids);
        gh_retainers_free(one);
        gh_edge e[64];
        int ne = gh_object_edges(s, o.id, 0, e, 64, &err);
        if (ne < 0)
            return fail("edges", &err);
        printf(", \"edges\": [");
        for (int i = 0; i < ne; i++) {
            gh_object to;
            gh_type tt = {0};
            int in = e[i].target != GH_NO_OBJECT && !gh_object_at(s, e[i].value, &to, NULL) && to.type &&
                     !gh_type_get(s, to.type, &tt, NULL);
            printf("%s{\"field\": ", i ? ", " : "");
            str(e[i].field);
            printf(", \"offset\": %" PRIu64 ", \"target_type\": ", e[i].offset);
            str(in ? tt.name : NULL);
            printf("}");
        }
        printf("]}");
    }
    printf("]");

    /* Retained sizes: the largest retainers, the types asked for (T=name),
     * and every root's group. */
    gh_retained *top;
    size_t ntop;
    if (gh_retainers(s, 5, &top, &ntop, &err))
        return fail("retainers", &err);
    printf(", \"retainers\": [");
    for (size_t i = 0; i < ntop; i++)
        printf("%s{\"addr\": \"0x%" PRIx64 "\", \"bytes\": %" PRIu64 ", \"objects\": %" PRIu64 "}", i ? ", " : "",
               top[i].object.addr, top[i].bytes, top[i].objects);
    printf("]");
    gh_retainers_free(top);
    printf(", \"type_retained\": {");
    first = 1;
    for (int a = 3; a < argc; a++) {
        if (strncmp(argv[a], "T=", 2))
            continue;
        uint64_t b, o;
        int exact;
        if (gh_type_retained(s, argv[a] + 2, &b, &o, &exact, &err))
            return fail("type_retained", &err);
        printf("%s", first ? "" : ", ");
        first = 0;
        str(argv[a] + 2);
        printf(": {\"bytes\": %" PRIu64 ", \"objects\": %" PRIu64 ", \"exact\": %d}", b, o, exact);
    }
    printf("}, \"root_retained\": [");
    for (size_t i = 0; i < nroots; i++) {
        uint64_t b, o;
        gh_root_info ri;
        if (gh_root_retained(s, i, &b, &o, &err) || gh_root_get(s, i, &ri, &err))
            return fail("root_retained", &err);
        printf("%s{\"root\": ", i ? ", " : "");
        root(&ri);
        /* Its group's children in the dominator tree: their sums, and
         * how many do not name the group as their dominator. */
        gh_retained *kids;
        size_t nk, total;
        if (gh_root_dominated(s, i, 0, &kids, &nk, &total, &err))
            return fail("root_dominated", &err);
        uint64_t kb = 0, ko = 0;
        size_t stray = 0;
        for (size_t k = 0; k < nk; k++) {
            kb += kids[k].bytes, ko += kids[k].objects;
            stray += kids[k].dominator != 0 || kids[k].dominator_root < 0;
        }
        gh_retainers_free(kids);
        printf(", \"bytes\": %" PRIu64 ", \"objects\": %" PRIu64 ", \"dominated\": {\"n\": %zu, \"bytes\": %" PRIu64
               ", \"objects\": %" PRIu64 ", \"stray\": %zu}}", b, o, total, kb, ko, stray);
    }
    printf("]");
    {
        gh_retained *kids;
        size_t nk;
        printf(", \"dominated_errors\": [{\"code\": %d, \"msg\": ", gh_dominated(s, 0x10, 0, &kids, &nk, NULL, &err));
        str(err.msg);
        printf("}, {\"code\": %d, \"msg\": ", gh_root_dominated(s, nroots, 0, &kids, &nk, NULL, &err));
        str(err.msg);
        printf("}]");
    }

    /* Goroutines, their frames and their pointer variables. */
    size_t ng;
    if (gh_goroutine_count(s, &ng, &err))
        return fail("goroutines", &err);
    printf(", \"goroutines\": [");
    for (size_t i = 0; i < ng; i++) {
        gh_goroutine_info g;
        if (gh_goroutine_get(s, i, &g, &err))
            return fail("goroutine_get", &err);
        printf("%s{\"id\": %" PRId64 ", \"status\": ", i ? ", " : "", g.id);
        str(g.status);
        printf(", \"wait_reason\": ");
        str(g.wait_reason);
        printf(", \"wait_minutes\": %" PRId64 ", \"creator\": ", g.wait_minutes);
        if (g.creator) {
            printf("{\"function\": ");
            str(g.creator);
            printf(", \"file\": ");
            str(g.creator_file);
            printf(", \"line\": %d, \"goroutine\": %" PRId64 "}", g.creator_line, g.parent_id);
        } else {
            printf("null");
        }
        /* Delve's view: the index of an id, the user and entry frames, labels. */
        size_t at = SIZE_MAX, uf = SIZE_MAX, ef = SIZE_MAX;
        if (gh_goroutine_index(s, g.id, &at, &err))
            return fail("goroutine_index", &err);
        int urc = gh_goroutine_user_frame(s, i, &uf, &err);
        if (urc && urc != GH_ENOENT)
            return fail("user_frame", &err);
        printf(", \"index_ok\": %d, \"user_frame\": ", at == i);
        if (urc)
            printf("null, \"user_frame_error\": {\"code\": %d, \"msg\": ", urc), str(err.msg), printf("}");
        else
            printf("%zu", uf);
        int erc = gh_goroutine_entry_frame(s, i, &ef, &err);
        if (erc && erc != GH_ENOENT)
            return fail("entry_frame", &err);
        printf(", \"entry_frame\": ");
        if (erc)
            printf("null");
        else
            printf("%zu", ef);
        const gh_label *lb;
        size_t nl;
        const char *incomplete;
        if (gh_goroutine_labels(s, i, &lb, &nl, &incomplete, &err))
            return fail("labels", &err);
        printf(", \"labels\": [");
        for (size_t k = 0; k < nl; k++) {
            printf("%s[", k ? ", " : "");
            str(lb[k].key);
            printf(", ");
            str(lb[k].value);
            printf("]");
        }
        printf("], \"labels_error\": ");
        str(incomplete);
        printf(", \"system\": %d, \"frames\": [", g.system);
        for (size_t f = 0; f < g.nframes; f++) {
            gh_frame_info fr;
            if (gh_goroutine_frame(s, i, f, &fr, &err))
                return fail("frame", &err);
            printf("%s{\"function\": ", f ? ", " : "");
            str(fr.function);
            printf(", \"file\": ");
            str(fr.file);
            printf(", \"line\": %d}", fr.line);
        }
        printf("], \"variables\": [");
        gh_variable *v;
        size_t nv;
        if (gh_goroutine_variables(s, i, &v, &nv, &err))
            return fail("variables", &err);
        for (size_t k = 0; k < nv; k++) {
            printf("%s{\"frame\": %zu, \"name\": ", k ? ", " : "", v[k].frame);
            str(v[k].name);
            printf(", \"value\": \"0x%" PRIx64 "\", \"type\": ", v[k].value);
            str(v[k].type);
            printf("}");
        }
        gh_variables_free(v);
        printf("]}");
    }
    printf("]");
    {
        /* Error paths of the goroutine calls. */
        size_t x;
        const gh_label *lb;
        size_t nl;
        printf(", \"goroutine_errors\": [");
        printf("{\"code\": %d, \"msg\": ", gh_goroutine_index(s, -7, &x, &err));
        str(err.msg);
        printf("}, {\"code\": %d, \"msg\": ", gh_goroutine_user_frame(s, ng, &x, &err));
        str(err.msg);
        printf("}, {\"code\": %d, \"msg\": ", gh_goroutine_entry_frame(s, ng, &x, &err));
        str(err.msg);
        printf("}, {\"code\": %d, \"msg\": ", gh_goroutine_labels(s, ng, &lb, &nl, NULL, &err));
        str(err.msg);
        printf("}]");
    }

    /* Objects pending finalization, each record, and the lookup of each. */
    size_t npend;
    uint64_t pobjs, pbytes;
    if (gh_pending_count(s, &npend, &pobjs, &pbytes, &err))
        return fail("pending_count", &err);
    printf(", \"pending\": {\"objects\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"records\": [", pobjs, pbytes);
    for (size_t i = 0; i < npend; i++) {
        gh_pending_info p;
        gh_root_info ri;
        gh_type t = {0};
        size_t f0, n;
        if (gh_pending_get(s, i, &p, &err) || gh_root_get(s, p.root, &ri, &err) ||
            gh_pending_find(s, p.object.addr, &f0, &n, &err))
            return fail("pending_get", &err);
        if (p.object.type && gh_type_get(s, p.object.type, &t, &err))
            return fail("pending type", &err);
        printf("%s{\"addr\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"live\": %d, \"type\": ", i ? ", " : "",
               p.object.addr, p.object.size, p.object.live);
        str(p.object.type ? t.name : NULL);
        printf(", \"kind\": ");
        str(gh_root_kind_str(p.kind));
        printf(", \"function\": ");
        str(p.function);
        printf(", \"record\": \"0x%" PRIx64 "\", \"root_kind\": ", p.record);
        str(gh_root_kind_str(ri.kind));
        printf(", \"root_addr\": \"0x%" PRIx64 "\", \"root_object\": \"0x%" PRIx64 "\", \"found\": %d}",
               ri.addr, ri.object, f0 <= i && i < f0 + n);
    }
    printf("], \"errors\": [");
    {
        gh_pending_info p;
        size_t f0, n;
        printf("{\"code\": %d, \"msg\": ", gh_pending_get(s, npend, &p, &err));
        str(err.msg);
        printf("}, {\"code\": %d, \"msg\": ", gh_pending_find(s, 0x10, &f0, &n, &err));
        str(err.msg);
        printf("}]}, \"pending_of_sentinels\": [");
        int k = 0;
        for (int a = 3; a < argc; a++) {
            if (!strncmp(argv[a], "T=", 2))
                continue;
            if (gh_pending_find(s, strtoull(argv[a], NULL, 0), &f0, &n, &err))
                return fail("pending_find", &err);
            printf("%s%zu", k++ ? ", " : "", n);
        }
        printf("]");
    }

    /* The memory profile: sites, stacks and their frames, and the
     * allocation stack of each address asked for. */
    gh_profile_info pi;
    int prc = gh_profile_get(s, &pi, &err);
    printf(", \"profile\": {\"code\": %d, \"msg\": ", prc);
    str(prc ? err.msg : NULL);
    if (prc) {
        /* Every profile call fails the same way. */
        gh_site x;
        gh_profile_stack st;
        gh_frame_info fr;
        printf(", \"others\": [%d, %d, %d]", gh_site_get(s, 0, &x, &err), gh_profile_stack_get(s, 0, &st, &err),
               gh_profile_stack_frames(s, 0, 0, &fr, 1, &err));
    }
    if (!prc) {
        printf(", \"rate\": %" PRId64 ", \"disabled\": %d, \"live_objects\": %" PRIu64 ", \"live_bytes\": %" PRIu64
               ", \"sampled_objects\": %" PRIu64 ", \"sampled_bytes\": %" PRIu64 ", \"note\": ",
               pi.rate, pi.disabled, pi.live_objects, pi.live_bytes, pi.sampled_objects, pi.sampled_bytes);
        str(pi.note);
        printf(", \"sites\": [");
        for (size_t i = 0; i < pi.nsites; i++) {
            gh_site x;
            if (gh_site_get(s, i, &x, &err))
                return fail("site_get", &err);
            printf("%s{\"function\": ", i ? ", " : "");
            str(x.function);
            printf(", \"file\": ");
            str(x.file);
            printf(", \"line\": %d, \"stacks\": %zu, \"live_objects\": %" PRIu64 ", \"live_bytes\": %" PRIu64
                   ", \"sampled_objects\": %" PRIu64 ", \"sampled_bytes\": %" PRIu64 ", \"alloc_objects\": %" PRIu64
                   ", \"alloc_bytes\": %" PRIu64 ", \"free_objects\": %" PRIu64 ", \"free_bytes\": %" PRIu64 "}",
                   x.line, x.nstacks, x.live_objects, x.live_bytes, x.sampled_objects, x.sampled_bytes, x.alloc_objects,
                   x.alloc_bytes, x.free_objects, x.free_bytes);
        }
        printf("], \"stacks\": [");
        for (size_t k = 0; k < pi.nstacks; k++) {
            gh_profile_stack st;
            if (gh_profile_stack_get(s, k, &st, &err))
                return fail("profile_stack_get", &err);
            printf("%s{\"site\": %zu, \"size\": %" PRIu64 ", \"live_objects\": %" PRIu64 ", \"sampled_objects\": %" PRIu64
                   ", \"alloc_objects\": %" PRIu64 ", \"free_objects\": %" PRIu64 ", \"user\": %zu, \"frames\": [",
                   k ? ", " : "", st.site, st.size, st.live_objects, st.sampled_objects, st.alloc_objects,
                   st.free_objects, st.user);
            /* Paged in fours, to exercise start. */
            size_t got = 0;
            for (;;) {
                gh_frame_info fr[4];
                int w = gh_profile_stack_frames(s, k, got, fr, 4, &err);
                if (w < 0)
                    return fail("profile_stack_frames", &err);
                for (int f = 0; f < w; f++) {
                    printf("%s{\"function\": ", got + f ? ", " : "");
                    str(fr[f].function);
                    printf(", \"file\": ");
                    str(fr[f].file);
                    printf(", \"line\": %d, \"inlined\": %d}", fr[f].line, fr[f].inlined);
                }
                got += (size_t)w;
                if (w < 4)
                    break;
            }
            printf("], \"nframes\": %zu, \"paged\": %zu}", st.nframes, got);
        }
        printf("], \"errors\": [");
        gh_site x;
        gh_profile_stack st;
        gh_frame_info fr;
        size_t k;
        printf("{\"code\": %d, \"msg\": ", gh_site_get(s, pi.nsites, &x, &err));
        str(err.msg);
        printf("}, {\"code\": %d, \"msg\": ", gh_profile_stack_get(s, pi.nstacks, &st, &err));
        str(err.msg);
        printf("}, {\"code\": %d, \"msg\": ", gh_profile_stack_frames(s, pi.nstacks, 0, &fr, 1, &err));
        str(err.msg);
        printf("}, {\"code\": %d, \"msg\": ", gh_object_alloc_stack(s, 0x10, &k, &err));
        str(err.msg);
        printf("}]");
    }
    printf("}, \"alloc_stacks\": {");
    first = 1;
    for (int a = 3; a < argc; a++) {
        if (!strncmp(argv[a], "T=", 2))
            continue;
        size_t k;
        int rc = gh_object_alloc_stack(s, strtoull(argv[a], NULL, 0), &k, &err);
        printf("%s", first ? "" : ", ");
        first = 0;
        str(argv[a]);
        if (rc)
            printf(": {\"code\": %d, \"msg\": ", rc), str(err.msg), printf("}");
        else if (k == GH_NO_STACK)
            printf(": null");
        else
            printf(": %zu", k);
    }
    printf("}");

    gh_breakdown b;
    if (gh_breakdown_get(s, &b, &err))
        return fail("breakdown", &err);
    printf(", \"breakdown\": {\"rows\": [");
    for (int i = 0; i < GH_BREAKDOWN_ROWS; i++) {
        printf("%s{\"group\": ", i ? ", " : "");
        str(b.rows[i].group);
        printf(", \"bytes\": %" PRIu64 "}", b.rows[i].bytes);
    }
    printf("], \"checks\": [");
    for (int i = 0; i < GH_BREAKDOWN_CHECKS; i++)
        printf("%s{\"goheap\": %" PRId64 ", \"runtime\": %" PRId64 ", \"explained\": %d}", i ? ", " : "",
               b.checks[i].goheap, b.checks[i].runtime, b.checks[i].explanation != NULL);
    printf("]}, \"heap_loads\": %u}\n", gh_heap_loads(s));
    gh_close(s);
    return 0;
}
