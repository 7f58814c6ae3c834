/*
 * meridian notify: constituency early warning over the data directory
 * (notify.h; docs/notify.md): one routing pass now (serve runs it
 * continuously) and the notifications recorded. The work is
 * notify_run_round's; this file parses and prints.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_notify.h"
#include "cli/verbs.h"
#include "core/buf.h"
#include "core/str.h"
#include "fed/fed.h"
#include "notify/notify.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian notify run [--squelch DURATION] [--withheld POLICY] [--data DIR]\n"
    "       meridian notify list [--org ORG] [--after N] [--limit N] [--json] [--data DIR]\n"
    "       meridian notify deliver [--flush] [--config FILE] [--data DIR]\n"
    "       meridian notify deliveries [--failed] [--org ORG] [--after N] [--limit N]\n"
    "                                  [--json] [--data DIR]\n"
    "       meridian notify attempts ID [--json] [--data DIR]\n"
    "       meridian notify retry ID... [--data DIR]\n"
    "\n"
    "Constituency early warning (docs/notify.md). Every object version stored on\n"
    "the node (TAXII, sync, import, feeds, the matcher, the sensors) is routed\n"
    "through the assets constituents declared (meridian asset): addresses and\n"
    "CIDRs by longest-prefix match, names by domain suffix, e-mail addresses by\n"
    "their domain, autonomous systems by number; a sighting by the indicator it\n"
    "sights. Each hit the owning org may read (exactly as a TAXII read of that\n"
    "version would allow) is a notification for that org; a hit it may not read\n"
    "produces none. The same (org, asset, object type, value) again within the\n"
    "squelch window is recorded as squelched, not delivered again. Each new\n"
    "notification is also a STIX sighting or note, signed by the node, TLP:RED\n"
    "for that org alone, in its own collection: API root early-warning, alias\n"
    "its org name (made on first need), so it can pull it over TAXII.\n"
    "  run          route everything stored since the last pass (`meridian serve`\n"
    "               does this continuously); prints what it recorded\n"
    "  list         the notifications recorded, oldest first: N, time, org, asset,\n"
    "               object type, object id, the value that hit, squelched or new\n"
    "  deliver      one delivery round (`meridian serve` runs them continuously):\n"
    "               queue what routing recorded for each contact of the org\n"
    "               (meridian contact) on its schedule, then send what is due:\n"
    "               e-mail through the smtp-relay of meridian.conf (--config\n"
    "               FILE, default /etc/meridian/meridian.conf), webhooks signed\n"
    "               with the contact's secret; a failure is retried with\n"
    "               back-off (deliver-backoff, deliver-attempts), then dead\n"
    "  --flush      deliver: send the hourly and daily digests now\n"
    "  deliveries   the delivery record: N, org, channel, address, schedule,\n"
    "               notifications carried, status (queued, sent, dead),\n"
    "               attempts, last attempt or sending time, ledger event, error\n"
    "  --failed     deliveries: only the dead-letter list\n"
    "  attempts ID  every attempt of delivery ID: time, outcome, error\n"
    "  retry ID     put dead deliveries back in the queue, due now\n"
    "  --squelch D  the squelch window (90d, 12h, 30m, 45s; default 24h)\n"
    "  --withheld P a finding the org may not read: nothing (default) or\n"
    "               asset-only, a note naming only its asset and the kind of\n"
    "               finding (serve: notify.withheld)\n"
    "  --org ORG    list: only this org's\n"
    "  --after N    list: only notifications after number N\n"
    "  --limit N    list: at most N (default and maximum 10000)\n"
    "  --json       list as {\"notifications\": [...]},\n"
    "               deliveries as {\"deliveries\": [...]}\n" CLI_DATA_HELP
    "A delivery sent is a leaf of the ledger (kind delivery; `meridian ledger`).\n"
    "Exit status: 0 done, 1 (deliver) some sends failed, (retry) some ids were not\n"
    "retried, 2 usage or data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_notify = {
    .name = "notify",
    .summary = "route stored objects to the constituents they concern",
    .usage = usage,
    .run = run,
};

static const char *how_name(int how)
{
    return how == NOTIFY_M_EXACT ? "exact" : how == NOTIFY_M_INSIDE ? "inside" : "holds";
}

static enum mrd_code list_one(void *ctx, const struct store_notification *n, struct mrd_err *err)
{
    json_t *all = ctx;
    char when[32];

    cli_data_time(n->created_usec, when);
    if (all != NULL) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "n",
                              (json_int_t)n->id, "time", when, "org", n->org_name, "asset",
                              n->asset_text, "type", n->kind, "object_id", n->object_id, "value",
                              n->value, "match", how_name(n->how), "squelched", n->squelched);
        if (o == NULL || json_array_append_new(all, o) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "notify: out of memory");
        return MRD_OK;
    }
    printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)n->id, when, MRD_ESC(n->org_name),
           n->asset_text, MRD_ESC(n->kind), MRD_ESC(n->object_id), MRD_ESC(n->value),
           n->squelched ? "squelched" : "new");
    return MRD_OK;
}

static int do_run(struct store *st, const char *data, int64_t squelch,
                  enum notify_withheld withheld)
{
    struct notify_index *ix = NULL;
    struct fed_trust *trust = NULL;
    struct notify_opts o = {.squelch_usec = squelch, .withheld = withheld};
    struct notify_round total = {0}, r;
    struct mrd_err err = {0};
    size_t pending = 0;

    if (fed_trust_load(data, &trust, &err) != MRD_OK ||
        notify_index_load(st, &ix, &pending, &err) != MRD_OK) {
        cli_errorf("notify", "%s", err.msg);
        fed_trust_free(trust);
        return CLI_EXIT_USAGE;
    }
    o.trust = trust;
    do {
        if (notify_run_round(st, ix, &o, &r, &err) != MRD_OK) {
            cli_errorf("notify", "%s", err.msg);
            notify_index_free(ix);
            fed_trust_free(trust);
            return CLI_EXIT_USAGE;
        }
        total.objects += r.objects;
        total.notified += r.notified;
        total.squelched += r.squelched;
        total.withheld += r.withheld;
        total.cursor = r.cursor;
    } while (r.more);
    printf("routed %zu object versions through %zu assets (%zu pending approval): "
           "%zu notifications, %zu squelched, %zu withheld by TLP; cursor %lld\n",
           total.objects, notify_index_size(ix), pending, total.notified, total.squelched,
           total.withheld, (long long)total.cursor);
    notify_index_free(ix);
    fed_trust_free(trust);
    return CLI_EXIT_OK;
}

/* ---- delivery ---- */

