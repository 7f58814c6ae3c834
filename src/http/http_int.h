/*
 * http_int: what http_server.c and http_tls_creds.c share.
 */
#ifndef MRD_HTTP_INT_H
#define MRD_HTTP_INT_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "http/http.h"

struct http_tls_creds;

/* Loads the pair into the process-wide slot the retrieve callback reads
 * (MRD_E_CONFLICT when another server holds it). */
enum mrd_code http__tls_creds_start(const char *cert_pem, const char *key_pem,
                                    struct http_tls_creds **ret, struct mrd_err *err);
/* Loads a new pair and makes it current; *slot keeps the old ones. */
enum mrd_code http__tls_creds_swap(struct http_tls_creds **slot, const char *cert_pem,
                                   const char *key_pem, struct mrd_err *err);
/* Frees every pair and the slot. NULL is a no-op. */
void http__tls_creds_stop(struct http_tls_creds *c);

/* The GnuTLS retrieve callback (MHD_OPTION_HTTPS_CERT_CALLBACK). */
int http__tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                       gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey);

#endif
