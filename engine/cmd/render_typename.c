/* Type names in text: reflect's short name ("scanner.Scanner"), or the full
 * one with its import path ("go/scanner.Scanner") where two packages of one
 * name share it in the core's types, and everywhere with --full-names. JSON
 * always gives both: "type" (short) and "full_type". */
#include "cmd/render.h"

const char *gh_render_tname(const gh_session *s, const gh_shortnames *sn, gh_types *ty, gh_tid id, const char *name)
{
    if (!id || ((!s || !s->full_names) && !gh_shortnames_holds(sn, name)))
        return name;
    return gh_types_full_name(ty, id);
}

const char *gh_domkey_text(const gh_domkeys *k, const gh_session *s, uint32_t key)
{
    const char *name = gh_domkey_name(k, key);
    return (s && s->full_names) || gh_shortnames_holds(&k->sn, name) ? gh_domkey_full(k, key) : name;
}
