/*
 * meridian serve: run the node's TAXII 2.1 server until SIGTERM/SIGINT.
 *
 * The main thread only sets things up, then waits for a signal in
 * sigwait(); libmicrohttpd's pool threads do the work. Signals are blocked
 * before any thread starts so that only sigwait() receives them, and the
 * shutdown path frees everything, so LeakSanitizer sees a clean exit.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/audit.h"
#include "bgp/bgp.h"
#include "cli/cli.h"
#include "cli/cli_bgp.h"
#include "cli/cli_data.h"
#include "cli/cli_feed.h"
#include "cli/cli_fed.h"
#include "cli/cli_notify.h"
#include "cli/verbs.h"
#include "conf/conf.h"
#include "dash/dash.h"
#include "forget/forget.h"
#include "core/log.h"
#include "core/str.h"
#include "http/http.h"
#include "ledger/checkpoint.h"
#include "ledger/sync.h"
#include "notify/notify.h"
#include "ops/ops.h"
#include "pmatch/pmatch.h"
#include "sensor/sensor.h"
#include "store/store.h"
#include "taxii/taxii.h"

static const char usage_head[] =
    "usage: meridian serve [--config FILE] [--data DIR] [--listen HOST:PORT] [--http]\n"
    "                      [OPTIONS]\n"
    "\n"
    "Runs the node on the data directory DIR: the TAXII 2.1 server (docs/taxii.md),\n"
    "the JSON API under /api/v1/ (docs/api.md) and the analyst console at /ui/\n"
    "(docs/console.md), all on one port.\n"
    "Every option can also be set in the config file (docs/deployment.md): a line\n"
    "'NAME = VALUE' for '--NAME VALUE' ('http = true' for --http). Options given\n"
    "on the command line override the file.\n"
    "\n"
    "  --config FILE             read settings from FILE (default: $" CONF_ENV ",\n"
    "                            else " CONF_DEFAULT_FILE " when it\n"
    "                            exists); check one with 'meridian config check'\n";

static const char usage_tail[] =
    "\n"
    "The request body limit is each API root's max_content_length (413 above it).\n"
    "\n"
    "Access log: one record per request with the client's address, method, path,\n"
    "route template, status, bytes, duration, and the token's name (never the\n"
    "token) or why authentication failed (auth=unknown, revoked, expired,\n"
    "disabled, malformed, certificate). Values from the request are escaped.\n"
    "\n"
    "Operations (docs/monitoring.md): GET /metrics (Prometheus text format; an API\n"
    "token of the own org, or none on --metrics-listen), GET /healthz and\n"
    "GET /readyz (no token; 200 or 503, nothing else).\n"
    "\n"
    "SIGTERM or SIGINT stops the server cleanly (exit 0). SIGHUP reopens the log\n"
    "file and re-reads the TLS certificate and key (tls-cert and tls-key, or\n"
    "DIR/cert.pem and DIR/key.pem) without dropping connections: new handshakes\n"
    "use the new pair; a pair that does not load, or a key that does not match the\n"
    "certificate, is logged and the current one kept.\n"
    "\n"
    "The ledger (DIR/ledger) records every stored object version and preservation\n"
    "action within a second; /ledger/v1/ serves its signed checkpoint and proofs.\n"
    "On PostgreSQL several serve front-ends (each with a copy of DIR) may share the\n"
    "database: one at a time appends to the ledger, the others copy its leaves, and\n"
    "one runs each federation peer; another takes over when it dies. A standby\n"
    "promoted after a failover is found by itself (docs/store.md).\n"
    "\n"
    "Routing sensor (docs/bgp.md, \"Live sensor\"): with bmp-listen, routers and\n"
    "collectors stream BMP (RFC 7854) to that address; their routes go through the\n"
    "detectors of 'meridian bgp scan' (bmp-config, bmp-as-rel, bmp-vrps) and each\n"
    "alert is stored, signed, in bmp-collection at bmp-tlp, one STIX object per\n"
    "event, a new version when it changes (ends, more peers carry it).\n"
    "\n"
    "DNS sensor (docs/dns.md, \"Inside meridian serve\"): with dns-config, a round\n"
    "every interval; findings stored in dns-collection at dns-tlp. With the routing\n"
    "sensor too, the ASN excuse takes origins from its routes, findings link the\n"
    "open routing alerts over their addresses (unless bmp-tlp is stricter than\n"
    "dns-tlp) and outages record their name servers' prefixes routed or withdrawn.\n"
    "\n"
    "Constituency early warning (docs/notify.md): every stored object version is\n"
    "routed through the assets constituents declared (meridian asset) within about\n"
    "a second; each notification is logged, listed by `meridian notify list`, and\n"
    "a STIX object the constituent pulls from its collection in the API root\n"
    "early-warning (alias: its org name); it is delivered to the org's contacts\n"
    "(meridian contact) by e-mail through smtp-relay or by webhook, on a thread\n"
    "of its own (`meridian notify deliveries` is the record).\n"
    "\n"
    "Signals: SIGTERM or SIGINT stops the server cleanly (exit 0); SIGHUP reopens\n"
    "the log file (after logrotate moved it).\n"
    "\n"
    "Exit status: 0 after a clean stop, 2 on a usage, config, TLS, address or data\n"
    "error.\n";

/* The manual: its options come from the key table, like the config file. */
static const char *serve_usage(void)
{
    static char *text;
    struct mrd_buf b;

    if (text != NULL)
        return text;
    mrd_buf_init(&b, (size_t)1 << 20);
    if (mrd_buf_puts(&b, usage_head, NULL) != MRD_OK ||
        conf_usage(conf_serve_keys, CONF_SERVE__COUNT, &b, NULL) != MRD_OK ||
        mrd_buf_puts(&b, usage_tail, NULL) != MRD_OK) {
        mrd_buf_release(&b);
        return usage_head;
    }
    text = b.data; /* kept for the process's life */
    return text;
}

