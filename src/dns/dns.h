/*
 * dns: DNS wire format, the watch configuration, baselines and the
 * detectors of the DNS-stability sensor.
 *
 * Pure except through struct dns_transport: every query goes through the
 * transport the caller supplies (dns_transport_net() in dns_net.h sends
 * real UDP/TCP; unit tests answer from canned messages), so parsers and
 * detectors are fuzzed and unit-tested alone. Files and printing belong
 * to the caller (cli/cli_dns.c).
 *
 * - Messages (RFC 1035 §4): header, question, answer, authority and
 *   additional records; names with compression (§4.1.4), pointers only
 *   backwards and at most DNS_MAX_PTRS per name, at most DNS_MAX_NAME
 *   octets; EDNS0 (RFC 6891 §6) with Extended DNS Errors (RFC 8914);
 *   RDATA decoded for A, NS, CNAME, SOA, AAAA, DS, RRSIG, NSEC, DNSKEY,
 *   NSEC3 (RFC 4034, RFC 5155); others kept as bytes.
 * - DNSSEC: key tags (RFC 4034 App. B), DS digests (SHA-1, SHA-256,
 *   SHA-384, RFC 4509/6605) recomputed over the DNSKEY to find a DS
 *   without a matching key, signature validity windows (RFC 4034 §3.1.5,
 *   serial arithmetic RFC 1982). Signatures themselves are verified by
 *   the validating vantage resolver (Unbound), whose verdict arrives as
 *   SERVFAIL plus an RFC 8914 code: no signature crypto here.
 *
 * Errors: MRD_E_PARSE with the byte offset and the RFC section;
 * MRD_E_TOOBIG past a named limit; MRD_E_NOMEM. Never logs. Not
 * thread-safe per object.
 */
#ifndef MRD_DNS_H
#define MRD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define DNS_MAX_MSG 65535     /* one message (TCP length prefix is 16 bits) */
#define DNS_MAX_NAME 255      /* octets of a name in wire form (RFC 1035 §2.3.4) */
#define DNS_MAX_LABEL 63      /* octets of one label */
#define DNS_MAX_PTRS 32       /* compression pointers followed in one name */
#define DNS_MAX_RRS 2048      /* records in one message, all sections */
#define DNS_MAX_NAME_STR 1024 /* presentation form, \DDD escapes included, NUL */
#define DNS_MAX_EDE_TEXT 256  /* bytes of EXTRA-TEXT kept (RFC 8914 §2) */
#define DNS_UDP_SIZE 1232     /* EDNS0 buffer size we advertise (DNS flag day 2020) */

enum dns_type {
    DNS_T_A = 1,
    DNS_T_NS = 2,
    DNS_T_CNAME = 5,
    DNS_T_SOA = 6,
    DNS_T_AAAA = 28,
    DNS_T_OPT = 41,
    DNS_T_DS = 43,
    DNS_T_RRSIG = 46,
    DNS_T_NSEC = 47,
    DNS_T_DNSKEY = 48,
    DNS_T_NSEC3 = 50,
};

#define DNS_CLASS_IN 1

enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5,
};

/* Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2). */
#define DNS_F_QR 0x8000u
#define DNS_F_AA 0x0400u
#define DNS_F_TC 0x0200u
#define DNS_F_RD 0x0100u
#define DNS_F_RA 0x0080u
#define DNS_F_AD 0x0020u
#define DNS_F_CD 0x0010u

/* A name in uncompressed wire form (labels, then the root's 0). */
struct dns_name {
    uint8_t len; /* octets used in wire, the final 0 included; 0: unset */
    uint8_t wire[DNS_MAX_NAME];
};

enum dns_section { DNS_SEC_ANSWER, DNS_SEC_AUTHORITY, DNS_SEC_ADDITIONAL };

