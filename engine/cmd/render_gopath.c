/* Paths in Go terms: a map's internal objects (its header, directory,
 * tables, groups or buckets) collapse into the key that leads through them,
 * printed as Go prints it: global main.sessions -> ["user-0042"]. The
 * runtime-level hops stay available (paths --raw, JSON "hops"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/render.h"
#include "print/printval.h"

/* Whether a hop is a map's header (classic runtime.hmap, Swiss maps.Map). */
static int map_header(const gh_graph *g, const gh_path_hop *h)
{
    if (h->note || h->id == UINT32_MAX || h->id >= g->h->nslots)
        return 0;
    const gh_otype *ot = g->type[h->id] && g->type[h->id] != GH_TID_TINY ? gh_types_get(g->types, g->type[h->id])
                                                                         : NULL;
    return (ot && (ot->syn == GH_SYN_SWISSMAP || ot->syn == GH_SYN_HMAP)) || !strcmp(h->type, "maps.Map") ||
           !strcmp(h->type, "runtime.hmap");
}

/* Whether a hop is one of a map's inner objects: a directory, table, overflow
 * list, or groups or buckets (whose type names say map.group or map.bucket). */
static int map_inner(const gh_graph *g, const gh_path_hop *h, int *holds_slots)
{
    *holds_slots = 0;
    if (h->note || h->id == UINT32_MAX || h->id >= g->h->nslots || !g->type[h->id] || g->type[h->id] == GH_TID_TINY)
        return 0;
    const gh_otype *ot = gh_types_get(g->types, g->type[h->id]);
    if (!ot)
        return 0;
    if (ot->syn == GH_SYN_DIRECTORY || ot->syn == GH_SYN_TABLE || ot->syn == GH_SYN_MAPEXTRA ||
        ot->syn == GH_SYN_OVFSLICE || ot->syn == GH_SYN_OVFARRAY)
        return 1;
    /* By name where the graph typed them from descriptors: "[128]map.group[K]V",
     * "*maps.table" (a directory of one), "[4]*maps.table", "maps.table". */
    const char *t = h->type;
    if (t[0] == '[')
        t = strchr(t, ']') ? strchr(t, ']') + 1 : t;
    if (!strncmp(t, "map.group[", 10) || !strncmp(t, "map.bucket[", 11)) {
        *holds_slots = 1;
        return 1;
    }
    while (*t == '*')
        t++;
    return !strcmp(t, "maps.table") || !strcmp(t, "runtime.mapextra") || !strncmp(t, "[]*map.bucket[", 14);
}

/* The address of the word of object from that points into object to. */
static uint64_t word_into(const gh_graph *g, const gh_path_hop *from, const gh_path_hop *to)
{
    uint64_t buf[512];
    const gh_target *t = g->h->rt->t;
    for (uint64_t off = 0; off < from->size && off < (64u << 20); off += sizeof buf) {
        uint64_t n = from->size - off < sizeof buf ? from->size - off : sizeof buf;
        if (gh_read(t, from->addr + off, buf, n, NULL))
            return 0;
        for (uint64_t i = 0; i < n / 8; i++)
            if (buf[i] >= to->addr && buf[i] < to->addr + (to->size ? to->size : 1))
                return from->addr + off + 8 * i;
    }
    return 0;
}

/* A scalar key as Go prints it in an index expression; 0 when it is not one.
 * A key kept out of line (over 128 bytes) is the value behind the slot's
 * pointer: *(*T)(0x...), which goheap's expressions read back. */
