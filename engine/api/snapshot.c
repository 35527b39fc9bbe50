/* Public API: gh_snapshot, a core file of a running Go process (the pause
 * in target/snapshot.c, the file in target/core_writer.c). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "binary/exe.h"
#include "target/snapshot.h"

/* Refused before the process is stopped: only Go programs are worth a
 * snapshot here, and the check reads the executable, not the process. */
static int check_go(int pid, gh_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    if (access(path, F_OK) != 0) {
        snprintf(path, sizeof path, "/proc/%d", pid);
        return access(path, F_OK) == 0 ? gh_errorf(err, GH_EIO, "cannot read the executable of process %d", pid)
                                       : gh_errorf(err, GH_EARG, "no process %d", pid);
    }
    gh_exe *e;
    int rc = gh_exe_open(path, &e, err);
    if (rc)
        return gh_err_wrap(err, "process %d", pid);
    int go = gh_exe_section(e, ".go.buildinfo") != NULL;
    gh_exe_close(e);
    if (!go) {
        char exe[256];
        ssize_t n = readlink(path, exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        return gh_errorf(err, GH_ENOTGO, "process %d (%s) is not a Go program (no .go.buildinfo section)", pid,
                         n > 0 ? exe : "?");
    }
    return GH_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int gh_snapshot(int pid, const char *path, unsigned flags, gh_snapshot_stats *stats, gh_err *err)
{
    if (pid <= 0)
        return gh_errorf(err, GH_EARG, "no process id given");
    if (!path || !*path)
        return gh_errorf(err, GH_EARG, "no file to write the snapshot to");
    if (flags & ~(unsigned)GH_SNAPSHOT_FULL)
        return gh_errorf(err, GH_EARG, "unknown flags 0x%x", flags);
    int rc = check_go(pid, err);
    if (rc)
        return rc;
    gh_core_out o;
    if ((rc = gh_core_out_open(path, &o, err)))
        return rc;
    gh_snap *s;
    if ((rc = gh_snap_take(pid, flags & GH_SNAPSHOT_FULL ? GH_SNAP_FULL : 0, &s, err))) {
        gh_core_out_abandon(&o);
        return rc;
    }
    gh_snapshot_stats st = {.pause_ms = s->pause_ms, .stop_ms = s->stop_ms, .copy_ms = s->copy_ms,
                            .pause_cpu_ms = s->pause_cpu_ms, .threads = s->nthreads, .mappings = s->nmaps,
                            .copied = s->copied, .unreadable = s->unreadable};
    double t0 = now_ms();
    rc = gh_snap_write(s, &o, &st.size, &st.disk, err);
    st.write_ms = now_ms() - t0;
    gh_snap_free(s);
    if (!rc && stats)
        *stats = st;
    return rc;
}
