/* The allocation stack of one sampled object (memprof), for whatis and
 * print: where the runtime's memory profiler saw it allocated. */
#include <inttypes.h>

#include "cmd/render.h"
#include "memprof/memprof.h"

#define FRAMES_SHOWN 16

/* The object's bucket and its frames, the runtime's leading frames hidden
 * as pprof hides them; 0 frames when the runtime sampled nothing there or
 * the profile cannot be read (stripped binary). */
static size_t alloc_frames(gh_session *s, uint64_t slot, uint64_t size, gh_inl_frame *fr, size_t max,
                           const gh_mp_bucket **bucket, size_t *first)
{
    gh_memprof *mp;
    gh_pclntab *tab = NULL;
    gh_err e;
    if (gh_session_memprof(s, 0, &mp, &e) != GH_OK)
        return 0;
    long bi = gh_memprof_object(mp, slot, size);
    if (bi < 0)
        return 0;
    (void)gh_session_pclntab(s, &tab, &e);
    *bucket = &mp->b[bi];
    size_t n = gh_memprof_frames(mp, tab, *bucket, fr, max);
    if (n > max)
        n = max;
    *first = 0;
    while (*first + 1 < n && gh_memprof_is_runtime(fr[*first].name))
        ++*first;
    return n;
}

void gh_render_alloc_stack(gh_session *s, uint64_t slot, uint64_t size, gh_json *j, gh_out *out)
{
    gh_inl_frame fr[FRAMES_SHOWN + 8];
    const gh_mp_bucket *b = NULL;
    size_t first = 0, n = alloc_frames(s, slot, size, fr, FRAMES_SHOWN + 8, &b, &first);
    if (!n)
        return;
    if (j) {
        gh_json_key(j, "alloc_stack");
        gh_json_arr(j);
        for (size_t k = first; k < n && k - first < FRAMES_SHOWN; k++) {
            gh_json_obj(j);
            gh_json_kstr(j, "function", fr[k].name);
            gh_json_kstr(j, "file", fr[k].file);
            gh_json_ki64(j, "line", fr[k].line);
            gh_json_end(j, '}');
        }
        gh_json_end(j, ']');
        return;
    }
    gh_printf(out, "  allocated at (sampled by the runtime's memory profiler, %" PRIu64 " bytes):\n", b->size);
    for (size_t k = first; k < n && k - first < FRAMES_SHOWN; k++)
        gh_printf(out, "    %s %s:%d\n", fr[k].name, fr[k].file, fr[k].line);
    if (n - first > FRAMES_SHOWN)
        gh_printf(out, "    ...\n");
}
