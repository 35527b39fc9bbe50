/* Output sinks, human-readable sizes and the streaming JSON writer. */
#include "base/out.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gh_printf(gh_out *o, const char *fmt, ...)
{
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        o->write(o->ctx, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->write(o->ctx, big, (size_t)n);
    free(big);
}

void gh_puts(gh_out *o, const char *s) { o->write(o->ctx, s, strlen(s)); }

const char *gh_human(uint64_t b, char *buf, size_t cap)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (b < 1024) {
        snprintf(buf, cap, "%" PRIu64 " B", b);
        return buf;
    }
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, "%.1f %s", v, units[u]);
    return buf;
}

void gh_json_init(gh_json *j, gh_out *o)
{
    memset(j, 0, sizeof *j);
    j->o = o;
    j->first[0] = 1;
}

static void sep(gh_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (!j->first[j->depth])
        gh_puts(j->o, ",");
    j->first[j->depth] = 0;
}

static void open_(gh_json *j, const char *c)
{
    sep(j);
    gh_puts(j->o, c);
    if (j->depth < 63)
        j->depth++;
    j->first[j->depth] = 1;
}

void gh_json_obj(gh_json *j) { open_(j, "{"); }
void gh_json_arr(gh_json *j) { open_(j, "["); }

void gh_json_end(gh_json *j, char close)
{
    char s[2] = {close, 0};
    gh_puts(j->o, s);
    if (j->depth > 0)
        j->depth--;
    if (j->depth == 0)
        gh_puts(j->o, "\n");
}

static void raw_str(gh_json *j, const char *s)
{
    char buf[256];
    size_t n = 0;
    buf[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (n > sizeof buf - 8) {
            j->o->write(j->o->ctx, buf, n);
            n = 0;
        }
        if (*p == '"' || *p == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(buf + n, 8, "\\u%04x", *p);
        } else {
            buf[n++] = (char)*p;
        }
    }
    buf[n++] = '"';
    j->o->write(j->o->ctx, buf, n);
}

void gh_json_key(gh_json *j, const char *k)
{
    sep(j);
    raw_str(j, k);
    gh_puts(j->o, ":");
    j->after_key = 1;
}

void gh_json_str(gh_json *j, const char *s)
{
    sep(j);
    raw_str(j, s ? s : "");
}

void gh_json_u64(gh_json *j, uint64_t v)
{
    sep(j);
    gh_printf(j->o, "%" PRIu64, v);
}

void gh_json_i64(gh_json *j, int64_t v)
{
    sep(j);
    gh_printf(j->o, "%" PRId64, v);
}

void gh_json_bool(gh_json *j, int v)
{
    sep(j);
    gh_puts(j->o, v ? "true" : "false");
}

void gh_json_null(gh_json *j)
{
    sep(j);
    gh_puts(j->o, "null");
}

void gh_json_raw(gh_json *j, const char *tok)
{
    sep(j);
    gh_puts(j->o, tok);
}

void gh_json_addr(gh_json *j, uint64_t a)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, a);
    gh_json_str(j, buf);
}

void gh_json_kstr(gh_json *j, const char *k, const char *s) { gh_json_key(j, k); gh_json_str(j, s); }
void gh_json_ku64(gh_json *j, const char *k, uint64_t v) { gh_json_key(j, k); gh_json_u64(j, v); }
void gh_json_ki64(gh_json *j, const char *k, int64_t v) { gh_json_key(j, k); gh_json_i64(j, v); }
void gh_json_kaddr(gh_json *j, const char *k, uint64_t a) { gh_json_key(j, k); gh_json_addr(j, a); }
void gh_json_kbool(gh_json *j, const char *k, int v) { gh_json_key(j, k); gh_json_bool(j, v); }

void gh_json_kdouble(gh_json *j, const char *k, double v)
{
    char tok[48];
    /* A share to two decimals is all a reader needs; never NaN or Inf. */
    snprintf(tok, sizeof tok, "%.2f", v == v && v < 1e300 && v > -1e300 ? v : 0.0);
    gh_json_key(j, k);
    gh_json_raw(j, tok);
}

int gh_out_name_room(const gh_out *o, int used)
{
    if (!o || o->cols <= 0)
        return 0;
    int room = o->cols - used;
    return room < 16 ? 16 : room;
}
