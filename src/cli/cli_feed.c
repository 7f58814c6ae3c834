/*
 * meridian feed: scheduled feeds (docs/interop.md, "Feeds").
 *
 * add/set/remove are administrative changes (audited, feed.h); list and
 * show print the configuration (never the token) and the fetch state;
 * fetch runs one round now, the same code `meridian serve` runs on the
 * feed's interval. A running server picks changes up at its next tick.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_feed.h"
#include "cli/verbs.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "fed/fed.h"
#include "feed/feed.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian feed add NAME --url URL --format misp|csv|text|stix|taxii\n"
    "                         --collection ID --interval D [list options] [--as-org ORG]\n"
    "                         [--token T] [--ca FILE] [--max-size BYTES] [--timeout S]\n"
    "                         [--data DIR]\n"
    "       meridian feed set NAME [any option of add] [--disable|--enable] [--data DIR]\n"
    "       meridian feed list [--data DIR]\n"
    "       meridian feed show NAME [--data DIR]\n"
    "       meridian feed remove NAME [--data DIR]\n"
    "       meridian feed fetch NAME [--data DIR]\n"
    "\n"
    "Feeds are fetched by `meridian serve` every --interval, and by `feed fetch` once,\n"
    "now (same code). Each fetch is a conditional GET (If-None-Match with the last\n"
    "ETag, If-Modified-Since with the last Last-Modified): a 304 changes nothing. The\n"
    "body goes through the import pipeline of 'meridian import' (STIX validation, TLP,\n"
    "signatures, value index, ledger). A body over --max-size, a fetch over --timeout,\n"
    "an HTTP error or a body with nothing usable in it (more bad entries than good) is\n"
    "a failure: recorded, nothing stored is touched, and the next attempt backs off\n"
    "(2 s doubling, at most 10 min or the interval). Values that vanish from a list\n"
    "feed (csv, text, misp) are expired: a new version with valid_until = now; listed\n"
    "again later, they are revived (a new version without valid_until).\n"
    "\n"
    "  NAME               [A-Za-z0-9._-], at most 64\n"
    "  --url URL          http:// or https://; misp: the feed's base (URL/manifest.json,\n"
    "                     URL/<uuid>.json); taxii: a collection's objects/ URL\n"
    "  --format F         misp, csv, text (one value per line), stix (a bundle), taxii\n"
    "  --collection ID    the local collection (uuid or API-ROOT/ALIAS)\n"
    "  --interval D       how often: 90s, 30m, 12h, 1d (or seconds)\n"
    "  --as-org ORG       the org recorded as creator (default: the node's own org)\n"
    "  --token T          a Bearer token sent to the feed (e.g. another node's API token)\n"
    "  --ca FILE          PEM CA the feed's certificate must chain to (default: system)\n"
    "  --max-size BYTES   largest body accepted (default 64 MiB, at most 1 GiB)\n"
    "  --timeout S        longest fetch in seconds (default 120)\n"
    "list options (csv and text), as 'meridian import' takes them:\n"
    "  --type ip|domain|url|email|hash|auto   --column COL   --tlp LEVEL\n"
    "  --confidence N     --label L (repeatable)\n" CLI_DATA_HELP "\n"
    "list shows per feed: format, interval, last success, last result and error,\n"
    "failures in a row and the next attempt. Every add, set and remove is an audit\n"
    "record ('meridian audit'); the token is never printed nor audited.\n"
    "\n"
    "Exit status: 0 done (fetch: the round succeeded or was not modified), 1 the\n"
    "fetch failed, 2 usage, no such feed, or data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_feed = {
    .name = "feed",
    .summary = "add, list, fetch or remove scheduled feeds (MISP, CSV, text, STIX, TAXII)",
    .usage = usage,
    .run = run,
};

static void when(int64_t usec, char out[32])
{
    if (usec <= 0)
        (void)snprintf(out, 32, "never");
    else
        mrd_time_format_stix_ms(usec, out);
}

static enum mrd_code print_feed(void *ctx, const struct feed_config *c, const struct feed_state *s,
                                struct mrd_err *err)
{
    char ok[32], next[32];

    (void)ctx, (void)err;
    when(s->last_ok_usec, ok);
    when(s->next_attempt_usec, next);
    printf("%s\t%s\t%us\t%s\tlast_ok=%s\tresult=%s\tfailures=%u\tnext=%s\terror=%s\n",
           MRD_ESC(c->name), feed_format_name(c->format), c->interval_s,
           c->enabled ? "enabled" : "disabled", ok,
           s->last_result[0] != '\0' ? s->last_result : "-", s->failures, c->enabled ? next : "-",
           s->last_error[0] != '\0' ? MRD_ESC(s->last_error) : "-");
    return MRD_OK;
}

static void show(const struct feed_config *c, const struct feed_state *s)
{
    char ok[32], at[32], next[32];

    when(s->last_ok_usec, ok);
    when(s->last_attempt_usec, at);
    when(s->next_attempt_usec, next);
    printf("name: %s\nurl: %s\nformat: %s\ncollection: %s\ninterval: %us\nenabled: %s\n",
           MRD_ESC(c->name), MRD_ESC(c->url), feed_format_name(c->format), c->collection,
           c->interval_s, c->enabled ? "yes" : "no");
    printf("as-org: %s\ntoken: %s\nmax-size: %zu\ntimeout: %us\n",
           c->as_org[0] ? MRD_ESC(c->as_org) : "(own org)", c->token[0] ? "set" : "none",
           c->max_bytes, c->timeout_s);
    printf("last attempt: %s\nlast success: %s\nlast result: %s\nlast error: %s\n"
           "failures in a row: %u\nnext attempt: %s\nfetches: %llu\nadded: %llu\n"
           "expired: %llu\netag: %s\nlast-modified: %s\n",
           at, ok, s->last_result[0] ? s->last_result : "-",
           s->last_error[0] ? MRD_ESC(s->last_error) : "-", s->failures, next,
           (unsigned long long)s->fetches, (unsigned long long)s->added,
           (unsigned long long)s->expired, s->etag[0] ? MRD_ESC(s->etag) : "-",
           s->last_modified[0] ? MRD_ESC(s->last_modified) : "-");
}

void cli_feed_report(const struct feed_report *r, bool to_log)
{
    char next[32];

    when(r->next_attempt_usec, next);
    if (to_log) {
        mrd_log(r->result == FEED_R_OK || r->result == FEED_R_NOT_MODIFIED ? MRD_LOG_INFO
                                                                           : MRD_LOG_WARN,
                "feed %s: %s: %zu objects, %zu added, %zu already present, %zu invalid, %llu "
                "expired, %llu revived%s%s; failures %u, next %s",
                MRD_ESC(r->name), feed_result_name(r->result), r->counts.objects, r->counts.added,
                r->counts.duplicates, r->counts.invalid, (unsigned long long)r->expired,
                (unsigned long long)r->revived, r->error[0] ? ": " : "",
                r->error[0] ? MRD_ESC(r->error) : "", r->failures, next);
        return;
    }
    fprintf(stderr,
            "meridian feed: %s: %s: %zu objects, %zu added, %zu already present, %zu invalid, "
            "%llu expired, %llu revived%s%s\n",
            MRD_ESC(r->name), feed_result_name(r->result), r->counts.objects, r->counts.added,
            r->counts.duplicates, r->counts.invalid, (unsigned long long)r->expired,
            (unsigned long long)r->revived, r->error[0] ? ": " : "",
            r->error[0] ? MRD_ESC(r->error) : "");
}

/* What `feed set` was given. */
struct given {
    bool url, format, coll, interval, as_org, token, ca, max, timeout, type, column, tlp, conf,
        labels, enable, disable;
};

