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
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_fed.h"
#include "cli/verbs.h"
#include "core/log.h"
#include "core/str.h"
#include "http/http.h"
#include "ledger/checkpoint.h"
#include "ledger/sync.h"
#include "store/store.h"
#include "taxii/taxii.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8443"
#define SERVE_MAX_HOST 64

static const char usage[] =
    "usage: meridian serve --data DIR [--listen HOST:PORT] [--http] [--ready-file FILE]\n"
    "                      [--tls-cert FILE --tls-key FILE] [--client-ca FILE]\n"
    "                      [--threads N] [--max-connections N] [--max-header BYTES]\n"
    "                      [--idle-timeout SEC] [--request-timeout SEC] [--rate N]\n"
    "                      [--max-body-memory MIB]\n"
    "                      [--sync-interval MS] [--checkpoint-interval SEC]\n"
    "\n"
    "Runs the node's TAXII 2.1 server (docs/taxii.md) on the data directory DIR.\n"
    "\n"
    "  --data DIR            data directory made by 'meridian init' (required)\n"
    "  --listen HOST:PORT    numeric address to listen on (default " SERVE_DEFAULT_LISTEN ");\n"
    "                        port 0 picks a free port; IPv6 as [::1]:PORT\n"
    "  --http                plain HTTP instead of HTTPS (loopback testing only)\n"
    "  --ready-file FILE     once accepting connections, write the bound HOST:PORT to FILE\n"
    "  --tls-cert FILE       server certificate chain, PEM (default DIR/cert.pem)\n"
    "  --tls-key FILE        its private key, PEM (default DIR/key.pem)\n"
    "  --client-ca FILE      request client certificates and verify them against FILE;\n"
    "                        without a token, a verified certificate's subject CN\n"
    "                        names the org the request acts as\n"
    "  --threads N           listener threads, and as many for writes (default 16)\n"
    "  --max-connections N   open connections at most (default 4096)\n"
    "  --max-header BYTES    request line and headers at most (default 32768)\n"
    "  --idle-timeout SEC    close a connection silent that long (default 30)\n"
    "  --request-timeout SEC close a connection still sending one request after SEC\n"
    "                        (slow clients; default 60)\n"
    "  --rate N              requests per second per API token, 0 = unlimited\n"
    "                        (default 20000); above it: 429\n"
    "  --max-body-memory MIB memory for request bodies and what is parsed from them\n"
    "                        (a POST's JSON takes about 10 times its size), all\n"
    "                        requests together (default 1024, 0 = unlimited);\n"
    "                        above it: 503 with Retry-After\n"
    "  --sync-interval MS    federation: sync each peer every MS milliseconds (default 30000;\n"
    "                        0 = off; failures back off, see 'meridian help peer')\n"
    "  --checkpoint-interval SEC\n"
    "                        ledger: sign a checkpoint every SEC seconds when the tree\n"
    "                        grew (default 60; docs/ledger.md)\n"
    "\n"
    "The request body limit is each API root's max_content_length (413 above it).\n"
    "One access-log line per request goes to stderr: method, path, status, bytes,\n"
    "duration and token name (never the token). SIGTERM or SIGINT stops the server\n"
    "cleanly (exit 0).\n"
    "\n"
    "The ledger (DIR/ledger) records every stored object version and preservation\n"
    "action within a second; /ledger/v1/ serves its signed checkpoint and proofs.\n"
    "\n"
    "Exit status: 0 after a clean stop, 2 on a usage, TLS, address or data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_serve = {
    .name = "serve",
    .summary = "run the TAXII 2.1 server",
    .usage = usage,
    .run = run,
};

static void access_log(void *ctx, const struct http_access *a)
{
    (void)ctx;
    mrd_log(a->status >= 500 ? MRD_LOG_WARN : MRD_LOG_INFO,
            "access method=%s path=%s status=%u bytes=%zu ms=%.3f token=%s%s%s", a->method, a->path,
            a->status, a->bytes, (double)a->usec / 1000.0, a->who != NULL ? a->who : "-",
            a->note != NULL ? " note=" : "", a->note != NULL ? a->note : "");
}

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static bool parse_listen(const char *s, char host[SERVE_MAX_HOST], uint16_t *port)
{
    const char *colon;
    size_t hl;
    uint64_t p;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return false;
        hl = (size_t)(end - s - 1);
        s++;
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return false;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= SERVE_MAX_HOST)
        return false;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0)
        mrd_strlcpy(host, "127.0.0.1", SERVE_MAX_HOST);
    if (mrd_str_to_u64(colon + 1, strlen(colon + 1), 65535, &p, NULL) != MRD_OK)
        return false;
    *port = (uint16_t)p;
    return true;
}

