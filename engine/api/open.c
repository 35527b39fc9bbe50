/* Public API: opening and closing sessions, their settings, and the version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "session/index.h"

const char *gh_version(int *major, int *minor, int *patch)
{
    if (major)
        *major = GOHEAP_VERSION_MAJOR;
    if (minor)
        *minor = GOHEAP_VERSION_MINOR;
    if (patch)
        *patch = GOHEAP_VERSION_PATCH;
    return GOHEAP_VERSION_STRING;
}

const char *gh_strerror(int code)
{
    switch (code) {
    case GH_OK: return "success";
    case GH_EIO: return "cannot open, read or map a file";
    case GH_EFORMAT: return "input is corrupt or not what it claims";
    case GH_ENOTGO: return "not a Go program";
    case GH_EVERSION: return "unsupported Go release";
    case GH_EMEM: return "target memory not readable";
    case GH_ENOMEM: return "out of memory";
    case GH_EARG: return "bad argument";
    case GH_EINTR: return "interrupted";
    case GH_EUNSUPP: return "not supported for this input";
    case GH_ENOENT: return "no such object";
    default: return "unknown error";
    }
}

/* A session over t (owned), with the target's own warning first. */
static int open_session(gh_target *t, const char *exe, gh_exe *shared, const char *desc, const char *warning,
                        gh_session **out, gh_err *err)
{
    char warn[600] = "";
    if (warning)
        snprintf(warn, sizeof warn, "%s", warning); /* t's, gone when a failed open closes it */
    int rc = shared ? gh_session_open_exe(t, shared, desc, out, err) : gh_session_open(t, exe, desc, out, err);
    if (rc) {
        if (warn[0] && err) {
            size_t n = strlen(err->msg);
            snprintf(err->msg + n, sizeof err->msg - n, " (%s)", warn);
        }
        return rc;
    }
    gh_session *s = *out;
    if (warn[0]) {
        memmove(s->warnings[1], s->warnings[0], sizeof s->warnings[0]);
        snprintf(s->warnings[0], sizeof s->warnings[0], "%s", warn);
        s->nwarnings = s->nwarnings < 2 ? s->nwarnings + 1 : 2;
    }
    return GH_OK;
}

static int open_core(const char *core_path, const char *exe_path, gh_exe *shared, gh_session **out, gh_err *err)
{
    *out = NULL;
    if (!core_path)
        return gh_errorf(err, GH_EARG, "no core file given");
    gh_target *t;
    int rc = gh_core_open(core_path, exe_path, &t, err);
    if (rc)
        return rc;
    char desc[600];
    snprintf(desc, sizeof desc, "core %s", core_path);
    return open_session(t, exe_path, shared, desc, gh_core_warning(t), out, err);
}

int gh_open_core(const char *core_path, const char *exe_path, gh_session **out, gh_err *err)
{
    return open_core(core_path, exe_path, NULL, out, err);
}

int gh_api_open_core_exe(const char *core_path, gh_exe *exe, gh_session **out, gh_err *err)
{
    return open_core(core_path, gh_exe_path(exe), exe, out, err);
}

