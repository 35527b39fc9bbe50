/* The expression language's parser (grammar in expr.h): text to a tree of
 * nodes in one array, bounded in length, node count and nesting. */
#include "print/expr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    gh_expr *e;
    const char *s;
    size_t p, len;
    int depth;
    gh_err *err;
    int failed;
} parser;

static int fail(parser *P, size_t at, const char *what)
{
    if (!P->failed) {
        P->failed = 1;
        if (at >= P->len)
            gh_errorf(P->err, GH_EARG, "\"%.200s\": %s at the end", P->s, what);
        else
            gh_errorf(P->err, GH_EARG, "\"%.200s\": %s at column %zu ('%c')", P->s, what, at + 1,
                      P->s[at] >= 32 && P->s[at] < 127 ? P->s[at] : '?');
    }
    return -1;
}

static void skip(parser *P)
{
    while (P->p < P->len && (P->s[P->p] == ' ' || P->s[P->p] == '\t'))
        P->p++;
}

static int peek(parser *P)
{
    skip(P);
    return P->p < P->len ? (unsigned char)P->s[P->p] : 0;
}

static int is_name0(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
static int is_name(int c) { return is_name0(c) || (c >= '0' && c <= '9'); }

static int node(parser *P, gx_op op, size_t from)
{
    gh_expr *e = P->e;
    if (e->nn >= GX_MAX_NODES)
        return fail(P, P->p, "expression too long");
    if (e->nn == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 16;
        gx_node *n = realloc(e->n, cap * sizeof *n);
        if (!n) {
            P->failed = 1;
            gh_errorf(P->err, GH_ENOMEM, "out of memory parsing an expression");
            return -1;
        }
        e->n = n;
        e->cap = cap;
    }
    gx_node *n = &e->n[e->nn];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->a = n->b = -1;
    n->from = from;
    n->to = P->p;
    return (int)e->nn++;
}

static int set_str(parser *P, int k, const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c) {
        P->failed = 1;
        gh_errorf(P->err, GH_ENOMEM, "out of memory parsing an expression");
        return -1;
    }
    memcpy(c, s, n);
    c[n] = 0;
    P->e->n[k].str = c;
    P->e->n[k].slen = n;
    return 0;
}

