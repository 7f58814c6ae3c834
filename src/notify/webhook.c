/*
 * webhook.c: the signed webhook POST (deliver.h, "webhooks"), over
 * libcurl. The receiver checks
 *   X-Meridian-Signature: sha256=HEX(HMAC-SHA256(secret, TIMESTAMP "." BODY))
 * where TIMESTAMP is the X-Meridian-Timestamp header (Unix seconds), so a
 * captured request cannot be replayed later with another time.
 * Certificates are verified; redirects are not followed; the answer's body
 * is read up to WEBHOOK_ANSWER_MAX and dropped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "core/str.h"
#include "notify/deliver.h"

#define WEBHOOK_ANSWER_MAX 65536

void notify_webhook_sign(const char *secret, const char *timestamp, const char *body, size_t len,
                         char out[7 + 64 + 1])
{
    crypto_auth_hmacsha256_state s;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_init(&s, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)timestamp, strlen(timestamp));
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&s, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
}

static size_t on_answer(char *p, size_t size, size_t n, void *ctx)
{
    size_t *seen = ctx;

    (void)p;
    *seen += size * n;
    return *seen > WEBHOOK_ANSWER_MAX ? 0 : size * n;
}

enum mrd_code notify_webhook_post(const char *url, const char *secret, const char *body, size_t len,
                                  const char *ca_file, unsigned timeout_s, struct mrd_err *err)
{
    char ts[32], sig[7 + 64 + 1], h_sig[128], h_ts[64], errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL, *h;
    const char *lines[4];
    size_t seen = 0;
    long status = 0;
    CURLcode cc;
    CURL *k;
    enum mrd_code rc = MRD_OK;

    (void)snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    notify_webhook_sign(secret, ts, body, len, sig);
    (void)snprintf(h_sig, sizeof(h_sig), NOTIFY_SIG_HEADER ": %s", sig);
    (void)snprintf(h_ts, sizeof(h_ts), NOTIFY_TIME_HEADER ": %s", ts);
    lines[0] = "Content-Type: application/json";
    lines[1] = h_sig;
    lines[2] = h_ts;
    lines[3] = "Expect:";
    for (size_t i = 0; i < 4; i++) {
        h = curl_slist_append(hdrs, lines[i]);
        if (h == NULL) {
            curl_slist_free_all(hdrs);
            return mrd_err_set(err, MRD_E_NOMEM, "webhook: out of memory");
        }
        hdrs = h;
    }
    k = curl_easy_init();
    if (k == NULL) {
        curl_slist_free_all(hdrs);
        return mrd_err_set(err, MRD_E_NOMEM, "webhook: curl_easy_init");
    }
    (void)curl_easy_setopt(k, CURLOPT_URL, url);
    (void)curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
    (void)curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    (void)curl_easy_setopt(k, CURLOPT_TIMEOUT, (long)timeout_s);
    (void)curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, (long)timeout_s);
    (void)curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L);
    (void)curl_easy_setopt(k, CURLOPT_ERRORBUFFER, errbuf);
    (void)curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_answer);
    (void)curl_easy_setopt(k, CURLOPT_WRITEDATA, &seen);
    (void)curl_easy_setopt(k, CURLOPT_USERAGENT, "meridian-notify");
    if (ca_file != NULL) {
        /* webhook-ca pins (docs/notify.md): without CAPATH unset, libcurl
         * would also trust its built-in directory of system certificates */
        (void)curl_easy_setopt(k, CURLOPT_CAINFO, ca_file);
        (void)curl_easy_setopt(k, CURLOPT_CAPATH, NULL);
    }
    cc = curl_easy_perform(k);
    if (cc == CURLE_WRITE_ERROR && seen > WEBHOOK_ANSWER_MAX)
        cc = CURLE_OK; /* a long answer: the status is what counts */
    if (cc != CURLE_OK) {
        rc = mrd_err_set(err, cc == CURLE_OPERATION_TIMEDOUT ? MRD_E_TIMEOUT : MRD_E_IO,
                         "webhook %s: %s", MRD_ESC(url),
                         MRD_ESC(errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc)));
    } else {
        (void)curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299)
            rc = mrd_err_set(err, MRD_E_IO, "webhook %s: answered HTTP %ld", MRD_ESC(url), status);
    }
    curl_easy_cleanup(k);
    curl_slist_free_all(hdrs);
    return rc;
}