static int run(int argc, char **argv);

/* The routing sensor's VRP feed (--rtr): logged at each change; its status
 * and the BMP listener's sessions (--bmp-listen) are the console's Routing
 * page's. */
static void on_rtr(struct bgp_rtr_feed *feed, void *ctx)
{
    struct bgp_rtr_feed_status s;
    (void)ctx;
    bgp_rtr_feed_status(feed, &s);
    if (!s.connected || s.rtr.expired)
        mrd_log(MRD_LOG_WARN, "rtr: %s: %s (failure %u)", s.source, s.last_error, s.failures);
    else
        mrd_log(MRD_LOG_INFO, "rtr: %s: serial %u, %zu VRPs (%s query: +%zu -%zu)", s.source,
                s.rtr.serial, s.rtr.count, s.rtr.last_was_reset ? "reset" : "serial",
                s.rtr.last_announced, s.rtr.last_withdrawn);
}

struct sensor_status_ctx {
    struct bgp_rtr_feed *rtr;  /* may be NULL */
    struct cli_sensor *sensor; /* may be NULL */
};

static json_t *sensor_status(void *arg)
{
    struct sensor_status_ctx *c = arg;
    struct bgp_rtr_feed_status s;
    json_t *sources = json_array(), *bmp = c->sensor != NULL ? cli_sensor_status(c->sensor) : NULL;

    if (c->rtr != NULL) {
        bgp_rtr_feed_status(c->rtr, &s);
        (void)json_array_append_new(sources, bgp_rtr_feed_status_json(&s, (int64_t)time(NULL)));
    }
    return json_pack("{s:o, s:o}", "sources", sources != NULL ? sources : json_array(), "bmp",
                     bmp != NULL ? bmp : json_null());
}

