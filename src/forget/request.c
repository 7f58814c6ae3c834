/*
 * request.c: erasure requests that travel to peers (forget.h, "erasure
 * requests"): storing the signed requests of a local erasure, and
 * applying the requests received from peers.
 *
 * A request is an ordinary object in the collection the data was erased
 * from, so it goes exactly where that collection's objects go (pushes,
 * pulls, relays), under the TLP level the erased versions had: whoever
 * may read it could read the data it names. The receiving side trusts
 * nothing but the signature: the request's signer must be a key this node
 * trusts, and only the versions that signer signed, or that came from the
 * same peer as the request, are erased.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "crypto/crypto.h"
#include "fed/fed.h"
#include "forget/forget_int.h"

/* ---- parsing ---- */

static bool id_ok(const char *s, size_t n)
{
    const char *dd = n > 0 ? strstr(s, "--") : NULL;

    if (n == 0 || n > STORE_STIX_ID_MAX || strlen(s) != n || dd == NULL || dd == s)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

enum mrd_code forget_request_parse(const char *body, size_t len, json_t **ret, struct mrd_err *err)
{
    const struct mrd_json_limits lim = {STORE_OBJECT_MAX, 32};
    json_t *o = NULL, *v;
    const char *s;
    enum mrd_code rc;

    *ret = NULL;
    rc = mrd_json_parse(body, len, &lim, &o, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "erasure request: ");
        return MRD_E_PARSE;
    }
    rc = MRD_E_PARSE;
    v = json_object_get(o, "type");
    if (!json_is_object(o) || !json_is_string(v) ||
        strcmp(json_string_value(v), FORGET_REQUEST_TYPE) != 0) {
        mrd_err_set(err, rc, "erasure request: type: not %s", FORGET_REQUEST_TYPE);
        goto out;
    }
    v = json_object_get(o, "id");
    s = json_string_value(v);
    if (s == NULL || !id_ok(s, json_string_length(v)) ||
        strncmp(s, FORGET_REQUEST_TYPE "--", strlen(FORGET_REQUEST_TYPE) + 2) != 0) {
        mrd_err_set(err, rc, "erasure request: id: not a %s id", FORGET_REQUEST_TYPE);
        goto out;
    }
    v = json_object_get(o, "object_refs");
    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > FORGET_REQUEST_REFS_MAX) {
        mrd_err_set(err, rc, "erasure request: object_refs: want 1 to %d STIX ids",
                    FORGET_REQUEST_REFS_MAX);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);

        if (!json_is_string(e) || !id_ok(json_string_value(e), json_string_length(e))) {
            mrd_err_set(err, rc, "erasure request: object_refs[%zu]: not a STIX id", i);
            goto out;
        }
    }
    v = json_object_get(o, "reason");
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > FORGET_REASON_MAX ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        mrd_err_set(err, rc, "erasure request: reason: want 1 to %d bytes of text",
                    FORGET_REASON_MAX);
        goto out;
    }
    *ret = o;
    o = NULL;
    rc = MRD_OK;
out:
    json_decref(o);
    return rc;
}

/* ---- publishing ---- */

/* One request over ids (at most FORGET_REQUEST_REFS_MAX), stored in
 * collection coll under level tlp. */
static enum mrd_code publish_one(struct store *st, struct forget_publish *pub, int64_t coll,
                                 enum policy_tlp tlp, int64_t own, const char *reason, json_t *ids,
                                 int64_t now, struct mrd_err *err)
{
    char uuid[MRD_UUID_STR_LEN + 1], id[STORE_STIX_ID_MAX + 1], ts[MRD_TIME_STIX_MS_LEN + 1];
    int64_t ms = now / 1000 * 1000;
    struct fed_ingest_result ir;
    struct store_object_in in;
    struct mrd_buf body;
    json_t *obj;
    enum mrd_code rc;

    rc = mrd_uuid_v4(uuid, err);
    if (rc != MRD_OK)
        return rc;
    (void)snprintf(id, sizeof(id), "%s--%s", FORGET_REQUEST_TYPE, uuid);
    mrd_time_format_stix_ms(ms, ts);
    obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:s}", "type", FORGET_REQUEST_TYPE,
                    "spec_version", "2.1", "id", id, "created", ts, "modified", ts, "object_refs",
                    ids, "reason", reason);
    if (obj == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "erasure request: out of memory");
    memset(&ir, 0, sizeof(ir));
    mrd_buf_init(&body, STORE_OBJECT_MAX);
    rc = fed_ingest_canon(pub->trust, obj, FED_ORIGIN_LOCAL, tlp, &body, &ir, err);
    if (rc == MRD_OK && ir.reject)
        rc = mrd_err_set(err, MRD_E_INVALID, "erasure request: %s", ir.message);
    if (rc == MRD_OK && ir.signer[0] == '\0')
        rc = mrd_err_set(err, MRD_E_INVAL,
                         "erasure request: the node has no key to sign it (meridian key create)");
    if (rc == MRD_OK) {
        in = (struct store_object_in){.id = id,
                                      .id_len = strlen(id),
                                      .type = FORGET_REQUEST_TYPE,
                                      .type_len = strlen(FORGET_REQUEST_TYPE),
                                      .spec_version = "2.1",
                                      .spec_version_len = 3,
                                      .created_usec = ms,
                                      .modified_usec = ms,
                                      .tlp = ir.tlp,
                                      .local = true,
                                      .creator_org = own,
                                      .body = body.data,
                                      .body_len = body.len,
                                      .signer = ir.signer,
                                      .signer_len = strlen(ir.signer),
                                      .signer_trusted = fed_trust_knows,
                                      .same_content = fed_same_content,
                                      .signer_ctx = (void *)(uintptr_t)pub->trust};
        rc = store_objects_insert(st, coll, &in, 1, NULL, NULL, err);
    }
    if (rc == MRD_OK)
        pub->published++;
    mrd_buf_release(&body);
    json_decref(obj);
    return rc;
}

