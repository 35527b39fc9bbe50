/* Error codes and one-line messages (gh_errorf, gh_err_wrap). */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gh_errorf(gh_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int gh_err_wrap(gh_err *err, const char *fmt, ...)
{
    if (!err)
        return GH_EFORMAT;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) >= (int)sizeof err->msg)
        memcpy(err->msg + sizeof err->msg - 4, "...", 4); /* keep the message one line, marked cut */
    return err->code;
}

void gh_err_clear(gh_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
}
