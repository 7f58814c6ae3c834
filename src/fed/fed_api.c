/*
 * The node's JSON API for the dashboard: /api/v1/sightings/ and
 * /api/v1/peers/, in front of the TAXII application.
 *
 * Authentication is the TAXII one (an API token, Bearer or Basic), and the
 * answer for anything a reader may not see is the same as for something
 * that does not exist. Peer state (URLs, errors) is operator information:
 * only own orgs get it.
 */
#include "fed/fed_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"

#define API_MAX_BODY ((size_t)4096)

static void answer(struct http_response *resp, unsigned status, json_t *v)
{
    char *s = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

    resp->status = status;
    resp->content_type = "application/json";
    mrd_buf_reset(&resp->body);
    if (s != NULL)
        (void)mrd_buf_puts(&resp->body, s, NULL);
    free(s);
    json_decref(v);
}

static void error(struct http_response *resp, unsigned status, const char *title)
{
    answer(resp, status, json_pack("{s:s,s:i}", "title", title, "http_status", (int)status));
}

static bool is_api(const char *path)
{
    return strncmp(path, FED_API_PREFIX, strlen(FED_API_PREFIX)) == 0 ||
           strcmp(path, "/api/v1") == 0;
}

static size_t body_max(void *ctx, const char *method, const char *path)
{
    struct fed_api *api = ctx;

    if (is_api(path))
        return API_MAX_BODY;
    return api->inner.body_max(api->inner.ctx, method, path);
}

static size_t body_factor(void *ctx, const char *method, const char *path)
{
    struct fed_api *api = ctx;

    if (is_api(path) || api->inner.body_factor == NULL)
        return 1;
    return api->inner.body_factor(api->inner.ctx, method, path);
}

static void refuse(void *ctx, const char *method, const char *path, struct http_response *resp)
{
    struct fed_api *api = ctx;

    if (is_api(path)) {
        error(resp, resp->status, "Refused");
        return;
    }
    api->inner.refuse(api->inner.ctx, method, path, resp);
}

static void log_rec(void *ctx, const struct http_access *a)
{
    struct fed_api *api = ctx;

    if (api->inner.log != NULL)
        api->inner.log(api->inner.ctx, a);
}

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
static void verification(struct fed_api *api, const struct store_token *tok, const char *cid,
                         struct http_response *resp)
{
    struct store_collection c;
    struct store_grant g;
    struct store_query q = {
        .added_after = STORE_TIME_NONE, .limit = FED_API_MAX_ROWS, .want_body = true};
    struct store_query_result res;
    struct verif_ctx x = {.trust = api->trust};
    size_t n = strlen(cid);

    if (n > 0 && cid[n - 1] == '/')
        n--;
    if (store_collection_get(api->st, NULL, 0, cid, n, &c, NULL) != MRD_OK ||
        store_grant_get(api->st, tok->org_key, c.key, &g, NULL) != MRD_OK ||
        (!g.can_read && !c.public_read)) {
        error(resp, 404, "Not found"); /* missing and inaccessible look the same */
        return;
    }
    x.reader = (struct policy_reader){
        .org_id = tok->org_key,
        .relation = tok->org_relation,
        .has_read_grant = g.can_read,
        .collection_public = c.public_read,
        .community = c.api_root,
        .community_len = strlen(c.api_root),
    };
    x.list = json_array();
    q.collection = c.key;
    if (x.list == NULL ||
        store_objects_query(api->st, &q, verif_visible, verif_emit, &x, &res, NULL) != MRD_OK) {
        json_decref(x.list);
        error(resp, 500, "Internal error");
        return;
    }
    answer(resp, 200, json_pack("{s:o,s:b}", "objects", x.list, "more", res.more));
}

static void handle(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct fed_api *api = ctx;
    char secret[HTTP_MAX_SECRET + 1];
    size_t slen = 0;
    struct store_token tok;
    struct mrd_err err = {0};
    const char *auth, *rest;
    json_t *out = NULL;

    if (!is_api(req->path)) {
        api->inner.handle(api->inner.ctx, req, resp);
        return;
    }
    auth = http_request_header(req, "Authorization");
    if (auth == NULL || http_auth_secret(auth, strlen(auth), secret, &slen, NULL) != MRD_OK ||
        store_token_lookup(api->st, secret, slen, &tok, NULL) != MRD_OK) {
        sodium_memzero(secret, sizeof(secret));
        (void)http_response_header(resp, "WWW-Authenticate", "Bearer realm=\"meridian\"");
        error(resp, 401, "Authentication required");
        return;
    }
    sodium_memzero(secret, sizeof(secret));
    if (strcmp(req->method, "GET") != 0) {
        error(resp, 405, "Method not allowed");
        return;
    }
    if (strlen(req->path) < strlen(FED_API_PREFIX)) { /* "/api/v1" itself */
        error(resp, 404, "Not found");
        return;
    }
    rest = req->path + strlen(FED_API_PREFIX);
    if (strncmp(rest, "sightings", 9) == 0 && (rest[9] == '\0' || rest[9] == '/')) {
        const char *ind = rest[9] == '/' ? rest + 10 : "";
        size_t n = strlen(ind);
        char id[STORE_STIX_ID_MAX + 1];
        if (n > 0 && ind[n - 1] == '/')
            n--;
        if (n > STORE_STIX_ID_MAX || !mrd_str_has_prefix(ind, n, "indicator--")) {
            if (n > 0) {
                error(resp, 404, "Not found");
                return;
            }
        }
        memcpy(id, ind, n);
        id[n] = '\0';
        if (fed_sightings_json(api->st, tok.org_key, n > 0 ? id : NULL, &out, &err) != MRD_OK) {
            error(resp, 500, "Internal error");
            return;
        }
        answer(resp, 200, out);
        return;
    }
    if (strncmp(rest, "verification/", 13) == 0) {
        verification(api, &tok, rest + 13, resp);
        return;
    }
    if (strcmp(rest, "peers") == 0 || strcmp(rest, "peers/") == 0) {
        struct fed_state *fs = NULL;
        json_t *list;
        if (tok.org_relation != POLICY_REL_OWN) {
            error(resp, 404, "Not found");
            return;
        }
        list = json_array();
        if (list == NULL || fed_state_open(api->data_dir, &fs, &err) != MRD_OK ||
            fed_peer_list(fs, add_peer, list, &err) != MRD_OK) {
            fed_state_close(fs);
            json_decref(list);
            error(resp, 500, "Internal error");
            return;
        }
        fed_state_close(fs);
        answer(resp, 200, json_pack("{s:o}", "peers", list));
        return;
    }
    error(resp, 404, "Not found");
}

void fed_api_app(struct fed_api *api, struct http_app *ret)
{
    ret->ctx = api;
    ret->body_max = body_max;
    ret->body_factor = body_factor;
    ret->handle = handle;
    ret->refuse = refuse;
    ret->log = log_rec;
}
