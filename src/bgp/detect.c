/*
 * detect.c: hijack, leak and outage events over a time-ordered stream of
 * routes, each with first- and last-seen times, updated rather than
 * duplicated while it lasts and ended when withdrawn or replaced.
 *
 * State, all in fixed-key hash tables (struct tab):
 * - routes: (peer, prefix, path id) -> the hijack and leak events the
 *   route currently carries and its visibility record, kept only for routes
 *   that raised an event or come from a group's AS; a withdrawal, a new
 *   announcement or the peer leaving Established releases them;
 * - evkeys: what makes two alerts the same event (kind, prefix, type and
 *   culprit AS) -> the open event;
 * - peers: which address families each peer has sent;
 * - ppv: (peer, prefix, group) -> paths, pv: (prefix, group) -> peers that
 *   see it, from which each time step counts the group prefixes visible to
 *   more than half of the peers of their family.
 * An event counts the routes carrying it; at zero it has ended.
 */
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"
#include "bgp/bgp_int.h"
#include "core/alloc.h"
#include "core/timestamp.h"

#define KEY_MAX 48
#define PEER_KEY 21   /* afi, address, AS */
#define PREFIX_KEY 18 /* afi, address, length */
#define ROUTE_KEY (PEER_KEY + PREFIX_KEY + 4)
#define BGP_STATE_ESTABLISHED 6

struct ent {
    uint64_t hash;
    uint8_t key[KEY_MAX];
    int32_t v[3];
};

struct tab {
    struct ent *e;
    size_t n, cap;
    uint32_t *slots; /* entry index + 1; 0 is empty */
    size_t nslots;
};

struct evrec {
    struct bgp_event ev; /* path, group and collector pointers filled when handed out */
    char collector[BGP_COLLECTOR_MAX + 1];
    size_t path_off, path_len;
    size_t active;
    int group;
    bool changed; /* listed in bgp_detect.changed */
};

struct grp {
    size_t baseline, visible, v4, v6;
    bool out;
    int32_t ev; /* the open outage event */
};

struct bgp_detect {
    const struct bgp_config *cfg;
    const struct bgp_asrel *rel;
    const struct bgp_vrps *vrps;
    struct tab routes, evkeys, peers, ppv, pv;
    struct evrec *ev;
    size_t nev, capev;
    uint32_t *pool;
    size_t npool, cappool;
    struct grp *grp;
    int32_t *changed; /* events changed since bgp_detect_each_changed */
    size_t nchanged, capchanged;
    bool changed_nomem;
    size_t npeers[2];
    uint32_t now;
    bool started, dirty;
    char source[BGP_COLLECTOR_MAX + 1]; /* bgp_detect_source */
    uint32_t scratch[BGP__FLAT_MAX];
    struct bgp_aspath path; /* handed to bgp_detect_each's callback */
};

/* ---- fixed-key hash table ---- */

static void tab_release(struct tab *t)
{
    mrd_free(t->e);
    mrd_free(t->slots);
}

