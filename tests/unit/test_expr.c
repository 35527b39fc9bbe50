/* The expression language's parser (print/expr.h): trees of accepted
 * expressions, one-line errors naming where the text went wrong, and its
 * limits (length, nodes, nesting). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "goheap/command.h"
#include "print/expr.h"
#include "tests.h"

static void tree_is(const char *text, const char *want)
{
    gh_expr *e = NULL;
    gh_err err = {0};
    int rc = gh_expr_parse(text, &e, &err);
    if (rc)
        fail_msg("%s: %s", text, err.msg);
    char buf[1024];
    gh_expr_format(e, buf, sizeof buf);
    if (strcmp(buf, want))
        fail_msg("%s: parsed as %s, want %s", text, buf, want);
    gh_expr_free(e);
}

static void error_is(const char *text, const char *want)
{
    gh_expr *e = NULL;
    gh_err err = {0};
    int rc = gh_expr_parse(text, &e, &err);
    if (rc == GH_OK) {
        gh_expr_free(e);
        fail_msg("%s: accepted", text);
    }
    assert_null(e);
    assert_int_equal(rc, GH_EARG);
    if (strcmp(err.msg, want))
        fail_msg("%s: error %s, want %s", text, err.msg, want);
    assert_null(strchr(err.msg, '\n'));
}

static void accepts(void **state)
{
    (void)state;
    tree_is("0x10", "16");
    tree_is("42", "42");
    tree_is("main.sessions", "(global main.sessions)");
    tree_is(" main . sessions ", "(global main.sessions)");
    tree_is("main.sessions[\"user-0000\"]", "(index (global main.sessions) (str \"user-0000\"))");
    tree_is("main.sessions[\"user-0000\"].Payload", "(field (index (global main.sessions) (str \"user-0000\")) Payload)");
    tree_is("main.Nested[\"a\"][-7]", "(index (index (global main.Nested) (str \"a\")) -7)");
    tree_is("main.ByPtr[main.KeyOf]", "(index (global main.ByPtr) (global main.KeyOf))");
    tree_is("*main.P", "(deref (global main.P))");
    tree_is("**main.PP", "(deref (deref (global main.PP)))");
    tree_is("&main.Accounts[3]", "(addr (index (global main.Accounts) 3))");
    tree_is("(*main.P).Next", "(field (deref (global main.P)) Next)");
    tree_is("(*main.Session)(0xc000010000)", "(conv *main.Session 824633786368)");
    tree_is("(*main.Session)(0xc000010000).User", "(field (conv *main.Session 824633786368) User)");
    tree_is("( * map.group[string]*main.Session )(16)", "(conv *map.group[string]*main.Session 16)");
    tree_is("(**main.T)(main.Q)", "(conv **main.T (global main.Q))");
    tree_is("(*[4]func(int) (int, error))(8)", "(conv *[4]func(int) (int, error) 8)");
    tree_is("\"net/http\".DefaultClient.Timeout", "(field (global net/http.DefaultClient) Timeout)");
    tree_is("`github.com/a/b`.V", "(global github.com/a/b.V)");
    tree_is("main.m[\"a\\\"b\\x41\\n\"]", "(index (global main.m) (str \"a\"bA\n\"))");
    tree_is("main.m[`raw\\n`]", "(index (global main.m) (str \"raw\\n\"))");
    tree_is("main.Ünïcode.Fïeld", "(field (global main.Ünïcode) Fïeld)");
    tree_is("((main.X))", "(global main.X)");
    tree_is("main.Iface.(*main.IfaceObj).N", "(field (assert (global main.Iface) *main.IfaceObj) N)");
    tree_is("x", "(local x)");
    tree_is("held.Items[2]", "(index (global held.Items) 2)");
    tree_is("*p", "(deref (local p))");
    tree_is("&_x9 ", "(addr (local _x9))");
    tree_is("main.H[2].( func(int) (bool, error) )", "(assert (index (global main.H) 2) func(int) (bool, error))");
    uint64_t v;
    assert_true(gh_expr_number("0xffffffffffffffff", &v) && v == UINT64_MAX);
    assert_false(gh_expr_number("0x10000000000000000", &v));
    assert_false(gh_expr_number("12ab", &v));
    assert_false(gh_expr_number("0x", &v));
    assert_false(gh_expr_number("", &v));
}

static void refuses(void **state)
{
    (void)state;
    error_is("$rsp", "\"$rsp\": registers and a debugger's variables are evaluated only inside lldb or gdb");
    error_is("buf + 16", "\"buf + 16\": unexpected text at column 5 ('+')");
    error_is("main.x + 16", "\"main.x + 16\": unexpected text at column 8 ('+')");
    error_is("main.m[\"k\"", "\"main.m[\"k\"\": expected ']' at the end");
    error_is("main.m[\"k]", "\"main.m[\"k]\": unterminated string at column 8 ('\"')");
    error_is("main.m[\"\\q\"]", "\"main.m[\"\\q\"]\": unknown escape in string at column 10 ('q')");
    error_is("main.", "\"main.\": expected a name after the package at the end");
    error_is("main.x.", "\"main.x.\": expected a field name after '.' at the end");
    error_is("12ab", "\"12ab\": not a number at column 1 ('1')");
    error_is("-main.x", "\"-main.x\": expected a number after '-' at column 2 ('m')");
    error_is("(*)(1)", "\"(*)(1)\": expected a type after (* at column 3 (')')");
    error_is("(main.x", "\"(main.x\": expected ')' at the end");
    error_is("", "\"\": expected an expression at the end");
    error_is("main.I.()", "\"main.I.()\": expected a type in .(T) at column 9 (')')");
    error_is("main.I.(*main.T", "\"main.I.(*main.T\": expected ')' after the asserted type at column 8 ('(')");
    error_is("a  b|c; $(echo PWNED)", "\"a  b|c; $(echo PWNED)\": unexpected text at column 4 ('b')");
}

/* Which argument a debugger front end evaluates itself: a local without
 * --frame (a C local, or one gdb knows), registers; goheap's own with it. */
