/* Command dispatch, argument parsing and help: one place for every front end. */
#include "cmd/cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const gh_command *const commands[] = {
    &gh_cmd_overview,
    &gh_cmd_heap,
    &gh_cmd_objects,
    &gh_cmd_paths,
    &gh_cmd_top,
    &gh_cmd_retains,
    &gh_cmd_dominators,
    &gh_cmd_suspects,
    &gh_cmd_pprof,
    &gh_cmd_graph,
    &gh_cmd_diff,
    &gh_cmd_sites,
    &gh_cmd_breakdown,
    &gh_cmd_whatis,
    &gh_cmd_print,
    &gh_cmd_verify,
    &gh_cmd_layout,
    &gh_cmd_roots,
    &gh_cmd_goroutines,
    &gh_cmd_goroutine,
    &gh_cmd_mappings,
    &gh_cmd_read,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const char *gh_command_name(size_t i, const char **summary)
{
    if (i >= NCOMMANDS)
        return NULL;
    if (summary)
        *summary = commands[i]->summary;
    return commands[i]->name;
}

const char *gh_command_usage(size_t i)
{
    return i < NCOMMANDS ? commands[i]->usage : NULL;
}

const char *gh_command_alias(size_t i)
{
    return i < NCOMMANDS ? commands[i]->alias : NULL;
}

/* The prefix the user typed the command with: "go-" inside a debugger,
 * where every name the command prints carries it too. */
static const char *prefix_of(const char *name) { return strncmp(name, "go-", 3) == 0 ? "go-" : ""; }

static const gh_command *find(const char *name)
{
    name += strlen(prefix_of(name));
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i]->name, name) || (commands[i]->alias && !strcmp(commands[i]->alias, name)))
            return commands[i];
    return NULL;
}

static int is_command(const char *w, size_t n)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if ((strlen(commands[i]->name) == n && !strncmp(commands[i]->name, w, n)) ||
            (commands[i]->alias && strlen(commands[i]->alias) == n && !strncmp(commands[i]->alias, w, n)))
            return 1;
    return 0;
}

/* Copies s to buf with pfx before every command name the text refers the
 * user to: a leading "NAME: ", and NAME after "see", "help" or "NAME and"
 * ("(see whatis)", "see 'help heap'", "see top and dominators"). */
static void name_commands(const char *s, const char *pfx, char *buf, size_t cap)
{
    size_t o = 0, np = strlen(pfx);
    int after_ref = 0, after_name = 0, first = 1;
    if (!cap)
        return;
    while (*s && o + 1 < cap) {
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz-");
        if (!n) {
            buf[o++] = *s++;
            continue;
        }
        int cmd = np && is_command(s, n);
        int lead = first && s[n] == ':';
        if (cmd && (lead || after_ref || after_name) && o + np + 1 < cap) {
            memcpy(buf + o, pfx, np);
            o += np;
        }
        after_name = after_name ? (n == 3 && !strncmp(s, "and", 3)) : 0;
        if (cmd && (lead || after_ref))
            after_name = 1;
        after_ref = (n == 3 && !strncmp(s, "see", 3)) || (n == 4 && !strncmp(s, "help", 4));
        first = 0;
        for (size_t k = 0; k < n && o + 1 < cap; k++)
            buf[o++] = *s++;
    }
    buf[o] = 0;
}

int gh_parse_u64(const char *s, const char *what, uint64_t *v, gh_err *err)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (*s == '-' && s[1] >= '0' && s[1] <= '9' && !*end) /* "--top -5" */
        return gh_errorf(err, GH_EARG, "%s: must be 0 or more, not %.40s", what, s);
    if (!*s || *end || errno || *s == '-')
        return gh_errorf(err, GH_EARG, "%s: not a number: \"%.40s\"", what, s);
    *v = x;
    return GH_OK;
}

int gh_parse_percent(const char *s, const char *what, double *v, gh_err *err)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (!*s || *end || errno || !(x >= 0 && x <= 100))
        return gh_errorf(err, GH_EARG, "%s: not a percentage from 0 to 100: \"%.40s\"", what, s);
    *v = x;
    return GH_OK;
}

