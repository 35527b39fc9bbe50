/* Rendering print's value trees: Go-like text, one field or element per line,
 * and JSON. Floats in Go's %v form; strings quoted as Go's %q does in text,
 * as valid UTF-8 JSON strings (invalid bytes become U+FFFD) in JSON. */
#include "print/printval.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- floats ---------------------------------------------------------------------- */

void pv_format_float(double v, int f32, char *buf, size_t cap)
{
    if (isnan(v)) {
        snprintf(buf, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        snprintf(buf, cap, signbit(v) ? "-0" : "0");
        return;
    }
    /* The fewest digits that read back as the same value (strconv's shortest). */
    char e[64];
    int p;
    for (p = 1; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (f32 ? strtof(e, NULL) == (float)v : strtod(e, NULL) == v)
            break;
    }
    snprintf(e, sizeof e, "%.*e", p - 1, v);
    const char *x = strchr(e, 'e');
    int exp = x ? atoi(x + 1) : 0;
    /* %v is %g with the shortest digits: exponent form below 1e-4 and from 1e+06 on. */
    if (exp < -4 || exp >= 6)
        snprintf(buf, cap, "%s", e);
    else
        snprintf(buf, cap, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, v);
}

/* --- strings ---------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p, 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    uint32_t min;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0)
        len = 2, min = 0x80;
    else if ((p[0] & 0xf0) == 0xe0)
        len = 3, min = 0x800;
    else if ((p[0] & 0xf8) == 0xf0)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    uint32_t cp = p[0] & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
}

/* Quoted into buf (cap >= 6 * n + 3): Go's %q in text, a JSON string otherwise. */
static void quote(const char *s, size_t n, int json, char *buf, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    buf[o++] = '"';
    for (size_t i = 0; i < n && o + 8 < cap;) {
        unsigned char ch = p[i];
        size_t u = utf8_len(p + i, n - i);
        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch == '\n' || ch == '\t' || ch == '\r') {
            buf[o++] = '\\';
            buf[o++] = ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r';
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(buf + o, cap - o, json ? "\\u%04x" : "\\x%02x", ch);
        } else if (u > 1) {
            memcpy(buf + o, p + i, u);
            o += u;
            i += u;
            continue;
        } else if (!u) {
            o += (size_t)snprintf(buf + o, cap - o, json ? "\\ufffd" : "\\x%02x", ch);
        } else {
            buf[o++] = (char)ch;
        }
        i++;
    }
    buf[o++] = '"';
    buf[o] = 0;
}

/* --- text ------------------------------------------------------------------------- */

#define LINE 4096

static const char *tn(const pv_node *n) { return n->type ? n->type : "?"; }

/* --- bytes ------------------------------------------------------------------------- */

#define BYTES_LINE 16 /* bytes per hex dump line */
#define TEXT_LINE 64  /* bytes per quoted line */

/* Whether bytes read as text: printable ASCII, tabs and newlines, valid
 * UTF-8 (a sequence cut by the end of what was read included). */
static int textual(const pv_node *n)
{
    const unsigned char *p = (const unsigned char *)n->text;
    size_t len = n->textlen;
    while (len && !p[len - 1]) /* a fixed-size buffer's zero padding: \x00 in the text */
        len--;
    if (!len)
        return 0;
    for (size_t i = 0; i < len;) {
        size_t u = utf8_len(p + i, len - i);
        if (u > 1) {
            i += u;
            continue;
        }
        if (!u && p[i] >= 0xc0 && len - i < 4 && n->len > len)
            return 1; /* a character cut at the end of what was read */
        if (!u || (p[i] < 0x20 && p[i] != '\n' && p[i] != '\t' && p[i] != '\r') || p[i] == 0x7f)
            return 0;
        i++;
    }
    return 1;
}

/* The one-line forms: short text, or a few bytes in hex. */
static int bytes_short(const pv_node *n)
{
    return textual(n) ? n->textlen <= TEXT_LINE : n->textlen <= BYTES_LINE;
}

