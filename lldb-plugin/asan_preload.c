/* Preloaded into lldb together with the AddressSanitizer runtime when the
 * plugin is a sanitizer build (tests/integration/test_lldb.py, docs/lldb.md).
 *
 * lldb is not instrumented, so the ASan runtime comes in by LD_PRELOAD and
 * initializes lazily, on the first malloc. In lldb-19 that first malloc is
 * inside newlocale(), called by libp11-kit's constructor with glibc's
 * setlocale lock held; ASan's initialization then looks up swift_demangle,
 * fails, and dlerror() formats the message through gettext, which takes the
 * same lock again: lldb hangs in its first setlocale(). With swift_demangle
 * defined the lookup succeeds and dlerror() has nothing to format. ASan only
 * calls it to demangle Swift symbols in reports; returning NULL leaves them
 * as they are. */
#include <stddef.h>
#include <stdint.h>

char *swift_demangle(const char *mangled, size_t mangled_len, char *out, size_t *out_len, uint32_t flags);

char *swift_demangle(const char *mangled, size_t mangled_len, char *out, size_t *out_len, uint32_t flags)
{
    return NULL;
}