enum mrd_code forget__publish(struct store *st, struct forget_publish *pub,
                              const struct forget_erase_req *req, const json_t *gone, int64_t now,
                              struct mrd_err *err)
{
    char own_name[STORE_META_VAL_MAX + 1];
    struct store_org own;
    json_t *groups = json_object(); /* "COLL:TLP" -> {id: true} */
    const char *key;
    json_t *set;
    size_t i;
    json_t *e;
    enum mrd_code rc;

    if (groups == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "erasure request: out of memory");
    rc = store_meta_get(st, "own_org", own_name, sizeof(own_name), err);
    if (rc == MRD_OK)
        rc = store_org_get(st, own_name, 0, &own, err);
    json_array_foreach(gone, i, e)
    {
        char k[64];
        json_t *g;

        if (rc != MRD_OK)
            break;
        (void)snprintf(k, sizeof(k), "%lld:%d", (long long)json_integer_value(json_array_get(e, 0)),
                       (int)json_integer_value(json_array_get(e, 1)));
        g = json_object_get(groups, k);
        if (g == NULL && json_object_set_new(groups, k, g = json_object()) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "erasure request: out of memory");
        else if (json_object_set_new(g, json_string_value(json_array_get(e, 2)), json_true()) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "erasure request: out of memory");
    }
    json_object_foreach(groups, key, set)
    {
        long long coll = 0;
        int tlp = 0;
        json_t *ids = json_array();
        const char *id;
        json_t *t;

        if (rc != MRD_OK || ids == NULL || sscanf(key, "%lld:%d", &coll, &tlp) != 2) {
            json_decref(ids);
            break;
        }
        json_object_foreach(set, id, t)
        {
            (void)t;
            (void)json_array_append_new(ids, json_string(id));
            if (json_array_size(ids) == FORGET_REQUEST_REFS_MAX && rc == MRD_OK) {
                rc = publish_one(st, pub, coll, (enum policy_tlp)tlp, own.key, req->reason, ids,
                                 now, err);
                json_array_clear(ids);
            }
        }
        if (rc == MRD_OK && json_array_size(ids) > 0)
            rc = publish_one(st, pub, coll, (enum policy_tlp)tlp, own.key, req->reason, ids, now,
                             err);
        json_decref(ids);
    }
    json_decref(groups);
    if (rc != MRD_OK)
        mrd_err_prefix(err, "the data is erased here, but its erasure request is not stored: ");
    return rc;
}

/* ---- applying received requests ---- */

/* A received request, copied out of the scan. */
struct pending {
    int64_t seq;
    char *body;
    size_t body_len;
    char source[FED_PEER_NAME_MAX + 1];
    bool ours;
};

struct scan {
    struct pending items[64];
    size_t n;
};

static enum mrd_code pending_row(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct scan *sc = ctx;
    struct pending *p = &sc->items[sc->n];
    const struct store_row *r = o->row;

    memset(p, 0, sizeof(*p));
    p->seq = r->seq;
    p->ours = r->policy.local && r->source_peer == NULL;
    if (r->source_peer != NULL)
        (void)snprintf(p->source, sizeof(p->source), "%.*s", (int)r->source_peer_len,
                       r->source_peer);
    p->body = mrd_malloc(r->body_len + 1);
    if (p->body == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "erasure request: out of memory");
    memcpy(p->body, r->body, r->body_len);
    p->body[r->body_len] = '\0';
    p->body_len = r->body_len;
    sc->n++;
    return MRD_OK;
}

/* Whether a version may be erased by the request: the requester signed
 * it, or it came from the same peer as the request. */
struct allow_ctx {
    const struct crypto_keyring *kr;
    uint8_t signer[CRYPTO_PUBKEY_LEN];
    const char *source; /* "" when the request was not received from a peer */
};