/* "T len 3 cap 8 " or "T " */
static void bytes_head(const pv_node *n, char *buf, size_t cap)
{
    if (n->kind == PV_SLICE)
        snprintf(buf, cap, "%s len %" PRIu64 " cap %" PRIu64 " ", tn(n), n->len, n->cap);
    else
        snprintf(buf, cap, "%s ", tn(n));
}

static void quote(const char *s, size_t n, int json, char *buf, size_t cap);

static void bytes_one_line(const pv_node *n, char *buf, size_t cap)
{
    char head[256], body[TEXT_LINE * 6 + 8];
    bytes_head(n, head, sizeof head);
    size_t o = 0;
    if (textual(n)) {
        quote(n->text, n->textlen, 0, body, sizeof body);
        o = strlen(body);
    } else {
        body[o++] = '[';
        for (size_t i = 0; i < n->textlen && o + 4 < sizeof body; i++)
            o += (size_t)snprintf(body + o, sizeof body - o, "%s%02x", i ? " " : "", (unsigned char)n->text[i]);
        body[o++] = ']';
        body[o] = 0;
    }
    if (n->len > n->textlen)
        snprintf(buf, cap, "%s%s... (%" PRIu64 " more bytes)", head, body, n->len - n->textlen);
    else
        snprintf(buf, cap, "%s%s", head, body);
}

static void pad(gh_out *out, int indent);

/* Longer bytes: quoted lines of text, or a hex dump with offsets and the
 * ASCII beside (a line equal to the one before shown as "*"). */
static void bytes_lines(const pv_node *n, gh_out *out, int indent, const char *prefix)
{
    char head[256], q[TEXT_LINE * 6 + 8];
    bytes_head(n, head, sizeof head);
    const unsigned char *p = (const unsigned char *)n->text;
    int text = textual(n);
    gh_printf(out, "%s%s%s [\n", prefix, head, text ? "(text)" : "(hex)"); /* text() padded it */
    int star = 0;
    for (size_t off = 0; off < n->textlen;) {
        size_t l = n->textlen - off < (text ? TEXT_LINE : BYTES_LINE) ? n->textlen - off
                                                                     : (text ? TEXT_LINE : BYTES_LINE);
        if (text) { /* whole UTF-8 characters on each line */
            while (l > TEXT_LINE - 4 && off + l < n->textlen && (p[off + l] & 0xc0) == 0x80)
                l--;
            quote((const char *)p + off, l, 0, q, sizeof q);
            pad(out, indent + 1);
            gh_printf(out, "%s\n", q);
            off += l;
            continue;
        }
        if (off && l == BYTES_LINE && !memcmp(p + off, p + off - BYTES_LINE, BYTES_LINE)) {
            if (!star++) {
                pad(out, indent + 1);
                gh_puts(out, "*\n");
            }
            off += l;
            continue;
        }
        star = 0;
        char hex[BYTES_LINE * 3 + 4], asc[BYTES_LINE + 1];
        size_t h = 0;
        for (size_t i = 0; i < BYTES_LINE; i++) {
            if (i < l)
                h += (size_t)snprintf(hex + h, sizeof hex - h, "%02x ", p[off + i]);
            else
                h += (size_t)snprintf(hex + h, sizeof hex - h, "   ");
            if (i == 7)
                hex[h++] = ' ';
            asc[i] = i < l ? (p[off + i] >= 0x20 && p[off + i] < 0x7f ? (char)p[off + i] : '.') : 0;
        }
        hex[h] = 0;
        asc[l] = 0;
        pad(out, indent + 1);
        gh_printf(out, "%04zx  %s |%s|\n", off, hex, asc);
        off += l;
    }
    if (!text && star && n->textlen) { /* where the repeated lines end */
        pad(out, indent + 1);
        gh_printf(out, "%04zx\n", n->textlen);
    }
    if (n->len > n->textlen) {
        pad(out, indent + 1);
        gh_printf(out, "... %" PRIu64 " more bytes\n", n->len - n->textlen);
    }
    pad(out, indent);
    gh_puts(out, "]\n");
}

