/* dwarfcheck: checks goheap's DWARF variable and type index on one core.
 *  - every DWARF type with DW_AT_go_runtime_type: the descriptor at the
 *    run-time address goheap computes lies in [types, etypes), has the same
 *    kind, and reflect names it as DWARF does (exactly, or up to package
 *    qualifiers: DWARF writes import paths, reflect package names);
 *  - every function with DW_AT_go_closure_offset: the compiler's closure
 *    layout rule gives the same offsets;
 *  - every function's frame variables and every global can be read.
 * Prints one JSON line; for tests/integration/check_globals.py. Not installed.
 *   dwarfcheck --exe EXE CORE
 *   dwarfcheck --exe EXE CORE --func NAME   (one function's variables)
 *   dwarfcheck --exe EXE CORE --type 0xOFF  (one type) */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dwarf/dwarfvars.h"
#include "runtime/moduledata.h"
#include "base/out.h"
#include "session/session.h"
#include "rtype/typemask.h"
#include "rtype/typename.h"

#define MAX_LISTED 20

static void fstdout(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    fwrite(s, 1, n, stdout);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Keeps only the last dot-separated part of every qualified identifier:
 * "map[string]*encoding/json/v2.Options" -> "map[string]*Options"; with
 * local, also drops the "·N" DWARF appends to function-local type names. */
static void unqualify(const char *in, char *out, size_t cap, int local)
{
    size_t o = 0;
    while (*in && o + 1 < cap) {
        if (local && (unsigned char)in[0] == 0xc2 && (unsigned char)in[1] == 0xb7) { /* U+00B7 */
            in += 2;
            in += strspn(in, "0123456789");
            continue;
        }
        size_t n = strspn(in, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-");
        if (!n) {
            out[o++] = *in++;
            continue;
        }
        const char *tok = in, *last = tok;
        for (size_t i = 0; i < n; i++)
            if (tok[i] == '.')
                last = tok + i + 1;
        size_t keep = (size_t)(tok + n - last);
        if (keep > cap - 1 - o)
            keep = cap - 1 - o;
        memcpy(out + o, last, keep);
        o += keep;
        in += n;
    }
    out[o] = 0;
}

typedef struct stats {
    uint64_t full_equal, full_generic, full_local, full_dwarf, full_mismatch;
    uint64_t types, described, failed, with_rtype, outside, equal, equal_unqualified, equal_local, mismatch,
        kind_mismatch, unnamed;
} stats;

/* Up to MAX_LISTED lines, printed at the end. */
typedef struct lines {
    char *v[MAX_LISTED];
    uint64_t n;
} lines;

static void add(lines *l, const char *fmt, const char *a, const char *b)
{
    if (l->n < MAX_LISTED) {
        char line[2048];
        snprintf(line, sizeof line, fmt, a, b);
        l->v[l->n] = strdup(line);
    }
    l->n++;
}

static void put(gh_json *j, const char *key, lines *l)
{
    gh_json_key(j, key);
    gh_json_arr(j);
    for (uint64_t i = 0; i < l->n && i < MAX_LISTED; i++) {
        if (l->v[i])
            gh_json_str(j, l->v[i]);
        free(l->v[i]);
    }
    gh_json_end(j, ']');
}

static int check_types(gh_session *s, gh_dwarf_vars *dv, gh_json *j, gh_err *err)
{
    gh_typenames *tn;
    gh_moduledata md;
    int rc;
    if ((rc = gh_session_typenames(s, &tn, err)) || (rc = gh_moduledata_read(&s->rt, &md, err)))
        return rc;
    int fd = open(gh_exe_path(s->exe), O_RDONLY);
    Dwarf *dw = fd >= 0 ? dwarf_begin(fd, DWARF_C_READ) : NULL;
    if (!dw) {
        if (fd >= 0)
            close(fd);
        return gh_errorf(err, GH_EIO, "cannot read DWARF of %s", gh_exe_path(s->exe));
    }
    stats st = {0};
    lines fails = {0}, mis = {0}, qual = {0}, local = {0}, kinds = {0}, fmis = {0};
    static char a[GH_TYPENAME_MAX + 1], b[GH_TYPENAME_MAX + 1];
    char kbuf[64];
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, c;
        if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &c) == 0) {
            do {
                int tag = dwarf_tag(&c);
                if (tag != DW_TAG_base_type && tag != DW_TAG_pointer_type && tag != DW_TAG_structure_type &&
                    tag != DW_TAG_array_type && tag != DW_TAG_typedef && tag != DW_TAG_subroutine_type)
                    continue;
                st.types++;
                gh_dtype t;
                gh_err e;
                uint64_t die = dwarf_dieoffset(&c);
                if (gh_dwarf_type(dv, die, &t, &e) != GH_OK) {
                    add(&fails, "%s: %s", dwarf_diename(&c) ? dwarf_diename(&c) : "?", e.msg);
                    st.failed++;
                    continue;
                }
                st.described++;
                Dwarf_Attribute at;
                if (!t.rtype || !dwarf_attr(&c, GH_DW_AT_go_runtime_type, &at))
                    continue; /* only the DIE that carries the attribute */
                st.with_rtype++;
                if (t.rtype < md.types || t.rtype >= md.etypes) {
                    add(&fails, "%s: %s", t.name ? t.name : "?", "descriptor outside [types, etypes)");
                    st.outside++;
                    continue;
                }
                const char *rn;
                gh_rtype rt;
                if (gh_typename_ref(tn, t.rtype, &rn, &e) != GH_OK ||
                    gh_rtype_read(s->t, s->rt.ver.minor, t.rtype, &rt, &e) != GH_OK) {
                    add(&fails, "%s: %s", t.name ? t.name : "?", e.msg);
                    st.failed++;
                    continue;
                }
                /* The full name (import paths) is DWARF's own spelling,
                 * but for the arguments of a generic type (the
                 * descriptor records none: they stay short) and the
                 * "·N" of function-local types. */
                snprintf(b, sizeof b, "%s", rn);
                const char *fn;
                if (t.name && gh_typename_full_ref(tn, t.rtype, &fn, &e) == GH_OK) {
                    if (!strcmp(t.name, fn))
                        st.full_equal++;
                    else if (strchr(t.name, '[') && strchr(fn, '[') &&
                             strcspn(t.name, "[") == strcspn(fn, "[") && !strncmp(t.name, fn, strcspn(fn, "[")))
                        st.full_generic++;
                    else if (strstr(t.name, "\xc2\xb7"))
                        st.full_local++;
                    else if (!strncmp(t.name, "noalg.", 6) || strstr(t.name, "struct {"))
                        st.full_dwarf++; /* DWARF's own spellings: noalg. types, package-qualified unexported fields */
                    else {
                        st.full_mismatch++;
                        add(&fmis, "%s != %s", t.name, fn);
                    }
                } else if (t.name) {
                    st.full_mismatch++;
                    add(&fmis, "%s: %s", t.name, e.msg);
                }
                rn = b;
                if (!t.name) {
                    st.unnamed++;
                } else if (!strcmp(t.name, rn)) {
                    st.equal++;
                } else {
                    unqualify(t.name, a, sizeof a, 0);
                    static char rcopy[GH_TYPENAME_MAX + 1];
                    snprintf(rcopy, sizeof rcopy, "%s", rn);
                    unqualify(rcopy, b, sizeof b, 0);
                    if (!strcmp(a, b)) {
                        st.equal_unqualified++;
                        add(&qual, "%s = %s", t.name, rn);
                    } else if (unqualify(t.name, a, sizeof a, 1), unqualify(rcopy, b, sizeof b, 1), !strcmp(a, b)) {
                        st.equal_local++;
                        add(&local, "%s = %s", t.name, rn);
                    } else {
                        st.mismatch++;
                        add(&mis, "%s != %s", t.name, rn);
                    }
                }
                if (t.kind != rt.kind) {
                    st.kind_mismatch++;
                    snprintf(kbuf, sizeof kbuf, "%d vs descriptor %d", t.kind, rt.kind);
                    add(&kinds, "%s: DWARF kind %s", t.name ? t.name : "?", kbuf);
                }
            } while (dwarf_siblingof(&c, &c) == 0);
        }
        off = next;
    }
    put(j, "type_failures", &fails);
    put(j, "name_mismatches", &mis);
    put(j, "names_up_to_qualifiers", &qual);
    put(j, "names_of_local_types", &local);
    put(j, "kind_mismatches", &kinds);
    put(j, "full_name_mismatches", &fmis);
    gh_json_ku64(j, "full_name_equal", st.full_equal);
    gh_json_ku64(j, "full_name_generic", st.full_generic);
    gh_json_ku64(j, "full_name_local", st.full_local);
    gh_json_ku64(j, "full_name_dwarf_spelling", st.full_dwarf);
    gh_json_ku64(j, "full_name_mismatch", st.full_mismatch);
    gh_json_ku64(j, "types", st.types);
    gh_json_ku64(j, "types_described", st.described);
    gh_json_ku64(j, "types_failed", st.failed);
    gh_json_ku64(j, "with_rtype", st.with_rtype);
    gh_json_ku64(j, "rtype_outside_module", st.outside);
    gh_json_ku64(j, "rtype_name_equal", st.equal);
    gh_json_ku64(j, "rtype_name_equal_unqualified", st.equal_unqualified);
    gh_json_ku64(j, "rtype_name_equal_local", st.equal_local);
    gh_json_ku64(j, "rtype_name_mismatch", st.mismatch);
    gh_json_ku64(j, "rtype_unnamed", st.unnamed);
    gh_json_ku64(j, "rtype_kind_mismatch", st.kind_mismatch);
    dwarf_end(dw);
    close(fd);
    return GH_OK;
}