static int copy_opt(const char *what, const char *v, char *dst, size_t size)
{
    if (strlen(v) >= size)
        return cli_usage_error(&cli_verb_feed, "%s: longer than %zu characters", what, size - 1);
    mrd_strlcpy(dst, v, size);
    return CLI_EXIT_OK;
}

/* Applies the given fields of n onto c. */
static void apply(struct feed_config *c, const struct feed_config *n, const struct given *g)
{
    if (g->url)
        mrd_strlcpy(c->url, n->url, sizeof(c->url));
    if (g->format)
        c->format = n->format;
    if (g->coll)
        mrd_strlcpy(c->collection, n->collection, sizeof(c->collection));
    if (g->interval)
        c->interval_s = n->interval_s;
    if (g->as_org)
        mrd_strlcpy(c->as_org, n->as_org, sizeof(c->as_org));
    if (g->token)
        mrd_strlcpy(c->token, n->token, sizeof(c->token));
    if (g->ca)
        mrd_strlcpy(c->ca_file, n->ca_file, sizeof(c->ca_file));
    if (g->max)
        c->max_bytes = n->max_bytes;
    if (g->timeout)
        c->timeout_s = n->timeout_s;
    if (g->type)
        c->kind = n->kind;
    if (g->column)
        mrd_strlcpy(c->column, n->column, sizeof(c->column));
    if (g->tlp) {
        c->has_tlp = n->has_tlp;
        c->tlp = n->tlp;
    }
    if (g->conf)
        c->confidence = n->confidence;
    if (g->labels) {
        memcpy(c->labels, n->labels, sizeof(c->labels));
        c->n_labels = n->n_labels;
    }
    if (g->enable)
        c->enabled = true;
    if (g->disable)
        c->enabled = false;
}