/* --- scalars packed on few lines ------------------------------------------------ */

#define PACK_WIDTH 96 /* characters of elements on one line */

static int packable(const pv_node *n)
{
    if (n->elided || !n->nkid)
        return 0;
    for (uint32_t i = 0; i < n->nkid; i++) {
        pv_kind k = n->kid[i].kind;
        if (k != PV_BOOL && k != PV_INT && (k != PV_UINT || !n->kid[i].type) && k != PV_FLOAT && k != PV_COMPLEX)
            return 0;
    }
    return 1;
}

static void short_form(const pv_node *n, int typed, char *buf, size_t cap);

/* Numbers of an array or slice as Go's %v prints them, space-separated:
 * one line when they fit, else lines of PACK_WIDTH led by their first index. */
static void packed(const pv_node *n, gh_out *out, int indent, const char *prefix, char *buf, size_t cap)
{
    char head[256], more[64] = "";
    if (n->kind == PV_SLICE)
        snprintf(head, sizeof head, "%s%s len %" PRIu64 " cap %" PRIu64, prefix, tn(n), n->len, n->cap);
    else
        snprintf(head, sizeof head, "%s%s", prefix, tn(n));
    if (n->len > n->nkid)
        snprintf(more, sizeof more, " ... %" PRIu64 " more", n->len - n->nkid);
    size_t total = 0;
    char v[128];
    for (uint32_t i = 0; i < n->nkid; i++) {
        short_form(&n->kid[i], 0, v, sizeof v);
        total += strlen(v) + 1;
    }
    if (total + strlen(more) <= PACK_WIDTH) {
        size_t o = 0;
        for (uint32_t i = 0; i < n->nkid && o + 1 < cap; i++) {
            short_form(&n->kid[i], 0, v, sizeof v);
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? " " : "", v);
        }
        gh_printf(out, "%s [%s%s]\n", head, buf, more); /* text() padded it */
        return;
    }
    gh_printf(out, "%s [\n", head);
    for (uint32_t i = 0; i < n->nkid;) {
        size_t o = (size_t)snprintf(buf, cap, "[%u]:", i);
        uint32_t first = i;
        for (; i < n->nkid; i++) {
            short_form(&n->kid[i], 0, v, sizeof v);
            if (i > first && o + strlen(v) + 1 > PACK_WIDTH)
                break;
            o += (size_t)snprintf(buf + o, cap - o, " %s", v);
        }
        pad(out, indent + 1);
        gh_printf(out, "%s\n", buf);
    }
    if (n->len > n->nkid) {
        pad(out, indent + 1);
        gh_printf(out, "... %" PRIu64 " more\n", n->len - n->nkid);
    }
    pad(out, indent);
    gh_puts(out, "]\n");
}

static int multiline(const pv_node *n)
{
    switch (n->kind) {
    case PV_ARRAY: case PV_SLICE:
        if (n->bytes)
            return !n->elided && !bytes_short(n);
        return n->nkid && !n->elided;
    case PV_STRUCT: case PV_MAP:
        return n->nkid && !n->elided;
    case PV_IFACE:
        return n->nkid && !n->elided && multiline(&n->kid[0]);
    case PV_WORDS:
        return 1;
    default:
        return 0;
    }
}