static bool relay_parse(const char *s, struct notify_smtp_conf *c)
{
    const char *colon;
    uint64_t port = 587;
    size_t hl;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL)
            return false;
        hl = (size_t)(end - s - 1);
        (void)memcpy(c->host, s + 1, hl < sizeof(c->host) ? hl : 0);
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] != '\0' && colon == NULL)
            return false;
        s++;
    } else {
        colon = strrchr(s, ':');
        hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
        if (hl < sizeof(c->host))
            (void)memcpy(c->host, s, hl);
    }
    if (hl == 0 || hl >= sizeof(c->host))
        return false;
    c->host[hl] = '\0';
    if (colon != NULL &&
        (mrd_str_to_u64(colon + 1, strlen(colon + 1), 65535, &port, NULL) != MRD_OK || port == 0))
        return false;
    c->port = (uint16_t)port;
    return true;
}

int cli_notify_deliver_conf(const char *verb, const struct conf *cf, const char *data,
                            struct notify_deliver_conf *ret)
{
    struct notify_smtp_conf *c = &ret->smtp;
    const char *relay = conf_str(cf, CONF_SMTP_RELAY), *from = conf_str(cf, CONF_SMTP_FROM);
    const char *user = conf_str(cf, CONF_SMTP_USER), *pw = conf_str(cf, CONF_SMTP_PASSWORD_FILE);
    struct mrd_err err = {0};

