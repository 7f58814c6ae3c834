/*
 * keys.c: the settings of `meridian serve` (conf.h). The order is the
 * order of `meridian help serve`, `meridian config keys` and the example
 * file; add a setting here and to enum conf_serve_key, then read it in
 * cli_serve.c.
 */
#include "conf/conf.h"

static const char *const log_formats[] = {"text", "json", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const withheld[] = {"nothing", "asset-only", NULL};
static const char *const tlp_levels[] = {"clear", "green", "amber", "amber+strict", "red", NULL};

/* clang-format off */
const struct conf_key conf_serve_keys[CONF_SERVE__COUNT] = {
    [CONF_DATA] = {"data", CONF_STRING, NULL, 0, 0, NULL, "DIR",
        "data directory made by 'meridian init' (default\n"
        "$MERIDIAN_DATA, else ./node-data; the Debian\n"
        "package sets /var/lib/meridian here)"},
    [CONF_LISTEN] = {"listen", CONF_ADDR, "127.0.0.1:8443", 0, 0, NULL, "HOST:PORT",
        "numeric address to listen on; port 0 picks a\nfree port; IPv6 as [::1]:PORT"},
    [CONF_HTTP] = {"http", CONF_BOOL, "false", 0, 0, NULL, NULL,
        "plain HTTP instead of HTTPS (loopback testing\nonly)"},
    [CONF_TLS_CERT] = {"tls-cert", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "server certificate chain, PEM (default\nDIR/cert.pem)"},
    [CONF_TLS_KEY] = {"tls-key", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "its private key, PEM (default DIR/key.pem)"},
    [CONF_CLIENT_CA] = {"client-ca", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "request client certificates and verify them\n"
        "against FILE; without a token, a verified\n"
        "certificate's subject CN names the org the\n"
        "request acts as"},
    [CONF_THREADS] = {"threads", CONF_UINT, "16", 1, 1024, NULL, "N",
        "listener threads, and as many for writes"},
    [CONF_MAX_CONNECTIONS] = {"max-connections", CONF_UINT, "4096", 1, 1000000, NULL, "N",
        "open connections at most"},
    [CONF_MAX_HEADER] = {"max-header", CONF_UINT, "32768", 1024, 16777216, NULL, "BYTES",
        "request line and headers at most"},
    [CONF_IDLE_TIMEOUT] = {"idle-timeout", CONF_UINT, "30", 0, 86400, NULL, "SEC",
        "close a connection silent that long\n(0 = never)"},
    [CONF_REQUEST_TIMEOUT] = {"request-timeout", CONF_UINT, "60", 0, 86400, NULL, "SEC",
        "close a connection still sending one request\nafter SEC (slow clients; 0 = never)"},
    [CONF_RATE] = {"rate", CONF_UINT, "20000", 0, 1000000000, NULL, "N",
        "requests per second per API token, 0 =\nunlimited; above it: 429"},
    [CONF_MAX_BODY_MEMORY] = {"max-body-memory", CONF_UINT, "1024", 0, 1048576, NULL, "MIB",
        "memory for request bodies and what is parsed\n"
        "from them (a POST's JSON takes about 10 times\n"
        "its size), all requests together (0 =\n"
        "unlimited); above it: 503 with Retry-After"},
    [CONF_SYNC_INTERVAL] = {"sync-interval", CONF_UINT, "30000", 0, 1000000000, NULL, "MS",
        "federation: sync each peer every MS\n"
        "milliseconds (0 = off; failures back off, see\n"
        "'meridian help peer')"},
    [CONF_CHECKPOINT_INTERVAL] = {"checkpoint-interval", CONF_UINT, "60", 1, 86400, NULL, "SEC",
        "ledger: sign a checkpoint every SEC seconds\nwhen the tree grew"},
    [CONF_SESSION_IDLE] = {"session-idle", CONF_UINT, "1800", 1, 31536000, NULL, "SEC",
        "console: a session unused for SEC seconds ends"},
    [CONF_SESSION_MAX] = {"session-max", CONF_UINT, "43200", 1, 31536000, NULL, "SEC",
        "console: a session ends SEC seconds after\nsign-in, used or not"},
    [CONF_METRICS_LISTEN] = {"metrics-listen", CONF_ADDR, NULL, 0, 0, NULL, "HOST:PORT",
        "also serve /metrics, /healthz and /readyz on\n"
        "this plain-HTTP address, WITHOUT authentication\n"
        "(bind it to loopback or a monitoring network)"},
    [CONF_LOG] = {"log", CONF_STRING, "stderr", 0, 0, NULL, "TARGET",
        "where log records go: stderr, syslog\n"
        "(journald), or a file path (appended to;\n"
        "reopened on SIGHUP for log rotation)"},
    [CONF_LOG_FORMAT] = {"log-format", CONF_CHOICE, "text", 0, 0, log_formats, "FORMAT",
        "text (one 'key=value' line per record) or\njson (JSON lines)"},
    [CONF_LOG_LEVEL] = {"log-level", CONF_CHOICE, "info", 0, 0, log_levels, "LEVEL",
        "debug, info, warn or error: records below it\nare dropped"},
    [CONF_READY_FILE] = {"ready-file", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "once accepting connections, write the bound\nHOST:PORT to FILE"},
    [CONF_NOTIFY_WITHHELD] = {"notify.withheld", CONF_CHOICE, "nothing", 0, 0, withheld, "POLICY",
        "early warning: a finding a constituent may not\n"
        "read tells it nothing, or (asset-only) a note\n"
        "naming only its asset and the kind of finding"},
    [CONF_SMTP_RELAY] = {"smtp-relay", CONF_STRING, NULL, 0, 0, NULL, "HOST:PORT",
        "early warning: the SMTP relay e-mail goes\n"
        "through (STARTTLS required; docs/notify.md)"},
    [CONF_SMTP_FROM] = {"smtp-from", CONF_STRING, NULL, 0, 0, NULL, "ADDRESS",
        "early warning: the sender address"},
    [CONF_SMTP_USER] = {"smtp-user", CONF_STRING, NULL, 0, 0, NULL, "NAME",
        "early warning: authenticate to the relay\n(AUTH PLAIN or LOGIN) as NAME"},
    [CONF_SMTP_PASSWORD_FILE] = {"smtp-password-file", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "early warning: the relay password (the\nfile's first line)"},
    [CONF_SMTP_CA] = {"smtp-ca", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "early warning: CA certificates (PEM) the\n"
        "relay's certificate is checked against\n(default: the system store)"},
    [CONF_SMTP_PLAIN] = {"smtp-plain", CONF_BOOL, "false", 0, 0, NULL, NULL,
        "early warning: no STARTTLS (a relay on\nloopback only)"},
    [CONF_WEBHOOK_CA] = {"webhook-ca", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "early warning: CA certificates for https\n"
        "webhooks (default: the system store)"},
    [CONF_DELIVER_TIMEOUT] = {"deliver-timeout", CONF_UINT, "10", 1, 600, NULL, "SEC",
        "early warning: give up one SMTP or webhook\nattempt after SEC seconds"},
    [CONF_DELIVER_ATTEMPTS] = {"deliver-attempts", CONF_UINT, "5", 1, 100, NULL, "N",
        "early warning: attempts before a delivery\n"
        "goes to the dead-letter list"},
    [CONF_DELIVER_BACKOFF] = {"deliver-backoff", CONF_UINT, "30", 1, 86400, NULL, "SEC",
        "early warning: wait before the first retry;\n"
        "doubles each time (at most 6 hours)"},
    [CONF_BMP_LISTEN] = {"bmp-listen", CONF_ADDR, NULL, 0, 0, NULL, "HOST:PORT",
        "routing sensor: accept BMP (RFC 7854) from\n"
        "routers here and store their alerts live\n"
        "(docs/bgp.md); needs bmp-collection"},
    [CONF_BMP_COLLECTION] = {"bmp-collection", CONF_STRING, NULL, 0, 0, NULL, "ID",
        "routing sensor: the collection alerts go to\n(uuid or API-ROOT/ALIAS)"},
    [CONF_BMP_TLP] = {"bmp-tlp", CONF_CHOICE, "amber", 0, 0, tlp_levels, "LEVEL",
        "routing sensor: the TLP of its alerts"},
    [CONF_BMP_VRPS] = {"bmp-vrps", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "routing sensor: VRPs for route-origin\nvalidation (as 'meridian bgp scan --vrps')"},
    [CONF_BMP_CONFIG] = {"bmp-config", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "routing sensor: watched prefixes and groups\n(as 'meridian bgp scan --config')"},
    [CONF_BMP_AS_REL] = {"bmp-as-rel", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "routing sensor: AS relationships for leaks\n(as 'meridian bgp scan --as-rel')"},
    [CONF_BMP_MAX_SESSIONS] = {"bmp-max-sessions", CONF_UINT, "64", 1, 4096, NULL, "N",
        "routing sensor: BMP sessions at once; more\nare refused"},
    [CONF_BMP_IDLE_TIMEOUT] = {"bmp-idle-timeout", CONF_UINT, "3600", 1, 604800, NULL, "SEC",
        "routing sensor: close a BMP session silent\nfor SEC seconds (have routers send\n"
        "Statistics Reports more often)"},
    [CONF_DNS_CONFIG] = {"dns-config", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "run the DNS sensor with this 'meridian dns'\n"
        "configuration, a round every 'interval'\n"
        "seconds (docs/dns.md); needs dns-baseline\n"
        "and dns-collection"},
    [CONF_DNS_BASELINE] = {"dns-baseline", CONF_STRING, NULL, 0, 0, NULL, "FILE",
        "the DNS sensor's baseline ('meridian dns\nbaseline')"},
    [CONF_DNS_COLLECTION] = {"dns-collection", CONF_STRING, NULL, 0, 0, NULL, "ID",
        "collection (id or alias) where the DNS\nsensor stores its alerts, signed"},
    [CONF_DNS_TLP] = {"dns-tlp", CONF_CHOICE, "amber", 0, 0, tlp_levels, "LEVEL",
        "TLP of the DNS sensor's alerts: clear,\ngreen, amber, amber+strict or red"},
    [CONF_RTR] = {"rtr", CONF_STRING, NULL, 0, 0, NULL, "HOST:PORT",
        "routing sensor: keep the VRPs of this RTR\n"
        "cache (RFC 8210) current ('meridian help bgp');\n"
        "the console's Routing page shows its status"},
    [CONF_RETENTION_INTERVAL] = {"retention-interval", CONF_UINT, "3600", 0, 604800, NULL, "SEC",
        "retention: erase the versions DATA/retention.json\n"
        "has expired every SEC seconds (0 = off;\n"
        "'meridian help retention')"},
};
/* clang-format on */
