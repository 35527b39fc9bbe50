/* Output sinks and formatting shared by every front end: the CLI writes to
 * stdout, LLDB into an SBCommandReturnObject, tests into a buffer. */
#ifndef GOHEAP_BASE_OUT_H
#define GOHEAP_BASE_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "goheap/command.h" /* gh_out */

/* The longest name a table row may print when prefix columns take used
 * characters (0: no limit). Names longer are cut with "...". */
int gh_out_name_room(const gh_out *o, int used);

void gh_printf(gh_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gh_puts(gh_out *o, const char *s);

/* "1.5 MiB", "312 B": human-readable size into buf. */
const char *gh_human(uint64_t bytes, char *buf, size_t cap);

/* A minimal streaming JSON writer: it tracks commas, escapes strings. */
typedef struct gh_json {
    gh_out *o;
    int depth;
    unsigned char first[64]; /* per depth: no element written yet */
    int after_key;
} gh_json;

void gh_json_init(gh_json *j, gh_out *o);
void gh_json_obj(gh_json *j);   /* { */
void gh_json_arr(gh_json *j);   /* [ */
void gh_json_end(gh_json *j, char close); /* } or ] */
void gh_json_key(gh_json *j, const char *k);
void gh_json_str(gh_json *j, const char *s);
void gh_json_u64(gh_json *j, uint64_t v);
void gh_json_i64(gh_json *j, int64_t v);
void gh_json_bool(gh_json *j, int v);
void gh_json_null(gh_json *j);
void gh_json_addr(gh_json *j, uint64_t a); /* "0x..." */
/* A token the caller formatted as valid JSON (a number, an escaped string). */
void gh_json_raw(gh_json *j, const char *tok);
/* key + value shorthands */
void gh_json_kstr(gh_json *j, const char *k, const char *s);
void gh_json_ku64(gh_json *j, const char *k, uint64_t v);
void gh_json_ki64(gh_json *j, const char *k, int64_t v);
void gh_json_kaddr(gh_json *j, const char *k, uint64_t a);
void gh_json_kbool(gh_json *j, const char *k, int v);
void gh_json_kdouble(gh_json *j, const char *k, double v); /* two decimals */

#endif
