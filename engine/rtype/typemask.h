/* Type descriptors (internal/abi.Type) and the pointer mask of one value of a
 * type: which of its words the garbage collector treats as pointers. The
 * heap engine asks this for the *abi.Type in malloc headers and
 * mspan.largeType, then tiles the mask across the object. */
#ifndef GOHEAP_RTYPE_TYPEMASK_H
#define GOHEAP_RTYPE_TYPEMASK_H

#include <stdint.h>

#include "base/error.h"
#include "target/target.h"

#include "goheap/goheap.h" /* GH_KIND_*: internal/abi.Kind values, the same in every release */

/* abi.TFlag bits. */
enum {
    GH_TFLAG_UNCOMMON = 1,
    GH_TFLAG_EXTRASTAR = 2,
    GH_TFLAG_NAMED = 4,
    GH_TFLAG_REGULARMEMORY = 8,
    GH_TFLAG_UNROLLEDBITMAP = 16, /* 1.22-1.23: runtime-made type, GCData is a plain mask */
    GH_TFLAG_GCMASKONDEMAND = 16, /* 1.24+: GCData is a slot holding the mask, or 0 */
    GH_TFLAG_DIRECTIFACE = 32,    /* 1.26+ */
};

#define GH_RTYPE_SIZE 48

/* One abi.Type, 48 bytes in every supported release. */
typedef struct gh_rtype {
    uint64_t addr;
    uint64_t size;     /* Size_ */
    uint64_t ptrbytes; /* PtrBytes: prefix of a value that can hold pointers */
    uint32_t hash;
    uint8_t tflag, align, field_align;
    uint8_t kind_raw; /* Kind_ as stored */
    uint8_t kind;     /* GH_KIND_*, decoded for the release */
    uint8_t gcprog;   /* 1.22-1.23: GCData is a GC program (Kind_ & 0x40) */
    uint8_t direct_iface;
    uint64_t equal, gcdata;
    int32_t str, ptr_to_this; /* NameOff, TypeOff */
} gh_rtype;

/* Reads the descriptor at addr; the Kind_ byte is decoded per release
 * (1.22-1.25: low 5 bits, 0x20 DirectIface, 0x40 GC program in 1.22-1.23;
 * 1.26+: the whole byte, DirectIface in TFlag). Kind 0 is accepted: the
 * runtime's unrolled-program types have it. GH_EFORMAT for a kind past
 * UnsafePointer. */
int gh_rtype_read(const gh_target *t, int go_minor, uint64_t addr, gh_rtype *out, gh_err *err);

/* The pointer mask of one value of a type. */
typedef struct gh_ptrmask {
    uint64_t type;       /* descriptor address */
    uint64_t size;       /* Size_: the tiling period, in bytes */
    uint64_t stride;     /* Size_ / 8 */
    uint64_t nwords;     /* PtrBytes / 8: words that can hold pointers */
    const uint8_t *bits; /* nwords bits, LSB first; NULL when nwords is 0 */
} gh_ptrmask;

/* Whether word w of an object holding data_size bytes of values of the mask's
 * type (one value, or an array of them: the runtime tiles the mask every
 * Size_ bytes, scalars past PtrBytes in each) is a pointer slot. */
static inline int gh_ptrmask_tile(const gh_ptrmask *m, uint64_t data_size, uint64_t w)
{
    if (m->nwords == 0 || w >= data_size / 8)
        return 0;
    uint64_t i = w < m->stride ? w : w % m->stride;
    return i < m->nwords && (m->bits[i >> 3] >> (i & 7) & 1);
}

/* Limits against hostile descriptors: words in one type's mask, masks held
 * by one cache, bytes of mask held by one cache, nesting of on-demand types. */
#define GH_TYPEMASK_MAX_WORDS (UINT64_C(1) << 30)
#define GH_TYPEMASK_MAX_TYPES (1u << 18)
#define GH_TYPEMASK_MAX_BYTES (UINT64_C(256) << 20)
#define GH_TYPEMASK_MAX_DEPTH 100

/* Per-session cache of masks by descriptor address. */
typedef struct gh_typemask_cache gh_typemask_cache;

/* NULL when out of memory. go_minor is the Go 1.x minor release (22+). */
gh_typemask_cache *gh_typemask_cache_new(const gh_target *t, int go_minor);
void gh_typemask_cache_free(gh_typemask_cache *c);

/* Tells the cache the address of runtime.inProgress, the sentinel a 1.24+
 * on-demand slot holds while a thread builds the mask (a core can catch it);
 * such a slot is then treated as empty. 0 (the default) means unknown. */
void gh_typemask_cache_set_inprogress(gh_typemask_cache *c, uint64_t addr);

/* The mask of the type at type_addr: its GCData bitmap; a 1.22-1.23 GC
 * program, run; a 1.24+ on-demand mask, read from its slot or, when the
 * runtime never built it, built from the type as runtime.buildGCMask does.
 * *out stays valid until the cache is freed, or until a call made after the
 * target's generation changed (a live process ran), which empties the cache.
 * Failures are cached too, so a bad type costs its work once. */
int gh_typemask_get(gh_typemask_cache *c, uint64_t type_addr, const gh_ptrmask **out,
                    gh_err *err);

#endif