static enum mrd_code tab_grow(struct tab *t, struct mrd_err *err)
{
    size_t n = t->nslots == 0 ? 1024 : t->nslots * 2;
    uint32_t *slots = mrd_calloc(n, sizeof(*slots));
    if (slots == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "detect: out of memory");
    for (size_t i = 0; i < t->n; i++) {
        size_t j = t->e[i].hash & (n - 1);
        while (slots[j] != 0)
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    mrd_free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return MRD_OK;
}

/* Every announcement and withdrawal looks its route up: six 64-bit words
 * mixed by multiplication cost a fraction of a byte-wise hash. */
static uint64_t key_hash(const uint8_t *key)
{
    uint64_t h = 0x9E3779B97F4A7C15ull, w;
    for (size_t i = 0; i < KEY_MAX; i += 8) {
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    return h;
}

/* Finds key; adds it (values -1) when add is set. *ret is the entry index
 * or -1 when absent and not added. */
static enum mrd_code tab_find(struct tab *t, const uint8_t *key, bool add, int32_t *ret,
                              struct mrd_err *err)
{
    uint64_t h = key_hash(key);
    size_t j;
    struct ent *e;

    *ret = -1;
    if (t->nslots != 0) {
        for (j = h & (t->nslots - 1); t->slots[j] != 0; j = (j + 1) & (t->nslots - 1)) {
            e = &t->e[t->slots[j] - 1];
            if (e->hash == h && memcmp(e->key, key, KEY_MAX) == 0) {
                *ret = (int32_t)(t->slots[j] - 1);
                return MRD_OK;
            }
        }
    }
    if (!add)
        return MRD_OK;
    if (t->n >= BGP_MAX_TRACKED)
        return mrd_err_set(err, MRD_E_TOOBIG, "detect: more than %zu tracked routes",
                           BGP_MAX_TRACKED);
    if (t->nslots == 0 || (t->n + 1) * 2 > t->nslots) {
        enum mrd_code rc = tab_grow(t, err);
        if (rc != MRD_OK)
            return rc;
    }
    if (mrd_array_grow(&t->e, t->n, &t->cap, sizeof(*t->e), 256) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "detect: out of memory");
    e = &t->e[t->n];
    e->hash = h;
    memcpy(e->key, key, KEY_MAX);
    e->v[0] = e->v[1] = e->v[2] = -1;
    for (j = h & (t->nslots - 1); t->slots[j] != 0; j = (j + 1) & (t->nslots - 1))
        ;
    t->slots[j] = (uint32_t)(t->n + 1);
    *ret = (int32_t)t->n++;
    return MRD_OK;
}

static size_t put_peer(uint8_t *k, const struct bgp_route *r)
{
    k[0] = r->peer_ip.afi;
    memcpy(k + 1, r->peer_ip.bytes, 16);
    memcpy(k + 17, &r->peer_as, 4);
    return PEER_KEY;
}

static size_t put_prefix(uint8_t *k, const struct bgp_prefix *p)
{
    k[0] = p->addr.afi;
    memcpy(k + 1, p->addr.bytes, 16);
    k[17] = p->len;
    return PREFIX_KEY;
}

/* ---- lifecycle ---- */

enum mrd_code bgp_detect_new(const struct bgp_config *cfg, const struct bgp_asrel *rel,
                             const struct bgp_vrps *vrps, struct bgp_detect **ret_det,
                             struct mrd_err *err)
{
    struct bgp_detect *d = mrd_calloc(1, sizeof(*d));
    if (d == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "detect: out of memory");
    d->cfg = cfg;
    d->rel = rel;
    d->vrps = vrps;
    if (cfg != NULL && cfg->ngroups > 0) {
        d->grp = mrd_calloc(cfg->ngroups, sizeof(*d->grp));
        if (d->grp == NULL) {
            mrd_free(d);
            return mrd_err_set(err, MRD_E_NOMEM, "detect: out of memory");
        }
        for (size_t g = 0; g < cfg->ngroups; g++)
            d->grp[g].ev = -1;
    }
    *ret_det = d;
    return MRD_OK;
}

void bgp_detect_free(struct bgp_detect *d)
{
    if (d == NULL)
        return;
    tab_release(&d->routes);
    tab_release(&d->evkeys);
    tab_release(&d->peers);
    tab_release(&d->ppv);
    tab_release(&d->pv);
    mrd_free(d->ev);
    mrd_free(d->pool);
    mrd_free(d->grp);
    mrd_free(d->changed);
    mrd_free(d);
}

/* Notes that event idx changed (created, ended, carried by more routes)
 * for bgp_detect_each_changed. Out of memory, every event counts as
 * changed at the next call. */
static void mark(struct bgp_detect *d, int32_t idx)
{
    if (d->ev[idx].changed)
        return;
    if (mrd_array_grow(&d->changed, d->nchanged, &d->capchanged, sizeof(*d->changed), 64) !=
        MRD_OK) {
        d->changed_nomem = true;
        return;
    }
    d->ev[idx].changed = true;
    d->changed[d->nchanged++] = idx;
}

/* ---- events ---- */

static enum mrd_code new_event(struct bgp_detect *d, enum bgp_event_kind kind, uint32_t t,
                               int32_t *ret, struct mrd_err *err)
{
    struct evrec *e;
    if (d->nev >= BGP_MAX_EVENTS)
        return mrd_err_set(err, MRD_E_TOOBIG, "detect: more than %zu events", BGP_MAX_EVENTS);
    if (mrd_array_grow(&d->ev, d->nev, &d->capev, sizeof(*d->ev), 64) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "detect: out of memory");
    e = &d->ev[d->nev];
    memset(e, 0, sizeof(*e));
    e->ev.kind = kind;
    e->ev.first_seen = e->ev.last_seen = t;
    e->group = -1;
    *ret = (int32_t)d->nev++;
    mark(d, *ret);
    return MRD_OK;
}

/* The open event of this key, its last_seen moved to the route's time, or
 * a new one. */
static enum mrd_code touch(struct bgp_detect *d, const struct bgp_route *r,
                           enum bgp_event_kind kind, const char *type, uint32_t culprit,
                           int32_t *ret, struct mrd_err *err)
{
    uint8_t key[KEY_MAX] = {0};
    int32_t k, idx;
    enum mrd_code rc;
    struct evrec *e;
    size_t n;

    key[0] = (uint8_t)kind;
    put_prefix(key + 1, &r->prefix);
    memcpy(key + 1 + PREFIX_KEY, type, strlen(type));
    memcpy(key + 1 + PREFIX_KEY + 8, &culprit, 4);
    rc = tab_find(&d->evkeys, key, true, &k, err);
    if (rc != MRD_OK)
        return rc;
    idx = d->evkeys.e[k].v[0];
    if (idx >= 0 && !d->ev[idx].ev.ended) {
        if (r->time > d->ev[idx].ev.last_seen)
            d->ev[idx].ev.last_seen = r->time;
        *ret = idx;
        return MRD_OK;
    }
    rc = new_event(d, kind, r->time, &idx, err);
    if (rc != MRD_OK)
        return rc;
    n = bgp__path_flatten(&r->attrs->path, d->scratch);
    while (d->npool + n > d->cappool) {
        if (mrd_array_grow(&d->pool, d->cappool, &d->cappool, sizeof(*d->pool), 4096) != MRD_OK)
            return mrd_err_set(err, MRD_E_NOMEM, "detect: out of memory");
    }
    if (n > 0) /* an empty pool may still be NULL */
        memcpy(d->pool + d->npool, d->scratch, n * sizeof(uint32_t));
    e = &d->ev[idx];
    e->path_off = d->npool;
    e->path_len = n;
    d->npool += n;
    e->ev.prefix = r->prefix;
    e->ev.peer_as = r->peer_as;
    e->ev.peer_ip = r->peer_ip;
    memcpy(e->collector, d->source, sizeof(e->collector));
    d->evkeys.e[k].v[0] = idx;
    *ret = idx;
    return MRD_OK;
}

static void acquire(struct bgp_detect *d, int32_t idx)
{
    if (idx < 0)
        return;
    if (++d->ev[idx].active > d->ev[idx].ev.peers) {
        d->ev[idx].ev.peers = d->ev[idx].active;
        mark(d, idx);
    }
}

static void release(struct bgp_detect *d, int32_t idx, uint32_t t)
{
    struct evrec *e;
    if (idx < 0)
        return;
    e = &d->ev[idx];
    if (e->active > 0 && --e->active == 0) {
        e->ev.ended = true;
        e->ev.ended_at = t;
        if (t > e->ev.last_seen)
            e->ev.last_seen = t;
        mark(d, idx);
    }
}

/* ---- group visibility ---- */

static enum mrd_code vis_add(struct bgp_detect *d, const struct bgp_route *r, int g,
                             int32_t *ret_ppv, struct mrd_err *err)
{
    uint8_t key[KEY_MAX] = {0};
    int32_t pp, pv;
    enum mrd_code rc;
    size_t n = put_peer(key, r);

    n += put_prefix(key + n, &r->prefix);
    memcpy(key + n, &g, sizeof(g));
    rc = tab_find(&d->ppv, key, true, &pp, err);
    if (rc != MRD_OK)
        return rc;
    if (d->ppv.e[pp].v[1] < 0) {
        uint8_t pk[KEY_MAX] = {0};
        put_prefix(pk, &r->prefix);
        memcpy(pk + PREFIX_KEY, &g, sizeof(g));
        rc = tab_find(&d->pv, pk, true, &pv, err);
        if (rc != MRD_OK)
            return rc;
        if (d->pv.e[pv].v[0] < 0) {
            d->pv.e[pv].v[0] = 0;
            d->pv.e[pv].v[1] = g;
            d->pv.e[pv].v[2] = r->prefix.addr.afi;
        }
        d->ppv.e[pp].v[0] = 0;
        d->ppv.e[pp].v[1] = pv;
    }
    if (d->ppv.e[pp].v[0]++ == 0) {
        d->pv.e[d->ppv.e[pp].v[1]].v[0]++;
        d->dirty = true;
    }
    *ret_ppv = pp;
    return MRD_OK;
}

static void vis_drop(struct bgp_detect *d, int32_t pp)
{
    if (pp < 0)
        return;
    if (d->ppv.e[pp].v[0] > 0 && --d->ppv.e[pp].v[0] == 0) {
        d->pv.e[d->ppv.e[pp].v[1]].v[0]--;
        d->dirty = true;
    }
}

/* Each group's prefixes visible to more than half of the peers of their
 * address family, then the outage rule: a group with a baseline falls
 * below BGP_OUTAGE_COLLAPSE_PCT of it while every other group with a
 * baseline (the controls) stays at BGP_OUTAGE_STEADY_PCT or more; it ends
 * at BGP_OUTAGE_RECOVER_PCT. */
static enum mrd_code evaluate(struct bgp_detect *d, struct mrd_err *err)
{
    size_t ng = d->cfg != NULL ? d->cfg->ngroups : 0;
    enum mrd_code rc;

    if (ng == 0)
        return MRD_OK;
    for (size_t g = 0; g < ng; g++) {
        if (d->grp[g].out)
            d->ev[d->grp[g].ev].ev.last_seen = d->now;
    }
    if (!d->dirty)
        return MRD_OK;
    d->dirty = false;
    for (size_t g = 0; g < ng; g++)
        d->grp[g].v4 = d->grp[g].v6 = 0;
    for (size_t i = 0; i < d->pv.n; i++) {
        const struct ent *e = &d->pv.e[i];
        int afi = e->v[2];
        if ((size_t)e->v[0] * 2 <= d->npeers[afi - 1])
            continue;
        if (afi == BGP_AFI_IPV4)
            d->grp[e->v[1]].v4++;
        else
            d->grp[e->v[1]].v6++;
    }
    for (size_t g = 0; g < ng; g++) {
        struct grp *gr = &d->grp[g];
        gr->visible = gr->v4 + gr->v6;
        if (!gr->out && gr->visible > gr->baseline)
            gr->baseline = gr->visible;
    }
    for (size_t g = 0; g < ng; g++) {
        struct grp *gr = &d->grp[g];
        bool steady = true;
        int32_t idx;
        struct bgp_event *ev;
        if (gr->out) {
            ev = &d->ev[gr->ev].ev;
            if (gr->visible < ev->lowest)
                ev->lowest = gr->visible;
            if (gr->visible * 100 < gr->baseline * BGP_OUTAGE_RECOVER_PCT)
                continue;
            ev->ended = true;
            ev->ended_at = d->now;
            mark(d, gr->ev);
            gr->out = false;
            rc = new_event(d, BGP_EV_OUTAGE_END, d->now, &idx, err);
            if (rc != MRD_OK)
                return rc;
        } else {
            if (gr->baseline == 0 || gr->visible * 100 >= gr->baseline * BGP_OUTAGE_COLLAPSE_PCT)
                continue;
            for (size_t h = 0; h < ng; h++) {
                if (h != g && d->grp[h].baseline > 0 &&
                    d->grp[h].visible * 100 < d->grp[h].baseline * BGP_OUTAGE_STEADY_PCT)
                    steady = false;
            }
            if (!steady)
                continue; /* everything fell: the collector's view, not the group */
            rc = new_event(d, BGP_EV_OUTAGE, d->now, &idx, err);
            if (rc != MRD_OK)
                return rc;
            gr->out = true;
            gr->ev = idx;
            d->ev[idx].ev.lowest = gr->visible;
        }
        ev = &d->ev[idx].ev;
        d->ev[idx].group = (int)g;
        ev->visible = gr->visible;
        ev->baseline = gr->baseline;
        ev->visible_v4 = gr->v4;
        ev->visible_v6 = gr->v6;
        ev->peers_v4 = d->npeers[0];
        ev->peers_v6 = d->npeers[1];
        if (ev->kind == BGP_EV_OUTAGE_END)
            ev->lowest = d->ev[gr->ev].ev.lowest;
    }
    return MRD_OK;
}

/* ---- routes ---- */

static void drop_route(struct bgp_detect *d, struct ent *e, uint32_t t)
{
    release(d, e->v[0], t);
    release(d, e->v[1], t);
    vis_drop(d, e->v[2]);
    e->v[0] = e->v[1] = e->v[2] = -1;
}

static enum mrd_code peer_seen(struct bgp_detect *d, const struct bgp_route *r, struct mrd_err *err)
{
    uint8_t key[KEY_MAX] = {0};
    int32_t p;
    int bit = r->prefix.addr.afi == BGP_AFI_IPV6 ? 2 : 1;
    enum mrd_code rc;

    put_peer(key, r);
    rc = tab_find(&d->peers, key, true, &p, err);
    if (rc != MRD_OK)
        return rc;
    if (d->peers.e[p].v[0] < 0)
        d->peers.e[p].v[0] = 0;
    if ((d->peers.e[p].v[0] & bit) == 0) {
        d->peers.e[p].v[0] |= bit;
        d->npeers[bit - 1]++;
        d->dirty = true;
    }
    return MRD_OK;
}

static enum mrd_code announce(struct bgp_detect *d, const struct bgp_route *r, const uint8_t *key,
                              struct mrd_err *err)
{
    struct bgp_hijack hj;
    struct bgp_leak lk;
    int32_t hev = -1, lev = -1, ri, pp = -1;
    int g = -1;
    uint32_t origin;
    enum mrd_code rc = peer_seen(d, r, err);
    struct ent *e;

    if (rc != MRD_OK)
        return rc;
    if (d->cfg != NULL && bgp_hijack_classify(d->cfg, &r->prefix, &r->attrs->path, &hj)) {
        rc = touch(d, r, BGP_EV_HIJACK, hj.type, hj.hijacker_as, &hev, err);
        if (rc != MRD_OK)
            return rc;
        if (d->ev[hev].ev.first_seen == r->time && d->ev[hev].active == 0) {
            struct bgp_event *ev = &d->ev[hev].ev;
            memcpy(ev->type, hj.type, sizeof(ev->type));
            ev->has_hijacker = hj.has_hijacker;
            ev->hijacker_as = hj.hijacker_as;
            ev->matched = hj.matched->prefix;
            if (d->vrps != NULL) {
                ev->has_rov = true;
                ev->rov = bgp_rov_validate(d->vrps, &r->prefix, &r->attrs->path, &ev->rov_reason);
            }
        }
    }
    if (d->rel != NULL && bgp_leak_check(d->rel, r->attrs, &lk)) {
        rc = touch(d, r, BGP_EV_LEAK, "", lk.leaker_as, &lev, err);
        if (rc != MRD_OK)
            return rc;
        if (d->ev[lev].active == 0)
            d->ev[lev].ev.leak = lk;
    }
    if (d->grp != NULL && bgp_aspath_origin(&r->attrs->path, &origin))
        g = bgp_config_group_of(d->cfg, origin);
    rc = tab_find(&d->routes, key, hev >= 0 || lev >= 0 || g >= 0, &ri, err);
    if (rc != MRD_OK || ri < 0)
        return rc;
    if (g >= 0) {
        rc = vis_add(d, r, g, &pp, err);
        if (rc != MRD_OK)
            return rc;
    }
    e = &d->routes.e[ri];
    /* The new route replaces the old one: take the new events first, so
     * an event both carry never reaches zero in between. */
    if (e->v[0] != hev) {
        acquire(d, hev);
        release(d, e->v[0], r->time);
        e->v[0] = hev;
    }
    if (e->v[1] != lev) {
        acquire(d, lev);
        release(d, e->v[1], r->time);
        e->v[1] = lev;
    }
    vis_drop(d, e->v[2]);
    e->v[2] = pp;
    return MRD_OK;
}

static void peer_down(struct bgp_detect *d, const struct bgp_route *r)
{
    uint8_t key[KEY_MAX] = {0};
    put_peer(key, r);
    for (size_t i = 0; i < d->routes.n; i++) {
        if (memcmp(d->routes.e[i].key, key, PEER_KEY) == 0)
            drop_route(d, &d->routes.e[i], r->time);
    }
}

void bgp_detect_prefetch(const struct bgp_detect *d, const struct bgp_route *r)
{
    if (r->kind == BGP_ROUTE_RIB || r->kind == BGP_ROUTE_ANNOUNCE)
        bgp__leak_prefetch(d->rel, r->attrs);
}

enum mrd_code bgp_detect_route(struct bgp_detect *d, const struct bgp_route *r, struct mrd_err *err)
{
    uint8_t key[KEY_MAX] = {0};
    int32_t ri;
    size_t n;
    enum mrd_code rc;

    if (d->started && r->time > d->now) {
        rc = evaluate(d, err);
        if (rc != MRD_OK)
            return rc;
    }
    if (!d->started || r->time > d->now)
        d->now = r->time;
    d->started = true;
    if (r->kind == BGP_ROUTE_STATE) {
        if (r->new_state != BGP_STATE_ESTABLISHED)
            peer_down(d, r);
        return MRD_OK;
    }
    n = put_peer(key, r);
    n += put_prefix(key + n, &r->prefix);
    if (r->has_path_id)
        memcpy(key + n, &r->path_id, 4);
    if (r->kind == BGP_ROUTE_WITHDRAW) {
        rc = tab_find(&d->routes, key, false, &ri, err);
        if (rc == MRD_OK && ri >= 0)
            drop_route(d, &d->routes.e[ri], r->time);
        return rc;
    }
    if (r->attrs == NULL)
        return MRD_OK;
    return announce(d, r, key, err);
}

enum mrd_code bgp_detect_advance(struct bgp_detect *d, uint32_t now, struct mrd_err *err)
{
    enum mrd_code rc;

    if (!d->started || now <= d->now)
        return MRD_OK;
    rc = evaluate(d, err);
    if (rc == MRD_OK)
        d->now = now;
    return rc;
}

void bgp_detect_finish(struct bgp_detect *d)
{
    if (d->started)
        (void)evaluate(d, NULL);
}

static int cmp_first_seen(const void *pa, const void *pb)
{
    const struct evrec *a = *(const struct evrec *const *)pa, *b = *(const struct evrec *const *)pb;
    if (a->ev.first_seen != b->ev.first_seen)
        return a->ev.first_seen < b->ev.first_seen ? -1 : 1;
    return a < b ? -1 : a > b;
}

void bgp_detect_source(struct bgp_detect *d, const char *name)
{
    size_t i = 0;

    for (; name != NULL && name[i] != '\0' && i < BGP_COLLECTOR_MAX; i++) {
        unsigned char ch = (unsigned char)name[i];
        d->source[i] = ch < 0x20 || ch >= 0x7f || ch == '|' ? '?' : (char)ch;
    }
    d->source[i] = '\0';
}

/* Hands event e to fn with its path, group and collector filled in. */
static void hand_out(struct bgp_detect *d, const struct evrec *e,
                     void (*fn)(const struct bgp_event *ev, void *ctx), void *ctx)
{
    struct bgp_event ev = e->ev;

    ev.path = NULL;
    if (e->ev.kind == BGP_EV_HIJACK || e->ev.kind == BGP_EV_LEAK) {
        bgp__path_unflatten(e->path_len > 0 ? d->pool + e->path_off : d->scratch, e->path_len,
                            &d->path);
        ev.path = &d->path;
    }
    ev.collector = e->collector[0] != '\0' ? e->collector : NULL;
    if (e->group >= 0) {
        ev.group = d->cfg->groups[e->group].name;
        ev.group_asns = d->cfg->groups[e->group].asns;
        ev.group_nasns = d->cfg->groups[e->group].nasns;
    }
    fn(&ev, ctx);
}

void bgp_detect_each(struct bgp_detect *d, void (*fn)(const struct bgp_event *ev, void *ctx),
                     void *ctx)
{
    struct evrec **order = mrd_calloc(d->nev + 1, sizeof(*order));
    size_t n = d->nev;

    for (size_t i = 0; order != NULL && i < n; i++)
        order[i] = &d->ev[i];
    if (order != NULL)
        qsort(order, n, sizeof(*order), cmp_first_seen);
    for (size_t i = 0; i < n; i++)
        hand_out(d, order != NULL ? order[i] : &d->ev[i], fn, ctx);
    mrd_free(order);
}

static int cmp_index(const void *pa, const void *pb)
{
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    return a < b ? -1 : a > b;
}

void bgp_detect_each_changed(struct bgp_detect *d,
                             void (*fn)(const struct bgp_event *ev, void *ctx), void *ctx)
{
    if (d->changed_nomem) {
        for (size_t i = 0; i < d->nev; i++)
            hand_out(d, &d->ev[i], fn, ctx);
    } else {
        if (d->nchanged > 1) /* creation order */
            qsort(d->changed, d->nchanged, sizeof(*d->changed), cmp_index);
        for (size_t i = 0; i < d->nchanged; i++)
            hand_out(d, &d->ev[d->changed[i]], fn, ctx);
    }
    for (size_t i = 0; i < d->nchanged; i++)
        d->ev[d->changed[i]].changed = false;
    d->nchanged = 0;
    d->changed_nomem = false;
}

void bgp_detect_forget_ended(struct bgp_detect *d)
{
    int32_t *map = NULL;
    uint32_t *pool = NULL;
    size_t n = 0, npool = 0;

    /* Unreported changes would lose their event: forget nothing then. */
    if (d->nchanged > 0 || d->changed_nomem || d->nev == 0)
        return;
    for (size_t i = 0; i < d->nev; i++)
        if (!d->ev[i].ev.ended && d->ev[i].ev.kind != BGP_EV_OUTAGE_END)
            npool += d->ev[i].path_len;
    map = mrd_calloc(d->nev, sizeof(*map));
    pool = mrd_calloc(npool + 1, sizeof(*pool));
    if (map == NULL || pool == NULL)
        goto out; /* out of memory: keep everything, try again next time */
    npool = 0;
    for (size_t i = 0; i < d->nev; i++) {
        struct evrec *e = &d->ev[i];
        map[i] = -1;
        if (e->ev.ended || e->ev.kind == BGP_EV_OUTAGE_END)
            continue;
        if (e->path_len > 0)
            memcpy(pool + npool, d->pool + e->path_off, e->path_len * sizeof(*pool));
        e->path_off = npool;
        npool += e->path_len;
        map[i] = (int32_t)n;
        d->ev[n++] = *e;
    }
    /* Routes carry only open events; event keys may name forgotten ones,
     * which then count as absent (the next occurrence is a new event). */
    for (size_t i = 0; i < d->routes.n; i++)
        for (int k = 0; k < 2; k++)
            if (d->routes.e[i].v[k] >= 0)
                d->routes.e[i].v[k] = map[d->routes.e[i].v[k]];
    for (size_t i = 0; i < d->evkeys.n; i++)
        if (d->evkeys.e[i].v[0] >= 0)
            d->evkeys.e[i].v[0] = map[d->evkeys.e[i].v[0]];
    for (size_t g = 0; d->grp != NULL && g < d->cfg->ngroups; g++)
        d->grp[g].ev = d->grp[g].out ? map[d->grp[g].ev] : -1;
    mrd_free(d->pool);
    d->pool = pool;
    d->npool = d->cappool = npool;
    pool = NULL;
    d->nev = n;
out:
    mrd_free(map);
    mrd_free(pool);
}

const char *bgp_event_kind_name(enum bgp_event_kind k)
{
    static const char *const names[] = {"hijack", "leak", "outage", "outage-end"};
    return (unsigned)k < 4 ? names[k] : "?";
}

/* ---- JSON ---- */

static json_t *time_json(uint32_t t)
{
    char s[MRD_TIME_STIX_MS_LEN + 1];
    mrd_time_format_stix_ms((int64_t)t * 1000000, s);
    return json_string(s);
}

/* The peer's address, or null when the route did not say (afi 0). */
static json_t *addr_json(const struct bgp_addr *a)
{
    struct mrd_buf b;
    json_t *j = NULL;

    if (a->afi != BGP_AFI_IPV4 && a->afi != BGP_AFI_IPV6)
        return json_null();
    mrd_buf_init(&b, 64);
    if (bgp_addr_format(a, &b, NULL) == MRD_OK)
        j = json_stringn(b.data, b.len);
    mrd_buf_release(&b);
    return j;
}

static json_t *prefix_json(const struct bgp_prefix *p)
{
    struct mrd_buf b;
    json_t *j = NULL;
    mrd_buf_init(&b, 64);
    if (bgp_prefix_format(p, &b, NULL) == MRD_OK)
        j = json_stringn(b.data, b.len);
    mrd_buf_release(&b);
    return j;
}

enum mrd_code bgp_event_json(const struct bgp_event *ev, json_t **ret_json, struct mrd_err *err)
{
    json_t *j = json_object();
    bool routed = ev->kind == BGP_EV_HIJACK || ev->kind == BGP_EV_LEAK;
    int bad = j == NULL;

#define SET(k, v) (bad |= json_object_set_new(j, (k), (v)) != 0)
    if (!bad) {
        SET("kind", json_string(bgp_event_kind_name(ev->kind)));
        SET("prefix", routed ? prefix_json(&ev->prefix) : json_null());
        SET("as_path", routed ? bgp_aspath_json(ev->path) : json_null());
        SET("peer_as", routed ? json_integer(ev->peer_as) : json_null());
        SET("peer", routed ? addr_json(&ev->peer_ip) : json_null());
        SET("collector",
            routed && ev->collector != NULL ? json_string(ev->collector) : json_null());
        SET("first_seen", time_json(ev->first_seen));
        SET("last_seen", time_json(ev->last_seen));
        SET("ended", ev->ended ? time_json(ev->ended_at) : json_null());
    }
    if (!bad && routed) {
        uint32_t origin;
        SET("peers", json_integer((json_int_t)ev->peers));
        if (bgp_aspath_origin(ev->path, &origin))
            SET("origin_as", json_integer(origin));
    }
    if (!bad && ev->kind == BGP_EV_HIJACK) {
        SET("type", json_string(ev->type));
        SET("hijacker_as", ev->has_hijacker ? json_integer(ev->hijacker_as) : json_null());
        SET("matched_prefix", prefix_json(&ev->matched));
        if (ev->has_rov) {
            SET("rov", json_string(bgp_rov_name(ev->rov)));
            SET("reason", json_string(bgp_rov_reason_name(ev->rov_reason)));
        }
    } else if (!bad && ev->kind == BGP_EV_LEAK) {
        SET("leaker_as", json_integer(ev->leak.leaker_as));
        SET("leak", json_string(bgp_leak_reason_name(ev->leak.reason)));
        SET("learned_from", json_integer(ev->leak.from_as));
        SET("sent_to", json_integer(ev->leak.to_as));
        SET("otc", ev->leak.reason == BGP_LEAK_OTC ? json_integer(ev->leak.otc) : json_null());
    } else if (!bad) {
        SET("group", json_string(ev->group != NULL ? ev->group : ""));
        SET("visible", json_integer((json_int_t)ev->visible));
        SET("baseline", json_integer((json_int_t)ev->baseline));
        SET("lowest", json_integer((json_int_t)ev->lowest));
        SET("visible_v4", json_integer((json_int_t)ev->visible_v4));
        SET("visible_v6", json_integer((json_int_t)ev->visible_v6));
        SET("peers_v4", json_integer((json_int_t)ev->peers_v4));
        SET("peers_v6", json_integer((json_int_t)ev->peers_v6));
    }
#undef SET
    if (bad) {
        json_decref(j);
        return mrd_err_set(err, MRD_E_NOMEM, "detect: out of memory");
    }
    *ret_json = j;
    return MRD_OK;
}
