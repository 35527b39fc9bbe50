/* The command layer every front end shares: the goheap commands (heap,
 * objects, paths, goroutines, ...) by name, with their options, help text,
 * and text or JSON output written to a sink the front end gives. The CLI,
 * the LLDB plugin and the GDB helper register exactly these commands. */
#ifndef GOHEAP_COMMAND_H
#define GOHEAP_COMMAND_H

#include "goheap/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a command's output goes: the CLI writes to stdout, LLDB into an
 * SBCommandReturnObject, tests into a buffer. write may be called many
 * times per command with pieces of lines. */
typedef struct gh_out {
    void (*write)(void *ctx, const char *s, size_t n);
    void *ctx;
    int cols; /* terminal width when the output is a terminal (tables fit it), else 0 */
} gh_out;

/* Runs one command line: argv[0] is the command name ("heap", or "go-heap"),
 * the rest its arguments. "help [COMMAND]" and "COMMAND --help" give help.
 * Output goes to out; on failure returns non-zero with err set (output
 * already written stays written). GH_EINTR when interrupted: a command that
 * can give a partial result (heap) writes it labelled and returns GH_OK. */
GH_API int gh_command_run(gh_session *s, int argc, char **argv, gh_out *out, gh_err *err);

/* For debugger front ends: the index in argv of the argument of this
 * command line that the debugger should evaluate itself, or -1. An ADDR
 * argument (paths, print, whatis, read, retains, dominators, graph) that is
 * neither a number nor an expression of goheap's language (docs/cli.md,
 * "Expressions") is the debugger's: a register ($rsp), a value history or
 * convenience variable ($1, $x), arithmetic; so is one that names a local
 * (a lone name: x, *x, x[1]) when the command line has no --frame
 * GOROUTINE:FRAME, which makes locals goheap's. The front end puts the
 * value it evaluated, as a number, in its place before gh_command_run. */
GH_API int gh_command_debugger_arg(int argc, char **argv);

/* The i-th command's name and one-line summary (summary may be NULL), or
 * NULL past the last: front ends register their commands from this list. */
GH_API const char *gh_command_name(size_t i, const char **summary);
/* Its usage line ("breakdown [--json]"), or NULL past the last. */
GH_API const char *gh_command_usage(size_t i);
/* Its other name ("bt" for goroutine), or NULL when it has none: front
 * ends register it too. */
GH_API const char *gh_command_alias(size_t i);
/* Help for one command (name), or the list of all (name NULL). A name
 * given as "go-NAME" gets help that names every command go-NAME (usage,
 * alias, examples, hints), as a debugger's user types them; so do the
 * errors of gh_command_run given argv[0] "go-NAME". */
GH_API int gh_command_help(const char *name, gh_out *out, gh_err *err);

#ifdef __cplusplus
}
#endif

#endif