static void check_funcs(gh_dwarf_vars *dv, gh_json *j)
{
    uint64_t closures = 0, cvars = 0, rule_fail = 0, fm = 0, fm_vars = 0, locals = 0, funcs_locals = 0,
             local_err = 0, listed = 0, unsupp = 0, code_vars = 0, code_fail = 0, code_closures = 0;
    gh_json_key(j, "closure_code_failures");
    gh_json_arr(j);
    for (size_t i = 0; i < gh_dwarf_nfuncs(dv); i++) {
        const char *name;
        uint64_t pc = gh_dwarf_func_pc(dv, i, &name);
        size_t n = 0;
        gh_err e;
        if (gh_dwarf_closure_code_check(dv, pc, &n, &e)) {
            if (code_fail++ < MAX_LISTED)
                gh_json_str(j, e.msg);
        }
        code_vars += n;
        code_closures += n > 0;
    }
    gh_json_end(j, ']');
    gh_json_ku64(j, "closure_code_vars", code_vars);
    gh_json_ku64(j, "closure_code_closures", code_closures);
    gh_json_ku64(j, "closure_code_failed", code_fail);
    gh_json_key(j, "closure_rule_failures");
    gh_json_arr(j);
    for (size_t i = 0; i < gh_dwarf_nfuncs(dv); i++) {
        const char *name;
        uint64_t pc = gh_dwarf_func_pc(dv, i, &name);
        size_t n;
        gh_err e;
        int rc = gh_dwarf_closure_rule_check(dv, pc, &n, &e);
        if (n) {
            closures++;
            cvars += n;
        }
        if (rc) {
            char line[1200];
            snprintf(line, sizeof line, "%.300s: %.800s", name ? name : "?", e.msg);
            if (rule_fail++ < MAX_LISTED)
                gh_json_str(j, line);
        }
        const gh_dclosure_var *cv;
        size_t ncv = 0;
        if (gh_dwarf_closure_vars(dv, pc, &cv, &ncv, &e) == GH_EUNSUPP)
            unsupp++;
        if (name && strlen(name) > 3 && !strcmp(name + strlen(name) - 3, "-fm")) {
            fm++;
            fm_vars += ncv;
        }
        const gh_dlocal *l;
        if (gh_dwarf_func_locals(dv, pc, &l, &n, &e) != GH_OK) {
            local_err++;
            if (listed++ < 3)
                fprintf(stderr, "locals of %s: %s\n", name ? name : "?", e.msg);
        } else {
            locals += n;
            funcs_locals += n > 0;
        }
    }
    gh_json_end(j, ']');
    gh_json_ku64(j, "functions", gh_dwarf_nfuncs(dv));
    gh_json_ku64(j, "closures_with_offsets", closures);
    gh_json_ku64(j, "closure_vars", cvars);
    gh_json_ku64(j, "closure_rule_failed", rule_fail);
    gh_json_ku64(j, "closure_unsupported", unsupp);
    gh_json_ku64(j, "method_values", fm);
    gh_json_ku64(j, "method_value_vars", fm_vars);
    gh_json_ku64(j, "frame_vars", locals);
    gh_json_ku64(j, "functions_with_frame_vars", funcs_locals);
    gh_json_ku64(j, "frame_var_errors", local_err);
}