const struct cli_verb cli_verb_serve = {
    .name = "serve",
    .summary = "run the TAXII 2.1 server",
    .usage = usage_head,
    .usage_fn = serve_usage,
    .run = run,
};

static void access_log(void *ctx, const struct http_access *a)
{
    const char *auth = a->auth_fail != NULL ? a->auth_fail : a->who != NULL ? "ok" : "none";
    struct mrd_log_kv kv[] = {
        {.key = "client", .str = a->client},
        {.key = "method", .str = a->method},
        {.key = "path", .str = a->path},
        {.key = "route", .str = a->route != NULL ? a->route : "other"},
        {.key = "status", .num = a->status, .is_num = true},
        {.key = "bytes", .num = (double)a->bytes, .is_num = true},
        {.key = "ms",
         .num = (double)(a->usec / 1000) + (double)(a->usec % 1000) / 1000.0,
         .is_num = true},
        {.key = "token", .str = a->who},
        {.key = "auth", .str = auth},
        {.key = "note", .str = a->note},
    };

    (void)ctx;
    mrd_log_kv(a->status >= 500 ? MRD_LOG_WARN : MRD_LOG_INFO, "access", kv,
               a->note != NULL ? 10 : 9);
}

/* Writes the ready file through a temporary name and rename(2), so a
 * reader polling for it never sees it half-written. */
