/* Internal: the command table and argument parsing shared by commands. */
#ifndef GOHEAP_CMD_CMD_H
#define GOHEAP_CMD_CMD_H

#include "goheap/command.h"
#include "print/expr.h"
#include "session/session.h"

typedef struct gh_optspec {
    const char *name; /* "--top" */
    int has_arg;
    const char *help;
} gh_optspec;

#define GH_MAX_OPTS 16
#define GH_MAX_POS 16

typedef struct gh_args {
    const char *val[GH_MAX_OPTS]; /* per spec entry: NULL absent, "" flag set, else the value */
    char *pos[GH_MAX_POS];
    int npos;
    const char *prefix; /* "go-" when typed in a debugger, else "": for names in hints */
} gh_args;

typedef struct gh_command {
    const char *name;
    const char *alias;
    const char *summary;
    const char *usage;
    const gh_optspec *opts; /* terminated by a NULL name */
    const char *example;
    int min_pos, max_pos;
    int addr_arg; /* the first positional argument is an ADDR: a number or an expression (cmd_expr.c) */
    int (*run)(gh_session *s, const gh_args *a, gh_out *out, gh_err *err);
} gh_command;

/* Parses a uint64 in decimal or 0x hex; GH_EARG with a message naming what. */
int gh_parse_u64(const char *s, const char *what, uint64_t *v, gh_err *err);
/* An ADDR argument: a number or an expression (print/expr.h), as the address
 * the command takes from its value; errors prefixed with cmd ("paths"). */
int gh_cmd_addr(gh_session *s, const char *text, const char *cmd, uint64_t *addr, gh_err *err);
/* The same, the value itself, evaluated with type table ty (NULL: its own).
 * A value held in registers (a local, --frame) reads from *ov, which the
 * caller keeps while it reads the value (through ov->t). */
int gh_cmd_eval(gh_session *s, const char *text, const char *cmd, gh_types *ty, gh_overlay *ov, gh_xval *v,
                gh_err *err);

/* Frame i of goroutine g (an index into g->frames) for reading its
 * variables as --frame would: f->vars (a copy) and its registers where the
 * target still holds them (regs: GH_MAX_NREGS words, kept by the caller).
 * Close with gh_cmd_frame_done. */
int gh_cmd_frame_open(gh_session *s, const gh_goroutine *g, size_t i, gh_expr_frame *f, uint64_t *regs,
                      gh_err *err);
void gh_cmd_frame_done(gh_expr_frame *f);

/* A goroutine's variables, frame by frame (goroutine ID --locals): what
 * DWARF places at each physical frame's pc, read as --frame reads them. */
typedef struct gh_glocal {
    uint32_t pframe;     /* its physical frame (g->pframes) */
    const char *name;    /* DWARF's (the executable's, valid with the session) */
    char type[160];
    int param;           /* an argument */
    int in_registers;    /* read from the frame's registers, all or in part */
    const char *why;     /* no value: why (short, static) */
    char *line;          /* the value on one line (NULL with why) */
    pv_node value;       /* the value (kind 0 and no kids with why) */
} gh_glocal;

typedef struct gh_glocals {
    gh_glocal *v;
    size_t n;
} gh_glocals;

/* Reads every frame's variables of g; gr (may be NULL) types the objects
 * pointers reach. GH_OK with what could be read; an error only for memory. */
int gh_cmd_goroutine_locals(gh_session *s, const gh_goroutine *g, gh_graph *gr, gh_glocals *out, gh_err *err);
void gh_glocals_free(gh_glocals *l);
/* Parses a percentage, 0 to 100. */
int gh_parse_percent(const char *s, const char *what, double *v, gh_err *err);

extern const gh_command gh_cmd_print;
extern const gh_command gh_cmd_overview, gh_cmd_breakdown, gh_cmd_whatis, gh_cmd_verify, gh_cmd_layout,
    gh_cmd_roots, gh_cmd_heap, gh_cmd_objects, gh_cmd_paths, gh_cmd_goroutines, gh_cmd_goroutine;
extern const gh_command gh_cmd_mappings, gh_cmd_read;
extern const gh_command gh_cmd_top, gh_cmd_retains, gh_cmd_dominators, gh_cmd_suspects, gh_cmd_pprof, gh_cmd_graph, gh_cmd_diff,
    gh_cmd_sites;

#endif