/* One record; rdata points into the message and lives as long as it. */
struct dns_rr {
    struct dns_name owner;
    uint16_t type, rclass;
    uint32_t ttl;
    uint8_t section; /* enum dns_section */
    uint16_t rdlen;
    size_t rdoff; /* offset of the RDATA in the message */
    const uint8_t *rdata;
    union {
        uint8_t a[4];
        uint8_t aaaa[16];
        struct dns_name target; /* NS, CNAME */
        struct {
            struct dns_name mname, rname;
            uint32_t serial, refresh, retry, expire, minimum;
        } soa;
        struct {
            uint16_t key_tag;
            uint8_t alg, digest_type;
            const uint8_t *digest;
            uint16_t digest_len;
        } ds;
        struct {
            uint16_t flags;
            uint8_t protocol, alg;
            const uint8_t *key;
            uint16_t key_len;
            uint16_t key_tag; /* computed, RFC 4034 App. B */
        } dnskey;
        struct {
            uint16_t covered;
            uint8_t alg, labels;
            uint32_t orig_ttl, expiration, inception;
            uint16_t key_tag;
            struct dns_name signer;
            const uint8_t *sig;
            uint16_t sig_len;
        } rrsig;
        struct {
            struct dns_name next;
            const uint8_t *bitmap;
            uint16_t bitmap_len;
        } nsec;
        struct {
            uint8_t hash_alg, flags;
            uint16_t iterations;
            uint8_t salt_len, hash_len;
            const uint8_t *salt, *next_hash, *bitmap;
            uint16_t bitmap_len;
        } nsec3;
    } u;
};

struct dns_msg {
    uint16_t id, flags;
    uint16_t rcode; /* with the EDNS extended bits (RFC 6891 §6.1.3) */
    uint16_t qdcount;
    struct dns_name qname; /* the first question, when qdcount > 0 */
    uint16_t qtype, qclass;
    size_t nrr;        /* answer, authority and additional, OPT excluded */
    size_t count[3];   /* per enum dns_section, OPT excluded */
    struct dns_rr *rr; /* nrr records in message order */
    bool edns;         /* an OPT record was present */
    uint16_t udp_size; /* its CLASS */
    uint8_t edns_version;
    bool do_bit;
    int ede; /* RFC 8914 INFO-CODE of the first EDE option, -1 if none */
    char ede_text[DNS_MAX_EDE_TEXT + 1]; /* its EXTRA-TEXT, truncated, NUL-terminated */
    size_t len;
    uint8_t *wire; /* the message, owned */
};

/* Parses one message (a copy of buf is kept; rdata points into it). A
 * malformed message fails with MRD_E_PARSE naming the offset and the RFC
 * section; more than DNS_MAX_RRS records with MRD_E_TOOBIG. */
enum mrd_code dns_msg_parse(const uint8_t *buf, size_t len, struct dns_msg **ret_msg,
                            struct mrd_err *err);
void dns_msg_free(struct dns_msg *msg);

/* Query flags for dns_query_build. */
#define DNS_Q_RD 0x1u     /* recursion desired: to a resolver */
#define DNS_Q_CD 0x2u     /* checking disabled (RFC 4035 §3.2.2) */
#define DNS_Q_DO 0x4u     /* EDNS0 DO bit: send DNSSEC records */
#define DNS_Q_NOEDNS 0x8u /* no OPT record */
#define DNS_Q_TCP 0x10u   /* over TCP only (dns_ask sets dns_xfer.want_tcp; not in the query) */

/* Writes a query for (name, type, IN) with the given id into out (at least
 * DNS_MAX_NAME + 32 bytes): EDNS0 with DNS_UDP_SIZE unless DNS_Q_NOEDNS. */
enum mrd_code dns_query_build(uint16_t id, const struct dns_name *name, uint16_t type,
                              unsigned qflags, uint8_t *out, size_t cap, size_t *ret_len,
                              struct mrd_err *err);

/* Parses a presentation-form name ("www.example." or "www.example"; "."
 * is the root; \. and \DDD escapes). */
enum mrd_code dns_name_parse(const char *s, size_t n, struct dns_name *ret, struct mrd_err *err);

/* The presentation form in lower case, ending in "." ("." for the root);
 * bytes outside [0-9a-z-_*] are escaped \DDD. */
void dns_name_format(const struct dns_name *name, char out[DNS_MAX_NAME_STR]);

/* Case-insensitive equality (RFC 4343). */
bool dns_name_eq(const struct dns_name *a, const struct dns_name *b);

/* True when name is sub or equal to zone. */
bool dns_name_under(const struct dns_name *name, const struct dns_name *zone);

/* Number of labels (the root has 0). */
unsigned dns_name_labels(const struct dns_name *name);