static enum mrd_code write_ready(const char *path, const char *host, uint16_t port,
                                 struct mrd_err *err)
{
    char tmp[PATH_MAX];
    FILE *f;
    bool v6 = strchr(host, ':') != NULL;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return mrd_err_set(err, MRD_E_INVAL, "%s: path too long", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        return mrd_err_sys(err, MRD_E_IO, errno, "%s", tmp);
    fprintf(f, v6 ? "[%s]:%u\n" : "%s:%u\n", host, (unsigned)port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
    return MRD_OK;
}

/* What SIGHUP reloads. One handler for everything a running server
 * re-reads on SIGHUP: serve's loop calls on_sighup(), which calls each
 * hook in turn (the TLS pair here; reopening a log file is one more line). */
struct hup {
    struct http_server *srv;
    const char *cert_path, *key_path; /* NULL without TLS */
};

static void reload_tls(const struct hup *h)
{
    struct mrd_buf cert, key;
    struct mrd_err err = {0};

    if (h->cert_path == NULL)
        return;
    mrd_buf_init(&cert, HTTP_MAX_PEM);
    mrd_buf_init(&key, HTTP_MAX_PEM);
    if (cli_read_file(h->cert_path, HTTP_MAX_PEM, &cert, &err) != MRD_OK ||
        cli_read_file(h->key_path, HTTP_MAX_PEM, &key, &err) != MRD_OK ||
        mrd_buf_append(&cert, "", 1, &err) != MRD_OK ||
        mrd_buf_append(&key, "", 1, &err) != MRD_OK ||
        http_server_tls_reload(h->srv, cert.data, key.data, &err) != MRD_OK)
        mrd_log(MRD_LOG_WARN, "SIGHUP: TLS certificate not reloaded, keeping the current one: %s",
                err.msg);
    else
        mrd_log(MRD_LOG_INFO, "SIGHUP: TLS certificate reloaded from %s", h->cert_path);
    if (key.data != NULL)
        sodium_memzero(key.data, key.len);
    mrd_buf_release(&cert);
    mrd_buf_release(&key);
}

static void on_sighup(const struct hup *h)
{
    reload_tls(h);
}

static void raise_nofile(void)
{
    struct rlimit rl;

    /* 1,000+ idle connections need more descriptors than the usual soft
     * limit of 1024. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Settings: the config file first (--config FILE, else the default file
 * when it exists), then the command line over it. Prints every error and
 * returns CLI_EXIT_USAGE on failure. */
static int load_settings(int argc, char **argv, struct conf *cf)
{
    struct option opts[CONF_SERVE__COUNT + 2];
    const char *file = NULL;
    struct mrd_err err = {0};
    int c;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    if (file == NULL && access(conf_default_path(), F_OK) == 0)
        file = conf_default_path();
    if (file != NULL && conf_load(cf, file, &err) != MRD_OK) {
        if (cf->nerrors == 0)
            cli_errorf("serve", "%s", err.msg);
        for (size_t i = 0; i < cf->nerrors && i < CONF_MAX_ERRORS; i++)
            cli_errorf("serve", "%s", cf->errors[i]);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < CONF_SERVE__COUNT; i++)
        opts[i] =
            (struct option){conf_serve_keys[i].name,
                            conf_serve_keys[i].type == CONF_BOOL ? no_argument : required_argument,
                            NULL, 1000 + (int)i};
    opts[CONF_SERVE__COUNT] = (struct option){"config", required_argument, NULL, 999};
    opts[CONF_SERVE__COUNT + 1] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char origin[CONF_MAX_ORIGIN];
        const struct conf_key *k;
        if (c == 999)
            continue;
        if (c < 1000 || c >= 1000 + CONF_SERVE__COUNT)
            return cli_usage_error(&cli_verb_serve, "unknown option");
        k = &conf_serve_keys[c - 1000];
        (void)snprintf(origin, sizeof(origin), "--%s", k->name);
        if (conf_set(cf, k->name, k->type == CONF_BOOL ? "true" : optarg, origin, &err) != MRD_OK)
            return cli_usage_error(&cli_verb_serve, "%s", err.msg);
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_serve, "unexpected argument '%s'", argv[optind]);
    return CLI_EXIT_OK;
}

/* SIGHUP: everything serve reloads happens here, on the main thread. */
static void reload(void)
{
    struct mrd_err err = {0};

    if (mrd_log_reopen(&err) != MRD_OK)
        mrd_log(MRD_LOG_ERROR, "SIGHUP: %s (still writing to the old file)", err.msg);
    else
        mrd_log(MRD_LOG_INFO, "SIGHUP: log reopened");
}

/* Reads the PEM files serve needs (cert, key, optional client CA). */
static int read_tls(const struct conf *cf, const char *data, struct mrd_buf *cert,
                    struct mrd_buf *key, struct mrd_buf *ca)
{
    const char *cert_file = conf_str(cf, CONF_TLS_CERT), *key_file = conf_str(cf, CONF_TLS_KEY);
    const char *ca_file = conf_str(cf, CONF_CLIENT_CA);
    char path[PATH_MAX];
    struct mrd_err err = {0};

    if (cert_file == NULL) {
        (void)snprintf(path, sizeof(path), "%s/%s", data, HTTP_TLS_CERT_FILE);
        if (cli_read_file(path, HTTP_MAX_PEM, cert, &err) != MRD_OK) {
            cli_errorf("serve",
                       "%s (run 'meridian init', pass --tls-cert/--tls-key, or --http for "
                       "plain HTTP)",
                       err.msg);
            return CLI_EXIT_USAGE;
        }
    } else if (cli_read_file(cert_file, HTTP_MAX_PEM, cert, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (key_file == NULL)
        (void)snprintf(path, sizeof(path), "%s/%s", data, HTTP_TLS_KEY_FILE);
    if (cli_read_file(key_file != NULL ? key_file : path, HTTP_MAX_PEM, key, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (ca_file != NULL && cli_read_file(ca_file, HTTP_MAX_PEM, ca, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int setup_log(const struct conf *cf)
{
    static const enum mrd_log_level levels[] = {MRD_LOG_DEBUG, MRD_LOG_INFO, MRD_LOG_WARN,
                                                MRD_LOG_ERROR};
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct mrd_err err = {0};

    for (size_t i = 0; i < 4; i++)
        if (strcmp(conf_str(cf, CONF_LOG_LEVEL), names[i]) == 0)
            mrd_log_set_level(levels[i]);
    mrd_log_set_json(strcmp(conf_str(cf, CONF_LOG_FORMAT), "json") == 0);
    if (mrd_log_open(conf_str(cf, CONF_LOG), &err) != MRD_OK) {
        cli_errorf("serve", "--log: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Each scheduled feed round, in the log (feed.h). */
static void on_feed_round(void *ctx, const struct feed_report *r)
{
    (void)ctx;
    cli_feed_report(r, true);
}

/* A changed privacy-policy.json that serve cannot use: the policy in
 * force stays (fed_trust_load), and the operator hears why. */
static void on_privacy_error(void *ctx, const struct mrd_err *err)
{
    (void)ctx;
    mrd_log(MRD_LOG_WARN, "privacy policy not reloaded, keeping the one in force: %s", err->msg);
}

static void on_retention_round(void *ctx, const struct forget_round *r)
{
    (void)ctx;
    if (r->rc != MRD_OK)
        mrd_log(MRD_LOG_WARN, "retention: %s", r->err->msg);
    else if (r->r.expired > 0 || r->requests > 0)
        mrd_log(MRD_LOG_INFO,
                "retention: %zu version(s) expired, %zu erased, %zu kept under a "
                "legal hold",
                r->r.expired, r->r.erased, r->r.held);
}

static void on_erasure_request(void *ctx, const struct forget_applied *a)
{
    (void)ctx;
    mrd_log(a->applied ? MRD_LOG_INFO : MRD_LOG_WARN,
            "erasure request %s from %s: %s (%zu version(s) erased, %zu held, %zu not the "
            "requester's)",
            MRD_ESC(a->request), a->source[0] ? MRD_ESC(a->source) : "a local writer",
            MRD_ESC(a->message), a->r.erased, a->r.held, a->refused);
}

static void on_sensor_round(void *ctx, const char *line)
{
    (void)ctx;
    mrd_log(MRD_LOG_INFO, "%s", MRD_ESC(line));
}

/* The DNS sensor, when dns-config is set (docs/dns.md). */
static int start_dns_sensor(const struct conf *cf, const char *data, struct store *st,
                            struct cli_sensor *routing, struct sensor_dns **ret)
{
    struct sensor_dns_opts o = {conf_str(cf, CONF_DNS_CONFIG),
                                conf_str(cf, CONF_DNS_BASELINE),
                                conf_str(cf, CONF_DNS_COLLECTION),
                                POLICY_TLP_AMBER,
                                cli_sensor_routing(routing),
                                routing != NULL ? cli_sensor_tlp(routing) : POLICY_TLP_CLEAR};
    const char *tlp = conf_str(cf, CONF_DNS_TLP);
    struct mrd_err err = {0};

    if (o.config_path == NULL)
        return CLI_EXIT_OK;
    if (o.baseline_path == NULL || o.collection == NULL) {
        cli_errorf("serve", "dns-config needs dns-baseline and dns-collection");
        return CLI_EXIT_USAGE;
    }
    if (policy_tlp_parse(tlp, strlen(tlp), &o.tlp, &err) != MRD_OK ||
        sensor_dns_start(data, st, &o, on_sensor_round, NULL, ret, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (o.routing != NULL && o.routing_tlp > o.tlp)
        mrd_log(MRD_LOG_WARN,
                "dns sensor: findings are not linked to routing alerts: their TLP:%s is stricter "
                "than the DNS alerts' TLP:%s (docs/dns.md, \"With the routing sensor\")",
                policy_tlp_name(o.routing_tlp), policy_tlp_name(o.tlp));
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    struct conf cf = {0};
    const char *data, *ready;
    struct http_config hc, mc;
    struct taxii_config tc = {0};
    char cert_path[PATH_MAX], key_path[PATH_MAX];
    struct hup hup = {0};
    struct mrd_buf cert, key, ca;
    struct store *st = NULL;
    struct store_open_opts open_opts;
    struct taxii_server *ts = NULL;
    struct http_server *srv = NULL, *msrv = NULL;
    struct http_app app, mapp, taxii, api_app;
    struct dash *dash = NULL;
    struct api_config api_cfg = {0};
    struct api_router *router = NULL;
    struct ops_app ops = {0}, mops = {0};
    struct cli_fed *fed = NULL;
    struct feed_runner *feeds = NULL;
    struct pmatch_server *pmatch = NULL;
    struct forget_service *retention = NULL;
    struct sensor_dns *dns_sensor = NULL;
    struct ledger_service *ledger = NULL;
    struct notify_service *notify = NULL;
    struct audit_service *audit = NULL;
    struct cli_sensor *sensor = NULL;
    struct notify_deliver_conf deliver;
    struct notify_opts notify_opts = {0};
    struct bgp_rtr_feed *rtr = NULL;
    struct sensor_status_ctx status = {0};
    struct ckpt_signer signer;
    struct mrd_err err = {0};
    sigset_t set;
    int sig = 0, ret = CLI_EXIT_USAGE;
    enum mrd_code rc;

    http_config_defaults(&hc);
    mrd_buf_init(&cert, HTTP_MAX_PEM);
    mrd_buf_init(&key, HTTP_MAX_PEM);
    mrd_buf_init(&ca, HTTP_MAX_PEM);
    if (conf_init(&cf, conf_serve_keys, CONF_SERVE__COUNT, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    if (load_settings(argc, argv, &cf) != CLI_EXIT_OK || setup_log(&cf) != CLI_EXIT_OK)
        goto out;
    data = cli_data_dir_from(conf_is_set(&cf, CONF_DATA) &&
                                     strncmp(cf.v[CONF_DATA].origin, "--", 2) == 0
                                 ? conf_str(&cf, CONF_DATA)
                                 : NULL,
                             conf_str(&cf, CONF_DATA));
    ready = conf_str(&cf, CONF_READY_FILE);
    hc.host = conf_addr_host(&cf, CONF_LISTEN);
    hc.port = conf_addr_port(&cf, CONF_LISTEN);
    hc.tls = !conf_bool(&cf, CONF_HTTP);
    hc.threads = (unsigned)conf_uint(&cf, CONF_THREADS);
    hc.max_connections = (unsigned)conf_uint(&cf, CONF_MAX_CONNECTIONS);
    hc.max_header = conf_uint(&cf, CONF_MAX_HEADER);
    hc.idle_timeout = (unsigned)conf_uint(&cf, CONF_IDLE_TIMEOUT);
    hc.request_timeout = (unsigned)conf_uint(&cf, CONF_REQUEST_TIMEOUT);
    hc.max_inflight_body = (size_t)conf_uint(&cf, CONF_MAX_BODY_MEMORY) * 1024 * 1024;
    tc.rate = (unsigned)conf_uint(&cf, CONF_RATE);
    if (hc.tls) {
        if (read_tls(&cf, data, &cert, &key, &ca) != CLI_EXIT_OK)
            goto out;
        /* what SIGHUP re-reads */
        if (conf_str(&cf, CONF_TLS_CERT) != NULL)
            mrd_strlcpy(cert_path, conf_str(&cf, CONF_TLS_CERT), sizeof(cert_path));
        else
            (void)snprintf(cert_path, sizeof(cert_path), "%s/%s", data, HTTP_TLS_CERT_FILE);
        if (conf_str(&cf, CONF_TLS_KEY) != NULL)
            mrd_strlcpy(key_path, conf_str(&cf, CONF_TLS_KEY), sizeof(key_path));
        else
            (void)snprintf(key_path, sizeof(key_path), "%s/%s", data, HTTP_TLS_KEY_FILE);
        hup.cert_path = cert_path;
        hup.key_path = key_path;
        hc.tls_reloadable = true;
        hc.cert_pem = cert.data;
        hc.key_pem = key.data;
        hc.client_ca_pem = ca.data;
    }
    cli_data_open_opts(&open_opts);
    if (store_open(data, &open_opts, &st, &err) != MRD_OK) {
        if (err.code == MRD_E_NOTFOUND || err.code == MRD_E_IO)
            cli_errorf("serve", "%s (run 'meridian init --data %s --org NAME' first)", err.msg,
                       data);
        else
            cli_errorf("serve", "%s: %s", data, err.msg);
        goto out;
    }
    if (cli_fed_new(data, &tc.ingest, &fed) != CLI_EXIT_OK)
        goto out;
    tc.privacy = cli_fed_privacy(fed);
    privacy_live_on_error(tc.privacy, on_privacy_error, NULL);
    if (cli_data_signer("serve", st, data, &signer) != CLI_EXIT_OK)
        goto out;
    if (taxii_server_new(st, &tc, &ts, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    taxii_app(ts, &taxii);
    taxii.log = access_log;
    api_cfg.tls = hc.tls;
    api_cfg.idle_s = (unsigned)conf_uint(&cf, CONF_SESSION_IDLE);
    api_cfg.max_s = (unsigned)conf_uint(&cf, CONF_SESSION_MAX);
    if (api_router_new(st, &api_cfg, &router, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    raise_nofile();
    /* Block the signals before any thread exists: they inherit the mask,
     * and only sigwait() below receives them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = ledger_service_start(data, st, &signer, (unsigned)conf_uint(&cf, CONF_CHECKPOINT_INTERVAL),
                              &ledger, &err);
    sodium_memzero(&signer, sizeof(signer));
    if (rc != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    taxii_server_set_ledger(ts, ledger);
    if (audit_service_start(st, (unsigned)conf_uint(&cf, CONF_AUDIT_RETENTION_DAYS), &audit,
                            &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    if (cli_notify_deliver_conf("serve", &cf, data, &deliver) != CLI_EXIT_OK)
        goto out;
    notify_opts.deliver = &deliver;
    notify_opts.trust = cli_fed_trust(fed);
    rc = notify_withheld_parse(conf_str(&cf, CONF_NOTIFY_WITHHELD), &notify_opts.withheld, &err);
    if (rc == MRD_OK)
        rc = notify_service_start(st, &notify_opts, &notify, &err);
    sodium_memzero(deliver.smtp.password, sizeof(deliver.smtp.password));
    if (rc != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    if (cli_fed_start(fed, st, (unsigned)conf_uint(&cf, CONF_SYNC_INTERVAL), router) != CLI_EXIT_OK)
        goto out;
    if (feed_api_routes(st, cli_fed_privacy(fed), router, &err) != MRD_OK ||
        feed_runner_start(data, st, on_feed_round, NULL, &feeds, &err) != MRD_OK) {
        cli_errorf("serve", "feeds: %s", err.msg);
        goto out;
    }
    if (pmatch_server_new(st, on_sensor_round, NULL, &pmatch, &err) == MRD_OK)
        pmatch_server_set_privacy(pmatch, cli_fed_privacy(fed));
    if (pmatch == NULL || pmatch_api_routes(pmatch, router, &err) != MRD_OK) {
        cli_errorf("serve", "private matching: %s", err.msg);
        goto out;
    }
    if (forget_service_start(data, st, cli_fed_keyring(fed),
                             (unsigned)conf_uint(&cf, CONF_RETENTION_INTERVAL), on_retention_round,
                             on_erasure_request, NULL, &retention, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    if (cli_sensor_start(&cf, data, st, &sensor) != CLI_EXIT_OK ||
        start_dns_sensor(&cf, data, st, sensor, &dns_sensor) != CLI_EXIT_OK)
        goto out;
    if (conf_str(&cf, CONF_RTR) != NULL &&
        bgp_rtr_feed_start(conf_str(&cf, CONF_RTR), 1, on_rtr, NULL, &rtr, &err) != MRD_OK) {
        cli_errorf("serve", "rtr: %s", err.msg);
        goto out;
    }
    {
        struct dash_config dc = {.privacy = cli_fed_privacy(fed),
                                 .st = st,
                                 .keyring = cli_fed_keyring(fed),
                                 .data_dir = data,
                                 .ledger = ledger,
                                 .sensor_status =
                                     rtr != NULL || sensor != NULL ? sensor_status : NULL,
                                 .sensor_ctx = &status,
                                 .dns_status = dns_sensor != NULL ? sensor_dns_status : NULL,
                                 .dns_ctx = dns_sensor};
        status.rtr = rtr;
        status.sensor = sensor;
        if (dash_new(&dc, &dash, &err) != MRD_OK || dash_api_routes(dash, router, &err) != MRD_OK) {
            cli_errorf("serve", "console: %s", err.msg);
            goto out;
        }
    }
    /* /ui/ in front of /api/v1/ in front of TAXII: each hands the next one
     * every path it does not own. */
    api_router_app(router, &taxii, &api_app);
    dash_ui_app(dash, &api_app, &app);
    /* /metrics, /healthz, /readyz in front of everything (ops.h). */
    ops = (struct ops_app){.st = st, .ledger = ledger, .data_dir = data, .inner = app};
    ops_app(&ops, &app);
    if (http_server_start(&hc, &app, &srv, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    if (conf_addr_host(&cf, CONF_METRICS_LISTEN) != NULL) {
        http_config_defaults(&mc);
        mc.host = conf_addr_host(&cf, CONF_METRICS_LISTEN);
        mc.port = conf_addr_port(&cf, CONF_METRICS_LISTEN);
        mc.threads = 2;
        mops =
            (struct ops_app){.st = st, .ledger = ledger, .data_dir = data, .metrics_public = true};
        mops.inner.log = access_log;
        ops_app(&mops, &mapp);
        if (http_server_start(&mc, &mapp, &msrv, &err) != MRD_OK) {
            cli_errorf("serve", "--metrics-listen: %s", err.msg);
            goto out;
        }
        mrd_log(MRD_LOG_INFO, "serving /metrics, /healthz, /readyz on http://%s%s%s:%u/",
                strchr(mc.host, ':') ? "[" : "", mc.host, strchr(mc.host, ':') ? "]" : "",
                (unsigned)http_server_port(msrv));
    }
    mrd_log(MRD_LOG_INFO, "serving TAXII 2.1 on %s://%s%s%s:%u/taxii2/ (data %s, %u threads)",
            hc.tls ? "https" : "http", strchr(hc.host, ':') ? "[" : "", hc.host,
            strchr(hc.host, ':') ? "]" : "", (unsigned)http_server_port(srv), data, hc.threads);
    if (ready != NULL && write_ready(ready, hc.host, http_server_port(srv), &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    hup.srv = srv;
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        reload();
        on_sighup(&hup);
    }
    mrd_log(MRD_LOG_INFO, "signal %d: stopping", sig);
    ret = CLI_EXIT_OK;
out:
    http_server_free(msrv);
    http_server_free(srv);
    sensor_dns_stop(dns_sensor);
    feed_runner_stop(feeds);
    pmatch_server_free(pmatch);
    forget_service_stop(retention);
    cli_sensor_stop(sensor);
    bgp_rtr_feed_stop(rtr);
    cli_fed_stop(fed);
    notify_service_stop(notify);
    audit_service_stop(audit);
    ledger_service_stop(ledger);
    api_router_free(router);
    dash_free(dash);
    taxii_server_free(ts);
    store_close(st);
    mrd_buf_release(&cert);
    if (key.data != NULL)
        memset(key.data, 0, key.len);
    mrd_buf_release(&key);
    mrd_buf_release(&ca);
    conf_release(&cf);
    mrd_log_close();
    return ret;
}