static void print_type(gh_dwarf_vars *dv, uint64_t off)
{
    gh_dtype t;
    gh_err e;
    if (gh_dwarf_type(dv, off, &t, &e)) {
        printf("type 0x%" PRIx64 ": %s\n", off, e.msg);
        return;
    }
    printf("type 0x%" PRIx64 " %s kind %d size %" PRIu64 " align %" PRIu64 " rtype 0x%" PRIx64 " elem 0x%" PRIx64
           " key 0x%" PRIx64 " len %" PRIu64 " fields %zu\n",
           off, t.name ? t.name : "?", t.kind, t.size, t.align, t.rtype, t.elem, t.key, t.len, t.nfields);
    for (size_t i = 0; i < t.nfields; i++) {
        gh_dfield f;
        if (gh_dwarf_type_field(dv, off, i, &f, &e) == GH_OK)
            printf("  %s @%" PRIu64 " type 0x%" PRIx64 "%s\n", f.name ? f.name : "?", f.offset, f.type,
                   f.embedded ? " embedded" : "");
    }
}

static int one_func(gh_dwarf_vars *dv, const char *want)
{
    for (size_t i = 0; i < gh_dwarf_nfuncs(dv); i++) {
        const char *name;
        uint64_t pc = gh_dwarf_func_pc(dv, i, &name);
        if (!name || strcmp(name, want))
            continue;
        const gh_dlocal *l;
        const gh_dclosure_var *cv;
        size_t n;
        gh_err e;
        printf("%s at 0x%" PRIx64 "\n", name, pc);
        if (gh_dwarf_func_locals(dv, pc, &l, &n, &e) == GH_OK)
            for (size_t k = 0; k < n; k++)
                printf("  %s %s cfa%+" PRId64 " size %" PRIu64 " type 0x%" PRIx64 "\n", l[k].is_param ? "param" : "var",
                       l[k].name ? l[k].name : "?", l[k].cfa_off, l[k].size, l[k].type);
        else
            printf("  locals: %s\n", e.msg);
        if (gh_dwarf_closure_vars(dv, pc, &cv, &n, &e) == GH_OK)
            for (size_t k = 0; k < n; k++)
                printf("  captured %s @%" PRIu64 " size %" PRIu64 " type 0x%" PRIx64 "\n", cv[k].name ? cv[k].name : "?",
                       cv[k].offset, cv[k].size, cv[k].type);
        else
            printf("  captured: %s\n", e.msg);
        return 0;
    }
    printf("no function %s\n", want);
    return 1;
}

