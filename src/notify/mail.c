/*
 * mail.c: what a delivery says (deliver.h, "the message"): the readable
 * summary grouped by asset, the webhook's JSON document, and the e-mail:
 * multipart/mixed (RFC 2046) with the summary and a STIX bundle of the
 * objects (application/stix+json), OpenPGP-encrypted as PGP/MIME
 * (RFC 3156) with GPGME when the contact has a key.
 *
 * Text from outside (values, ids, org names) reaches the summary escaped
 * (mrd_buf_escape: no control characters); header values are either
 * checked addresses or printable ASCII made here. Every part is base64,
 * so no line is too long and no byte needs care.
 *
 * The keyring: each encryption imports the contact's key into a fresh
 * directory under gnupg_home (mkdtemp, mode 0700) and removes it after,
 * so keys of different contacts never meet and nothing is left behind.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>
#include <jansson.h>
#include <sodium.h>

#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "notify/deliver.h"

static const char *channel_name(int ch)
{
    return ch == STORE_CHANNEL_EMAIL ? "email" : "webhook";
}

enum mrd_code notify_summary(const struct store_delivery *d, const struct notify_item *it, size_t n,
                             struct mrd_buf *out, struct mrd_err *err)
{
    const char *asset = NULL;
    enum mrd_code rc;

    rc = mrd_buf_printf(out, err, "Meridian early warning for ");
    if (rc == MRD_OK)
        rc = mrd_buf_escape(out, d->org_name, strlen(d->org_name), err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err,
                            " (%s, delivery %lld)\n\n%zu finding%s concern%s your declared "
                            "assets.\n",
                            notify_schedule_name(d->schedule), (long long)d->id, n,
                            n == 1 ? "" : "s", n == 1 ? "s" : "");
    /* the items come grouped by asset (store_delivery_items orders them so) */
    for (size_t i = 0; rc == MRD_OK && i < n; i++) {
        const struct store_notification *x = it[i].n;
        char when[MRD_TIME_TAXII_LEN + 1];
        if (asset == NULL || strcmp(asset, x->asset_text) != 0) {
            asset = x->asset_text;
            rc = mrd_buf_puts(out, "\nAsset ", err);
            if (rc == MRD_OK)
                rc = mrd_buf_escape(out, asset, strlen(asset), err);
            if (rc == MRD_OK)
                rc = mrd_buf_puts(out, ":\n", err);
        }
        mrd_time_format_taxii(x->created_usec, when);
        if (rc == MRD_OK)
            rc = mrd_buf_printf(out, err, "  - %s  %s  ", when, x->kind);
        if (rc == MRD_OK)
            rc = mrd_buf_escape(out, x->value, strlen(x->value), err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "  ", err);
        if (rc == MRD_OK)
            rc = mrd_buf_escape(out, x->object_id, strlen(x->object_id), err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, it[i].body == NULL ? "  (object no longer readable)\n" : "\n",
                              err);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_puts(out,
                          "\nThe STIX objects are attached (objects.json, a STIX 2.1 bundle);\n"
                          "they are also in your collection over TAXII.\n",
                          err);
    return rc;
}

static json_t *note_json(const struct store_notification *x)
{
    char when[MRD_TIME_TAXII_LEN + 1];

    mrd_time_format_taxii(x->created_usec, when);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)x->id, "time", when,
                     "asset", x->asset_text, "type", x->kind, "object_id", x->object_id, "value",
                     x->value);
}

/* The objects as a JSON array (each parsed back from its stored bytes). */
static json_t *objects_json(const struct notify_item *it, size_t n)
{
    json_t *a = json_array();
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};

    for (size_t i = 0; a != NULL && i < n; i++) {
        json_t *o = NULL;
        if (it[i].body == NULL)
            continue;
        if (mrd_json_parse(it[i].body, it[i].body_len, &lim, &o, NULL) == MRD_OK)
            (void)json_array_append_new(a, o);
    }
    return a;
}

enum mrd_code notify_webhook_doc(const struct store_delivery *d, const struct notify_item *it,
                                 size_t n, struct mrd_buf *out, struct mrd_err *err)
{
    json_t *doc, *notes = json_array();
    char *text;
    enum mrd_code rc;

    for (size_t i = 0; notes != NULL && i < n; i++)
        (void)json_array_append_new(notes, note_json(it[i].n));
    doc = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}", "delivery", (json_int_t)d->id, "org",
                    d->org_name, "channel", channel_name(d->channel), "schedule",
                    notify_schedule_name(d->schedule), "notifications", notes, "objects",
                    objects_json(it, n));
    if (doc == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "webhook: out of memory");
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "webhook: out of memory");
    rc = mrd_buf_puts(out, text, err);
    free(text);
    return rc;
}

