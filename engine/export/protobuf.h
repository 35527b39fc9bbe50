/* A protocol buffers writer for the few messages goheap exports: varints,
 * length-delimited fields and packed repeated fields into a growing buffer.
 * A nested message is written into its own buffer and added as bytes. */
#ifndef GOHEAP_EXPORT_PROTOBUF_H
#define GOHEAP_EXPORT_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct gh_pb {
    uint8_t *p;
    size_t n, cap;
    int oom;     /* sticky: set when a write could not grow the buffer */
} gh_pb;

void gh_pb_varint(gh_pb *b, uint64_t v);
void gh_pb_uint(gh_pb *b, uint32_t field, uint64_t v);   /* varint field, skipped when 0 */
void gh_pb_int(gh_pb *b, uint32_t field, int64_t v);     /* int64 as varint, skipped when 0 */
void gh_pb_bytes(gh_pb *b, uint32_t field, const void *p, size_t n);
void gh_pb_str(gh_pb *b, uint32_t field, const char *s); /* written even when empty */
void gh_pb_msg(gh_pb *b, uint32_t field, const gh_pb *m);
/* Packed repeated varints. */
void gh_pb_packed(gh_pb *b, uint32_t field, const uint64_t *v, size_t n);
void gh_pb_reset(gh_pb *b);
void gh_pb_free(gh_pb *b);

#endif
