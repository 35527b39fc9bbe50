/* goheap: the standalone command-line front end. */
#include <stdio.h>
#include <string.h>

#include "goheap/error.h"

static const char usage[] =
    "usage: goheap [--exe EXE] CORE [COMMAND [ARGS]]\n"
    "       goheap --pid PID [COMMAND [ARGS]]\n"
    "commands: overview breakdown heap objects paths goroutines goroutine print mappings read\n";

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("goheap 0.1.0\n");
        return 0;
    }
    fprintf(stderr, "goheap: the heap engine is not built yet: no command can run\n");
    return 2;
}