int gh_open_pid(int pid, unsigned flags, const gh_thread *threads, size_t nthreads, gh_session **out, gh_err *err)
{
    *out = NULL;
    if (pid <= 0)
        return gh_errorf(err, GH_EARG, "no process id given");
    if (flags & ~(unsigned)GH_OPEN_ATTACH)
        return gh_errorf(err, GH_EARG, "unknown flags 0x%x", flags);
    gh_target *t;
    int rc = gh_live_open(pid, (flags & GH_OPEN_ATTACH) != 0, &t, err);
    if (rc)
        return rc;
    if (nthreads && threads) {
        /* Give each thread the registers the caller has for it. */
        const gh_thread *cur;
        size_t n = 0;
        t->ops->threads(t->ctx, &cur, &n);
        gh_thread *mine = n ? malloc(n * sizeof *mine) : NULL;
        if (n && !mine) {
            gh_target_close(t);
            return gh_errorf(err, GH_ENOMEM, "out of memory for %zu threads", n);
        }
        for (size_t i = 0; i < n; i++) {
            mine[i] = cur[i];
            for (size_t k = 0; k < nthreads; k++)
                if (threads[k].tid == mine[i].tid && threads[k].has_regs) {
                    mine[i] = threads[k];
                    break;
                }
        }
        rc = n ? gh_live_set_threads(t, mine, n, err) : GH_OK;
        free(mine);
        if (rc) {
            gh_target_close(t);
            return rc;
        }
    }
    char desc[64];
    snprintf(desc, sizeof desc, "process %d", pid);
    return open_session(t, NULL, NULL, desc, NULL, out, err);
}

int gh_open_target(const gh_target_ops *ops, void *ctx, const char *exe_path, gh_session **out, gh_err *err)
{
    *out = NULL;
    if (!ops || !ops->read || !ops->regions || !ops->threads) {
        if (ops && ops->close)
            ops->close(ctx);
        return gh_errorf(err, GH_EARG, "a target needs read, regions and threads callbacks");
    }
    gh_target *t = malloc(sizeof *t);
    if (!t) {
        if (ops->close)
            ops->close(ctx);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    *t = (gh_target){.ops = ops, .ctx = ctx, .kind = "target"};
    int rc = gh_session_open(t, exe_path, "target", out, err);
    if (rc) {
        free(t); /* closed by the failed open */
        return rc;
    }
    (*out)->free_target = 1;
    return GH_OK;
}

void gh_close(gh_session *s) { gh_session_close(s); }

const char *gh_description(const gh_session *s) { return s->desc; }

void gh_set_description(gh_session *s, const char *desc)
{
    snprintf(s->desc, sizeof s->desc, "%s", desc ? desc : "");
}

const char *gh_warning(const gh_session *s, size_t i) { return i < s->nwarnings ? s->warnings[i] : NULL; }

const char *gh_target_note(const gh_session *s) { return gh_core_note(s->t); }

void gh_set_interrupt(gh_session *s, gh_interrupt_fn fn, void *ctx)
{
    s->cancel.poll = fn;
    s->cancel.poll_ctx = ctx;
}

void gh_set_interrupt_flag(gh_session *s, const volatile int *flag) { s->cancel.flag = flag; }

void gh_set_progress(gh_session *s, gh_progress_fn fn, void *ctx)
{
    s->cancel.progress = fn;
    s->cancel.progress_ctx = ctx;
}

const char *gh_go_version(const gh_session *s, int *major, int *minor, int *patch)
{
    if (major)
        *major = s->rt.ver.major;
    if (minor)
        *minor = s->rt.ver.minor;
    if (patch)
        *patch = s->rt.ver.patch;
    return s->rt.ver.text;
}

const char *gh_executable(const gh_session *s) { return gh_exe_path(s->exe); }

unsigned gh_heap_loads(const gh_session *s) { return s->heap_loads; }

int gh_phase_time(const gh_session *s, size_t i, const char **phase, double *wall, double *cpu)
{
    if (i >= GH_NPHASES)
        return 0;
    if (phase)
        *phase = gh_phase_names[i];
    if (wall)
        *wall = s->phase[i].wall;
    if (cpu)
        *cpu = s->phase[i].cpu;
    return 1;
}

int gh_set_index(gh_session *s, int mode, const char *dir, gh_err *err)
{
    return gh_session_set_index(s, mode, dir, err);
}

const char *gh_index_status(const gh_session *s) { return s->index_note[0] ? s->index_note : NULL; }

int gh_set_threads(gh_session *s, int n)
{
    if (n < 1)
        n = gh_edges_default_threads();
    s->threads = s->t->concurrent ? n : 1;
    return s->threads;
}
