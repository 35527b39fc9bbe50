/* Bounds-checked reads through a target's callback table. */
#include "target/target.h"

#include <string.h>

int gh_read(const gh_target *t, uint64_t addr, void *buf, size_t len, gh_err *err)
{
    if (len == 0)
        return GH_OK;
    if (addr + len < addr)
        return gh_errorf(err, GH_EMEM, "read of %zu bytes at 0x%llx wraps the address space", len,
                         (unsigned long long)addr);
    const void *p = t->ops->direct ? t->ops->direct(t->ctx, addr, len) : NULL;
    if (p) {
        memcpy(buf, p, len);
        return GH_OK;
    }
    size_t n = t->ops->read(t->ctx, addr, buf, len);
    if (n < len)
        return gh_errorf(err, GH_EMEM, "target memory at 0x%llx is not readable (%zu of %zu bytes)",
                         (unsigned long long)(addr + n), n, len);
    return GH_OK;
}

#define READ_N(name, type)                                                                   \
    int name(const gh_target *t, uint64_t addr, type *v, gh_err *err)                        \
    {                                                                                        \
        return gh_read(t, addr, v, sizeof *v, err);                                          \
    }
READ_N(gh_read_u64, uint64_t)
READ_N(gh_read_u32, uint32_t)
READ_N(gh_read_u16, uint16_t)
READ_N(gh_read_u8, uint8_t)

const void *gh_direct(const gh_target *t, uint64_t addr, size_t len)
{
    if (!t->ops->direct || addr + len < addr)
        return NULL;
    return t->ops->direct(t->ctx, addr, len);
}

void gh_target_close(gh_target *t)
{
    if (t && t->ops && t->ops->close)
        t->ops->close(t->ctx);
}

const uint64_t *gh_thread_regs(const gh_target *t, const gh_thread *th)
{
    if (!th || !th->has_regs)
        return NULL;
    if (!t->arch || t->arch->nregs <= GH_X86_NREGS)
        return th->regs; /* amd64: gh_thread holds them */
    const gh_thread *v = NULL;
    size_t n = 0;
    if (!t->xregs || !t->ops->threads)
        return NULL;
    t->ops->threads(t->ctx, &v, &n);
    if (!v || th < v || th >= v + n)
        return NULL;
    return t->xregs + (size_t)(th - v) * t->arch->nregs;
}