    memset(ret, 0, sizeof(*ret));
    ret->data_dir = data;
    ret->webhook_ca = conf_str(cf, CONF_WEBHOOK_CA);
    ret->timeout_s = (unsigned)conf_uint(cf, CONF_DELIVER_TIMEOUT);
    ret->attempts = (unsigned)conf_uint(cf, CONF_DELIVER_ATTEMPTS);
    ret->backoff_usec = (int64_t)conf_uint(cf, CONF_DELIVER_BACKOFF) * 1000000;
    c->timeout_s = ret->timeout_s;
    c->ca_file = conf_str(cf, CONF_SMTP_CA);
    c->plain = conf_bool(cf, CONF_SMTP_PLAIN);
    if (relay == NULL)
        return CLI_EXIT_OK; /* no e-mail: such deliveries fail with that reason */
    if (!relay_parse(relay, c)) {
        cli_errorf(verb, "smtp-relay '%s': expected HOST[:PORT]", MRD_ESC(relay));
        return CLI_EXIT_USAGE;
    }
    if (from == NULL || notify_email_check(from, &err) != MRD_OK ||
        strlen(from) >= sizeof(c->from)) {
        cli_errorf(verb, "smtp-from: %s", from == NULL ? "required with smtp-relay" : err.msg);
        return CLI_EXIT_USAGE;
    }
    mrd_strlcpy(c->from, from, sizeof(c->from));
    if (user != NULL) {
        struct mrd_buf b;
        if (strlen(user) >= sizeof(c->user) || strpbrk(user, "\r\n") != NULL) {
            cli_errorf(verb, "smtp-user: too long or not one line");
            return CLI_EXIT_USAGE;
        }
        mrd_strlcpy(c->user, user, sizeof(c->user));
        if (pw == NULL) {
            cli_errorf(verb, "smtp-user needs smtp-password-file");
            return CLI_EXIT_USAGE;
        }
        mrd_buf_init(&b, NOTIFY_SECRET_MAX + 2);
        if (mrd_buf_read_file(&b, pw, &err) != MRD_OK || mrd_buf_putc(&b, '\0', &err) != MRD_OK) {
            cli_errorf(verb, "smtp-password-file %s: %s", MRD_ESC(pw), err.msg);
            mrd_buf_release(&b);
            return CLI_EXIT_USAGE;
        }
        b.data[strcspn(b.data, "\r\n")] = '\0';
        mrd_strlcpy(c->password, b.data, sizeof(c->password));
        sodium_memzero(b.data, b.len);
        mrd_buf_release(&b);
    }
    return CLI_EXIT_OK;
}

static const char *status_name(int s)
{
    return s == STORE_DELIVERY_SENT ? "sent" : s == STORE_DELIVERY_DEAD ? "dead" : "queued";
}

static enum mrd_code delivery_one(void *ctx, const struct store_delivery *d, struct mrd_err *err)
{
    json_t *all = ctx;
    const char *ch = d->channel == STORE_CHANNEL_EMAIL ? "email" : "webhook";
    char when[32], due[32];

    cli_data_time(d->status == STORE_DELIVERY_SENT ? d->sent_usec : d->last_try_usec, when);
    cli_data_time(d->due_usec, due);
    if (d->last_try_usec == 0 && d->status != STORE_DELIVERY_SENT)
        (void)snprintf(when, sizeof(when), "-");
    if (all != NULL) {
        json_t *o = json_pack(
            "{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:I, s:s}", "n", (json_int_t)d->id,
            "org", d->org_name, "channel", ch, "to", d->address, "schedule",
            notify_schedule_name(d->schedule), "notifications", (json_int_t)d->n_items, "status",
            status_name(d->status), "attempts", (json_int_t)d->attempts, "time", when, "due", due,
            "ledger_event", (json_int_t)d->ev, "error", d->error);
        if (o == NULL || json_array_append_new(all, o) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "notify: out of memory");
        return MRD_OK;
    }
    printf("%lld\t%s\t%s\t%s\t%s\t%zu\t%s\t%u\t%s\t%lld\t%s\n", (long long)d->id,
           MRD_ESC(d->org_name), ch, MRD_ESC(d->address), notify_schedule_name(d->schedule),
           d->n_items, status_name(d->status), d->attempts, when, (long long)d->ev,
           MRD_ESC(d->error));
    return MRD_OK;
}

