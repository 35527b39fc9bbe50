/* The protocol buffers writer (protobuf.h). */
#include "export/protobuf.h"

#include <stdlib.h>
#include <string.h>

#include "base/vec.h"

static void put(gh_pb *b, const void *p, size_t n)
{
    if (b->oom || !n)
        return;
    if (b->n + n > b->cap && gh_grow(&b->p, &b->cap, b->n + n, 1)) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

void gh_pb_varint(gh_pb *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(b, t, n);
}

static void key(gh_pb *b, uint32_t field, uint32_t wire) { gh_pb_varint(b, (uint64_t)field << 3 | wire); }

void gh_pb_uint(gh_pb *b, uint32_t field, uint64_t v)
{
    if (!v)
        return;
    key(b, field, 0);
    gh_pb_varint(b, v);
}

void gh_pb_int(gh_pb *b, uint32_t field, int64_t v) { gh_pb_uint(b, field, (uint64_t)v); }

void gh_pb_bytes(gh_pb *b, uint32_t field, const void *p, size_t n)
{
    key(b, field, 2);
    gh_pb_varint(b, n);
    put(b, p, n);
}

void gh_pb_str(gh_pb *b, uint32_t field, const char *s) { gh_pb_bytes(b, field, s, strlen(s)); }

void gh_pb_msg(gh_pb *b, uint32_t field, const gh_pb *m)
{
    if (m->oom)
        b->oom = 1;
    gh_pb_bytes(b, field, m->p, m->n);
}

void gh_pb_packed(gh_pb *b, uint32_t field, const uint64_t *v, size_t n)
{
    gh_pb t = {0};
    for (size_t i = 0; i < n; i++)
        gh_pb_varint(&t, v[i]);
    gh_pb_msg(b, field, &t);
    gh_pb_free(&t);
}

void gh_pb_reset(gh_pb *b)
{
    b->n = 0;
    b->oom = 0;
}

void gh_pb_free(gh_pb *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
