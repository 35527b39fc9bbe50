/* The native half of the gdb adapter, linked into the goheap binary:
 *   goheap --from-gdb COMMAND        run COMMAND on the session gdb has (gdb's
 *                                    'info inferiors' and 'info files' on stdin)
 *   goheap --gdb-free NAME...        which NAMEs gdb (its 'help all' on stdin)
 *                                    does not have yet: exit code is a bitmask
 *   goheap --gdb-commands GOHEAP     the go-* define/document blocks of
 *                                    goheap.gdb, calling the binary GOHEAP
 * See docs/gdb.md. */
#ifndef GOHEAP_FROMGDB_H
#define GOHEAP_FROMGDB_H

/* Whether argv[1] selects one of the modes above. */
int gh_gdb_mode(int argc, char **argv);

/* Runs that mode; returns the process exit code. */
int gh_gdb_main(int argc, char **argv);

#endif