static int do_deliver(struct store *st, const char *data, const char *config, bool flush)
{
    struct conf cf;
    struct notify_deliver_conf dc;
    struct notify_deliver_round total = {0}, r;
    struct mrd_err err = {0};
    int ret;

    if (conf_init(&cf, conf_serve_keys, CONF_SERVE__COUNT, &err) != MRD_OK) {
        cli_errorf("notify", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (config == NULL && access(conf_default_path(), F_OK) == 0)
        config = conf_default_path();
    if (config != NULL && conf_load(&cf, config, &err) != MRD_OK) {
        cli_errorf("notify", "%s", err.msg);
        conf_release(&cf);
        return CLI_EXIT_USAGE;
    }
    ret = cli_notify_deliver_conf("notify", &cf, data, &dc);
    dc.flush = flush;
    do {
        if (ret != CLI_EXIT_OK)
            break;
        if (notify_deliver_run(st, &dc, &r, &err) != MRD_OK) {
            cli_errorf("notify", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
            break;
        }
        total.queued += r.queued;
        total.sent += r.sent;
        total.failed += r.failed;
        total.dead += r.dead;
    } while (r.more);
    if (ret == CLI_EXIT_OK) {
        printf("queued %zu, sent %zu, failed %zu (to be retried), dead %zu\n", total.queued,
               total.sent, total.failed, total.dead);
        if (total.failed + total.dead > 0)
            ret = CLI_EXIT_FAIL;
    }
    sodium_memzero(dc.smtp.password, sizeof(dc.smtp.password));
    conf_release(&cf);
    return ret;
}

static int retry(int argc, char **argv, const char *data)
{
    struct store *st = NULL;
    struct mrd_err err = {0};
    int ret, bad = 0;

    if (optind == argc)
        return cli_usage_error(&cli_verb_notify, "retry: expected delivery ids");
    for (int i = optind; i < argc; i++) {
        uint64_t id;
        if (mrd_str_to_u64(argv[i], strlen(argv[i]), INT64_MAX, &id, NULL) != MRD_OK || id == 0)
            return cli_usage_error(&cli_verb_notify, "retry: '%s' is not a delivery id",
                                   MRD_ESC(argv[i]));
    }
    ret = cli_data_open("notify", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    for (int i = optind; i < argc; i++) {
        uint64_t id = 0;
        (void)mrd_str_to_u64(argv[i], strlen(argv[i]), INT64_MAX, &id, NULL);
        mrd_err_clear(&err);
        if (notify_delivery_retry(st, (int64_t)id, &err) != MRD_OK) {
            cli_errorf("notify", "retry %llu: %s", (unsigned long long)id, err.msg);
            bad++;
            continue;
        }
        printf("%llu\tqueued\n", (unsigned long long)id);
    }
    store_close(st);
    return bad > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static enum mrd_code attempt_one(void *ctx, const struct store_delivery_attempt *a,
                                 struct mrd_err *err)
{
    json_t *all = ctx;
    char when[32];

    cli_data_time(a->time_usec, when);
    if (all != NULL) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "time", when, "outcome",
                              a->status == STORE_DELIVERY_SENT   ? "sent"
                              : a->status == STORE_DELIVERY_DEAD ? "failed, given up"
                                                                 : "failed, to be retried",
                              "error", a->error);
        if (o == NULL || json_array_append_new(all, o) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "notify: out of memory");
        return MRD_OK;
    }
    printf("%s\t%s\t%s\n", when, a->status == STORE_DELIVERY_SENT ? "sent" : "failed",
           MRD_ESC(a->error));
    return MRD_OK;
}

static int attempts(int argc, char **argv, const char *data, bool json)
{
    struct store *st = NULL;
    struct mrd_err err = {0};
    json_t *all;
    uint64_t id;
    int ret;

    if (optind + 1 != argc ||
        mrd_str_to_u64(argv[optind], strlen(argv[optind]), INT64_MAX, &id, NULL) != MRD_OK)
        return cli_usage_error(&cli_verb_notify, "attempts: expected one delivery id");
    ret = cli_data_open("notify", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    all = json ? json_array() : NULL;
    ret = cli_print_list("notify", store_delivery_attempts(st, (int64_t)id, attempt_one, all, &err),
                         &err, all, "attempts");
    store_close(st);
    return ret;
}

static int delivery_verbs(const char *sub, const char *data, const char *org_name,
                          const char *config, bool flush, bool failed, bool json, uint64_t after,
                          uint64_t limit)
{
    struct store *st = NULL;
    struct store_org org = {0};
    struct mrd_err err = {0};
    int ret;

    ret = cli_data_open("notify", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (org_name != NULL)
        ret = cli_data_org("notify", st, org_name, &org);
    if (ret == CLI_EXIT_OK && strcmp(sub, "deliver") == 0) {
        ret = do_deliver(st, cli_data_dir(data), config, flush);
    } else if (ret == CLI_EXIT_OK) {
        struct store_delivery_filter f = {.org = org.key,
                                          .status = failed ? STORE_DELIVERY_DEAD : -1,
                                          .after_id = (int64_t)after,
                                          .limit = (size_t)limit};
        json_t *all = json ? json_array() : NULL;
        ret = cli_print_list("notify", store_deliveries_list(st, &f, delivery_one, all, &err), &err,
                             all, "deliveries");
    }
    store_close(st);
    return ret;
}

static int run(int argc, char **argv)
{
    enum {
        O_DATA = 1,
        O_ORG,
        O_AFTER,
        O_LIMIT,
        O_JSON,
        O_SQUELCH,
        O_WITHHELD,
        O_FAILED,
        O_FLUSH,
        O_CONFIG
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"org", required_argument, NULL, O_ORG},
        {"after", required_argument, NULL, O_AFTER},
        {"limit", required_argument, NULL, O_LIMIT},
        {"json", no_argument, NULL, O_JSON},
        {"squelch", required_argument, NULL, O_SQUELCH},
        {"withheld", required_argument, NULL, O_WITHHELD},
        {"failed", no_argument, NULL, O_FAILED},
        {"flush", no_argument, NULL, O_FLUSH},
        {"config", required_argument, NULL, O_CONFIG},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *org_name = NULL, *config = NULL, *sub;
    uint64_t after = 0, limit = STORE_NOTIFY_LIST_MAX;
    int64_t squelch = NOTIFY_SQUELCH_DEFAULT_USEC;
    enum notify_withheld withheld = NOTIFY_WITHHELD_NOTHING;
    bool json = false, list, failed = false, flush = false;
    struct store *st = NULL;
    struct store_org org = {0};
    struct mrd_err err = {0};
    int c, ret;

    if (argc < 2)
        return cli_usage_error(&cli_verb_notify,
                               "expected run, list, deliver, deliveries, attempts or retry");
    sub = argv[1];
    if (strcmp(sub, "run") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "deliver") != 0 &&
        strcmp(sub, "deliveries") != 0 && strcmp(sub, "retry") != 0 && strcmp(sub, "attempts") != 0)
        return cli_usage_error(&cli_verb_notify, "unknown subcommand '%s'", MRD_ESC(sub));
    list = strcmp(sub, "list") == 0;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_AFTER:
            if (mrd_str_to_u64(optarg, strlen(optarg), INT64_MAX, &after, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_notify, "--after: expected a number");
            break;
        case O_LIMIT:
            if (mrd_str_to_u64(optarg, strlen(optarg), STORE_NOTIFY_LIST_MAX, &limit, NULL) !=
                    MRD_OK ||
                limit == 0)
                return cli_usage_error(&cli_verb_notify, "--limit: expected 1..%d",
                                       STORE_NOTIFY_LIST_MAX);
            break;
        case O_JSON:
            json = true;
            break;
        case O_WITHHELD:
            if (notify_withheld_parse(optarg, &withheld, &err) != MRD_OK)
                return cli_usage_error(&cli_verb_notify, "--withheld: %s", err.msg);
            break;
        case O_SQUELCH:
            if (cli_data_duration("notify", "--squelch", optarg, &squelch) != CLI_EXIT_OK)
                return CLI_EXIT_USAGE;
            break;
        case O_FAILED:
            failed = true;
            break;
        case O_FLUSH:
            flush = true;
            break;
        case O_CONFIG:
            config = optarg;
            break;
        default:
            return cli_usage_error(&cli_verb_notify, "unknown option");
        }
    }
    if (strcmp(sub, "retry") == 0)
        return retry(argc, argv, data);
    if (strcmp(sub, "attempts") == 0)
        return attempts(argc, argv, data, json);
    if (optind != argc)
        return cli_usage_error(&cli_verb_notify, "unexpected argument '%s'", MRD_ESC(argv[optind]));
    if (!list && strcmp(sub, "deliveries") != 0 && (org_name != NULL || json || after != 0))
        return cli_usage_error(&cli_verb_notify,
                               "--org, --after and --json go with list and deliveries");
    if ((failed && strcmp(sub, "deliveries") != 0) ||
        ((flush || config != NULL) && strcmp(sub, "deliver") != 0))
        return cli_usage_error(&cli_verb_notify,
                               "--failed goes with deliveries, --flush and --config with deliver");
    if (strcmp(sub, "deliver") == 0 || strcmp(sub, "deliveries") == 0)
        return delivery_verbs(sub, data, org_name, config, flush, failed, json, after, limit);
    ret = cli_data_open("notify", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (org_name != NULL)
        ret = cli_data_org("notify", st, org_name, &org);
    if (ret == CLI_EXIT_OK && !list)
        ret = do_run(st, cli_data_dir(data), squelch, withheld);
    if (ret == CLI_EXIT_OK && list) {
        json_t *all = json ? json_array() : NULL;
        if (store_notifications_list(st, org.key, (int64_t)after, (size_t)limit, list_one, all,
                                     &err) != MRD_OK) {
            cli_errorf("notify", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        } else if (json) {
            json_t *doc = json_pack("{s:O}", "notifications", all);
            if (doc == NULL || cli_print_json(doc, JSON_INDENT(2)) != MRD_OK)
                ret = CLI_EXIT_USAGE;
            json_decref(doc);
        }
        json_decref(all);
    }
    store_close(st);
    return ret;
}
