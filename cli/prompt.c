/* The prompt: on a terminal, line editing and history with libedit (its
 * readline-compatible API), the history kept in ~/.goheap_history and
 * command names completed with Tab; from a pipe or a file, plain lines and
 * no prompt. Ctrl-C at the prompt clears the line; during a command it
 * interrupts the command (the session stays). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli.h"

#define MAX_LINE 4096
#define MAX_WORDS 64
#define HISTORY_MAX 1000
#define PROMPT "(goheap) "

int cli_split(char *line, char **argv, int max)
{
    int n = 0;
    char *p = line, *w = line;
    while (*p && n < max) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        argv[n++] = w;
        char q = 0;
        for (; *p && (q || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
            if (!q && (*p == '"' || *p == '\'')) {
                q = *p;
            } else if (q && *p == q) {
                q = 0;
            } else {
                *w++ = *p;
            }
        }
        if (*p)
            p++;
        *w++ = 0;
    }
    return n;
}

/* Runs one line; 1 when it asks to quit. */
static int run_line(gh_session *s, char *line, gh_out *out)
{
    char *argv[MAX_WORDS];
    int argc = cli_split(line, argv, MAX_WORDS);
    if (argc == 0)
        return 0;
    if (!strcmp(argv[0], "quit") || !strcmp(argv[0], "exit"))
        return 1;
    cli_run(s, argc, argv, out);
    return 0;
}

static int plain(gh_session *s, gh_out *out)
{
    char line[MAX_LINE];
    for (;;) {
        if (!fgets(line, sizeof line, stdin)) {
            if (ferror(stdin) && errno == EINTR) {
                clearerr(stdin);
                continue;
            }
            break;
        }
        if (run_line(s, line, out))
            break;
    }
    return 0;
}

/* Tab at the start of a line: the engine's command names, help and quit. */
static char *complete_name(const char *text, int state)
{
    static const char *const extra[] = {"help", "quit"};
    static size_t i;
    size_t ncmd = 0, n = strlen(text);
    while (gh_command_name(ncmd, NULL))
        ncmd++;
    if (!state)
        i = 0;
    while (i < ncmd + 2) {
        const char *name = i < ncmd ? gh_command_name(i, NULL) : extra[i - ncmd];
        i++;
        if (!strncmp(name, text, n))
            return strdup(name);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1; /* no file names */
    return start == 0 ? rl_completion_matches(text, complete_name) : NULL;
}

/* libedit reads a key with read(), which a Ctrl-C arriving while it draws
 * the line does not interrupt: the flag would be set and read() would then
 * wait for the next key. Waiting in short polls and checking the flag
 * between them makes Ctrl-C end the line whenever it comes. */
static int getc_interruptible(FILE *in)
{
    int fd = fileno(in);
    for (;;) {
        if (cli_interrupted)
            return EOF;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 50);
        if (r < 0 && errno != EINTR)
            return EOF;
        if (r <= 0)
            continue;
        unsigned char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 1)
            return c;
        if (n == 0 || errno != EINTR)
            return EOF;
    }
}

static int blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return !*s;
}

static int edit(gh_session *s, gh_out *out)
{
    static char path[4096], last[MAX_LINE];
    const char *home = getenv("HOME");
    int file = home && *home && (size_t)snprintf(path, sizeof path, "%s/.goheap_history", home) < sizeof path;
    rl_readline_name = "goheap";
    rl_catch_signals = 0; /* ours: Ctrl-C makes readline return */
    rl_attempted_completion_function = complete;
    rl_getc_function = getc_interruptible;
    using_history();
    stifle_history(HISTORY_MAX);
    if (file)
        read_history(path); /* none yet is fine */
    for (;;) {
        fflush(stdout);
        cli_interrupted = 0;
        cli_catch_sigint(0);
        char *line = readline(PROMPT);
        cli_catch_sigint(1);
        if (!line && cli_interrupted) {
            fputs("\n", stdout); /* Ctrl-C: the line is dropped, a fresh prompt */
            continue;
        }
        if (!line) {
            fputs("\n", stdout); /* Ctrl-D or the terminal went away */
            break;
        }
        if (!blank(line) && strcmp(line, last)) {
            add_history(line);
            snprintf(last, sizeof last, "%s", line);
        }
        int quit = run_line(s, line, out);
        free(line);
        if (quit)
            break;
    }
    if (file && (write_history(path) || history_truncate_file(path, HISTORY_MAX)))
        fprintf(stderr, "goheap: warning: cannot write the history file %s\n", path);
    return 0;
}

int cli_prompt(gh_session *s, gh_out *out)
{
    return isatty(0) ? edit(s, out) : plain(s, out);
}
