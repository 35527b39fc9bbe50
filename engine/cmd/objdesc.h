/* Internal: what the engine knows of the heap object holding an address,
 * said the same way by whatis and read: its type and the field there. */
#ifndef GOHEAP_CMD_OBJDESC_H
#define GOHEAP_CMD_OBJDESC_H

#include "base/out.h"
#include "graph/graph.h"
#include "heap/heap.h"
#include "session/session.h"

typedef struct gh_objdesc {
    char type[256];       /* the object's type ("" unknown): the graph's, else the allocator's record */
    char full_type[512];  /* the same with import paths ("" unknown or none) */
    int show_full;        /* text names the type by full_type: its short name is shared, or --full-names */
    char field[256];      /* the field at the address (".User", "[3].Name"), "" none */
    char field_type[256]; /* its type ("" unknown) */
    char field_full_type[512]; /* the same with import paths ("" unknown) */
    int field_show_full;  /* text names the field's type by field_full_type */
    uint64_t sub;         /* in a tiny block: the typed sub-object holding the address, else 0 */
    int gap;              /* in a tiny block, but in none of the objects known in it */
} gh_objdesc;

/* Describes addr inside object o; g may be NULL (no object graph: only the
 * allocator's record types it). */
void gh_objdesc_get(gh_session *s, gh_graph *g, const gh_obj *o, uint64_t addr, gh_objdesc *d);
/* " main.Session", the type after the object's address in a sentence ("" unknown). */
const char *gh_objdesc_type(const gh_objdesc *d, char *buf, size_t cap);
/* ": field .User (string)" or ": in the tiny block, the T at 0x..., field ..." ("" none). */
const char *gh_objdesc_where(const gh_objdesc *d, char *buf, size_t cap);
/* JSON keys "type", "full_type", "field", "field_type", "field_full_type", "sub_object" (or "no_sub_object")
 * of the object. */
void gh_objdesc_json(const gh_objdesc *d, gh_json *j);

#endif
