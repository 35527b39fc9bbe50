/* Public API: memory by class, checked against the runtime's statistics. */
#include "api/api.h"
#include "heap/breakdown.h"

int gh_breakdown_get(gh_session *s, gh_breakdown *out, gh_err *err)
{
    gh_api_enter(s);
    gh_heap *h;
    int rc = gh_session_heap(s, &h, err);
    if (rc)
        return rc;
    gh_heap_breakdown(h, s->exe, out);
    return GH_OK;
}