int main(int argc, char **argv)
{
    if ((argc != 4 && argc != 6) || strcmp(argv[1], "--exe")) {
        fprintf(stderr, "usage: dwarfcheck --exe EXE CORE [--func NAME | --type 0xOFF]\n");
        return 2;
    }
    gh_err err;
    gh_target *t;
    gh_session *s;
    if (gh_core_open(argv[3], argv[2], &t, &err) || gh_session_open(t, argv[2], argv[3], &s, &err)) {
        fprintf(stderr, "dwarfcheck: %s\n", err.msg);
        return 1;
    }
    double t0 = now_ms();
    gh_dwarf_vars *dv;
    int rc = gh_session_dwarfvars(s, &dv, &err);
    double t1 = now_ms();
    if (rc == GH_OK && dv && argc == 6) {
        rc = !strcmp(argv[4], "--func") ? one_func(dv, argv[5]) : (print_type(dv, strtoull(argv[5], NULL, 0)), 0);
        gh_session_close(s);
        return rc;
    }
    gh_out out = {fstdout, NULL, 0};
    gh_json j;
    gh_json_init(&j, &out);
    gh_json_obj(&j);
    if (rc == GH_OK && !dv) {
        gh_json_kstr(&j, "skipped", "no DWARF");
    } else if (rc == GH_OK) {
        gh_json_ku64(&j, "index_us", (uint64_t)((t1 - t0) * 1000));
        gh_json_ku64(&j, "globals", gh_dwarf_nglobals(dv));
        gh_roots *rs = gh_roots_new();
        double t2 = now_ms();
        if (!rs)
            rc = gh_errorf(&err, GH_ENOMEM, "out of memory");
        gh_roots_env env;
        if (!rc && (rc = gh_session_roots_env(s, &env, &err)) == GH_OK &&
            (rc = gh_roots_globals(&env, rs, &err)) == GH_OK)
            gh_json_ku64(&j, "globals_us", (uint64_t)((now_ms() - t2) * 1000));
        gh_roots_free(rs);
        if (rc == GH_OK)
            rc = check_types(s, dv, &j, &err);
        if (rc == GH_OK)
            check_funcs(dv, &j);
    }
    if (rc)
        gh_json_kstr(&j, "error", err.msg);
    gh_json_end(&j, '}');
    putchar('\n');
    gh_session_close(s);
    return rc ? 1 : 0;
}
