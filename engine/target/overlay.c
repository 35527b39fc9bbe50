/* Bytes in no target's memory, read like memory (overlay.h). */
#include "target/overlay.h"

#include <string.h>

int gh_overlay_addr(uint64_t addr) { return addr >= GH_OVERLAY_BASE && addr - GH_OVERLAY_BASE < (1ull << 40); }

static const void *ov_direct(void *ctx, uint64_t addr, size_t len)
{
    gh_overlay *o = ctx;
    if (gh_overlay_addr(addr))
        return addr - GH_OVERLAY_BASE <= o->len && len <= o->len - (addr - GH_OVERLAY_BASE)
                   ? o->bytes + (addr - GH_OVERLAY_BASE)
                   : NULL;
    return o->inner->ops->direct ? o->inner->ops->direct(o->inner->ctx, addr, len) : NULL;
}

static size_t ov_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    gh_overlay *o = ctx;
    if (gh_overlay_addr(addr)) {
        uint64_t at = addr - GH_OVERLAY_BASE;
        size_t n = at < o->len ? (len < o->len - at ? len : (size_t)(o->len - at)) : 0;
        memcpy(buf, o->bytes + at, n);
        return n;
    }
    return o->inner->ops->read(o->inner->ctx, addr, buf, len);
}

static void ov_regions(void *ctx, const gh_region **out, size_t *n)
{
    gh_overlay *o = ctx;
    *out = NULL;
    *n = 0;
    if (o->inner->ops->regions)
        o->inner->ops->regions(o->inner->ctx, out, n);
}

static void ov_threads(void *ctx, const gh_thread **out, size_t *n)
{
    gh_overlay *o = ctx;
    *out = NULL;
    *n = 0;
    if (o->inner->ops->threads)
        o->inner->ops->threads(o->inner->ctx, out, n);
}

void gh_overlay_init(gh_overlay *o, const gh_target *inner)
{
    memset(o, 0, offsetof(gh_overlay, bytes));
    o->inner = inner;
    o->ops.read = ov_read;
    o->ops.direct = ov_direct;
    o->ops.regions = ov_regions;
    o->ops.threads = ov_threads;
    o->t = *inner;
    o->t.ops = &o->ops;
    o->t.ctx = o;
}

uint64_t gh_overlay_put(gh_overlay *o, const void *b, size_t n)
{
    size_t at = (o->len + 7) & ~(size_t)7;
    if (!n || at > GH_OVERLAY_MAX || n > GH_OVERLAY_MAX - at)
        return 0;
    memcpy(o->bytes + at, b, n);
    o->len = at + n;
    return GH_OVERLAY_BASE + at;
}