/* "A", "NS", ... or "TYPE123"; s must hold 16 bytes. */
const char *dns_type_name(uint16_t type, char s[16]);
/* "NOERROR", "SERVFAIL", ... or "RCODE17"; s must hold 16 bytes. */
const char *dns_rcode_name(uint16_t rcode, char s[16]);

/* RFC 4034 App. B key tag of a DNSKEY's RDATA. */
uint16_t dns_key_tag(const uint8_t *rdata, size_t len);

/* True when ds (a DS record) names dnskey (a DNSKEY record of owner):
 * same key tag and algorithm and a digest that matches (RFC 4034 §5.1.4).
 * A digest type this module cannot compute matches on tag and algorithm. */
bool dns_ds_matches(const struct dns_rr *ds, const struct dns_rr *dnskey);

/* RFC 1982 serial arithmetic: true when a comes after b. */
bool dns_serial_gt(uint32_t a, uint32_t b);

/* ---- transport: how queries reach servers ---- */

#define DNS_MAX_SERVER 64 /* bytes of "IP" / "IP:PORT" / "[IPv6]:PORT" */

enum dns_xfer_status {
    DNS_XFER_OK,      /* an answer with the query's id and question arrived */
    DNS_XFER_TIMEOUT, /* nothing usable before the deadline (retries included) */
    DNS_XFER_ERROR,   /* unreachable, refused connection, garbage */
};

#define DNS_MAX_LATE 4 /* further answers to one query kept (Hold-On) */

/* An answer that arrived after the first one to the same query id and
 * question, within the hold window (dns_net.h): one of the two was
 * forged, or the path duplicates packets (RFC 5452 §9.1 alone cannot
 * tell which one to keep). */
struct dns_late {
    struct dns_msg *msg; /* owned by the caller */
    int64_t rtt_usec;    /* from the query to this answer */
    int ip_ttl;          /* IPv4 TTL / IPv6 hop limit it arrived with, 0 unknown */
};

struct dns_xfer {
    enum dns_xfer_status status;
    struct dns_msg *msg; /* status OK: owned by the caller */
    int64_t rtt_usec;
    int ip_ttl;    /* of msg's packet: IPv4 TTL / IPv6 hop limit, 0 unknown (TCP, tests) */
    bool tcp;      /* the answer came over TCP (the UDP one was truncated, or want_tcp) */
    bool want_tcp; /* in: ask over TCP only (DNS_Q_TCP); the transport keeps it */
    bool reset;    /* TCP: the connection was reset or closed after the query, before an answer */
    /* tcp: the truncated UDP answer that sent us there (owned), with its IP
     * TTL and time: a forged one may carry addresses the TCP answer lacks */
    struct dns_msg *truncated;
    int truncated_ttl;
    int64_t truncated_rtt_usec;
    size_t nlate; /* further answers to the same id and question, in arrival order */
    struct dns_late late[DNS_MAX_LATE];
    char detail[128]; /* why not OK, for evidence */
};

/* Sends one query to server and waits for its answer. Implementations:
 * dns_transport_net() (UDP, TCP after TC, timeout and retries) and the
 * canned answers of the unit tests. */
struct dns_transport {
    enum mrd_code (*exchange)(void *ctx, const char *server, const uint8_t *query, size_t len,
                              struct dns_xfer *ret, struct mrd_err *err);
    void *ctx;
    int64_t (*now)(void *ctx); /* unix seconds: signature windows and findings */
    /* exchanges that may run at once from different threads (at most
     * DNS_MAX_PARALLEL); 0 or 1: one at a time, exchange need not be
     * thread-safe. dns_check_round checks zones, and a zone's probe names,
     * that many at a time. */
    unsigned parallel;
    /* validates in process when set (configuration "validator": true) */
    const struct dns_validator *validator;
    /* the TLS excuse of diverging answers, when set ("excuses.tls_ca") */
    const struct dns_tls_prober *tls;
    /* the routing sensor of the same node, when set (serve): the ASN
     * excuse takes origins from its routes before the pfx2as table */
    const struct dns_routing *routing;
};

#define DNS_MAX_PARALLEL 256

/* ---- in-process validation: a validating resolver's verdict ---- */

#define DNS_MAX_WHY 512 /* bytes of a why-bogus text kept */

