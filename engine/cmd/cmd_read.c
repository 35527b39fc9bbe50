/* read ADDR [N]: the target's bytes as a hex dump, 16 a line with their
 * ASCII, unreadable ranges said as such, and each 8-byte word that points
 * into an allocated heap object followed by that object. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/objdesc.h"
#include "cmd/render.h"
#include "heap/heapscan.h"
#include "rtype/typename.h"

#define READ_DEFAULT 64
#define READ_MAX (1u << 20)
#define PAGE 4096u
#define LINE 16u

/* Reads [addr, addr+n) page by page: ok[i] says whether byte i was read. */
static void fill(const gh_target *t, uint64_t addr, size_t n, uint8_t *buf, uint8_t *ok)
{
    size_t p = 0;
    while (p < n) {
        uint64_t a = addr + p;
        size_t chunk = PAGE - (size_t)(a & (PAGE - 1));
        if (chunk > n - p)
            chunk = n - p;
        size_t got = t->ops->read(t->ctx, a, buf + p, chunk);
        if (got > chunk)
            got = chunk;
        memset(ok + p, 1, got);
        memset(ok + p + got, 0, chunk - got); /* the rest of the page: unreadable */
        p += chunk;
    }
}

/* The heap object a word points into, with its type and the field there. */
typedef struct target_obj {
    gh_obj o;
    gh_objdesc d;
} target_obj;

static int points_to(gh_session *s, const gh_heap *h, gh_graph *g, uint64_t v, target_obj *to)
{
    if (!h || !gh_heap_find(h, v, &to->o))
        return 0;
    gh_objdesc_get(s, g, &to->o, v, &to->d);
    return 1;
}

static uint64_t word_at(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* amd64 and arm64: little-endian like the host */
}

/* Whether the bytes are in a heap object or hold a pointer into one. */
static int heap_touched(const gh_heap *h, uint64_t addr, size_t n, const uint8_t *buf, const uint8_t *ok)
{
    gh_obj o;
    if (gh_heap_find(h, addr, &o))
        return 1;
    for (size_t i = (size_t)((8 - (addr & 7)) & 7); i + 8 <= n; i += 8)
        if (ok[i] && ok[i + 7] && gh_heap_find(h, word_at(buf + i), &o))
            return 1;
    return 0;
}

static void json_dump(gh_session *s, const gh_heap *h, gh_graph *g, uint64_t addr, size_t n, const uint8_t *buf,
                      const uint8_t *ok, gh_out *out)
{
    static const char hex[] = "0123456789abcdef";
    gh_json j;
    gh_render_begin(&j, out, s);
    gh_json_kaddr(&j, "addr", addr);
    gh_json_ku64(&j, "len", n);
    size_t readable = 0;
    for (size_t i = 0; i < n; i++)
        readable += ok[i];
    gh_json_ku64(&j, "readable", readable);
    target_obj at;
    if (points_to(s, h, g, addr, &at)) { /* the object ADDR is in */
        gh_json_key(&j, "object");
        gh_json_obj(&j);
        gh_json_kaddr(&j, "addr", at.o.addr);
        gh_json_ku64(&j, "size", at.o.size);
        gh_json_ku64(&j, "offset", addr - at.o.addr);
        gh_objdesc_json(&at.d, &j);
        gh_json_end(&j, '}');
    }
    char *hs = malloc(2 * n + 1);
    if (hs) {
        for (size_t i = 0; i < n; i++) {
            hs[2 * i] = ok[i] ? hex[buf[i] >> 4] : '?';
            hs[2 * i + 1] = ok[i] ? hex[buf[i] & 15] : '?';
        }
        hs[2 * n] = 0;
        gh_json_kstr(&j, "bytes", hs);
        free(hs);
    }
    gh_json_key(&j, "unreadable");
    gh_json_arr(&j);
    for (size_t i = 0; i < n;) {
        if (ok[i]) {
            i++;
            continue;
        }
        size_t e = i;
        while (e < n && !ok[e])
            e++;
        gh_json_obj(&j);
        gh_json_kaddr(&j, "start", addr + i);
        gh_json_kaddr(&j, "end", addr + e);
        gh_json_end(&j, '}');
        i = e;
    }
    gh_json_end(&j, ']');
    gh_json_key(&j, "pointers");
    gh_json_arr(&j);
    target_obj to;
    for (size_t i = (size_t)((8 - (addr & 7)) & 7); i + 8 <= n; i += 8) {
        if (!ok[i] || !ok[i + 7] || !points_to(s, h, g, word_at(buf + i), &to))
            continue;
        uint64_t v = word_at(buf + i);
        gh_json_obj(&j);
        gh_json_kaddr(&j, "addr", addr + i);
        gh_json_kaddr(&j, "value", v);
        gh_json_kaddr(&j, "object", to.o.addr);
        gh_json_ku64(&j, "offset", v - to.o.addr);
        gh_json_ku64(&j, "size", to.o.size);
        gh_objdesc_json(&to.d, &j);
        gh_json_end(&j, '}');
    }
    gh_json_end(&j, ']');
    gh_json_end(&j, '}');
}