/* The one-line form; typed: say the type of a scalar (an interface's value). */
static void short_form(const pv_node *n, int typed, char *buf, size_t cap)
{
    char v[PV_STRMAX * 6 + 64];
    switch (n->kind) {
    case PV_NIL: snprintf(v, sizeof v, "nil"); break;
    case PV_BOOL: snprintf(v, sizeof v, "%s", n->u ? "true" : "false"); break;
    case PV_INT: snprintf(v, sizeof v, "%" PRId64, n->i); break;
    case PV_UINT:
        if (n->type)
            snprintf(v, sizeof v, "%" PRIu64, n->u);
        else
            snprintf(v, sizeof v, "0x%016" PRIx64, n->u); /* a raw word */
        break;
    case PV_FLOAT: case PV_COMPLEX: snprintf(v, sizeof v, "%s", n->text ? n->text : "?"); break;
    case PV_STRING: {
        char q[PV_STRMAX * 6 + 3];
        quote(n->text ? n->text : "", n->textlen, 0, q, sizeof q);
        if (n->len > n->textlen)
            snprintf(v, sizeof v, "%s... (len %" PRIu64 ")", q, n->len);
        else
            snprintf(v, sizeof v, "%s", q);
        break;
    }
    case PV_PTR:
        if (!n->type)
            snprintf(buf, cap, "0x%016" PRIx64 "%s%s", n->addr, n->text ? " -> " : "", n->text ? n->text : "");
        else if (n->type[0] == '*')
            snprintf(buf, cap, "(%s)(0x%" PRIx64 ")", n->type, n->addr);
        else
            snprintf(buf, cap, "%s(0x%" PRIx64 ")%s%s", n->type, n->addr, n->text ? " -> " : "",
                     n->text ? n->text : "");
        return;
    case PV_FUNC:
        snprintf(buf, cap, "func %s (funcval 0x%" PRIx64 ")", n->text ? n->text : "?", n->addr);
        return;
    case PV_CHAN:
        snprintf(buf, cap, "%s len %" PRIu64 " cap %" PRIu64 "%s (0x%" PRIx64 ")", tn(n), n->len, n->cap,
                 n->closed ? " closed" : "", n->addr);
        return;
    case PV_ERROR:
        snprintf(buf, cap, "%s <error: %s>", tn(n), n->text ? n->text : "?");
        return;
    case PV_STRUCT:
        snprintf(buf, cap, "%s{%s}", tn(n), n->elided ? "..." : "");
        return;
    case PV_ARRAY:
        if (n->bytes && n->textlen && !n->elided)
            bytes_one_line(n, buf, cap);
        else
            snprintf(buf, cap, "%s [%s]", tn(n), n->len ? "..." : "");
        return;
    case PV_SLICE:
        if (n->bytes && n->textlen && !n->elided)
            bytes_one_line(n, buf, cap);
        else
            snprintf(buf, cap, "%s len %" PRIu64 " cap %" PRIu64 " [%s]", tn(n), n->len, n->cap, n->len ? "..." : "");
        return;
    case PV_MAP:
        snprintf(buf, cap, "%s len %" PRIu64 " {%s}", tn(n), n->len, n->len ? "..." : "");
        return;
    case PV_IFACE:
        if (n->elided || !n->nkid)
            snprintf(buf, cap, "%s(...)", tn(n));
        else
            short_form(&n->kid[0], 1, buf, cap);
        return;
    default:
        snprintf(buf, cap, "?");
        return;
    }
    if (typed && n->type)
        snprintf(buf, cap, "%s(%s)", n->type, v);
    else
        snprintf(buf, cap, "%s", v);
}

static void pad(gh_out *out, int indent)
{
    for (int i = 0; i < indent && i < PV_MAX_DEPTH * 2; i++)
        gh_puts(out, "    ");
}