struct dns_verdict {
    bool answered;             /* the validator reached a verdict at all */
    int rcode;                 /* of its answer */
    bool secure, bogus;        /* both false: insecure or indeterminate */
    char why[DNS_MAX_WHY + 1]; /* bogus: why (printable ASCII, truncated), else "" */
};

/* Resolves (name, type) from the configured root with the trust anchor and
 * validates it (libunbound: dns_validator_unbound in dns_net.h; the unit
 * tests answer from a canned world). Thread-safe. */
struct dns_validator {
    enum mrd_code (*validate)(void *ctx, const struct dns_name *name, uint16_t type,
                              struct dns_verdict *ret, struct mrd_err *err);
    void *ctx;
};

/* The finding's cause ("signature-expired", ..., "other") of a validator's
 * why-bogus text (Unbound's wording; docs/dns.md). Pure; why may be any
 * NUL-terminated string. */
const char *dns_why_bogus_cause(const char *why);

/* Builds the query, sends it through t and checks that the answer's id
 * and question match (late answers that do not are dropped). ret->msg is
 * set only when status is DNS_XFER_OK; release with dns_xfer_release. */
enum mrd_code dns_ask(const struct dns_transport *t, const char *server,
                      const struct dns_name *name, uint16_t type, unsigned qflags,
                      struct dns_xfer *ret, struct mrd_err *err);

/* Frees the answers an exchange returned (msg and the late ones). */
void dns_xfer_release(struct dns_xfer *x);

/* ---- injection rules (pure; docs/dns.md, "Injection") ---- */

/* True when addr ("192.0.2.1", "2001:db8::1") lies in a range that is
 * never routed on the Internet (RFC 6890 special-purpose and reserved
 * blocks: private, loopback, link-local, shared, documentation,
 * benchmarking, multicast, reserved; IPv6 ULA, link-local, multicast,
 * documentation, mapped). *ret_range names it ("10.0.0.0/8"). */
bool dns_addr_bogon(const char *addr, const char **ret_range);

/* The censorship fingerprint addr matches ("iran-10.10.34.34", ...), or
 * NULL: block-page and sinkhole addresses known to be injected by
 * national filters, documented with their sources in docs/dns.md. */
const char *dns_addr_fingerprint(const char *addr);

/* ---- excuses for diverging answers (pure; docs/dns.md, "Excuses") ---- */

#define DNS_MAX_PFX2AS_FILE ((size_t)256 * 1024 * 1024) /* bytes of a prefix-to-ASN table */
#define DNS_MAX_PFX2AS_ROWS 4000000                     /* prefixes in it */
#define DNS_MAX_PFX2AS_LINE 512                         /* bytes of one of its lines */
#define DNS_MAX_ORIGINS 8 /* origin ASNs kept per prefix (multi-origin, AS sets) */
#define DNS_DEFAULT_TLS_PORT 443
#define DNS_DEFAULT_TLS_TIMEOUT_MS 2000 /* connect and handshake of one TLS excuse */
#define DNS_MAX_TLS_TIMEOUT_MS 30000
#define DNS_TLS_CACHE_MAX 4096             /* (address, name) verdicts kept between rounds */
#define DNS_DEFAULT_TLS_CACHE_TTL 3600     /* seconds a valid certificate's verdict is kept */
#define DNS_DEFAULT_TLS_CACHE_FAIL_TTL 300 /* ... and any other verdict */
#define DNS_MAX_TLS_CACHE_TTL 604800

/* A prefix-to-origin-ASN table: CAIDA's Routeviews pfx2as format, one
 * "PREFIX<TAB>LENGTH<TAB>ASNS" per line (ASNS one ASN, "A_B" for several
 * origins, "A,B" for an AS set), blank lines and '#' comments allowed;
 * IPv4 and IPv6. Looked up by longest prefix. */
struct dns_asn_table;

/* Parses text (at most DNS_MAX_PFX2AS_FILE bytes). MRD_E_PARSE naming the
 * line for a bad one; MRD_E_TOOBIG past DNS_MAX_PFX2AS_ROWS. */
enum mrd_code dns_asn_table_parse(const char *text, size_t len, struct dns_asn_table **ret_table,
                                  struct mrd_err *err);
void dns_asn_table_free(struct dns_asn_table *table);

/* The origin ASNs of the longest prefix holding addr ("192.0.2.1",
 * "2001:db8::1") into out; their number (0: no prefix holds it, or addr
 * is not an address). */