static bool allow_version(void *ctx, const struct store_held *o)
{
    struct allow_ctx *a = ctx;
    const struct store_row *r = o->row;
    struct crypto_verify_result vr;
    json_t *obj = NULL;
    bool ok = false;

    if (a->source[0] != '\0' && r->source_peer != NULL && r->source_peer_len == strlen(a->source) &&
        memcmp(r->source_peer, a->source, r->source_peer_len) == 0)
        return true;
    if (mrd_json_parse(r->body, r->body_len, NULL, &obj, NULL) != MRD_OK)
        return false;
    ok = crypto_object_verify(obj, a->kr, &vr, NULL) == MRD_OK && vr.verdict == CRYPTO_VALID &&
         vr.has_signer && memcmp(vr.signer, a->signer, CRYPTO_PUBKEY_LEN) == 0;
    json_decref(obj);
    return ok;
}

static enum mrd_code apply_one(struct store *st, const struct crypto_keyring *kr, int64_t now,
                               const struct pending *p,
                               void (*cb)(void *ctx, const struct forget_applied *a), void *ctx,
                               struct mrd_err *err)
{
    struct forget_applied a = {.source = p->source};
    struct crypto_verify_result vr;
    struct mrd_err perr = {0};
    char why[MRD_ERR_MSG_MAX], signer[CRYPTO_PUBKEY_TEXT_LEN + 1];
    struct allow_ctx ac = {.kr = kr, .source = p->source};
    struct forget__walk w;
    struct forget_erase_req req = {0};
    json_t *obj = NULL, *refs, *e;
    size_t i;
    enum mrd_code rc = MRD_OK;

    a.request = "?";
    if (forget_request_parse(p->body, p->body_len, &obj, &perr) != MRD_OK) {
        a.message = perr.msg;
        goto report;
    }
    a.request = json_string_value(json_object_get(obj, "id"));
    if (crypto_object_verify(obj, kr, &vr, &perr) != MRD_OK || vr.verdict != CRYPTO_VALID ||
        !vr.has_signer) {
        (void)snprintf(why, sizeof(why), "refused: %s",
                       perr.msg[0]                           ? perr.msg
                       : vr.verdict == CRYPTO_UNSIGNED       ? "not signed"
                       : vr.verdict == CRYPTO_UNKNOWN_SIGNER ? "signed by a key this node does "
                                                               "not trust"
                                                             : vr.reason);
        a.message = why;
        goto report;
    }
    memcpy(ac.signer, vr.signer, sizeof(ac.signer));
    crypto_pubkey_format(vr.signer, signer);
    req.object = a.request;
    req.reason = json_string_value(json_object_get(obj, "reason"));
    req.requester = signer;
    req.request = a.request;
    forget__walk_init(&w, st, "erasure", &req, now, false, NULL, NULL);
    w.allow = allow_version;
    w.actx = &ac;
    refs = json_object_get(obj, "object_refs");
    json_array_foreach(refs, i, e)
    {
        rc = forget__erase_object(&w, json_string_value(e), json_string_length(e), err);
        if (rc != MRD_OK)
            break;
    }
    a.r = w.res;
    a.refused = w.refused;
    forget__walk_release(&w);
    if (rc != MRD_OK)
        goto out;
    a.applied = true;
    a.message = "applied";
report:
    if (cb != NULL)
        cb(ctx, &a);
out:
    json_decref(obj);
    return rc;
}

enum mrd_code forget_requests_apply(struct store *st, const struct crypto_keyring *kr, int64_t now,
                                    void (*cb)(void *ctx, const struct forget_applied *a),
                                    void *ctx, size_t *ret_n, struct mrd_err *err)
{
    char val[32];
    long long cursor = 0;
    struct scan *sc = mrd_calloc(1, sizeof(*sc));
    size_t seen = 0;
    enum mrd_code rc;

    if (sc == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "erasure request: out of memory");
    rc = store_meta_get(st, FORGET_REQUEST_CURSOR, val, sizeof(val), err);
    if (rc == MRD_OK) {
        cursor = strtoll(val, NULL, 10);
    } else if (rc == MRD_E_NOTFOUND) {
        mrd_err_clear(err);
        rc = MRD_OK;
    }
    while (rc == MRD_OK) {
        struct store_find f = {.version_usec = STORE_TIME_NONE,
                               .leaf = -1,
                               .type = FORGET_REQUEST_TYPE,
                               .type_len = strlen(FORGET_REQUEST_TYPE),
                               .after_seq = cursor,
                               .limit = sizeof(sc->items) / sizeof(sc->items[0])};

        sc->n = 0;
        rc = store_objects_find(st, &f, pending_row, sc, err);
        for (size_t i = 0; i < sc->n && rc == MRD_OK; i++) {
            if (!sc->items[i].ours) {
                rc = apply_one(st, kr, now, &sc->items[i], cb, ctx, err);
                seen++;
            }
            if (rc == MRD_OK) {
                cursor = sc->items[i].seq;
                (void)snprintf(val, sizeof(val), "%lld", cursor);
                rc = store_meta_set(st, FORGET_REQUEST_CURSOR, val, err);
            }
        }
        for (size_t i = 0; i < sc->n; i++)
            mrd_free(sc->items[i].body);
        if (sc->n < sizeof(sc->items) / sizeof(sc->items[0]))
            break;
    }
    mrd_free(sc);
    if (ret_n != NULL)
        *ret_n = seen;
    return rc;
}
