/* gh_grow: the engine's one growable-array primitive. */
#include "base/vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int gh_grow(void *pdata, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -1;
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem)
        return -1;
    void *old;
    memcpy(&old, pdata, sizeof old); /* pdata is a T **: copy, do not alias it as void ** */
    void *p = realloc(old, c * elem);
    if (!p)
        return -1;
    memcpy(pdata, &p, sizeof p);
    *cap = c;
    return 0;
}
