/* gh_set_full_names: type names with their import paths in every command's text. */
#include "api/api.h"

void gh_set_full_names(gh_session *s, int on) { s->full_names = on != 0; }
