/* Internal: goheap's expression language, the one every front end's ADDR
 * arguments take (docs/cli.md, "Expressions"). Go-like, over the program's
 * globals and the heap:
 *
 *   expr    := unary
 *   unary   := '*' unary | '&' unary | '-' NUMBER | postfix
 *   postfix := primary { '.' NAME | '[' expr ']' | '.' '(' TYPE ')' }
 *   primary := NUMBER | STRING | NAME | NAME '.' NAME | STRING '.' NAME
 *            | '(' '*' TYPE ')' '(' expr ')' | '(' expr ')'
 *
 * A global is package.name (main.sessions) or "import/path".name
 * ("net/http".DefaultClient); a lone NAME is a local of the frame the
 * command's --frame names (held), and so is the first name of NAME.NAME
 * when that frame has a local of that name (held.Items: as in Go, a local
 * hides a package of its name). Without --frame a lone NAME is an error in
 * goheap and a debugger's to evaluate inside lldb and gdb.
 * NUMBER is decimal or 0x hex; STRING a Go string literal ("..." with
 * escapes, or `raw`), used as a map key. (*T)(x) makes x a pointer to T,
 * T as Go names it (main.Session, []uint8, map.group[string]*main.Session);
 * x.(T) is the dynamic value of interface x when its dynamic type is T.
 *
 * expr_parse.c turns text into a tree (no target needed: tests/unit), and
 * expr_eval.c evaluates it over the target's memory, every read bounds-
 * checked. Errors are one line naming the part of the text that failed. */
#ifndef GOHEAP_PRINT_EXPR_H
#define GOHEAP_PRINT_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "binary/exe.h"
#include "dwarf/dwarfvars.h"
#include "dwarf/framevars.h"
#include "print/printval.h"
#include "target/overlay.h"

#define GX_MAX_TEXT 4096  /* bytes of one expression */
#define GX_MAX_NODES 256  /* nodes of one tree */
#define GX_MAX_DEPTH 64   /* nesting */

typedef enum {
    GX_NUM,    /* num (neg: written with a minus) */
    GX_STR,    /* str, slen: the literal's bytes */
    GX_GLOBAL, /* str: "pkg.name" or "import/path.name"; quoted: the package was a string */
    GX_LOCAL,  /* str: a lone name, a local of the selected frame */
    GX_FIELD,  /* a.str */
    GX_INDEX,  /* a[b] */
    GX_DEREF,  /* *a */
    GX_ADDR,   /* &a */
    GX_CONV,   /* (*str)(a) */
    GX_ASSERT, /* a.(str): an interface's dynamic value, when its type is str */
} gx_op;

typedef struct gx_node {
    gx_op op;
    int a, b;          /* operands, -1 none */
    uint64_t num;
    int neg, quoted;
    char *str;
    size_t slen;
    size_t from, to;   /* the node's text: src[from, to) */
} gx_node;

typedef struct gh_expr {
    char *src;
    gx_node *n;
    size_t nn, cap;
    int root;
} gh_expr;

/* Parses text; GH_EARG with a one-line message (what, and where) when it is
 * not an expression of the language. */
int gh_expr_parse(const char *text, gh_expr **out, gh_err *err);
void gh_expr_free(gh_expr *e);
/* The tree as an S-expression, for tests: (index (global main.m) (str "k")). */
void gh_expr_format(const gh_expr *e, char *buf, size_t cap);
/* Whether e names a local anywhere (a lone NAME). */
int gh_expr_uses_local(const gh_expr *e);
/* Whether text is a plain number (decimal or 0x hex), the value in *v. */
int gh_expr_number(const char *text, uint64_t *v);

/* What an expression evaluates to. */
typedef enum {
    GX_V_NUM, /* a number: v */
    GX_V_MEM, /* a value of type type stored at addr (type {0,0}: unknown, size bytes) */
    GX_V_PTR, /* a pointer value v to a type (its pointee), held nowhere (&x, (*T)(n)) */
} gx_vkind;

typedef struct gh_xval {
    gx_vkind kind;
    uint64_t v, addr, size;
    pv_tref type;
} gh_xval;

/* What evaluation reads with: c's types (c->g may be NULL), the DWARF
 * variables for typed globals, and the executable's symbols (bias: the load
 * bias) for globals DWARF does not describe. */
typedef struct gh_expr_frame {
    const char *function; /* as a traceback prints it, for messages */
    uint64_t fp;          /* the CFA: its variables are at fp + cfa_off */
    const gh_fvar *vars;  /* every part of every variable at its pc (gh_framevars_parts_at) */
    size_t nvars;
    /* The frame's registers where the target still holds them
     * (gh_goroutine_frame_regs): a bit of known per index of regs. */
    const gh_arch *arch;
    const uint64_t *regs;
    uint64_t known;
    /* Where a variable held in registers, all or in part, is assembled to
     * be read (target/overlay.h); NULL: such variables are errors. */
    gh_overlay *overlay;
} gh_expr_frame;

typedef struct gh_expr_env {
    pv_ctx *c;
    gh_dwarf_vars *dv;
    const gh_exe *exe;
    uint64_t bias;
    const gh_expr_frame *frame; /* locals' frame (--frame), NULL none */
    const char *no_frame;       /* why a debugger's selected frame (--frame @CFA) gave none: said for a lone name */
} gh_expr_env;

int gh_expr_eval(const gh_expr *e, gh_expr_env *env, gh_xval *out, gh_err *err);

/* The variable whose parts start at env->frame->vars[at], as its lone name
 * gives it (a frame's locals listed one by one, shadowed ones too). On an
 * error *why is a short reason ("optimized out at this pc") when the
 * variable has no place goheap can read, NULL otherwise. */
int gh_expr_frame_var(gh_expr_env *env, size_t at, gh_xval *v, const char **why, gh_err *err);

/* The address an ADDR command takes from a value: a number itself; a
 * pointer, map, chan or func its value (the object it refers to); a slice
 * or string its data pointer; an interface its data word; any other value
 * (a struct, an array, a number in memory) where it is stored. GH_ENOENT
 * for a nil value, named by text. */
int gh_expr_address(gh_expr_env *env, const gh_xval *v, const char *text, uint64_t *addr, gh_err *err);

#endif
