/*
 * contacts.c: where each constituent org is told, and when (deliver.h,
 * "schedules" and "contacts"). Declaring and removing a contact is an
 * administrative change: it and its audit record commit together
 * (admin_apply). The audit record names the address and the schedule,
 * never the webhook secret or the key.
 */
#include <string.h>

#include <sodium.h>

#include "admin/admin.h"
#include "core/str.h"
#include "notify/deliver.h"

/* ---- schedules ---- */

static const char *const sched_names[] = {"immediate", "hourly", "daily"};

const char *notify_schedule_name(int s)
{
    return s >= 0 && s <= NOTIFY_S_DAILY ? sched_names[s] : "?";
}

static int sched_parse(const char *s, size_t n)
{
    for (int i = 0; i <= NOTIFY_S_DAILY; i++)
        if (mrd_str_eq(s, n, sched_names[i]))
            return i;
    return -1;
}

/* The next item of a schedule spec at *p: (kind, kind_len, sched), kind
 * NULL for a default item. False for a bad item, which bad and bad_len
 * then give. */
struct sched_item {
    const char *kind;
    size_t kind_len;
    int sched;
};

static bool sched_next(const char **p, struct sched_item *it, const char **bad, size_t *bad_len)
{
    const char *s = *p, *end = strchr(s, ',');
    const char *eq;
    size_t n;

    if (end == NULL)
        end = s + strlen(s);
    n = (size_t)(end - s);
    *p = *end == ',' ? end + 1 : end;
    eq = memchr(s, '=', n);
    *bad = s;
    *bad_len = n;
    if (eq == NULL) {
        it->kind = NULL;
        it->kind_len = 0;
        it->sched = sched_parse(s, n);
    } else {
        it->kind = s;
        it->kind_len = (size_t)(eq - s);
        it->sched = sched_parse(eq + 1, (size_t)(end - eq - 1));
        for (size_t i = 0; i < it->kind_len; i++)
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                return false;
        if (it->kind_len == 0)
            return false;
    }
    return it->sched >= 0;
}

enum mrd_code notify_schedule_check(const char *spec, struct mrd_err *err)
{
    const char *p = spec, *bad;
    size_t bad_len;
    struct sched_item it;

    if (strlen(spec) > STORE_SCHEDULE_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "schedule: longer than %d characters",
                           STORE_SCHEDULE_MAX);
    if (*p == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "schedule: empty");
    while (*p != '\0' || p == spec) {
        if (!sched_next(&p, &it, &bad, &bad_len))
            return mrd_err_set(err, MRD_E_INVAL,
                               "schedule: '%s' is not SCHED or KIND=SCHED (SCHED: immediate, "
                               "hourly or daily)",
                               MRD_ESCN(bad, bad_len));
        if (*p == '\0')
            break;
    }
    return MRD_OK;
}

enum notify_schedule notify_schedule_for(const char *spec, const char *kind)
{
    const char *p = spec, *bad;
    size_t bad_len;
    struct sched_item it;
    int def = NOTIFY_S_IMMEDIATE, own = -1;

    while (*p != '\0') {
        if (!sched_next(&p, &it, &bad, &bad_len))
            continue;
        if (it.kind == NULL)
            def = it.sched;
        else if (mrd_str_eq(it.kind, it.kind_len, kind))
            own = it.sched;
    }
    return (enum notify_schedule)(own >= 0 ? own : def);
}

int64_t notify_schedule_due(enum notify_schedule s, int64_t now_usec)
{
    const int64_t hour = (int64_t)3600 * 1000000, day = 24 * hour;

    if (s == NOTIFY_S_HOURLY)
        return (now_usec / hour + 1) * hour;
    if (s == NOTIFY_S_DAILY)
        return (now_usec / day + 1) * day;
    return now_usec;
}

/* ---- contacts ---- */

enum mrd_code notify_email_check(const char *addr, struct mrd_err *err)
{
    size_t n = strlen(addr), at = n;

    if (n == 0 || n > 254)
        return mrd_err_set(err, MRD_E_INVAL, "e-mail address: empty or longer than 254");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c <= ' ' || c >= 0x7f || strchr("<>()[]\\,;:\"", c) != NULL)
            return mrd_err_set(err, MRD_E_INVAL,
                               "e-mail address '%s': character %zu is not allowed", MRD_ESC(addr),
                               i + 1);
        if (c == '@') {
            if (at != n)
                return mrd_err_set(err, MRD_E_INVAL, "e-mail address '%s': two '@'", MRD_ESC(addr));
            at = i;
        }
    }
    if (at == 0 || at == n || at + 1 == n || strchr(addr + at + 1, '.') == NULL ||
        addr[n - 1] == '.')
        return mrd_err_set(err, MRD_E_INVAL, "e-mail address '%s': expected local@domain.tld",
                           MRD_ESC(addr));
    return MRD_OK;
}