static int parse(const gh_command *c, int argc, char **argv, gh_args *a, gh_err *err)
{
    memset(a, 0, sizeof *a);
    const char *p = a->prefix = prefix_of(argv[0]);
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        /* --name[=value], or a one-letter option a command lists ("-o") */
        int shortopt = arg[0] == '-' && arg[1] && arg[1] != '-' && !arg[2];
        for (int j = 0; shortopt && c->opts && c->opts[j].name; j++)
            shortopt = strcmp(c->opts[j].name, arg) ? shortopt : 2;
        if ((arg[0] == '-' && arg[1] == '-' && arg[2]) || shortopt == 2) {
            const char *eq = strchr(arg, '=');
            size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
            int k = -1;
            for (int j = 0; c->opts && c->opts[j].name; j++)
                if (strlen(c->opts[j].name) == len && !strncmp(c->opts[j].name, arg, len))
                    k = j;
            if (k < 0)
                return gh_errorf(err, GH_EARG, "%s%s: unknown option %.*s (see 'help %s%s')", p, c->name, (int)len,
                                 arg, p, c->name);
            if (!c->opts[k].has_arg) {
                if (eq)
                    return gh_errorf(err, GH_EARG, "%s%s: option %s takes no value", p, c->name, c->opts[k].name);
                a->val[k] = "";
            } else if (eq) {
                a->val[k] = eq + 1;
            } else if (i + 1 < argc) {
                a->val[k] = argv[++i];
            } else {
                return gh_errorf(err, GH_EARG, "%s%s: option %s needs a value", p, c->name, c->opts[k].name);
            }
            continue;
        }
        if (a->npos == GH_MAX_POS)
            return gh_errorf(err, GH_EARG, "%s%s: too many arguments", p, c->name);
        a->pos[a->npos++] = arg;
    }
    if (a->npos < c->min_pos || a->npos > c->max_pos)
        return gh_errorf(err, GH_EARG, "%s%s: wrong number of arguments; usage: %s%s", p, c->name, p, c->usage);
    return GH_OK;
}

/* Every name in it as the user types it (p: "go-" in a debugger). */
static void help_one(const gh_command *c, const char *p, gh_out *out)
{
    gh_printf(out, "%s%s — %s\n\nusage: %s%s\n", p, c->name, c->summary, p, c->usage);
    if (c->alias)
        gh_printf(out, "alias: %s%s\n", p, c->alias);
    if (c->opts && c->opts[0].name) {
        gh_puts(out, "\noptions:\n");
        for (int j = 0; c->opts[j].name; j++) {
            char help[512];
            name_commands(c->opts[j].help, p, help, sizeof help);
            gh_printf(out, "  %-16s %s\n", c->opts[j].name, help);
        }
        if (c->addr_arg) { /* common_opts takes it out before the command's own */
            char help[512];
            name_commands("a lone name in ADDR is a local of goroutine G's frame F: a function (main.worker) or the "
                          "frame's number as its backtrace lists it (see goroutine); --frame G: where G is", p, help, sizeof help);
            gh_printf(out, "  %-16s %s\n", "--frame G:F", help);
        }
    }
    if (c->example)
        gh_printf(out, "\nexample:\n  %s%s\n", p, c->example);
}