static void text(const pv_node *n, gh_out *out, int indent, const char *prefix, int typed)
{
    char *buf = malloc(LINE);
    if (!buf)
        return;
    if (!multiline(n)) {
        short_form(n, typed, buf, LINE);
        pad(out, indent);
        gh_printf(out, "%s%s\n", prefix, buf);
        free(buf);
        return;
    }
    if (n->kind == PV_IFACE) { /* the dynamic value, as %#v shows it */
        free(buf);
        text(&n->kid[0], out, indent, prefix, 1);
        return;
    }
    pad(out, indent);
    switch (n->kind) {
    case PV_STRUCT:
        gh_printf(out, "%s%s{\n", prefix, tn(n));
        for (uint32_t i = 0; i < n->nkid; i++) {
            snprintf(buf, LINE, "%s: ", n->kid[i].name ? n->kid[i].name : "?");
            text(&n->kid[i], out, indent + 1, buf, 0);
        }
        pad(out, indent);
        gh_puts(out, "}\n");
        break;
    case PV_ARRAY:
    case PV_SLICE:
        if (n->bytes) {
            bytes_lines(n, out, indent, prefix);
            free(buf);
            return;
        }
        if (packable(n)) {
            packed(n, out, indent, prefix, buf, LINE);
            free(buf);
            return;
        }
        if (n->kind == PV_SLICE)
            gh_printf(out, "%s%s len %" PRIu64 " cap %" PRIu64 " [\n", prefix, tn(n), n->len, n->cap);
        else
            gh_printf(out, "%s%s [\n", prefix, tn(n));
        for (uint32_t i = 0; i < n->nkid; i++) {
            snprintf(buf, LINE, "[%u]: ", i);
            text(&n->kid[i], out, indent + 1, buf, 0);
        }
        if (n->len > n->nkid) {
            pad(out, indent + 1);
            gh_printf(out, "... %" PRIu64 " more\n", n->len - n->nkid);
        }
        pad(out, indent);
        gh_puts(out, "]\n");
        break;
    case PV_MAP: {
        gh_printf(out, "%s%s len %" PRIu64 " {\n", prefix, tn(n), n->len);
        uint32_t i;
        for (i = 0; i + 1 < n->nkid; i += 2) {
            const pv_node *k = &n->kid[i], *v = &n->kid[i + 1];
            if (!multiline(k)) {
                short_form(k, 0, buf, LINE - 2);
                strcat(buf, ": ");
                text(v, out, indent + 1, buf, 0);
            } else {
                text(k, out, indent + 1, "key: ", 0);
                text(v, out, indent + 1, "value: ", 0);
            }
        }
        if (n->len > i / 2) {
            pad(out, indent + 1);
            gh_printf(out, "... %" PRIu64 " more\n", n->len - i / 2);
        }
        pad(out, indent);
        gh_puts(out, "}\n");
        break;
    }
    case PV_WORDS:
        gh_printf(out, "%s%s%s%" PRIu64 " words (* pointer words):\n", prefix, n->type ? n->type : "untyped",
                  n->type ? " as " : ", ", n->len);
        for (uint32_t i = 0; i < n->nkid; i++) {
            const pv_node *k = &n->kid[i];
            short_form(k, 0, buf, LINE);
            pad(out, indent + 1);
            gh_printf(out, "+%-5" PRIu64 " %-14s %s %s\n", k->off, k->name ? k->name : "",
                      k->kind == PV_PTR || k->kind == PV_NIL ? "*" : " ", buf);
        }
        if (n->len > n->nkid) {
            pad(out, indent + 1);
            gh_printf(out, "... %" PRIu64 " more words\n", n->len - n->nkid);
        }
        break;
    default:
        break;
    }
    free(buf);
}

void pv_render_text(const pv_node *n, gh_out *out, int indent) { text(n, out, indent, "", 0); }

/* Appends s to buf[*o, cap), keeping room for the end "...". */
static void line_put(char *buf, size_t cap, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o >= cap - 1)
        return;
    if (n > cap - 1 - *o)
        n = cap - 1 - *o;
    memcpy(buf + *o, s, n);
    *o += n;
    buf[*o] = 0;
}