static enum mrd_code url_check(const char *url, struct mrd_err *err)
{
    size_t n = strlen(url);

    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return mrd_err_set(err, MRD_E_INVAL, "webhook '%s': expected an http:// or https:// URL",
                           MRD_ESC(url));
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
            return mrd_err_set(err, MRD_E_INVAL, "webhook '%s': character %zu is not allowed",
                               MRD_ESC(url), i + 1);
    if (url[strlen(strncmp(url, "https", 5) == 0 ? "https://" : "http://")] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "webhook '%s': no host", MRD_ESC(url));
    return MRD_OK;
}

#define PGP_BEGIN "-----BEGIN PGP PUBLIC KEY BLOCK-----"

static json_t *contact_json(const struct store_contact *c)
{
    return json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)c->id, "org", (json_int_t)c->org,
        "channel", c->channel == STORE_CHANNEL_EMAIL ? "email" : "webhook", "address", c->address,
        "schedule", c->schedule, "openpgp", c->pgp_key != NULL && c->pgp_key[0] != '\0');
}

static enum mrd_code add_change(void *ctx, struct store *st, struct admin_change *rec,
                                struct mrd_err *err)
{
    struct store_contact *c = ctx;
    enum mrd_code rc = store_contact_add(st, c, err);

    if (rc != MRD_OK)
        return rc;
    (void)snprintf(rec->target, sizeof(rec->target), "%s", c->address);
    rec->after = contact_json(c);
    return rec->after != NULL ? MRD_OK : mrd_err_set(err, MRD_E_NOMEM, "contact: out of memory");
}

enum mrd_code notify_contact_add(struct admin *adm, struct store_contact *c, struct mrd_err *err)
{
    enum mrd_code rc;

    if (c->schedule[0] == '\0')
        (void)snprintf(c->schedule, sizeof(c->schedule), "immediate");
    rc = notify_schedule_check(c->schedule, err);
    if (rc != MRD_OK)
        return rc;
    if (c->channel == STORE_CHANNEL_EMAIL) {
        rc = notify_email_check(c->address, err);
        if (rc != MRD_OK)
            return rc;
        if (c->pgp_key != NULL && c->pgp_key[0] != '\0' && strstr(c->pgp_key, PGP_BEGIN) == NULL)
            return mrd_err_set(err, MRD_E_INVAL,
                               "OpenPGP key: expected an armored public key (" PGP_BEGIN ")");
        c->secret[0] = '\0';
    } else if (c->channel == STORE_CHANNEL_WEBHOOK) {
        rc = url_check(c->address, err);
        if (rc != MRD_OK)
            return rc;
        if (c->pgp_key != NULL && c->pgp_key[0] != '\0')
            return mrd_err_set(err, MRD_E_INVAL, "an OpenPGP key goes with an e-mail contact");
        for (const char *s = c->secret; *s != '\0'; s++)
            if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f)
                return mrd_err_set(err, MRD_E_INVAL, "webhook secret: printable ASCII only");
        if (c->secret[0] == '\0') {
            uint8_t r[32];
            randombytes_buf(r, sizeof(r));
            sodium_bin2hex(c->secret, sizeof(c->secret), r, sizeof(r));
        }
    } else {
        return mrd_err_set(err, MRD_E_INVAL, "contact: unknown channel");
    }
    return admin_apply(adm, "contact", "add", add_change, c, err);
}

struct remove_change {
    int64_t id, org;
    struct store_contact was;
};

static enum mrd_code remove_change(void *ctx, struct store *st, struct admin_change *rec,
                                   struct mrd_err *err)
{
    struct remove_change *c = ctx;
    enum mrd_code rc = store_contact_remove(st, c->id, c->org, &c->was, err);

    if (rc != MRD_OK)
        return rc;
    (void)snprintf(rec->target, sizeof(rec->target), "%s", c->was.address);
    rec->before = contact_json(&c->was);
    return rec->before != NULL ? MRD_OK : mrd_err_set(err, MRD_E_NOMEM, "contact: out of memory");
}

enum mrd_code notify_contact_remove(struct admin *adm, int64_t id, int64_t org,
                                    struct store_contact *ret, struct mrd_err *err)
{
    struct remove_change c = {.id = id, .org = org};
    enum mrd_code rc = admin_apply(adm, "contact", "remove", remove_change, &c, err);

    if (rc == MRD_OK && ret != NULL)
        *ret = c.was;
    return rc;
}
