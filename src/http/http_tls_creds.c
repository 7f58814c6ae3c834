/*
 * http_tls_creds.c: a server certificate and key that can be replaced
 * while serving (http_server_tls_reload, SIGHUP in `meridian serve`).
 *
 * libmicrohttpd asks for the certificate at each handshake through a
 * GnuTLS retrieve callback, which gets no context pointer: the current
 * credentials live in one process-wide slot (hence at most one reloadable
 * server per process). Replaced credentials are never freed while the
 * server runs -- a handshake may still be using them -- but kept on a list
 * freed with the server; a reload is rare and costs a few KiB.
 */
#include "http/http_int.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"

struct http_tls_creds {
    gnutls_pcert_st chain[HTTP_TLS_MAX_CHAIN];
    unsigned n;
    gnutls_privkey_t key;
    struct http_tls_creds *older; /* replaced ones, freed with the server */
};

static _Atomic(struct http_tls_creds *) current;
static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static bool slot_taken;

static void creds_free(struct http_tls_creds *c)
{
    while (c != NULL) {
        struct http_tls_creds *next = c->older;

        for (unsigned i = 0; i < c->n; i++)
            gnutls_pcert_deinit(&c->chain[i]);
        if (c->key != NULL)
            gnutls_privkey_deinit(c->key);
        mrd_free(c);
        c = next;
    }
}

/* The key's public half equals the first certificate's. */
static bool key_matches(struct http_tls_creds *c)
{
    gnutls_pubkey_t pub = NULL;
    unsigned char a[64], b[64];
    size_t na = sizeof(a), nb = sizeof(b);
    bool ok = false;

    if (gnutls_pubkey_init(&pub) == 0 && gnutls_pubkey_import_privkey(pub, c->key, 0, 0) == 0 &&
        gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &na) == 0 &&
        gnutls_pubkey_get_key_id(c->chain[0].pubkey, GNUTLS_KEYID_USE_SHA256, b, &nb) == 0)
        ok = na == nb && memcmp(a, b, na) == 0;
    gnutls_pubkey_deinit(pub);
    return ok;
}

static enum mrd_code creds_load(const char *cert_pem, const char *key_pem,
                                struct http_tls_creds **ret, struct mrd_err *err)
{
    struct http_tls_creds *c = mrd_calloc(1, sizeof(*c));
    gnutls_datum_t cd = {(unsigned char *)(uintptr_t)cert_pem, (unsigned)strlen(cert_pem)};
    gnutls_datum_t kd = {(unsigned char *)(uintptr_t)key_pem, (unsigned)strlen(key_pem)};
    unsigned n = HTTP_TLS_MAX_CHAIN;
    int r;

    if (c == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "tls: out of memory");
    r = gnutls_pcert_list_import_x509_raw(c->chain, &n, &cd, GNUTLS_X509_FMT_PEM, 0);
    if (r < 0 || n == 0) {
        creds_free(c);
        return mrd_err_set(err, MRD_E_CRYPTO, "tls: certificate: %s",
                           r < 0 ? gnutls_strerror(r) : "no certificate in the file");
    }
    c->n = n;
    if ((r = gnutls_privkey_init(&c->key)) < 0 ||
        (r = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        creds_free(c);
        return mrd_err_set(err, MRD_E_CRYPTO, "tls: key: %s", gnutls_strerror(r));
    }
    if (!key_matches(c)) {
        creds_free(c);
        return mrd_err_set(err, MRD_E_CRYPTO,
                           "tls: the key does not belong to the certificate (the first one "
                           "in the file)");
    }
    *ret = c;
    return MRD_OK;
}

int http__tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                       gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    struct http_tls_creds *c = atomic_load(&current);

    (void)session;
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (c == NULL)
        return -1;
    *pcert = c->chain;
    *pcert_length = c->n;
    *pkey = c->key;
    return 0;
}

enum mrd_code http__tls_creds_start(const char *cert_pem, const char *key_pem,
                                    struct http_tls_creds **ret, struct mrd_err *err)
{
    struct http_tls_creds *c = NULL;
    enum mrd_code rc;

    (void)pthread_mutex_lock(&slot_mu);
    if (slot_taken) {
        (void)pthread_mutex_unlock(&slot_mu);
        return mrd_err_set(err, MRD_E_CONFLICT, "tls: one reloadable server per process");
    }
    rc = creds_load(cert_pem, key_pem, &c, err);
    if (rc == MRD_OK) {
        slot_taken = true;
        atomic_store(&current, c);
        *ret = c;
    }
    (void)pthread_mutex_unlock(&slot_mu);
    return rc;
}

enum mrd_code http__tls_creds_swap(struct http_tls_creds **slot, const char *cert_pem,
                                   const char *key_pem, struct mrd_err *err)
{
    struct http_tls_creds *c = NULL;
    enum mrd_code rc = creds_load(cert_pem, key_pem, &c, err);

    if (rc != MRD_OK)
        return rc;
    (void)pthread_mutex_lock(&slot_mu);
    c->older = *slot;
    *slot = c;
    atomic_store(&current, c);
    (void)pthread_mutex_unlock(&slot_mu);
    return MRD_OK;
}

void http__tls_creds_stop(struct http_tls_creds *c)
{
    if (c == NULL)
        return;
    (void)pthread_mutex_lock(&slot_mu);
    atomic_store(&current, NULL);
    slot_taken = false;
    (void)pthread_mutex_unlock(&slot_mu);
    creds_free(c);
}