/* A name at P->p: its length (0 none). */
static size_t name_len(parser *P)
{
    size_t q = P->p;
    if (q >= P->len || !is_name0((unsigned char)P->s[q]))
        return 0;
    while (q < P->len && is_name((unsigned char)P->s[q]))
        q++;
    return q - P->p;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A Go string literal at P->p: its bytes into a new GX_STR node. */
static int string_lit(parser *P)
{
    size_t from = P->p;
    char q = P->s[P->p++];
    char *buf = malloc(P->len + 1);
    size_t n = 0;
    if (!buf) {
        P->failed = 1;
        gh_errorf(P->err, GH_ENOMEM, "out of memory parsing an expression");
        return -1;
    }
    for (;;) {
        if (P->p >= P->len) {
            free(buf);
            return fail(P, from, "unterminated string");
        }
        char c = P->s[P->p++];
        if (c == q)
            break;
        if (c != '\\' || q == '`') {
            buf[n++] = c;
            continue;
        }
        if (P->p >= P->len)
            continue;
        char d = P->s[P->p++];
        static const char esc[] = "n\nt\tr\r\\\\\"\"''a\ab\bf\fv\v0";
        const char *m = strchr(esc, d);
        if (d == 'x' && P->p + 1 < P->len && hexval(P->s[P->p]) >= 0 && hexval(P->s[P->p + 1]) >= 0) {
            buf[n++] = (char)(hexval(P->s[P->p]) * 16 + hexval(P->s[P->p + 1]));
            P->p += 2;
        } else if (d && m && ((m - esc) % 2 == 0) && m[1]) {
            buf[n++] = m[1];
        } else {
            free(buf);
            return fail(P, P->p - 1, "unknown escape in string");
        }
    }
    int k = node(P, GX_STR, from);
    if (k < 0 || set_str(P, k, buf, n)) {
        free(buf);
        return -1;
    }
    free(buf);
    return k;
}

static int number(parser *P, int neg, size_t from)
{
    const char *s = P->s + P->p;
    size_t l = 0;
    while (P->p + l < P->len && is_name((unsigned char)s[l]))
        l++;
    char tmp[40];
    if (l >= sizeof tmp)
        return fail(P, P->p, "number too long");
    memcpy(tmp, s, l);
    tmp[l] = 0;
    uint64_t v;
    if (!gh_expr_number(tmp, &v))
        return fail(P, P->p, "not a number");
    P->p += l;
    int k = node(P, GX_NUM, from);
    if (k >= 0) {
        P->e->n[k].num = v;
        P->e->n[k].neg = neg;
    }
    return k;
}

static int unary(parser *P);

/* (*T)(x): at '(' '*', the type runs to the matching ')', and '(' follows. */
static int conversion(parser *P, size_t from)
{
    size_t q = P->p + 1, depth = 1; /* past '(' */
    while (q < P->len && depth) {
        char c = P->s[q];
        if (c == '(' || c == '[')
            depth++;
        else if (c == ')' || c == ']')
            depth--;
        q++;
    }
    if (depth)
        return 0;
    size_t after = q;
    while (after < P->len && (P->s[after] == ' ' || P->s[after] == '\t'))
        after++;
    if (after >= P->len || P->s[after] != '(')
        return 0;
    /* the type: between "(*" and ")", trimmed */
    size_t t0 = P->p + 1;
    while (P->s[t0] == ' ' || P->s[t0] == '\t')
        t0++;
    t0++; /* the '*' */
    while (P->s[t0] == ' ' || P->s[t0] == '\t')
        t0++;
    size_t t1 = q - 1;
    while (t1 > t0 && (P->s[t1 - 1] == ' ' || P->s[t1 - 1] == '\t'))
        t1--;
    if (t1 <= t0)
        return fail(P, t0, "expected a type after (*");
    P->p = after + 1;
    int x = unary(P);
    if (x < 0)
        return -1;
    if (peek(P) != ')')
        return fail(P, P->p, "expected ')'");
    P->p++;
    int k = node(P, GX_CONV, from);
    if (k < 0 || set_str(P, k, P->s + t0, t1 - t0))
        return -1;
    P->e->n[k].a = x;
    return k;
}

static int primary(parser *P)
{
    int c = peek(P);
    size_t from = P->p;
    if (c >= '0' && c <= '9')
        return number(P, 0, from);
    if (c == '(') {
        size_t q = P->p + 1;
        while (q < P->len && (P->s[q] == ' ' || P->s[q] == '\t'))
            q++;
        if (q < P->len && P->s[q] == '*') {
            int k = conversion(P, from);
            if (k)
                return k;
        }
        P->p++;
        int x = unary(P);
        if (x < 0)
            return -1;
        if (peek(P) != ')')
            return fail(P, P->p, "expected ')'");
        P->p++;
        return x;
    }
    if (c == '"' || c == '`') {
        int s = string_lit(P);
        if (s < 0)
            return -1;
        if (peek(P) != '.')
            return s;
        /* "import/path".name: a global */
        size_t dot = P->p++;
        skip(P);
        size_t l = name_len(P);
        if (!l)
            return fail(P, dot + 1, "expected a name after the package");
        gx_node *sn = &P->e->n[s];
        char *full = malloc(sn->slen + l + 2);
        if (!full) {
            P->failed = 1;
            return gh_errorf(P->err, GH_ENOMEM, "out of memory parsing an expression");
        }
        memcpy(full, sn->str, sn->slen);
        full[sn->slen] = '.';
        memcpy(full + sn->slen + 1, P->s + P->p, l);
        full[sn->slen + 1 + l] = 0;
        free(sn->str);
        sn->str = full;
        sn->slen = strlen(full);
        sn->op = GX_GLOBAL;
        sn->quoted = 1;
        P->p += l;
        sn->to = P->p;
        return s;
    }
    size_t l = name_len(P);
    if (c == '$' && !P->failed) {
        P->failed = 1;
        gh_errorf(P->err, GH_EARG, "\"%.200s\": registers and a debugger's variables are evaluated only inside lldb or gdb",
                  P->s);
        return -1;
    }
    if (!l)
        return fail(P, P->p, c ? "expected a global, a number or '('" : "expected an expression");
    size_t n0 = P->p;
    P->p += l;
    if (peek(P) != '.') { /* a lone name: a local of the frame --frame names */
        int k = node(P, GX_LOCAL, from);
        if (k < 0 || set_str(P, k, P->s + n0, l))
            return -1;
        P->e->n[k].to = n0 + l;
        return k;
    }
    P->p++;
    skip(P);
    size_t n1 = P->p, l1 = name_len(P);
    if (!l1)
        return fail(P, P->p, "expected a name after the package");
    P->p += l1;
    int k = node(P, GX_GLOBAL, from);
    if (k < 0)
        return -1;
    char buf[512];
    if (l + l1 + 2 > sizeof buf)
        return fail(P, n0, "name too long");
    snprintf(buf, sizeof buf, "%.*s.%.*s", (int)l, P->s + n0, (int)l1, P->s + n1);
    return set_str(P, k, buf, strlen(buf)) ? -1 : k;
}

static int postfix(parser *P)
{
    size_t from = P->p;
    int x = primary(P);
    while (x >= 0) {
        int c = peek(P);
        if (c == '.') {
            P->p++;
            skip(P);
            if (P->p < P->len && P->s[P->p] == '(') { /* x.(T): a type assertion */
                size_t t0 = P->p + 1, q = t0, depth = 1;
                while (q < P->len && depth) {
                    char d = P->s[q];
                    depth += d == '(' || d == '[';
                    depth -= d == ')' || d == ']';
                    q++;
                }
                if (depth)
                    return fail(P, P->p, "expected ')' after the asserted type");
                size_t t1 = q - 1;
                while (t0 < t1 && (P->s[t0] == ' ' || P->s[t0] == '\t'))
                    t0++;
                while (t1 > t0 && (P->s[t1 - 1] == ' ' || P->s[t1 - 1] == '\t'))
                    t1--;
                if (t1 == t0)
                    return fail(P, P->p + 1, "expected a type in .(T)");
                P->p = q;
                int k = node(P, GX_ASSERT, from);
                if (k < 0 || set_str(P, k, P->s + t0, t1 - t0))
                    return -1;
                P->e->n[k].a = x;
                x = k;
                continue;
            }
            size_t l = name_len(P);
            if (!l)
                return fail(P, P->p, "expected a field name after '.'");
            int k = node(P, GX_FIELD, from);
            if (k < 0 || set_str(P, k, P->s + P->p, l))
                return -1;
            P->p += l;
            P->e->n[k].to = P->p;
            P->e->n[k].a = x;
            x = k;
        } else if (c == '[') {
            P->p++;
            if (++P->depth > GX_MAX_DEPTH)
                return fail(P, P->p, "nested too deeply");
            int i = unary(P);
            P->depth--;
            if (i < 0)
                return -1;
            if (peek(P) != ']')
                return fail(P, P->p, "expected ']'");
            P->p++;
            int k = node(P, GX_INDEX, from);
            if (k < 0)
                return -1;
            P->e->n[k].a = x;
            P->e->n[k].b = i;
            x = k;
        } else {
            break;
        }
    }
    return x;
}

static int unary(parser *P)
{
    if (++P->depth > GX_MAX_DEPTH)
        return fail(P, P->p, "nested too deeply");
    int c = peek(P), k;
    size_t from = P->p;
    if (c == '*' || c == '&') {
        P->p++;
        int x = unary(P);
        if (x < 0 || (k = node(P, c == '*' ? GX_DEREF : GX_ADDR, from)) < 0)
            return -1;
        P->e->n[k].a = x;
    } else if (c == '-') {
        P->p++;
        skip(P);
        if (P->p >= P->len || P->s[P->p] < '0' || P->s[P->p] > '9')
            return fail(P, P->p, "expected a number after '-'");
        k = number(P, 1, from);
    } else {
        k = postfix(P);
    }
    P->depth--;
    return k;
}

int gh_expr_number(const char *text, uint64_t *v)
{
    const char *s = text;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    if (!*s)
        return 0;
    for (const char *q = s; *q; q++)
        if (base == 16 ? hexval((unsigned char)*q) < 0 : (*q < '0' || *q > '9'))
            return 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, base);
    if (errno || *end)
        return 0;
    *v = x;
    return 1;
}

