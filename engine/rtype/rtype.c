/* internal/abi.Type descriptors read and decoded per release. */
#include <string.h>

#include "rtype/typemask.h"

static uint64_t le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int gh_rtype_read(const gh_target *t, int go_minor, uint64_t addr, gh_rtype *out, gh_err *err)
{
    uint8_t b[GH_RTYPE_SIZE];
    int rc = gh_read(t, addr, b, sizeof b, err);
    if (rc != GH_OK)
        return gh_err_wrap(err, "type descriptor at 0x%llx", (unsigned long long)addr);
    memset(out, 0, sizeof *out);
    out->addr = addr;
    out->size = le64(b + 0);
    out->ptrbytes = le64(b + 8);
    out->hash = le32(b + 16);
    out->tflag = b[20];
    out->align = b[21];
    out->field_align = b[22];
    out->kind_raw = b[23];
    out->equal = le64(b + 24);
    out->gcdata = le64(b + 32);
    out->str = (int32_t)le32(b + 40);
    out->ptr_to_this = (int32_t)le32(b + 44);
    if (go_minor >= 26) {
        /* 1.26 made Kind_ a pure kind and moved DirectIface to TFlag. */
        out->kind = b[23];
        out->direct_iface = (b[20] & GH_TFLAG_DIRECTIFACE) != 0;
    } else {
        out->kind = b[23] & 0x1f;
        out->direct_iface = (b[23] & 0x20) != 0;
        out->gcprog = go_minor <= 23 && (b[23] & 0x40) != 0;
    }
    if (out->kind > GH_KIND_MAX)
        return gh_errorf(err, GH_EFORMAT, "type descriptor at 0x%llx: kind byte 0x%02x is not a kind",
                         (unsigned long long)addr, b[23]);
    return GH_OK;
}