size_t dns_asn_lookup(const struct dns_asn_table *table, const char *addr,
                      uint32_t out[DNS_MAX_ORIGINS]);

/* What a TLS handshake to a diverging address said. */
enum dns_tls_verdict {
    DNS_TLS_NOT_TRIED, /* no CA bundle configured, or the ASN rule excused it */
    DNS_TLS_VALID,     /* handshake done, certificate valid for the name */
    DNS_TLS_INVALID,   /* handshake done, certificate not valid for the name */
    DNS_TLS_FAILED,    /* no connection or handshake within the timeout */
};

#define DNS_MAX_TLS_DETAIL 160

struct dns_tls_result {
    enum dns_tls_verdict verdict;
    char detail[DNS_MAX_TLS_DETAIL]; /* why not valid, printable ASCII */
};

/* Handshakes with addr on the configured port with SNI name (the probe
 * name without its final dot) and checks the certificate for name against
 * the configured CA bundle (dns_tls_prober_new in dns_net.h; the unit
 * tests answer from a table). Thread-safe; bounded concurrency. */
struct dns_tls_prober {
    enum mrd_code (*probe)(void *ctx, const char *addr, const char *name,
                           struct dns_tls_result *ret, struct mrd_err *err);
    void *ctx;
};

/* The documented rules (docs/dns.md, "Excuses") for one address a vantage
 * gave that the authoritative answer lacks: "asn" when one of its origin
 * ASNs (addr_asns) is an origin ASN of an expected address (exp_asns),
 * else "tls" when the handshake gave a certificate valid for the name,
 * else NULL (not excused). Pure. */
const char *dns_excuse_decide(const uint32_t *addr_asns, size_t naddr, const uint32_t *exp_asns,
                              size_t nexp, enum dns_tls_verdict tls);

/* The TLS verdicts of earlier rounds (docs/dns.md, "Excuses"): cache is
 * a JSON object {"ADDR NAME": {"verdict": "valid" | "invalid" | "failed",
 * "detail": ..., "at": unix seconds}} (the state's "tls_cache"). get: true
 * with *ret and *ret_at when the verdict of (addr, name) is younger at now
 * than ttl (valid) or fail_ttl (the others; 0: never kept). put: records
 * one at now, drops the expired ones and, past DNS_TLS_CACHE_MAX, the
 * oldest. Pure. */
bool dns_tls_cache_get(const json_t *cache, const char *addr, const char *name, int64_t now,
                       unsigned ttl, unsigned fail_ttl, struct dns_tls_result *ret,
                       int64_t *ret_at);
enum mrd_code dns_tls_cache_put(json_t *cache, const char *addr, const char *name,
                                const struct dns_tls_result *res, int64_t now, unsigned ttl,
                                unsigned fail_ttl, struct mrd_err *err);

/* The TCP rule of injection (docs/dns.md, "Injection"): when a UDP
 * answer was judged injected, the same question is asked over TCP;
 * "tcp-reset" when that connection was reset or closed after the query
 * and before any answer (answered false, reset true), "tcp-forged" when
 * the TCP answer carries an address of forged (what the injected UDP
 * answers said), else NULL: a TCP answer that agrees with the zone is
 * evidence only. Pure. */
const char *dns_tcp_rule(const json_t *forged, bool answered, bool reset, const json_t *tcp_addrs);

/* ---- the routing sensor of the same node (docs/dns.md, "With the routing
 * sensor") ---- */

#define DNS_MAX_PREFIX_STR 48 /* "ffff:...:ffff/128" and its NUL */
#define DNS_MAX_RELATED 16    /* routing alerts linked to one finding */

/* What the routes seen say of one address. */
struct dns_route_info {
    bool routed;                     /* a prefix holding it is routed now */
    char prefix[DNS_MAX_PREFIX_STR]; /* routed: the longest such prefix */
    size_t routes;                   /* routed: routes (peer, path id) carrying it */
    size_t norigins;                 /* routed: its origin ASNs */
    uint32_t origins[DNS_MAX_ORIGINS];
    /* a prefix holding it, longer than prefix (or any, when not routed),
     * was routed and is withdrawn now: lost visibility */
    bool withdrawn;
    char withdrawn_prefix[DNS_MAX_PREFIX_STR];
    int64_t withdrawn_at;      /* unix seconds */
    size_t withdrawn_norigins; /* the origin of its last route */
    uint32_t withdrawn_origins[DNS_MAX_ORIGINS];
};