static int dbg_arg(const char *a0, const char *a1, const char *a2, const char *a3)
{
    char *v[4] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3};
    int n = 1 + (a1 != NULL) + (a2 != NULL) + (a3 != NULL);
    return gh_command_debugger_arg(n, v);
}

static void debugger_args(void **state)
{
    (void)state;
    assert_int_equal(dbg_arg("whatis", "x", NULL, NULL), 1);
    assert_int_equal(dbg_arg("go-whatis", "$rsp", NULL, NULL), 1);
    assert_int_equal(dbg_arg("go-print", "*p", NULL, NULL), 1);
    assert_int_equal(dbg_arg("go-print", "buf + 16", NULL, NULL), 1);
    assert_int_equal(dbg_arg("whatis", "main.x", NULL, NULL), -1);
    assert_int_equal(dbg_arg("whatis", "0x10", NULL, NULL), -1);
    assert_int_equal(dbg_arg("whatis", "--frame", "1:main.main", "x"), -1);
    assert_int_equal(dbg_arg("whatis", "--frame=1:main.main", "x.F", NULL), -1);
    assert_int_equal(dbg_arg("whatis", "--full-names", "$rsp", NULL), 2);
    assert_int_equal(dbg_arg("heap", NULL, NULL, NULL), -1);
    assert_int_equal(dbg_arg("heap", "--frame", "1:main.main", NULL), -1);
}

static void limits(void **state)
{
    (void)state;
    /* nesting: 100 stars */
    char deep[256];
    memset(deep, '*', 100);
    strcpy(deep + 100, "main.P");
    gh_expr *e = NULL;
    gh_err err = {0};
    assert_int_equal(gh_expr_parse(deep, &e, &err), GH_EARG);
    assert_non_null(strstr(err.msg, "nested too deeply"));
    /* nodes: 300 indexes */
    char *many = malloc(4000);
    strcpy(many, "main.A");
    for (int i = 0; i < 300; i++)
        strcat(many, "[1]");
    assert_int_equal(gh_expr_parse(many, &e, &err), GH_EARG);
    assert_non_null(strstr(err.msg, "expression too long"));
    /* text */
    char *big = malloc(GX_MAX_TEXT + 2);
    memset(big, 'a', GX_MAX_TEXT + 1);
    big[GX_MAX_TEXT + 1] = 0;
    assert_int_equal(gh_expr_parse(big, &e, &err), GH_EARG);
    assert_null(e);
    free(many);
    free(big);
    /* every prefix of a valid expression either parses or fails cleanly */
    const char *full = "(*main.T)(main.m[\"k\\\"\"][-3].F).G[main.N]";
    char buf[128];
    for (size_t n = 0; n <= strlen(full); n++) {
        snprintf(buf, sizeof buf, "%.*s", (int)n, full);
        e = NULL;
        if (gh_expr_parse(buf, &e, &err) == GH_OK)
            gh_expr_free(e);
        else
            assert_null(e);
    }
}

/* 20,000 strings from the language's own characters (a fixed seed): each
 * parses, or fails with a one-line message and no tree. */
static void random_text(void **state)
{
    (void)state;
    static const char alpha[] = "main.xY_[]()*&-\"\\`'0x19 $\t/.(*main.T)";
    uint32_t r = 12345;
    char buf[64], tree[2048];
    size_t ok = 0;
    for (int n = 0; n < 20000; n++) {
        size_t len = (r = r * 1103515245u + 12345u) >> 16 & 31;
        for (size_t i = 0; i < len; i++)
            buf[i] = alpha[((r = r * 1103515245u + 12345u) >> 16) % (sizeof alpha - 1)];
        buf[len] = 0;
        gh_expr *e = NULL;
        gh_err err = {0};
        if (gh_expr_parse(buf, &e, &err) == GH_OK) {
            gh_expr_format(e, tree, sizeof tree);
            gh_expr_free(e);
            ok++;
        } else {
            assert_null(e);
            assert_true(err.msg[0] != 0);
            assert_null(strchr(err.msg, '\n'));
        }
    }
    assert_true(ok > 0); /* some of them are expressions */
}

int run_expr_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts),
        cmocka_unit_test(refuses),
        cmocka_unit_test(debugger_args),
        cmocka_unit_test(limits),
        cmocka_unit_test(random_text),
    };
    return cmocka_run_group_tests_name("expr", tests, NULL, NULL);
}
