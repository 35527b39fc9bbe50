/* Renderers several commands share: the JSON envelope every command's JSON
 * document opens with, a root (in paths, roots and goroutine output), and
 * human-readable root titles. */
#ifndef GOHEAP_CMD_RENDER_H
#define GOHEAP_CMD_RENDER_H

#include "base/out.h"
#include "roots/roots.h"
#include "session/session.h"

/* Starts a command's JSON document: {"go_version": ... The command adds its
 * keys and ends with gh_json_end(j, '}'). */
void gh_render_begin(gh_json *j, gh_out *out, const gh_session *s);

/* A root as a JSON object: kind, name, goroutine/function/variable (stack
 * roots), addr or "where": "registers", object (finalizers). With detail
 * (roots --list): size, pointer_words, conservative, rtype, dwarf_type, via
 * and the non-zero pointer values, read through t. */
void gh_render_root_json(gh_json *j, const gh_root *r, const gh_target *t, int detail);

/* "global main.X", "stack: goroutine 7 main.f (v)", "finalizer at 0x...":
 * a path's first line. */
void gh_render_root_title(const gh_root *r, char *buf, size_t cap);
/* "goroutine 7 main.f v", "main.X", "fn (object 0x...)": a roots --list cell. */
void gh_render_root_cell(const gh_root *r, char *buf, size_t cap);

/* Pointer words of a root region (all of a conservative or unmasked one). */
uint64_t gh_root_pointer_words(const gh_root *r);

#endif
