/*
 * fed's routes in the node's JSON API (api.h): /api/v1/sightings/,
 * /api/v1/verification/{collection-id}/ and /api/v1/peers/.
 *
 * Authentication and errors are the router's; the answer for anything a
 * reader may not see is the same as for something that does not exist.
 * Peer state (URLs, errors) is operator information: only own orgs get it.
 */
#include "fed/fed_int.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "taxii/taxii.h"

static json_t *peer_json(const struct fed_peer *p, const struct fed_peer_state *s)
{
    char ok[MRD_TIME_TAXII_LEN + 1] = "", cur[MRD_TIME_TAXII_LEN + 1] = "";
    double lag = -1;

    if (s->last_ok_usec > 0) {
        mrd_time_format_taxii(s->last_ok_usec, ok);
        lag = (double)(mrd_time_now_usec() - s->last_ok_usec) / 1e6;
    }
    if (s->pull_cursor != STORE_TIME_NONE)
        mrd_time_format_taxii(s->pull_cursor, cur);
    return json_pack("{s:s,s:s,s:s,s:b,s:s,s:s?,s:s?,s:f,s:i,s:s,s:I,s:I,s:I}", "name", p->name,
                     "url", p->url, "direction", fed_direction_name(p->direction), "enabled",
                     p->enabled, "community", p->community, "last_ok", ok[0] ? ok : NULL,
                     "pull_cursor", cur[0] ? cur : NULL, "lag_seconds", lag, "failures",
                     (int)s->failures, "last_error", s->last_error, "pulled", (json_int_t)s->pulled,
                     "pushed", (json_int_t)s->pushed, "rejected", (json_int_t)s->rejected);
}

static enum mrd_code add_peer(void *ctx, const struct fed_peer *p, const struct fed_peer_state *s)
{
    json_t *v = peer_json(p, s);

    if (v == NULL || json_array_append_new(ctx, v) != 0)
        return MRD_E_NOMEM;
    return MRD_OK;
}

struct verif_ctx {
    const struct fed_trust *trust;
    struct policy_reader reader;
    json_t *list;
};

static bool verif_visible(void *ctx, const struct store_row *row)
{
    return policy_may_read(&((struct verif_ctx *)ctx)->reader, &row->policy);
}

static enum mrd_code verif_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct verif_ctx *x = ctx;
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    struct crypto_verify_result vr = {.verdict = CRYPTO_INVALID};
    char signer[CRYPTO_PUBKEY_TEXT_LEN + 1] = "", ver[MRD_TIME_TAXII_LEN + 1] = "";
    json_t *o = NULL, *e;

    if (mrd_json_parse(row->body, row->body_len, &lim, &o, NULL) == MRD_OK)
        (void)crypto_object_verify(o, x->trust != NULL ? x->trust->keyring : NULL, &vr, NULL);
    json_decref(o);
    if (vr.has_signer)
        crypto_pubkey_format(vr.signer, signer);
    if (row->version_usec != STORE_VERSION_NONE)
        mrd_time_format_taxii(row->version_usec, ver);
    e = json_pack("{s:s%,s:s?,s:s,s:s?,s:s?}", "id", row->id, row->id_len, "version",
                  ver[0] ? ver : NULL, "verification", crypto_verdict_str(vr.verdict), "signer",
                  signer[0] ? signer : NULL, "signer_name", vr.signer_name);
    if (e != NULL && row->source_peer != NULL &&
        json_object_set_new(e, "source_peer",
                            json_stringn(row->source_peer, row->source_peer_len)) != 0) {
        json_decref(e);
        e = NULL;
    }
    if (e == NULL || json_array_append_new(x->list, e) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "verification list");
    return MRD_OK;
}

/* GET /api/v1/verification/{collection-id}/: what the reader may read. */
static void verification(struct api_req *r)
{
    struct fed_api *api = r->ctx;
    const char *cid = r->params[0];
    struct store_collection c;
    struct store_query q = {
        .added_after = STORE_TIME_NONE, .limit = FED_API_MAX_ROWS, .want_body = true};
    struct store_query_result res;
    struct verif_ctx x = {.trust = api->trust};
    struct mrd_err err = {0};
    bool can_read = false;

    if (store_collection_get(api->st, NULL, 0, cid, strlen(cid), &c, NULL) != MRD_OK ||
        store_reader_for(api->st, r->who.tok.org_key, r->who.tok.org_relation, &c, &x.reader,
                         &can_read, NULL) != MRD_OK ||
        !can_read) {
        api_error(r, 404, "Not found", NULL); /* missing and inaccessible look the same */
        return;
    }
    x.list = json_array();
    q.collection = c.key;
    if (x.list == NULL ||
        store_objects_query(api->st, &q, verif_visible, verif_emit, &x, &res, &err) != MRD_OK) {
        json_decref(x.list);
        api_internal(r, &err);
        return;
    }
    api_json(r, 200, json_pack("{s:o,s:b}", "objects", x.list, "more", res.more));
}

/* GET /api/v1/sightings/ and /api/v1/sightings/{indicator-id}/ */
static void sightings(struct api_req *r)
{
    struct fed_api *api = r->ctx;
    const char *ind = r->nparams > 0 ? r->params[0] : NULL;
    struct mrd_err err = {0};
    json_t *out = NULL;

    if (ind != NULL &&
        (strlen(ind) > STORE_STIX_ID_MAX || !mrd_str_has_prefix(ind, strlen(ind), "indicator--"))) {
        api_error(r, 404, "Not found", NULL);
        return;
    }
    if (fed_sightings_json(api->st, r->who.tok.org_key, ind, &out, &err) != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    api_json(r, 200, out);
}

/* GET /api/v1/peers/ (own orgs: the router answers 404 to the others) */
static void peers(struct api_req *r)
{
    struct fed_api *api = r->ctx;
    struct fed_state *fs = NULL;
    struct mrd_err err = {0};
    json_t *list = json_array();

    if (list == NULL || fed_state_open(api->data_dir, &fs, &err) != MRD_OK ||
        fed_peer_list(fs, add_peer, list, &err) != MRD_OK) {
        fed_state_close(fs);
        json_decref(list);
        api_internal(r, &err);
        return;
    }
    fed_state_close(fs);
    api_json(r, 200, json_pack("{s:o}", "peers", list));
}

static const struct api_route routes[] = {
    {"GET", "sightings", 0, 0, sightings,
     "sightings roll-up of every indicator the caller may read, most sighted first"},
    {"GET", "sightings/{indicator}", 0, 0, sightings,
     "one indicator's sightings roll-up: count, reporting orgs, first and last seen"},
    {"GET", "verification/{collection}", 0, 0, verification,
     "signature status and signer of each readable object of a collection"},
    {"GET", "peers", API_F_OWN, 0, peers,
     "federation peers: direction, community, cursor, lag, counters, errors, back-off"},
};

enum mrd_code fed_api_routes(struct fed_api *api, struct api_router *router, struct mrd_err *err)
{
    return api_router_add(router, routes, sizeof(routes) / sizeof(routes[0]), api, err);
}
