/*
 * dns_net: the real transport behind struct dns_transport (dns.h): UDP to
 * the server, TCP when the answer comes back truncated (RFC 7766 §5),
 * a per-attempt timeout and retries.
 *
 * Not pure: this file opens sockets, which is why it is a library of its
 * own (mrd_dnsnet) beside the pure mrd_dns. Each query gets a random id
 * (getrandom) written over the id the caller built; answers whose id,
 * source or question do not match are dropped, not taken (RFC 5452 §9.1).
 * Each UDP answer carries the IP TTL / hop limit it arrived with, and
 * recursive queries collect further answers for hold_ms (Hold-On).
 * Thread-safe: no shared state beyond the read-only options.
 */
#ifndef MRD_DNS_NET_H
#define MRD_DNS_NET_H

#include "dns/dns.h"

#define DNS_NET_DEFAULT_TIMEOUT_MS 1500 /* per attempt */
#define DNS_NET_DEFAULT_RETRIES 2       /* attempts after the first */
#define DNS_NET_MAX_TIMEOUT_MS 60000
#define DNS_NET_DEFAULT_HOLD_MS 50 /* listening on after a resolver's first answer */
#define DNS_NET_MAX_HOLD_MS 5000
#define DNS_NET_DEFAULT_PARALLEL 32 /* queries in flight at once in a round */

struct dns_net {
    unsigned timeout_ms;
    unsigned retries;
    unsigned hold_ms;  /* recursive (RD) queries: wait this long after the first answer
                          for others to the same id (Hold-On); 0: take the first */
    unsigned parallel; /* the transport's parallel (dns.h): 0 or 1 one at a time */
    const struct dns_routing *routing; /* the transport's routing (dns.h), may be NULL */
};

/* A transport over opts (borrowed; must outlive the transport). */
struct dns_transport dns_transport_net(const struct dns_net *opts);

/* Parses "IP", "IP:PORT" or "[IPv6]:PORT" (port 53 when absent) into a
 * sockaddr_storage; MRD_E_INVAL when it is none of those. */
struct sockaddr_storage;
enum mrd_code dns_net_addr(const char *server, struct sockaddr_storage *ret, unsigned *ret_len,
                           struct mrd_err *err);

/* Reads cfg->trust_anchor (when set; at most DNS_MAX_ANCHOR_FILE bytes)
 * into cfg->anchors with dns_anchor_parse; errors name the file. */
enum mrd_code dns_anchor_load(struct dns_config *cfg, struct mrd_err *err);

/* The in-process validator (configuration "validator": true): libunbound
 * iterating from cfg's root servers with cfg's trust anchor, with a cache
 * of its own (make one per round). cfg is borrowed. Free with
 * dns_validator_free. */
enum mrd_code dns_validator_unbound(const struct dns_config *cfg, struct dns_validator *ret,
                                    struct mrd_err *err);
void dns_validator_free(struct dns_validator *v);

#define DNS_TLS_MAX_CONCURRENT 4 /* TLS-excuse handshakes at once, per prober */

/* The TLS excuse's prober (struct dns_tls_prober in dns.h) over GnuTLS:
 * cfg->tls_ca (PEM; read now, MRD_E_IO naming it when it holds no
 * certificate), cfg->tls_port and cfg->tls_timeout_ms (connect and
 * handshake together). Free with dns_tls_prober_free. */
enum mrd_code dns_tls_prober_new(const struct dns_config *cfg, struct dns_tls_prober *ret,
                                 struct mrd_err *err);
void dns_tls_prober_free(struct dns_tls_prober *p);

/* Loads the files the configuration names: the trust anchor
 * (dns_anchor_load) and the excuses' prefix-to-ASN table
 * (cfg->asn_table_path, at most DNS_MAX_PFX2AS_FILE bytes, into
 * cfg->asn_table); errors name the file. */
enum mrd_code dns_config_load_files(struct dns_config *cfg, struct mrd_err *err);

/* One dns_check_round over the real transport (opts), with a fresh
 * in-process validator when cfg->validate and the TLS excuse's prober when
 * cfg->tls_ca is set: what `meridian dns check` and
 * the sensor in serve run. */
enum mrd_code dns_check_round_net(const struct dns_config *cfg, const struct dns_net *opts,
                                  const json_t *baseline, const json_t *state,
                                  json_t **ret_findings, json_t **ret_state, struct mrd_err *err);

#endif