static bool parse_uint(const char *s, unsigned max, unsigned *ret)
{
    uint64_t v;

    if (mrd_str_to_u64(s, strlen(s), max, &v, NULL) != MRD_OK)
        return false;
    *ret = (unsigned)v;
    return true;
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

static int run(int argc, char **argv)
{
    enum {
        O_DATA = 1,
        O_LISTEN,
        O_HTTP,
        O_READY,
        O_CERT,
        O_KEY,
        O_CLIENT_CA,
        O_THREADS,
        O_MAXCONN,
        O_MAXHDR,
        O_IDLE,
        O_REQTO,
        O_RATE,
        O_MAXMEM,
        O_SYNC,
        O_CKPT,
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"listen", required_argument, NULL, O_LISTEN},
        {"http", no_argument, NULL, O_HTTP},
        {"ready-file", required_argument, NULL, O_READY},
        {"tls-cert", required_argument, NULL, O_CERT},
        {"tls-key", required_argument, NULL, O_KEY},
        {"client-ca", required_argument, NULL, O_CLIENT_CA},
        {"threads", required_argument, NULL, O_THREADS},
        {"max-connections", required_argument, NULL, O_MAXCONN},
        {"max-header", required_argument, NULL, O_MAXHDR},
        {"idle-timeout", required_argument, NULL, O_IDLE},
        {"request-timeout", required_argument, NULL, O_REQTO},
        {"rate", required_argument, NULL, O_RATE},
        {"max-body-memory", required_argument, NULL, O_MAXMEM},
        {"sync-interval", required_argument, NULL, O_SYNC},
        {"checkpoint-interval", required_argument, NULL, O_CKPT},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *listen = SERVE_DEFAULT_LISTEN, *ready = NULL;
    const char *cert_file = NULL, *key_file = NULL, *ca_file = NULL;
    char host[SERVE_MAX_HOST], path[PATH_MAX];
    struct http_config hc;
    struct taxii_config tc = {.rate = HTTP_DEFAULT_RATE};
    struct mrd_buf cert, key, ca;
    struct store *st = NULL;
    struct taxii_server *ts = NULL;
    struct http_server *srv = NULL;
    struct http_app app;
    struct cli_fed *fed = NULL;
    unsigned sync_ms = CLI_FED_DEFAULT_INTERVAL_MS;
    unsigned ckpt_s = LEDGER_CHECKPOINT_INTERVAL_DEFAULT;
    struct ledger_service *ledger = NULL;
    struct ckpt_signer signer;
    struct mrd_err err = {0};
    sigset_t set;
    int sig = 0, ret = CLI_EXIT_USAGE, c;
    enum mrd_code rc;
    unsigned u;
    bool plain = false;

    http_config_defaults(&hc);
    mrd_buf_init(&cert, HTTP_MAX_PEM);
    mrd_buf_init(&key, HTTP_MAX_PEM);
    mrd_buf_init(&ca, HTTP_MAX_PEM);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_LISTEN:
            listen = optarg;
            break;
        case O_HTTP:
            plain = true;
            break;
        case O_READY:
            ready = optarg;
            break;
        case O_CERT:
            cert_file = optarg;
            break;
        case O_KEY:
            key_file = optarg;
            break;
        case O_CLIENT_CA:
            ca_file = optarg;
            break;
        case O_THREADS:
        case O_MAXCONN:
        case O_MAXHDR:
        case O_IDLE:
        case O_REQTO:
        case O_RATE:
        case O_MAXMEM:
        case O_SYNC:
        case O_CKPT:
            if (!parse_uint(optarg, 1000000000u, &u)) {
                ret = cli_usage_error(&cli_verb_serve, "'%s' is not a number", optarg);
                goto out;
            }
            if (c == O_THREADS)
                hc.threads = u > 0 ? u : 1;
            else if (c == O_MAXCONN)
                hc.max_connections = u;
            else if (c == O_MAXHDR)
                hc.max_header = u < 1024 ? 1024 : u;
            else if (c == O_IDLE)
                hc.idle_timeout = u;
            else if (c == O_REQTO)
                hc.request_timeout = u;
            else if (c == O_SYNC)
                sync_ms = u;
            else if (c == O_CKPT)
                ckpt_s = u > 0 ? u : 1;
            else if (c == O_MAXMEM)
                hc.max_inflight_body = (size_t)u * 1024 * 1024;
            else
                tc.rate = u;
            break;
        default:
            ret = cli_usage_error(&cli_verb_serve, "unknown option");
            goto out;
        }
    }
    if (data == NULL || optind != argc) {
        ret = cli_usage_error(&cli_verb_serve,
                              data == NULL ? "--data DIR is required" : "unexpected argument");
        goto out;
    }
    if (!parse_listen(listen, host, &hc.port)) {
        ret = cli_usage_error(&cli_verb_serve, "--listen: '%s' is not HOST:PORT", listen);
        goto out;
    }
    hc.host = host;
    hc.tls = !plain;
    if (hc.tls) {
        if (cert_file == NULL) {
            (void)snprintf(path, sizeof(path), "%s/%s", data, HTTP_TLS_CERT_FILE);
            if (cli_read_file(path, HTTP_MAX_PEM, &cert, &err) != MRD_OK) {
                cli_errorf("serve",
                           "%s (run 'meridian init', pass --tls-cert/--tls-key, or --http for "
                           "plain HTTP)",
                           err.msg);
                goto out;
            }
        } else if (cli_read_file(cert_file, HTTP_MAX_PEM, &cert, &err) != MRD_OK) {
            cli_errorf("serve", "%s", err.msg);
            goto out;
        }
        if (key_file == NULL)
            (void)snprintf(path, sizeof(path), "%s/%s", data, HTTP_TLS_KEY_FILE);
        if (cli_read_file(key_file != NULL ? key_file : path, HTTP_MAX_PEM, &key, &err) != MRD_OK) {
            cli_errorf("serve", "%s", err.msg);
            goto out;
        }
        hc.cert_pem = cert.data;
        hc.key_pem = key.data;
        if (ca_file != NULL) {
            if (cli_read_file(ca_file, HTTP_MAX_PEM, &ca, &err) != MRD_OK) {
                cli_errorf("serve", "%s", err.msg);
                goto out;
            }
            hc.client_ca_pem = ca.data;
        }
    }
    if (store_open(data, NULL, &st, &err) != MRD_OK) {
        if (err.code == MRD_E_NOTFOUND || err.code == MRD_E_IO)
            cli_errorf("serve", "%s (run 'meridian init --data %s --org NAME' first)", err.msg,
                       data);
        else
            cli_errorf("serve", "%s: %s", data, err.msg);
        goto out;
    }
    if (cli_fed_new(data, &tc.ingest, &fed) != CLI_EXIT_OK)
        goto out;
    if (cli_data_signer("serve", st, data, &signer) != CLI_EXIT_OK)
        goto out;
    if (taxii_server_new(st, &tc, &ts, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    taxii_app(ts, &app);
    app.log = access_log;
    raise_nofile();
    /* Block the stop signals before any thread exists: they inherit the
     * mask, and only sigwait() below receives them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = ledger_service_start(data, st, &signer, ckpt_s, &ledger, &err);
    sodium_memzero(&signer, sizeof(signer));
    if (rc != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    taxii_server_set_ledger(ts, ledger);
    if (cli_fed_start(fed, st, sync_ms, &app) != CLI_EXIT_OK)
        goto out;
    if (http_server_start(&hc, &app, &srv, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    mrd_log(MRD_LOG_INFO, "serving TAXII 2.1 on %s://%s%s%s:%u/taxii2/ (data %s, %u threads)",
            hc.tls ? "https" : "http", strchr(host, ':') ? "[" : "", host,
            strchr(host, ':') ? "]" : "", (unsigned)http_server_port(srv), data, hc.threads);
    if (ready != NULL && write_ready(ready, host, http_server_port(srv), &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    while (sigwait(&set, &sig) != 0)
        ;
    mrd_log(MRD_LOG_INFO, "signal %d: stopping", sig);
    ret = CLI_EXIT_OK;
out:
    http_server_free(srv);
    cli_fed_stop(fed);
    ledger_service_stop(ledger);
    taxii_server_free(ts);
    store_close(st);
    mrd_buf_release(&cert);
    if (key.data != NULL)
        memset(key.data, 0, key.len);
    mrd_buf_release(&key);
    mrd_buf_release(&ca);
    return ret;
}