int gh_command_help(const char *name, gh_out *out, gh_err *err)
{
    if (name) {
        const gh_command *c = find(name);
        if (!c)
            return gh_errorf(err, GH_EARG, "no command \"%s\" (try 'help')", name);
        help_one(c, prefix_of(name), out);
        return GH_OK;
    }
    gh_puts(out, "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        gh_printf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    gh_puts(out, "\n'help COMMAND' or 'COMMAND --help' for one command.\n");
    return GH_OK;
}

/* The options every command takes, taken out of argv into args (256 of
 * them): --full-names, and --frame GOROUTINE:FRAME (used by the commands
 * with an address argument, ignored by the others, so that a debugger can
 * name its selected frame to any command). Returns -1 (err set) on a bad
 * one, else their count. */
static int common_opts(int argc, char **argv, char **args, int *full, const char **frame, gh_err *err)
{
    int n = 0;
    *full = 0;
    *frame = NULL;
    for (int i = 0; i < argc; i++) {
        if (i && !strcmp(argv[i], "--full-names")) {
            *full = 1;
            continue;
        }
        if (i && (!strcmp(argv[i], "--frame") || !strncmp(argv[i], "--frame=", 8))) {
            if (argv[i][7] == '=')
                *frame = argv[i] + 8;
            else if (i + 1 < argc)
                *frame = argv[++i];
            else
                return gh_errorf(err, GH_EARG, "%s: option --frame needs a value (GOROUTINE:FRAME)", argv[0]), -1;
            continue;
        }
        if (n == 256)
            return gh_errorf(err, GH_EARG, "%s: too many arguments", argv[0]), -1;
        args[n++] = argv[i];
    }
    return n;
}

int gh_command_debugger_arg(int argc, char **argv)
{
    const gh_command *c = argc > 0 ? find(argv[0]) : NULL;
    gh_args a;
    char *args[256];
    int full;
    const char *frame;
    int n = c ? common_opts(argc, argv, args, &full, &frame, NULL) : -1;
    if (!c || !c->addr_arg || n < 0 || parse(c, n, args, &a, NULL) || a.npos < 1)
        return -1;
    uint64_t v;
    gh_expr *e = NULL;
    if (gh_expr_number(a.pos[0], &v))
        return -1; /* goheap's own */
    if (gh_expr_parse(a.pos[0], &e, NULL) == GH_OK) {
        /* A local is goheap's when --frame names its frame, else the
         * debugger's (a C local, or a Go one gdb knows). */
        int debuggers = gh_expr_uses_local(e) && !frame;
        gh_expr_free(e);
        if (!debuggers)
            return -1;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i] == a.pos[0])
            return i;
    return -1;
}

int gh_command_run(gh_session *s, int argc, char **argv, gh_out *out, gh_err *err)
{
    if (argc < 1)
        return gh_errorf(err, GH_EARG, "no command given (try 'help')");
    if (!strcmp(argv[0], "help"))
        return gh_command_help(argc > 1 ? argv[1] : NULL, out, err);
    const gh_command *c = find(argv[0]);
    if (!c)
        return gh_errorf(err, GH_EARG, "no command \"%s\" (try 'help')", argv[0]);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return gh_command_help(argv[0], out, err);
    /* --full-names, which every command takes: type names with their import
     * paths in text (JSON always has both); --frame, which names the frame
     * an address argument's locals are in. */
    char *args[256];
    int full;
    const char *frame;
    int n = common_opts(argc, argv, args, &full, &frame, err);
    if (n < 0)
        return err ? err->code : GH_EARG;
    argc = n;
    argv = args;
    gh_args a;
    gh_session_refresh(s);
    int rc = parse(c, argc, argv, &a, err);
    if (rc)
        return rc;
    int was_full = s->full_names;
    s->full_names |= full;
    s->frame = frame;
    /* The command's own time: all of it but the model phases it caused. */
    gh_clock c0 = gh_clock_now(), before = {0}, after = {0};
    for (int k = 0; k < GH_PHASE_COMMAND; k++)
        before.wall += s->phase[k].wall, before.cpu += s->phase[k].cpu;
    rc = c->run(s, &a, out, err);
    s->full_names = was_full;
    s->frame = NULL;
    for (int k = 0; k < GH_PHASE_COMMAND; k++)
        after.wall += s->phase[k].wall, after.cpu += s->phase[k].cpu;
    gh_clock_add(&s->phase[GH_PHASE_COMMAND], c0);
    s->phase[GH_PHASE_COMMAND].wall -= after.wall - before.wall;
    s->phase[GH_PHASE_COMMAND].cpu -= after.cpu - before.cpu;
    if (rc && err && *a.prefix) { /* "see whatis" names go-whatis in a debugger */
        char msg[sizeof err->msg];
        name_commands(err->msg, a.prefix, msg, sizeof msg);
        memcpy(err->msg, msg, sizeof msg);
    }
    return rc;
}
