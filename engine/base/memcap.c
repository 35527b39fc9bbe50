/* The memory cap (memcap.h): the limit from the environment or the
 * machine, the process's resident memory from /proc/self/statm. */
#include "base/memcap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/out.h"

uint64_t gh_mem_limit(void)
{
    const char *e = getenv("GOHEAP_MEMORY_LIMIT");
    if (e && *e) {
        if (!strcmp(e, "off"))
            return 0;
        char *end;
        unsigned long long v = strtoull(e, &end, 10);
        uint64_t mult = 1;
        switch (*end) {
        case 'k': case 'K': mult = 1ull << 10; break;
        case 'm': case 'M': mult = 1ull << 20; break;
        case 'g': case 'G': mult = 1ull << 30; break;
        case 't': case 'T': mult = 1ull << 40; break;
        default: break;
        }
        if (end != e && v <= UINT64_MAX / mult)
            return (uint64_t)v * mult;
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size / 4 * 3 : 0;
}

static uint64_t resident(void)
{
    unsigned long long total = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &total, &res) != 2)
        res = 0;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return (uint64_t)res * (uint64_t)(page > 0 ? page : 4096);
}

int gh_mem_check(uint64_t need, const char *what, gh_err *err)
{
    uint64_t limit = gh_mem_limit();
    if (!limit)
        return GH_OK;
    uint64_t used = resident();
    if (need <= limit && used <= limit - need)
        return GH_OK;
    char a[32], b[32], c[32];
    return gh_errorf(err, GH_ENOMEM, "%s needs about %s, and %s of the memory limit of %s are in use "
                                     "(GOHEAP_MEMORY_LIMIT raises it)",
                     what, gh_human(need, a, sizeof a), gh_human(used, b, sizeof b), gh_human(limit, c, sizeof c));
}