static int fetch_now(const char *data, const char *name)
{
    struct store *st = NULL;
    struct fed_trust *trust = NULL;
    struct feed_report rep;
    struct mrd_err err = {0};
    int ret;

    ret = cli_data_open("feed", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (fed_trust_load(data, &trust, &err) != MRD_OK || fed_global_init(&err) != MRD_OK) {
        cli_errorf("feed", "%s", err.msg);
        store_close(st);
        fed_trust_free(trust);
        return CLI_EXIT_USAGE;
    }
    if (feed_round(st, trust, name, true, NULL, &rep, &err) != MRD_OK) {
        cli_errorf("feed", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else {
        cli_feed_report(&rep, false);
        ret = rep.result == FEED_R_OK || rep.result == FEED_R_NOT_MODIFIED ? CLI_EXIT_OK
                                                                           : CLI_EXIT_FAIL;
        if (rep.counts.added > 0)
            cli_data_ledger_catch_up("feed", st, data);
    }
    fed_global_cleanup();
    fed_trust_free(trust);
    store_close(st);
    return ret;
}

static int run(int argc, char **argv)
{
    enum {
        O_DATA = 1,
        O_URL,
        O_FORMAT,
        O_COLL,
        O_INTERVAL,
        O_ORG,
        O_TOKEN,
        O_CA,
        O_MAX,
        O_TIMEOUT,
        O_TYPE,
        O_COLUMN,
        O_TLP,
        O_CONF,
        O_LABEL,
        O_ENABLE,
        O_DISABLE
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"url", required_argument, NULL, O_URL},
        {"format", required_argument, NULL, O_FORMAT},
        {"collection", required_argument, NULL, O_COLL},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"as-org", required_argument, NULL, O_ORG},
        {"token", required_argument, NULL, O_TOKEN},
        {"ca", required_argument, NULL, O_CA},
        {"max-size", required_argument, NULL, O_MAX},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"type", required_argument, NULL, O_TYPE},
        {"column", required_argument, NULL, O_COLUMN},
        {"tlp", required_argument, NULL, O_TLP},
        {"confidence", required_argument, NULL, O_CONF},
        {"label", required_argument, NULL, O_LABEL},
        {"enable", no_argument, NULL, O_ENABLE},
        {"disable", no_argument, NULL, O_DISABLE},
        {NULL, 0, NULL, 0},
    };
    struct feed_config *n = NULL, *c = NULL;
    struct feed_state s;
    struct given g;
    const char *data = NULL, *sub, *name = NULL, *coll_arg = NULL;
    struct store *st = NULL;
    struct admin a;
    struct mrd_err err = {0};
    int ret = CLI_EXIT_USAGE, o;

    if (argc < 2)
        return cli_usage_error(&cli_verb_feed, "give a subcommand");
    sub = argv[1];
    n = calloc(1, sizeof(*n));
    c = calloc(1, sizeof(*c));
    if (n == NULL || c == NULL) {
        cli_errorf("feed", "out of memory");
        goto out;
    }
    feed_config_init(n);
    memset(&g, 0, sizeof(g));
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = CLI_EXIT_OK;
        switch (o) {
        case O_DATA:
            data = optarg;
            break;
        case O_URL:
            g.url = true;
            r = copy_opt("--url", optarg, n->url, sizeof(n->url));
            break;
        case O_FORMAT:
            g.format = true;
            if (!feed_format_parse(optarg, &n->format))
                r = cli_usage_error(&cli_verb_feed,
                                    "--format takes misp, csv, text, stix or taxii");
            break;
        case O_COLL:
            g.coll = true;
            coll_arg = optarg;
            break;
        case O_INTERVAL: {
            int64_t us;
            g.interval = true;
            r = cli_data_duration("feed", "--interval", optarg, &us);
            if (r == CLI_EXIT_OK && (us < (int64_t)FEED_MIN_INTERVAL_S * 1000000 ||
                                     us > (int64_t)FEED_MAX_INTERVAL_S * 1000000))
                r = cli_usage_error(&cli_verb_feed, "--interval: 1s..366d");
            n->interval_s = (unsigned)(us / 1000000);
            break;
        }
        case O_ORG:
            g.as_org = true;
            r = copy_opt("--as-org", optarg, n->as_org, sizeof(n->as_org));
            break;
        case O_TOKEN:
            g.token = true;
            r = copy_opt("--token", optarg, n->token, sizeof(n->token));
            break;
        case O_CA: {
            char abs[PATH_MAX];
            g.ca = true;
            if (realpath(optarg, abs) == NULL) {
                cli_errorf("feed", "--ca %s: cannot be read", optarg);
                r = CLI_EXIT_USAGE;
            } else {
                r = copy_opt("--ca", abs, n->ca_file, sizeof(n->ca_file));
            }
            break;
        }
        case O_MAX:
        case O_TIMEOUT: {
            uint64_t v;
            bool max = o == O_MAX;
            if (mrd_str_to_u64(optarg, strlen(optarg),
                               max ? FEED_MAX_BYTES_LIMIT : FEED_MAX_TIMEOUT_S, &v,
                               NULL) != MRD_OK ||
                v == 0) {
                r = cli_usage_error(&cli_verb_feed,
                                    max ? "--max-size: 1..%zu bytes" : "--timeout: 1..%zu seconds",
                                    max ? FEED_MAX_BYTES_LIMIT : (size_t)FEED_MAX_TIMEOUT_S);
                break;
            }
            if (max) {
                g.max = true;
                n->max_bytes = (size_t)v;
            } else {
                g.timeout = true;
                n->timeout_s = (unsigned)v;
            }
            break;
        }
        case O_TYPE:
            g.type = true;
            if (strcmp(optarg, "auto") == 0)
                n->kind = INTEROP_K_COUNT;
            else if (!interop_kind_parse(optarg, &n->kind))
                r = cli_usage_error(&cli_verb_feed,
                                    "--type takes ip, domain, url, email, hash or auto");
            break;
        case O_COLUMN:
            g.column = true;
            r = copy_opt("--column", optarg, n->column, sizeof(n->column));
            break;
        case O_TLP:
            g.tlp = true;
            n->has_tlp = true;
            if (policy_tlp_parse(optarg, strlen(optarg), &n->tlp, &err) != MRD_OK)
                r = cli_usage_error(&cli_verb_feed, "%s", err.msg);
            break;
        case O_CONF: {
            uint64_t v;
            g.conf = true;
            if (mrd_str_to_u64(optarg, strlen(optarg), 100, &v, NULL) != MRD_OK)
                r = cli_usage_error(&cli_verb_feed, "--confidence takes 0..100");
            n->confidence = (int)v;
            break;
        }
        case O_LABEL:
            g.labels = true;
            if (n->n_labels == FEED_IMPORT_MAX_LABELS)
                r = cli_usage_error(&cli_verb_feed, "at most %d --label options",
                                    FEED_IMPORT_MAX_LABELS);
            else
                r = copy_opt("--label", optarg, n->labels[n->n_labels++], FEED_LABEL_MAX + 1);
            break;
        case O_ENABLE:
            g.enable = true;
            break;
        case O_DISABLE:
            g.disable = true;
            break;
        default:
            r = cli_usage_error(&cli_verb_feed, "unknown option");
        }
        if (r != CLI_EXIT_OK)
            goto out;
    }
    if (optind < argc)
        name = argv[optind++];
    if (optind != argc) {
        ret = cli_usage_error(&cli_verb_feed, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    data = cli_data_dir(data);
    if (strcmp(sub, "list") == 0) {
        if (name != NULL) {
            ret = cli_usage_error(&cli_verb_feed, "feed list takes no NAME");
            goto out;
        }
        ret = cli_data_open("feed", data, &st);
        if (ret != CLI_EXIT_OK)
            goto out;
        if (feed_list(st, print_feed, NULL, &err) != MRD_OK) {
            cli_errorf("feed", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        }
        goto out;
    }
    if (strcmp(sub, "add") != 0 && strcmp(sub, "set") != 0 && strcmp(sub, "show") != 0 &&
        strcmp(sub, "remove") != 0 && strcmp(sub, "fetch") != 0) {
        ret = cli_usage_error(&cli_verb_feed, "unknown subcommand '%s'", sub);
        goto out;
    }
    if (name == NULL) {
        ret = cli_usage_error(&cli_verb_feed, "feed %s: NAME is required", sub);
        goto out;
    }
    if (strcmp(sub, "fetch") == 0) {
        ret = fetch_now(data, name);
        goto out;
    }
    ret = cli_data_open("feed", data, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (coll_arg != NULL) {
        struct store_collection coll;
        ret = cli_data_collection("feed", st, coll_arg, &coll);
        if (ret != CLI_EXIT_OK)
            goto out;
        mrd_strlcpy(n->collection, coll.id, sizeof(n->collection));
    }
    cli_data_admin(st, data, &a);
    ret = CLI_EXIT_USAGE;
    if (strcmp(sub, "show") == 0) {
        if (feed_get(st, name, c, &s, &err) == MRD_OK) {
            show(c, &s);
            ret = CLI_EXIT_OK;
        }
    } else if (strcmp(sub, "remove") == 0) {
        if (feed_remove(&a, name, &err) == MRD_OK) {
            fprintf(stderr, "meridian feed: removed '%s'\n", MRD_ESC(name));
            ret = CLI_EXIT_OK;
        }
    } else if (strcmp(sub, "add") == 0) {
        if (!g.url || !g.format || !g.coll || !g.interval) {
            ret = cli_usage_error(&cli_verb_feed,
                                  "feed add: --url, --format, --collection and --interval are "
                                  "required");
            goto out;
        }
        if (copy_opt("NAME", name, n->name, sizeof(n->name)) != CLI_EXIT_OK)
            goto out;
        n->enabled = !g.disable;
        if (feed_add(&a, n, &err) == MRD_OK) {
            fprintf(stderr, "meridian feed: added '%s' (%s, every %us) %s -> %s\n",
                    MRD_ESC(n->name), feed_format_name(n->format), n->interval_s, MRD_ESC(n->url),
                    n->collection);
            ret = CLI_EXIT_OK;
        }
    } else { /* set */
        if (feed_get(st, name, c, NULL, &err) == MRD_OK) {
            apply(c, n, &g);
            if (feed_set(&a, c, &err) == MRD_OK) {
                fprintf(stderr, "meridian feed: updated '%s'\n", MRD_ESC(name));
                ret = CLI_EXIT_OK;
            }
        }
    }
    if (err.code != MRD_OK)
        cli_errorf("feed", "%s", err.msg);
    if (ret == CLI_EXIT_OK && strcmp(sub, "show") != 0)
        cli_data_ledger_catch_up("feed", st, data);
out:
    store_close(st);
    if (n != NULL)
        memset(n->token, 0, sizeof(n->token));
    if (c != NULL)
        memset(c->token, 0, sizeof(c->token));
    free(n);
    free(c);
    return ret;
}