void gh_expr_free(gh_expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nn; i++)
        free(e->n[i].str);
    free(e->n);
    free(e->src);
    free(e);
}

int gh_expr_parse(const char *text, gh_expr **out, gh_err *err)
{
    *out = NULL;
    size_t len = strlen(text);
    if (len > GX_MAX_TEXT)
        return gh_errorf(err, GH_EARG, "expression longer than %d bytes", GX_MAX_TEXT);
    gh_expr *e = calloc(1, sizeof *e);
    if (!e || !(e->src = strdup(text))) {
        free(e);
        return gh_errorf(err, GH_ENOMEM, "out of memory parsing an expression");
    }
    parser P = {.e = e, .s = e->src, .len = len, .err = err};
    e->root = unary(&P);
    if (e->root >= 0 && peek(&P))
        fail(&P, P.p, "unexpected text");
    if (P.failed || e->root < 0) {
        if (!P.failed)
            gh_errorf(err, GH_EARG, "\"%.200s\": not an expression", text);
        int code = err ? err->code : GH_EARG;
        gh_expr_free(e);
        return code ? code : GH_EARG;
    }
    *out = e;
    return GH_OK;
}

static size_t fmt(const gh_expr *e, int k, char *buf, size_t cap, size_t o)
{
#define PUT(...) (o += (size_t)snprintf(buf + (o < cap ? o : cap), o < cap ? cap - o : 0, __VA_ARGS__))
    const gx_node *n = &e->n[k];
    switch (n->op) {
    case GX_NUM:
        PUT("%s%llu", n->neg ? "-" : "", (unsigned long long)n->num);
        break;
    case GX_STR:
        PUT("(str \"%.*s\")", (int)n->slen, n->str);
        break;
    case GX_GLOBAL:
        PUT("(global %s)", n->str);
        break;
    case GX_LOCAL:
        PUT("(local %s)", n->str);
        break;
    case GX_FIELD:
        PUT("(field ");
        o = fmt(e, n->a, buf, cap, o);
        PUT(" %s)", n->str);
        break;
    case GX_INDEX:
        PUT("(index ");
        o = fmt(e, n->a, buf, cap, o);
        PUT(" ");
        o = fmt(e, n->b, buf, cap, o);
        PUT(")");
        break;
    case GX_DEREF: case GX_ADDR:
        PUT("(%s ", n->op == GX_DEREF ? "deref" : "addr");
        o = fmt(e, n->a, buf, cap, o);
        PUT(")");
        break;
    case GX_ASSERT:
        PUT("(assert ");
        o = fmt(e, n->a, buf, cap, o);
        PUT(" %s)", n->str);
        break;
    case GX_CONV:
        PUT("(conv *%s ", n->str);
        o = fmt(e, n->a, buf, cap, o);
        PUT(")");
        break;
    }
    return o;
#undef PUT
}

int gh_expr_uses_local(const gh_expr *e)
{
    for (size_t i = 0; i < e->nn; i++)
        if (e->n[i].op == GX_LOCAL)
            return 1;
    return 0;
}

void gh_expr_format(const gh_expr *e, char *buf, size_t cap)
{
    if (!cap)
        return;
    buf[0] = 0;
    fmt(e, e->root, buf, cap, 0);
}