/* ---- MIME ---- */

static enum mrd_code put_b64(struct mrd_buf *out, const char *p, size_t n, struct mrd_err *err)
{
    char line[80];
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; rc == MRD_OK && i < n; i += 57) {
        size_t k = n - i < 57 ? n - i : 57;
        (void)sodium_bin2base64(line, sizeof(line), (const unsigned char *)p + i, k,
                                sodium_base64_VARIANT_ORIGINAL);
        rc = mrd_buf_printf(out, err, "%s\r\n", line);
    }
    return rc;
}

static void boundary(char out[40])
{
    uint8_t r[12];
    char hex[25];

    randombytes_buf(r, sizeof(r));
    sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
    (void)snprintf(out, 40, "=_meridian_%s", hex);
}

/* The inner entity: multipart/mixed with the summary and the bundle. */
static enum mrd_code mixed(const struct store_delivery *d, const struct notify_item *it, size_t n,
                           struct mrd_buf *out, struct mrd_err *err)
{
    struct mrd_buf part;
    char b[40], id[64];
    json_t *bundle;
    char *text = NULL;
    uint8_t r[16];
    enum mrd_code rc;

    boundary(b);
    mrd_buf_init(&part, NOTIFY_MESSAGE_MAX);
    rc = notify_summary(d, it, n, &part, err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err,
                            "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
                            "This is a MIME message.\r\n--%s\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: base64\r\n\r\n",
                            b, b);
    if (rc == MRD_OK)
        rc = put_b64(out, part.data != NULL ? part.data : "", part.len, err);
    mrd_buf_release(&part);
    randombytes_buf(r, sizeof(r));
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    (void)snprintf(id, sizeof(id),
                   "bundle--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                   r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                   r[13], r[14], r[15]);
    bundle =
        json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", id, "objects", objects_json(it, n));
    if (bundle != NULL)
        text = json_dumps(bundle, JSON_INDENT(1));
    json_decref(bundle);
    if (rc == MRD_OK && text == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "mail: out of memory");
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err,
                            "--%s\r\nContent-Type: application/stix+json;version=2.1\r\n"
                            "Content-Disposition: attachment; filename=\"objects.json\"\r\n"
                            "Content-Transfer-Encoding: base64\r\n\r\n",
                            b);
    if (rc == MRD_OK)
        rc = put_b64(out, text, strlen(text), err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err, "--%s--\r\n", b);
    free(text);
    return rc;
}

/* ---- OpenPGP ---- */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static enum mrd_code gpg_fail(gpgme_error_t e, const char *what, struct mrd_err *err)
{
    return mrd_err_set(err, MRD_E_CRYPTO, "OpenPGP: %s: %s", what, gpgme_strerror(e));
}

