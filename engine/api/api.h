/* What the public API's files share: entering a call (the session's models
 * made fresh if the target ran) and the model a query needs. */
#ifndef GOHEAP_API_API_H
#define GOHEAP_API_API_H

#include "goheap/goheap.h"
#include "session/session.h"

/* Every public call on a session starts here: a session whose target ran
 * since its models were made drops them. */
static inline void gh_api_enter(gh_session *s) { gh_session_refresh(s); }

/* gh_open_core with an executable already parsed, shared by the session
 * (gh_session_open_exe); the core target reads the file at exe's path. */
int gh_api_open_core_exe(const char *core_path, gh_exe *exe, gh_session **out, gh_err *err);

/* The session's marked graph; GH_EINTR when interrupted. */
int gh_api_graph(gh_session *s, gh_graph **out, gh_err *err);

/* The public gh_object at addr in slot o: the slot, or the typed sub-object
 * of a tiny block that holds addr. */
void gh_api_object(const gh_graph *g, const gh_obj *o, uint64_t addr, gh_object *out);

/* A public root from an internal one. */
void gh_api_root(const gh_root *r, gh_root_info *out);

#endif
