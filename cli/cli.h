/* What the CLI's files share: the interrupt flag, running one command line,
 * and the prompt. */
#ifndef GOHEAP_CLI_H
#define GOHEAP_CLI_H

#include "goheap/goheap.h"

/* Set by SIGINT; the session's interrupt flag. */
extern volatile int cli_interrupted;

/* Installs the SIGINT handler. restart: interrupted system calls resume
 * (while commands run); without, they fail with EINTR (while the prompt
 * waits, so the line editor returns and the line is cleared). */
void cli_catch_sigint(int restart);

/* Runs one command line; 0, 1 on an error (said on stderr), 130 when it was
 * interrupted. */
int cli_run(gh_session *s, int argc, char **argv, gh_out *out);

/* Reads commands until quit or end of input: with line editing and history
 * (~/.goheap_history) when stdin is a terminal, plain lines otherwise. */
int cli_prompt(gh_session *s, gh_out *out);

/* goheap --pid PID snapshot OUT [--full] [--json] (argv[0] is "snapshot"):
 * 0, 1 on an error, 2 on a usage error. */
int cli_snapshot(int pid, int argc, char **argv);

/* Splits a line into words; "double" and 'single' quotes group spaces. */
int cli_split(char *line, char **argv, int max);

#endif