static enum mrd_code encrypt(const char *key, const char *home_parent, const char *plain,
                             size_t len, struct mrd_buf *out, struct mrd_err *err)
{
    char home[4200];
    gpgme_ctx_t ctx = NULL;
    gpgme_data_t kd = NULL, pd = NULL, cd = NULL;
    gpgme_key_t keys[2] = {NULL, NULL};
    gpgme_import_result_t ir;
    gpgme_encrypt_result_t er;
    gpgme_error_t e;
    enum mrd_code rc = MRD_OK;
    char *ct;
    size_t ct_len = 0;

    (void)gpgme_check_version(NULL);
    if (mkdir(home_parent, 0700) != 0 && errno != EEXIST)
        return mrd_err_sys(err, MRD_E_IO, errno, "OpenPGP: %s", MRD_ESC(home_parent));
    (void)snprintf(home, sizeof(home), "%s/tmp.XXXXXX", home_parent);
    if (mkdtemp(home) == NULL)
        return mrd_err_sys(err, MRD_E_IO, errno, "OpenPGP: keyring under %s", MRD_ESC(home_parent));
    e = gpgme_new(&ctx);
    if (e == 0)
        e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home);
    if (e != 0) {
        rc = gpg_fail(e, "GPGME", err);
        goto out;
    }
    gpgme_set_armor(ctx, 1);
    e = gpgme_data_new_from_mem(&kd, key, strlen(key), 0);
    if (e == 0)
        e = gpgme_op_import(ctx, kd);
    ir = e == 0 ? gpgme_op_import_result(ctx) : NULL;
    if (e != 0 || ir == NULL || ir->imports == NULL || ir->imports->fpr == NULL) {
        rc = e != 0 ? gpg_fail(e, "the contact's key", err)
                    : mrd_err_set(err, MRD_E_CRYPTO, "OpenPGP: the contact's key holds no key");
        goto out;
    }
    e = gpgme_get_key(ctx, ir->imports->fpr, &keys[0], 0);
    if (e != 0) {
        rc = gpg_fail(e, "the contact's key", err);
        goto out;
    }
    e = gpgme_data_new_from_mem(&pd, plain, len, 0);
    if (e == 0)
        e = gpgme_data_new(&cd);
    if (e == 0)
        e = gpgme_op_encrypt(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, pd, cd);
    er = e == 0 ? gpgme_op_encrypt_result(ctx) : NULL;
    if (e != 0 || (er != NULL && er->invalid_recipients != NULL)) {
        rc = e != 0 ? gpg_fail(e, "encrypting", err)
                    : gpg_fail(er->invalid_recipients->reason, "the contact's key", err);
        goto out;
    }
    ct = gpgme_data_release_and_get_mem(cd, &ct_len);
    cd = NULL;
    if (ct == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "OpenPGP: out of memory");
        goto out;
    }
    for (size_t i = 0; rc == MRD_OK && i < ct_len; i++) {
        if (ct[i] == '\n' && (i == 0 || ct[i - 1] != '\r'))
            rc = mrd_buf_putc(out, '\r', err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, ct[i], err);
    }
    gpgme_free(ct);
out:
    gpgme_key_unref(keys[0]);
    gpgme_data_release(kd);
    gpgme_data_release(pd);
    gpgme_data_release(cd);
    gpgme_release(ctx);
    (void)nftw(home, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}

/* Printable ASCII only, for a header value made from an org name. */
static void header_text(const char *s, char *out, size_t size)
{
    size_t i = 0;

    for (; *s != '\0' && i + 1 < size; s++)
        out[i++] = (*s >= ' ' && *s < 0x7f) ? *s : '?';
    out[i] = '\0';
}

enum mrd_code notify_mail_build(const struct store_delivery *d, const char *from,
                                const char *pgp_key, const char *gnupg_home,
                                const struct notify_item *it, size_t n, struct mrd_buf *out,
                                struct mrd_err *err)
{
    char date[64], org[STORE_NAME_MAX + 1], b[40];
    time_t now = time(NULL);
    struct tm tm;
    struct mrd_buf inner;
    enum mrd_code rc;

    rc = notify_email_check(from, err);
    if (rc == MRD_OK)
        rc = notify_email_check(d->address, err);
    if (rc != MRD_OK)
        return rc;
    (void)gmtime_r(&now, &tm);
    (void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    header_text(d->org_name, org, sizeof(org));
    rc = mrd_buf_printf(out, err,
                        "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
                        "Message-ID: <delivery-%lld.%lld@meridian.invalid>\r\n"
                        "Subject: [Meridian] %s%s%zu finding%s (%s)\r\n"
                        "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n",
                        from, d->address, date, (long long)d->id, (long long)now,
                        pgp_key[0] != '\0' ? "" : org, pgp_key[0] != '\0' ? "" : ": ", n,
                        n == 1 ? "" : "s", notify_schedule_name(d->schedule));
    if (rc != MRD_OK)
        return rc;
    if (pgp_key[0] == '\0')
        return mixed(d, it, n, out, err);
    /* PGP/MIME: the whole multipart/mixed entity, encrypted */
    mrd_buf_init(&inner, NOTIFY_MESSAGE_MAX);
    rc = mixed(d, it, n, &inner, err);
    boundary(b);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err,
                            "Content-Type: multipart/encrypted;"
                            " protocol=\"application/pgp-encrypted\"; boundary=\"%s\"\r\n\r\n"
                            "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n"
                            "--%s\r\nContent-Type: application/pgp-encrypted\r\n"
                            "Content-Description: PGP/MIME version identification\r\n\r\n"
                            "Version: 1\r\n\r\n--%s\r\n"
                            "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
                            "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n",
                            b, b, b);
    if (rc == MRD_OK)
        rc = encrypt(pgp_key, gnupg_home, inner.data, inner.len, out, err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err, "\r\n--%s--\r\n", b);
    mrd_buf_release(&inner);
    return rc;
}