static void text_line(gh_session *s, const gh_heap *h, gh_graph *g, uint64_t addr, size_t off, size_t len,
                      const uint8_t *buf, const uint8_t *ok, gh_out *out)
{
    char line[128];
    size_t k = (size_t)snprintf(line, sizeof line, "0x%012" PRIx64 ": ", addr + off);
    for (size_t i = 0; i < LINE; i++) {
        if (i == 8)
            line[k++] = ' ';
        if (i >= len)
            k += (size_t)snprintf(line + k, sizeof line - k, "   ");
        else if (!ok[off + i])
            k += (size_t)snprintf(line + k, sizeof line - k, "?? ");
        else
            k += (size_t)snprintf(line + k, sizeof line - k, "%02x ", buf[off + i]);
    }
    line[k++] = ' ';
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[off + i];
        line[k++] = !ok[off + i] ? '?' : c >= 0x20 && c < 0x7f ? (char)c : '.';
    }
    line[k] = 0;
    gh_printf(out, "%s\n", line);
    target_obj to;
    for (size_t i = off; i < off + len; i++) {
        uint64_t a = addr + i;
        if ((a & 7) || i + 8 > off + len || !ok[i] || !ok[i + 7] || !points_to(s, h, g, word_at(buf + i), &to))
            continue;
        uint64_t v = word_at(buf + i);
        char tb[600], wb[1800];
        gh_printf(out, "    0x%" PRIx64 " -> %" PRIu64 " bytes into heap object 0x%" PRIx64 "%s (%" PRIu64 " bytes)%s\n",
                  a, v - to.o.addr, to.o.addr, gh_objdesc_type(&to.d, tb, sizeof tb), to.o.size,
                  gh_objdesc_where(&to.d, wb, sizeof wb));
    }
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr, n = READ_DEFAULT;
    int rc = gh_cmd_addr(s, a->pos[0], "read", &addr, err);
    if (rc || (a->npos > 1 && (rc = gh_parse_u64(a->pos[1], "byte count", &n, err))))
        return rc;
    if (n == 0 || n > READ_MAX)
        return gh_errorf(err, GH_EARG, "read: the byte count must be 1 to %u, not %" PRIu64, READ_MAX, n);
    if (addr > UINT64_MAX - (n - 1))
        return gh_errorf(err, GH_EARG, "read: 0x%" PRIx64 " + %" PRIu64 " passes the end of the address space", addr,
                         n);
    uint8_t *buf = malloc(n), *ok = malloc(n);
    if (!buf || !ok) {
        free(buf);
        free(ok);
        return gh_errorf(err, GH_ENOMEM, "out of memory for %" PRIu64 " bytes", n);
    }
    fill(s->t, addr, (size_t)n, buf, ok);
    gh_heap *h;
    gh_err e;
    if (gh_session_heap(s, &h, &e))
        h = NULL; /* no annotations, the bytes still stand */
    /* Objects typed as paths and objects type them (the object graph),
     * built only when the bytes touch the heap. */
    gh_graph *g = NULL;
    if (h && heap_touched(h, addr, (size_t)n, buf, ok) && (rc = gh_session_graph(s, &g, &e))) {
        if (rc == GH_EINTR) {
            free(buf);
            free(ok);
            return gh_errorf(err, rc, "%s", e.msg);
        }
        g = NULL;
    }
    target_obj at;
    if (a->val[0]) {
        json_dump(s, h, g, addr, (size_t)n, buf, ok, out);
    } else {
        for (size_t off = 0; off < n;) {
            size_t len = n - off < LINE ? (size_t)(n - off) : LINE;
            size_t bad = 0;
            while (off + bad < n && !ok[off + bad])
                bad++;
            if (bad >= len) {
                /* A whole unreadable line or more: one line for the run. */
                size_t end = off + bad;
                if (end < n)
                    end = off + (bad / LINE) * LINE;
                gh_printf(out, "0x%012" PRIx64 " : unreadable (%zu bytes, through 0x%" PRIx64 ")\n", addr + off,
                          end - off, addr + end - 1);
                off = end;
                continue;
            }
            text_line(s, h, g, addr, off, len, buf, ok, out);
            off += len;
            if (gh_session_interrupted(s)) {
                free(buf);
                free(ok);
                return gh_errorf(err, GH_EINTR, "interrupted");
            }
        }
        char tb[600], wb[1800];
        if (points_to(s, h, g, addr, &at)) /* what ADDR is, as whatis says it */
            gh_printf(out, "0x%" PRIx64 " is %" PRIu64 " bytes into the heap object at 0x%" PRIx64 "%s (slot size %" PRIu64
                           ")%s\n",
                      addr, addr - at.o.addr, at.o.addr, gh_objdesc_type(&at.d, tb, sizeof tb), at.o.size,
                      gh_objdesc_where(&at.d, wb, sizeof wb));
    }
    free(buf);
    free(ok);
    return GH_OK;
}

static const gh_optspec opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_read = {
    .name = "read",
    .summary = "hex dump of the target's memory, pointers into heap objects named",
    .usage = "read ADDR [N] [--json]",
    .opts = opts,
    .example = "read 0xc000010000 128",
    .addr_arg = 1,
    .min_pos = 1,
    .max_pos = 2,
    .run = run,
};
