/* A snapshot of a live process held in memory: its threads' registers, its
 * mappings, and the bytes copied from them while it was stopped
 * (snapshot.c); written out as an ELF core after it runs again
 * (core_writer.c). */
#ifndef GOHEAP_TARGET_SNAPSHOT_H
#define GOHEAP_TARGET_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "goheap/target.h"

enum { GH_SNAP_FULL = 1 }; /* copy every readable mapping, not only writable ones */

/* Bytes copied from one mapping: [addr, addr + len) is at data + pos. */
typedef struct gh_snap_run {
    uint64_t addr, len, pos;
} gh_snap_run;

typedef struct gh_snap_map {
    uint64_t start, end, pgoff; /* pgoff: offset in the file, bytes */
    unsigned prot;              /* GH_PROT_* */
    int shared;                 /* 's' in maps */
    char *name;                 /* a file; NULL for anonymous memory and [stack], [vdso], ... */
    uint64_t filesz;            /* bytes from start the core holds (copied, or holes of zeros) */
    size_t first_run, nruns;    /* its runs in gh_snap.runs */
} gh_snap_map;

/* The floating point and extended state of one thread, as ptrace gives it
 * (NT_FPREGSET and NT_X86_XSTATE); len 0 when it would not. */
typedef struct gh_snap_fp {
    uint8_t fpregs[512]; /* user_fpregs_struct */
    int has_fpregs;
    uint8_t *xstate;
    size_t xstate_len;
} gh_snap_fp;

typedef struct gh_snap {
    int pid, ppid, pgrp, sid;
    unsigned uid, gid;
    char comm[16], psargs[80];
    gh_thread *threads; /* the process's main thread first */
    gh_snap_fp *fp;     /* per thread */
    size_t nthreads;
    uint8_t *auxv;
    size_t auxv_len;
    gh_snap_map *maps;
    size_t nmaps;
    gh_snap_run *runs;
    size_t nruns;
    uint8_t *data; /* the copies, mmapped */
    size_t data_cap;
    uint64_t copied;     /* bytes copied */
    uint64_t unreadable; /* bytes the process would not give (written as zeros) */
    uint64_t skipped;    /* bytes of present pages left out as the skip function asked */
    double pause_ms;     /* the first thread stopped to the last resumed */
    double stop_ms;      /* of which stopping the threads and reading their registers */
    double copy_ms;      /* and reading the mappings, planning and copying */
    double pause_cpu_ms; /* CPU time spent during the pause (less than pause_ms on a busy machine) */
} gh_snap;

/* Address ranges a snapshot need not copy, asked for while the process is
 * stopped (a layer that knows the Go heap finds its free pages): *ranges
 * holds *n pairs [start, end), page-aligned, in any order, malloc'ed. An
 * error, or none, means copy everything. */
typedef int (*gh_snap_skip_fn)(void *ctx, int pid, uint64_t **ranges, size_t *n);

/* Stops every thread of pid (ptrace), reads their registers and its
 * mappings, copies the memory a core needs (every readable writable private
 * or anonymous mapping, [vdso] and the ELF header pages; with GH_SNAP_FULL
 * every readable mapping), and resumes the process, whatever happened. A
 * process another tracer holds is refused. skip (may be NULL) names ranges
 * of private anonymous memory left out as holes (not with GH_SNAP_FULL).
 * Free with gh_snap_free. */
int gh_snap_take(int pid, unsigned flags, gh_snap_skip_fn skip, void *skip_ctx, gh_snap **out, gh_err *err);
void gh_snap_free(gh_snap *s);

/* The file a snapshot goes to: a temporary file next to path (mode 0600),
 * created before the process is stopped so that a path that cannot be
 * written costs no pause, and renamed over path once complete. */
typedef struct gh_core_out {
    const char *path;
    char *tmp;
    int fd;
} gh_core_out;
int gh_core_out_open(const char *path, gh_core_out *o, gh_err *err);
/* Removes the temporary file (a snapshot that failed). */
void gh_core_out_abandon(gh_core_out *o);

/* Writes s as an ELF core to o and renames it to its path: notes, then one
 * PT_LOAD per mapping; pages of zeros are left as holes. size and disk: the
 * file's apparent size and the bytes it takes on disk. o is closed either
 * way. */
int gh_snap_write(const gh_snap *s, gh_core_out *o, uint64_t *size, uint64_t *disk, gh_err *err);

#endif