void pv_render_line(const pv_node *n, char *buf, size_t cap)
{
    if (cap < 8)
        return;
    buf[0] = 0;
    if (!multiline(n) || n->kind == PV_WORDS || (n->kind == PV_IFACE && (n->elided || !n->nkid))) {
        short_form(n, 0, buf, cap);
        return;
    }
    if (n->kind == PV_IFACE) {
        pv_render_line(&n->kid[0], buf, cap);
        return;
    }
    char head[256], v[256];
    size_t o = 0;
    int map = n->kind == PV_MAP, list = n->kind == PV_ARRAY || n->kind == PV_SLICE;
    if (n->kind == PV_SLICE)
        snprintf(head, sizeof head, "%s len %" PRIu64 " cap %" PRIu64 " [", tn(n), n->len, n->cap);
    else if (map)
        snprintf(head, sizeof head, "%s len %" PRIu64 " {", tn(n), n->len);
    else
        snprintf(head, sizeof head, "%s%s", tn(n), list ? " [" : "{");
    line_put(buf, cap, &o, head);
    for (uint32_t i = 0; i < n->nkid; i += map ? 2 : 1) {
        if (i)
            line_put(buf, cap, &o, list ? " " : ", ");
        if (map && i + 1 < n->nkid) {
            short_form(&n->kid[i], 0, v, sizeof v);
            line_put(buf, cap, &o, v);
            line_put(buf, cap, &o, ": ");
            short_form(&n->kid[i + 1], 0, v, sizeof v);
        } else if (!list && n->kid[i].name) {
            line_put(buf, cap, &o, n->kid[i].name);
            line_put(buf, cap, &o, ": ");
            short_form(&n->kid[i], 0, v, sizeof v);
        } else {
            short_form(&n->kid[i], 0, v, sizeof v);
        }
        line_put(buf, cap, &o, v);
    }
    uint64_t shown = map ? n->nkid / 2 : n->nkid;
    if ((list || map) && n->len > shown) {
        snprintf(v, sizeof v, " ... %" PRIu64 " more", n->len - shown);
        line_put(buf, cap, &o, v);
    }
    line_put(buf, cap, &o, list ? "]" : "}");
    if (o >= cap - 1) /* cut: say so */
        memcpy(buf + cap - 4, "...", 4);
}

/* --- JSON -------------------------------------------------------------------------- */

static void jstring(gh_json *j, const char *s, size_t n)
{
    char *q = malloc(6 * n + 3);
    if (!q) {
        gh_json_str(j, "");
        return;
    }
    quote(s ? s : "", n, 1, q, 6 * n + 3);
    gh_json_raw(j, q);
    free(q);
}

static void jsonv(const pv_node *n, gh_json *j);

static void jelems(const pv_node *n, gh_json *j)
{
    if (n->elided) {
        gh_json_kbool(j, "elided", 1);
        return;
    }
    gh_json_key(j, "elems");
    gh_json_arr(j);
    size_t shown = n->bytes ? n->textlen : n->nkid;
    for (size_t i = 0; i < shown; i++) {
        if (n->bytes)
            gh_json_u64(j, (unsigned char)n->text[i]);
        else
            jsonv(&n->kid[i], j);
    }
    gh_json_end(j, ']');
    if (n->len > shown)
        gh_json_kbool(j, "truncated", 1);
}