static int key_text(const pv_node *k, int out_of_line, char *buf, size_t cap)
{
    size_t o = 0;
    switch (k->kind) {
    case PV_STRING:
        if (cap < 8)
            return 0;
        buf[o++] = '"';
        for (size_t i = 0; i < k->textlen && o + 8 < cap; i++) {
            unsigned char ch = (unsigned char)k->text[i];
            if (ch == '"' || ch == '\\')
                o += (size_t)snprintf(buf + o, cap - o, "\\%c", ch);
            else if (ch < 0x20 || ch >= 0x7f)
                o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
            else
                buf[o++] = (char)ch;
        }
        if (k->len > k->textlen && o + 8 < cap)
            o += (size_t)snprintf(buf + o, cap - o, "\"...");
        else
            buf[o++] = '"';
        buf[o] = 0;
        return 1;
    case PV_INT: snprintf(buf, cap, "%" PRId64, k->i); return 1;
    case PV_UINT: snprintf(buf, cap, "%" PRIu64, k->u); return 1;
    case PV_BOOL: snprintf(buf, cap, "%s", k->u ? "true" : "false"); return 1;
    case PV_FLOAT: snprintf(buf, cap, "%s", k->text ? k->text : "?"); return 1;
    case PV_PTR: /* what the slot holds: the key, or where a key over 128 bytes is kept */
        snprintf(buf, cap, "%s(*%s)(0x%" PRIx64 ")", out_of_line ? "*" : "", k->text ? k->text : "?", k->addr);
        return 1;
    default: return 0;
    }
}

/* What follows the slot in the field that names it: ".Payload" of
 * "[26].slots[0].elem.Payload" (Swiss) or "[3].elems[2].Payload" (classic). */
static const char *after_slot(const char *field)
{
    const char *p = strstr(field, ".elem");
    if (p && (p[5] == 0 || p[5] == '.' || p[5] == '['))
        return p + 5;
    if ((p = strstr(field, ".elems[")) && strchr(p, ']'))
        return strchr(p, ']') + 1;
    return "";
}

/* A closure's capture in Go terms, from the raw field of its word: the
 * variable's name (".&big", captured by reference, is the variable big
 * itself), a method value's receiver as .<receiver>, and where DWARF names
 * no variable (stripped, or code goheap cannot read) the byte offset in the
 * closure object, never a guessed name. NULL when field is none of these. */
static char *capture(const char *field)
{
    char *f = NULL;
    size_t len = strlen(field) + 32;
    if (!strncmp(field, "..this", 6) && (f = malloc(len)))
        snprintf(f, len, ".<receiver>%s", field + 6);
    else if (!strncmp(field, ".&", 2) && (f = malloc(len)))
        snprintf(f, len, ".%s", field + 2);
    else if (field[0] == '+' && (f = malloc(len)))
        snprintf(f, len, ".<captured %s>", field);
    return f;
}

/* Go's spelling of one hop's field, or NULL to keep it: an interface's
 * data word as the type assertion to its dynamic type (.(*main.Handler)),
 * a closure's capture as the variable's name. */
static char *go_field(const gh_graph *g, const gh_gpath *p, size_t idx, const char *field)
{
    size_t len = strlen(field);
    if (len >= 7 && !strcmp(field + len - 7, ".(data)")) {
        char dyn[600];
        gh_graph_iface_type(g, p, idx, dyn, sizeof dyn);
        char *f = dyn[0] ? malloc(len + strlen(dyn) + 4) : NULL;
        if (f)
            sprintf(f, "%.*s.(%s)", (int)(len - 7), field, dyn);
        return f;
    }
    if (idx > 0 && !p->hops[idx - 1].note && !strncmp(p->hops[idx - 1].type, "closure ", 8))
        return capture(field);
    return NULL;
}