/* The node's routing sensor as the DNS sensor sees it (serve wires it:
 * sensor/); the unit tests answer from a table. Thread-safe. */
struct dns_routing {
    /* What the routes seen say of addr ("192.0.2.1", "2001:db8::1");
     * false when no route ever held it or addr is no address. */
    bool (*lookup)(void *ctx, const char *addr, struct dns_route_info *ret);
    /* The routing alerts open now about addr: hijacks and leaks whose
     * prefix holds it, outages of a group that holds an origin ASN of it;
     * a JSON array of {"id", "kind", and "prefix" or "group"}, at most
     * DNS_MAX_RELATED. NULL when out of memory. May be NULL itself: no
     * alert is linked (serve: the routing alerts' TLP is stricter than the
     * DNS alerts'). */
    json_t *(*alerts)(void *ctx, const char *addr);
    void *ctx;
};

/* The origin ASNs of addr for the ASN excuse: from routing's routes
 * (*ret_source "rib") when it has a route holding addr, else from table
 * ("pfx2as"); 0 and *ret_source NULL when neither knows it. Either may be
 * NULL. */
size_t dns_origins_of(const struct dns_routing *routing, const struct dns_asn_table *table,
                      const char *addr, uint32_t out[DNS_MAX_ORIGINS], const char **ret_source);

/* Links a round's findings (dns_check_round's array, changed in place) to
 * what routing knows (docs/dns.md, "With the routing sensor"):
 * - divergence, injection and delegation: every address of "observed"
 *   under an open routing alert adds {"id", "kind", "prefix"|"group",
 *   "address"} to the finding's "related" array (each alert once);
 * - outage and outage-end: "routing" gets, per name server address of the
 *   zone (the baseline's glue), its visibility {"address", "routed",
 *   "prefix", "origins", "withdrawn", "withdrawn_prefix", "withdrawn_at"},
 *   and "related" the open routing alerts about those addresses.
 * A finding with nothing to link gets no member. routing NULL: nothing. */
enum mrd_code dns_findings_correlate(json_t *findings, const json_t *baseline,
                                     const struct dns_routing *routing, struct mrd_err *err);

/* ---- configuration (docs/dns.md) ---- */

#define DNS_CFG_MAX_SERVERS 64            /* root servers, vantages */
#define DNS_CFG_MAX_ZONES 4096            /* watched zones */
#define DNS_CFG_MAX_PROBES 4096           /* probe names per zone */
#define DNS_CFG_MAX_VNAME 64              /* bytes of a vantage name */
#define DNS_CFG_MAX_PATH 4096             /* bytes of the trust-anchor path */
#define DNS_MAX_EXPIRY_WARN (365 * 86400) /* expiry_warning, seconds */
#define DNS_DEFAULT_ALERT_REFRESH 3600    /* alert_refresh, seconds */
#define DNS_MAX_ALERT_REFRESH (7 * 86400)
#define DNS_MIN_INTERVAL 1
#define DNS_MAX_INTERVAL 86400

struct dns_cfg_zone {
    struct dns_name zone;
    size_t nprobes;
    struct dns_name *probes;
};

struct dns_cfg_vantage {
    char name[DNS_CFG_MAX_VNAME + 1];
    char server[DNS_MAX_SERVER + 1];
};

#define DNS_MAX_ANCHORS 16                /* records in a trust-anchor file */
#define DNS_MAX_ANCHOR_RDATA 1024         /* bytes of one anchor's RDATA */
#define DNS_MAX_ANCHOR_FILE (1024 * 1024) /* bytes of a trust-anchor file */

/* One DS or DNSKEY record of the trust anchor. */
struct dns_anchor {
    struct dns_name owner;
    uint16_t type; /* DNS_T_DS or DNS_T_DNSKEY */
    size_t rdlen;
    uint8_t rdata[DNS_MAX_ANCHOR_RDATA];
};

