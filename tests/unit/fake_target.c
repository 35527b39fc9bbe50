#include "fake_target.h"

#include <stdlib.h>
#include <string.h>

typedef struct chunk {
    uint64_t addr;
    size_t len;
    uint8_t *mem;
} chunk;

typedef struct fake {
    gh_target t;
    chunk chunks[64];
    size_t n;
} fake;

static chunk *find(fake *f, uint64_t addr, size_t len)
{
    for (size_t i = 0; i < f->n; i++)
        if (addr >= f->chunks[i].addr && addr - f->chunks[i].addr + len <= f->chunks[i].len)
            return &f->chunks[i];
    return NULL;
}

static size_t fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        chunk *c = find(ctx, addr + done, 1);
        if (!c)
            break;
        size_t avail = c->len - (addr + done - c->addr);
        size_t n = len - done < avail ? len - done : avail;
        memcpy((uint8_t *)buf + done, c->mem + (addr + done - c->addr), n);
        done += n;
    }
    return done;
}

static const void *fake_direct(void *ctx, uint64_t addr, size_t len)
{
    chunk *c = find(ctx, addr, len);
    return c ? c->mem + (addr - c->addr) : NULL;
}

static void fake_close(void *ctx)
{
    fake *f = ctx;
    for (size_t i = 0; i < f->n; i++)
        free(f->chunks[i].mem);
    free(f);
}

static const gh_target_ops fake_ops = {
    .read = fake_read, .direct = fake_direct, .close = fake_close,
};

gh_target *fake_target_new(void)
{
    fake *f = calloc(1, sizeof *f);
    f->t.ops = &fake_ops;
    f->t.ctx = f;
    f->t.kind = "fake";
    return &f->t;
}

uint8_t *fake_target_map(gh_target *t, uint64_t addr, size_t len)
{
    fake *f = t->ctx;
    if (f->n == sizeof f->chunks / sizeof f->chunks[0])
        return NULL;
    chunk *c = &f->chunks[f->n++];
    c->addr = addr;
    c->len = len;
    c->mem = calloc(1, len);
    return c->mem;
}

void fake_put_u64(gh_target *t, uint64_t addr, uint64_t v)
{
    chunk *c = find(t->ctx, addr, 8);
    if (c)
        memcpy(c->mem + (addr - c->addr), &v, 8);
}

void fake_put_u32(gh_target *t, uint64_t addr, uint32_t v)
{
    chunk *c = find(t->ctx, addr, 4);
    if (c)
        memcpy(c->mem + (addr - c->addr), &v, 4);
}

void fake_put_u8(gh_target *t, uint64_t addr, uint8_t v)
{
    chunk *c = find(t->ctx, addr, 1);
    if (c)
        c->mem[addr - c->addr] = v;
}