static void jsonv(const pv_node *n, gh_json *j)
{
    switch (n->kind) {
    case PV_NIL: gh_json_null(j); return;
    case PV_BOOL: gh_json_bool(j, (int)n->u); return;
    case PV_INT: gh_json_i64(j, n->i); return;
    case PV_UINT: gh_json_u64(j, n->u); return;
    case PV_FLOAT:
        if (n->text && (isdigit((unsigned char)n->text[0]) || n->text[0] == '-') && strcmp(n->text, "-Inf"))
            gh_json_raw(j, n->text);
        else
            gh_json_str(j, n->text);
        return;
    case PV_COMPLEX: gh_json_str(j, n->text); return;
    case PV_STRING: jstring(j, n->text, n->textlen); return;
    default: break;
    }
    gh_json_obj(j);
    switch (n->kind) {
    case PV_PTR:
        gh_json_kaddr(j, "addr", n->addr);
        if (n->text)
            gh_json_kstr(j, "type", n->text);
        break;
    case PV_STRUCT:
        if (n->elided) {
            gh_json_kbool(j, "elided", 1);
            break;
        }
        gh_json_key(j, "fields");
        gh_json_arr(j);
        for (uint32_t i = 0; i < n->nkid; i++) {
            const pv_node *f = &n->kid[i];
            gh_json_obj(j);
            gh_json_kstr(j, "name", f->name ? f->name : "?");
            gh_json_kstr(j, "type", f->type ? f->type : "?");
            gh_json_key(j, "value");
            jsonv(f, j);
            if (f->kind == PV_STRING) {
                gh_json_ku64(j, "len", f->len);
                if (f->len > f->textlen)
                    gh_json_kbool(j, "truncated", 1);
            }
            gh_json_end(j, '}');
        }
        gh_json_end(j, ']');
        break;
    case PV_ARRAY:
        gh_json_ku64(j, "len", n->len);
        jelems(n, j);
        break;
    case PV_SLICE:
        gh_json_kaddr(j, "addr", n->addr);
        gh_json_ku64(j, "len", n->len);
        gh_json_ku64(j, "cap", n->cap);
        jelems(n, j);
        break;
    case PV_MAP: {
        gh_json_kaddr(j, "addr", n->addr);
        gh_json_ku64(j, "len", n->len);
        if (n->elided) {
            gh_json_kbool(j, "elided", 1);
            break;
        }
        gh_json_key(j, "entries");
        gh_json_arr(j);
        uint32_t i;
        for (i = 0; i + 1 < n->nkid; i += 2) {
            gh_json_obj(j);
            gh_json_key(j, "key");
            jsonv(&n->kid[i], j);
            gh_json_key(j, "value");
            jsonv(&n->kid[i + 1], j);
            gh_json_end(j, '}');
        }
        gh_json_end(j, ']');
        if (n->len > i / 2)
            gh_json_kbool(j, "truncated", 1);
        break;
    }
    case PV_IFACE:
        gh_json_kstr(j, "dynamic_type", n->text ? n->text : "?");
        if (n->elided || !n->nkid) {
            gh_json_kbool(j, "elided", 1);
            break;
        }
        gh_json_key(j, "value");
        jsonv(&n->kid[0], j);
        break;
    case PV_CHAN:
        gh_json_kaddr(j, "addr", n->addr);
        gh_json_ku64(j, "len", n->len);
        gh_json_ku64(j, "cap", n->cap);
        gh_json_kbool(j, "closed", n->closed);
        gh_json_kstr(j, "elem_type", n->text ? n->text : "?");
        break;
    case PV_FUNC:
        gh_json_kaddr(j, "addr", n->addr);
        gh_json_kstr(j, "func", n->text ? n->text : "?");
        break;
    case PV_WORDS:
        gh_json_kbool(j, "untyped", !n->type);
        gh_json_ku64(j, "words_total", n->len);
        gh_json_key(j, "words");
        gh_json_arr(j);
        for (uint32_t i = 0; i < n->nkid; i++) {
            const pv_node *k = &n->kid[i];
            gh_json_obj(j);
            gh_json_ku64(j, "off", k->off);
            if (k->name)
                gh_json_kstr(j, "field", k->name);
            if (k->kind == PV_ERROR) {
                gh_json_kstr(j, "error", k->text ? k->text : "?");
            } else {
                gh_json_kaddr(j, "value", k->kind == PV_UINT ? k->u : k->addr);
                gh_json_kbool(j, "pointer", k->kind != PV_UINT);
                if (k->text)
                    gh_json_kstr(j, "type", k->text);
            }
            gh_json_end(j, '}');
        }
        gh_json_end(j, ']');
        break;
    case PV_ERROR:
        gh_json_kstr(j, "error", n->text ? n->text : "?");
        break;
    default:
        break;
    }
    gh_json_end(j, '}');
}

void pv_render_json(const pv_node *n, gh_json *j) { jsonv(n, j); }