struct dns_config {
    size_t nroots, nzones, nvantages;
    size_t nanchors;            /* loaded by dns_anchor_parse; 0: none */
    struct dns_anchor *anchors; /* DNS_MAX_ANCHORS of room */
    char (*roots)[DNS_MAX_SERVER + 1];
    char trust_anchor[DNS_CFG_MAX_PATH + 1]; /* "" when absent */
    struct dns_cfg_zone *zones;
    struct dns_cfg_vantage *vantages;
    unsigned interval;      /* seconds */
    unsigned expiry_warn;   /* seconds before RRSIG expiry that warn (expiry_warning); 0: never */
    bool validate;          /* "validator": true: validate in process (struct dns_validator) */
    unsigned alert_refresh; /* serve: seconds between versions of an unchanged finding */
    /* "excuses" (docs/dns.md): the prefix-to-ASN table's path ("" none) and
     * the table once loaded (dns_excuses_load); the CA bundle for the TLS
     * rule ("" none), its port and timeout */
    char asn_table_path[DNS_CFG_MAX_PATH + 1];
    struct dns_asn_table *asn_table;
    char tls_ca[DNS_CFG_MAX_PATH + 1];
    unsigned tls_port;
    unsigned tls_timeout_ms;
    unsigned tls_cache_ttl, tls_cache_fail_ttl; /* seconds verdicts are kept between rounds */
};

/* Parses {"root": {"servers": [...], "trust_anchor": "F"}, "zones": [{"zone",
 * "probe_names"}], "vantages": [{"name", "server"}], "interval": 60}. root
 * absent: the thirteen IANA root servers. Unknown members, bad names or
 * addresses, duplicates fail with MRD_E_PARSE naming the member (e.g.
 * `zones[1].probe_names[0]`); lists past the limits with MRD_E_TOOBIG. */
enum mrd_code dns_config_parse(const char *buf, size_t len, struct dns_config **ret_cfg,
                               struct mrd_err *err);
void dns_config_free(struct dns_config *cfg);

/* Loads the trust-anchor file's text (root.trust_anchor: DS or DNSKEY
 * records in zone-file presentation form, as Unbound's trust-anchor-file)
 * into cfg->anchors. Each round then checks that the root servers' DNSKEY
 * set holds a key the anchor names (a DS digest or the key itself),
 * and the validity of the signatures over it. MRD_E_PARSE naming the line
 * for a bad record; MRD_E_TOOBIG past DNS_MAX_ANCHORS or
 * DNS_MAX_ANCHOR_FILE. */
enum mrd_code dns_anchor_parse(const char *text, size_t len, struct dns_config *cfg,
                               struct mrd_err *err);

/* True when dnskey (a DNSKEY record) is the key anchor a names. */
bool dns_anchor_matches(const struct dns_anchor *a, const struct dns_rr *dnskey);

/* Checks "IP", "IP:PORT" or "[IPv6]:PORT". */
bool dns_server_valid(const char *s);

/* ---- baseline and check (the sensor's rounds) ---- */

#define DNS_MAX_DEPTH 16 /* referrals followed from the root */
#define DNS_MAX_SET 64   /* NS names, DS records, addresses per name */
#define DNS_MAX_BASELINE ((size_t)64 * 1024 * 1024)

/* Learns what the parents publish for every watched zone (NS set, DS set,
 * glue, and the servers that said so) and what the zone's servers answer
 * for each probe name (A and AAAA), by iterating from the configured root
 * servers through t. The result is the baseline JSON object
 * (docs/dns.md); the caller owns it. A zone whose parent cannot be
 * reached fails with MRD_E_IO naming it. */
enum mrd_code dns_baseline_learn(const struct dns_config *cfg, const struct dns_transport *t,
                                 json_t **ret_baseline, struct mrd_err *err);

/* Checks the shape of a baseline read from a file (the operator edits it). */
enum mrd_code dns_baseline_check(const json_t *baseline, struct mrd_err *err);

/* One round: queries parents, the zones' servers and the vantages through
 * t, compares with the baseline and returns the findings as a JSON array
 * of objects (kind, zone, name, vantage, expected, observed, first_seen,
 * last_seen, evidence; cause for dnssec). state (may be NULL) is the
 * previous round's open findings (what this function returned as
 * *ret_state): first_seen is carried over, and an outage open before and
 * gone now is reported as outage-end. The state's "round" member is the
 * round's time, the last_seen of this round's findings. Given a state
 * (an empty object before the first round), a vantage's SERVFAIL without
 * EDE is held in its "pending" (with first_seen) until the next round sees
 * it again; NULL (one round alone) reports it at once. With t->tls, the
 * state's "tls_cache" keeps the TLS verdicts (dns_tls_cache_get) and
 * "tls_cached" counts those this round took from it. */