gh_gohop *gh_render_gopath(gh_cancel *cc, const gh_graph *g, const gh_gpath *p, size_t *nout)
{
    size_t n = 0;
    gh_gohop *out = calloc(p->n ? p->n : 1, sizeof *out);
    *nout = 0;
    if (!out)
        return NULL;
    char *carry = NULL; /* the Go field of hop i when a collapse led to it (a map in a map) */
    for (size_t i = 0; i < p->n; i++) {
        const gh_path_hop *h = &p->hops[i];
        const char *field = carry ? carry : h->field;
        if (!*field) {
            /* A variable holding a pointer to the object: the variable,
             * dereferenced. Elsewhere a word no type names: "?". */
            const gh_root *r = i == 0 ? gh_roots_get(g->roots, p->root) : NULL;
            const char *name = r && !h->note && (r->kind == GH_ROOT_GLOBAL || r->kind == GH_ROOT_STACK)
                                   ? (r->variable ? r->variable : r->name) : NULL;
            size_t len = (name ? strlen(name) : 0) + 2;
            char *f = malloc(len);
            if (f) {
                snprintf(f, len, name ? "*%s" : "?", name);
                free(carry);
                carry = f;
                field = f;
            }
        }
        int header = map_header(g, h);
        size_t j = i + 1;
        int slots = 0, last_slots = 0;
        while (header && j < p->n && map_inner(g, &p->hops[j], &slots)) {
            last_slots = slots;
            j++;
        }
        const gh_otype *got = NULL;
        if (header && j < p->n && j > i + 1 && last_slots)
            got = gh_types_get(g->types, g->type[p->hops[j - 1].id]);
        if (got && got->rtype) {
            const gh_path_hop *holder = &p->hops[j - 1], *target = &p->hops[j];
            uint64_t word = word_into(g, holder, target);
            pv_ctx c = {.cc = cc, .g = (gh_graph *)g, .ty = g->types, .o = {2, 1}};
            pv_node k;
            memset(&k, 0, sizeof k);
            int is_key = 0, out_of_line = 0;
            char key[200];
            gh_obj ho;
            uint64_t data = gh_heap_slot(g->h, holder->id, &ho) ? gh_obj_data(&ho) : holder->addr; /* past a malloc header */
            /* The map itself is what the header's field names: main.m, .cache. */
            const char *base = field[0] == '*' && i == 0 ? field + 1 : field[0] == '?' && !field[1] ? "" : field;
            if (word && pv_map_slot_key(&c, got->rtype, data, word, &k, &is_key, &out_of_line) &&
                key_text(&k, out_of_line, key, sizeof key)) {
                const char *rest = is_key ? "" : after_slot(target->field);
                size_t len = strlen(base) + strlen(key) + strlen(rest) + 16;
                char *f = malloc(len);
                if (f) {
                    if (is_key) /* the path goes on through the key itself */
                        snprintf(f, len, "%s<key %s>", base, key);
                    else
                        snprintf(f, len, "%s[%s]%s", base, key, rest);
                    pv_clear(&k);
                    free(carry);
                    carry = NULL;
                    if (map_header(g, target) && j + 1 < p->n) { /* a map held in a map: go on from it */
                        carry = f;
                        i = j - 1;
                        continue;
                    }
                    out[n++] = (gh_gohop){.hop = target, .field = f, .own = f};
                    i = j;
                    continue;
                }
            }
            pv_clear(&k);
        }
        out[n++] = (gh_gohop){.hop = h, .field = field, .own = carry};
        carry = NULL;
    }
    free(carry);
    for (size_t k = 0; k < n; k++) {
        char *f = go_field(g, p, (size_t)(out[k].hop - p->hops), out[k].field);
        if (f) {
            free(out[k].own);
            out[k].field = out[k].own = f;
        }
    }
    /* The first hop from a variable names it: main.Iface.(*main.T), main.Cfg.Next. */
    const gh_root *r = gh_roots_get(g->roots, p->root);
    const char *var = r && (r->kind == GH_ROOT_GLOBAL || r->kind == GH_ROOT_STACK) ? (r->variable ? r->variable : r->name)
                                                                                  : NULL;
    if (n && var && !out[0].hop->note && out[0].hop == &p->hops[0] &&
        (out[0].field[0] == '.' || out[0].field[0] == '[')) {
        size_t len = strlen(var) + strlen(out[0].field) + 1;
        char *f = malloc(len);
        if (f) {
            snprintf(f, len, "%s%s", var, out[0].field);
            free(out[0].own);
            out[0].field = out[0].own = f;
        }
    }
    *nout = n;
    return out;
}

void gh_gohops_free(gh_gohop *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++)
        free(h[i].own);
    free(h);
}