enum mrd_code dns_check_round(const struct dns_config *cfg, const json_t *baseline,
                              const json_t *state, const struct dns_transport *t,
                              json_t **ret_findings, json_t **ret_state, struct mrd_err *err);

/* The state dns_check_round would have returned after the round whose
 * time ("round" of that state, an RFC 3339 string) is round, rebuilt from
 * findings (their --json members, e.g. the extension of the stored STIX
 * alerts' newest versions): the open ones are those seen in that round
 * or later (last_seen at or after round: a round stores its alerts before
 * its time), or within refresh seconds before it (a lasting finding that
 * did not change is stored again only every refresh seconds,
 * dns_findings_due), that are not outage-end. So the sensor in
 * `serve` resumes after a restart without a state file. */
enum mrd_code dns_state_from_alerts(const json_t *findings, const char *round, unsigned refresh,
                                    json_t **ret_state, struct mrd_err *err);

/* Which findings of a round need a new alert version (the sensor in
 * serve): a new one, one whose state changed (kind, cause, field,
 * expected, observed, ended: not its evidence's timings), and one whose
 * last stored version is refresh seconds old or more at now (unix
 * seconds, the round's time). stored maps each finding's key to what was
 * last stored ({"sig": state, "at": seconds}) and is not changed;
 * *ret_due gets the findings due (new references) and *ret_stored the map
 * to keep once they are stored (the findings of this round only: a
 * finding that is gone is forgotten). */
enum mrd_code dns_findings_due(const json_t *found, const json_t *stored, int64_t now,
                               unsigned refresh, json_t **ret_due, json_t **ret_stored,
                               struct mrd_err *err);

/* The stored map of dns_findings_due for the open findings of state (as
 * dns_state_from_alerts rebuilds it: each last stored at its last_seen);
 * NULL when out of memory. */
json_t *dns_findings_stored(const json_t *state);

/* The pending findings of state (a vantage's SERVFAIL without EDE held
 * for confirmation by the next round) as compact text for the sensor in
 * serve to keep in the store's metadata: [[key, first_seen], ...], as
 * many as fit in size bytes with the NUL (*ret_kept, may be NULL); the
 * rest wait one round more after a restart. dns_pending_unpack sets
 * state's "pending" from that text (MRD_E_PARSE when it is not). */
enum mrd_code dns_pending_pack(const json_t *state, char *out, size_t size, size_t *ret_kept,
                               struct mrd_err *err);
enum mrd_code dns_pending_unpack(json_t *state, const char *text, struct mrd_err *err);

/* The DNSSEC cause of an RFC 8914 INFO-CODE: "signature-expired",
 * "ds-mismatch", ..., "other". */
const char *dns_ede_cause(int ede);

/* ---- alerts as STIX 2.1 (docs/dns.md, "STIX alerts") ---- */

#define DNS_STIX_EXT_ID "extension-definition--0c9a3f5e-4d6b-5a0f-9d38-6f1f2b7f9a41"
#define DNS_STIX_IDENTITY_ID "identity--7b1f9e2a-3c4d-5e6f-8a9b-0c1d2e3f4a5b"
#define DNS_STIX_ID_NS "6d1c4c3e-9a4b-5e8e-a3f0-2f7e1b9d0c11" /* UUIDv5 namespace of alerts */

/* Appends the identity (the sensor) and the extension-definition. */
enum mrd_code dns_stix_definitions(json_t *objects, struct mrd_err *err);

#define DNS_FINDING_ID_LEN 51 /* "observed-data--" and a UUID */

/* The id of the observed-data dns_finding_stix makes of finding. */
enum mrd_code dns_finding_id(const json_t *finding, char out[DNS_FINDING_ID_LEN + 1],
                             struct mrd_err *err);

/* Appends one finding (an element of dns_check_round's array) as an
 * observed-data under DNS_STIX_EXT_ID with the domain-name and address
 * SCOs it names (once per id in seen). */
enum mrd_code dns_finding_stix(const json_t *finding, json_t *objects, json_t *seen,
                               struct mrd_err *err);

#endif
