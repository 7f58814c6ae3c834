/*
 * bgp: MRT decoding, VRP sets and route-origin validation for the
 * routing-stability sensor.
 *
 * Pure: every function works on caller-supplied byte buffers and does no
 * I/O, so the parsers can be fuzzed and sandboxed. Files, decompression and
 * printing belong to the caller (cli/cli_bgp.c).
 *
 * - MRT (RFC 6396): TABLE_DUMP_V2 PEER_INDEX_TABLE, RIB_IPV4/IPV6_UNICAST
 *   and their RFC 8050 ADD-PATH forms; BGP4MP MESSAGE, MESSAGE_AS4,
 *   STATE_CHANGE, STATE_CHANGE_AS4 and the MESSAGE ADD-PATH forms. UPDATE
 *   messages (RFC 4271 §4.3) with ORIGIN, AS_PATH (2- and 4-byte), AS4_PATH
 *   merged per RFC 6793 §4.2.3, NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE,
 *   AGGREGATOR (and AS4_AGGREGATOR), COMMUNITIES (RFC 1997) and
 *   MP_REACH/MP_UNREACH_NLRI (RFC 4760) for IPv6 unicast.
 * - Routes are handed to a callback, one per prefix; the route and its
 *   attributes are borrowed and valid only during the call.
 * - VRP sets from rpki-client JSON or CSV and Routinator JSON; VRPs that
 *   expired before the chosen time are dropped.
 * - Route-origin validation per RFC 6811 §2, with AS0 VRPs (RFC 6483 §4,
 *   RFC 7607) never matching.
 *
 * Errors: MRD_E_PARSE with the byte offset and the RFC section; MRD_E_TOOBIG
 * past a named limit; MRD_E_NOMEM. Never logs. Not thread-safe per object;
 * distinct objects may be used from distinct threads.
 */
#ifndef MRD_BGP_H
#define MRD_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define BGP_MAX_PEERS 65536            /* PEER_INDEX_TABLE entries (16-bit count) */
#define BGP_MAX_PATH_ASNS 4096         /* ASNs in one AS_PATH, all segments */
#define BGP_MAX_PATH_SEGS 1024         /* segments in one AS_PATH */
#define BGP_MAX_NLRI 8192              /* prefixes in one UPDATE or one family of it */
#define BGP_MAX_VRPS ((size_t)1 << 24) /* VRPs in one set */

enum bgp_afi { BGP_AFI_IPV4 = 1, BGP_AFI_IPV6 = 2 };

enum bgp_route_kind {
    BGP_ROUTE_RIB,      /* TABLE_DUMP_V2 RIB entry */
    BGP_ROUTE_ANNOUNCE, /* BGP4MP UPDATE: reachable prefix */
    BGP_ROUTE_WITHDRAW, /* BGP4MP UPDATE: withdrawn prefix */
    BGP_ROUTE_STATE,    /* BGP4MP STATE_CHANGE: no prefix, no attributes */
};

enum bgp_seg_type {
    BGP_SEG_SET = 1,
    BGP_SEG_SEQUENCE = 2,
    BGP_SEG_CONFED_SEQ = 3,
    BGP_SEG_CONFED_SET = 4
};

struct bgp_addr {
    uint8_t afi; /* enum bgp_afi */
    uint8_t bytes[16];
};

struct bgp_prefix {
    struct bgp_addr addr;
    uint8_t len;
};

struct bgp_seg {
    uint8_t type; /* enum bgp_seg_type */
    uint16_t off; /* first ASN in bgp_aspath.asn */
    uint16_t count;
};

struct bgp_aspath {
    size_t nseg;
    size_t nasn;
    struct bgp_seg seg[BGP_MAX_PATH_SEGS];
    uint32_t asn[BGP_MAX_PATH_ASNS];
};

/* Which attributes were present. */
#define BGP_HAS_ORIGIN (1u << 0)
#define BGP_HAS_ASPATH (1u << 1)
#define BGP_HAS_NEXTHOP (1u << 2)
#define BGP_HAS_MED (1u << 3)
#define BGP_HAS_LOCALPREF (1u << 4)
#define BGP_HAS_ATOMIC (1u << 5)
#define BGP_HAS_AGGREGATOR (1u << 6)
#define BGP_HAS_COMMUNITIES (1u << 7)
#define BGP_HAS_MP_NEXTHOP (1u << 8)
#define BGP_HAS_OTC (1u << 9) /* RFC 9234 Only to Customer */

struct bgp_attrs {
    unsigned has;           /* BGP_HAS_* */
    uint8_t origin;         /* 0 IGP, 1 EGP, 2 INCOMPLETE */
    struct bgp_aspath path; /* AS4_PATH already merged in */
    uint8_t nexthop[4];
    uint8_t mp_nexthop[16]; /* IPv6 global next hop of MP_REACH_NLRI */
    uint32_t med, local_pref;
    uint32_t aggregator_as;
    uint8_t aggregator_addr[4];
    const uint8_t *communities; /* 4 bytes each, network order, borrowed */
    size_t ncommunities;
    uint32_t otc; /* OTC attribute (type 35): the AS that set it */
};

struct bgp_route {
    enum bgp_route_kind kind;
    uint32_t time;
    uint32_t time_usec; /* BGP4MP_ET only, else 0 */
    bool extended_time;
    struct bgp_addr peer_ip;
    uint32_t peer_as;
    struct bgp_prefix prefix; /* not for BGP_ROUTE_STATE */
    bool has_path_id;         /* RFC 8050 ADD-PATH */
    uint32_t path_id;
    uint32_t originated;           /* TABLE_DUMP_V2 originated time */
    const struct bgp_attrs *attrs; /* NULL for WITHDRAW and STATE */
    uint16_t old_state, new_state; /* BGP_ROUTE_STATE only */
};

/* Returns 0 to go on, non-zero to stop decoding (bgp_mrt_decode then
 * returns MRD_OK and reports the stop through ret_stopped). */
typedef int (*bgp_route_fn)(const struct bgp_route *route, void *ctx);

/* MRT reader state: the peer index table of the last PEER_INDEX_TABLE. */
struct bgp_mrt;

enum mrd_code bgp_mrt_new(struct bgp_mrt **ret_mrt, struct mrd_err *err);
void bgp_mrt_free(struct bgp_mrt *mrt);

/* Decodes every MRT record in (buf, len) and calls fn for each route.
 * Record types and subtypes this module does not know are skipped, as
 * bgpdump does. A malformed record fails with MRD_E_PARSE naming its offset
 * (buf offset plus base_offset) and the RFC section; routes before it have
 * already been handed to fn. */
enum mrd_code bgp_mrt_decode(struct bgp_mrt *mrt, const uint8_t *buf, size_t len,
                             uint64_t base_offset, bgp_route_fn fn, void *ctx, struct mrd_err *err);

/* Appends route as one `bgpdump -m` line (newline included) to out. A
 * BGP4MP message with no route prints nothing; this function is only
 * called per route. */
enum mrd_code bgp_route_format_bgpdump(const struct bgp_route *route, struct mrd_buf *out,
                                       struct mrd_err *err);

/* Appends the AS path the way bgpdump prints it: "1 2 {3,4}". */
enum mrd_code bgp_aspath_format(const struct bgp_aspath *path, struct mrd_buf *out,
                                struct mrd_err *err);

/* Appends "192.0.2.0/24" or "2001:db8::/32". */
enum mrd_code bgp_prefix_format(const struct bgp_prefix *p, struct mrd_buf *out,
                                struct mrd_err *err);

/* Appends "192.0.2.1" or "2001:db8::1". */
enum mrd_code bgp_addr_format(const struct bgp_addr *a, struct mrd_buf *out, struct mrd_err *err);

/* Parses "192.0.2.0/24" or "2001:db8::/32" (host bits must be zero). */
enum mrd_code bgp_prefix_parse(const char *s, size_t n, struct bgp_prefix *ret_prefix,
                               struct mrd_err *err);

/* ---- BMP (RFC 7854; RFC 9069 Loc-RIB; RFC 8671 Adj-RIB-Out) ---- */

#define BGP_BMP_HDR_LEN 6       /* common header: version, length, type */
#define BGP_BMP_PEER_HDR_LEN 42 /* per-peer header (RFC 7854 §4.2) */
/* One BMP message: headers plus one BGP message of at most 65,535 bytes
 * (an RFC 8654 extended UPDATE; a Peer Up's two OPENs stay within 4,096
 * each). Longer is an error, whatever the length field says. */
#define BGP_BMP_MAX_MSG (BGP_BMP_HDR_LEN + BGP_BMP_PEER_HDR_LEN + 65535)
#define BGP_BMP_MAX_PEERS 4096 /* peers (and views) one BMP session may report */

enum bgp_bmp_type {
    BGP_BMP_ROUTE_MONITORING = 0,
    BGP_BMP_STATISTICS = 1,
    BGP_BMP_PEER_DOWN = 2,
    BGP_BMP_PEER_UP = 3,
    BGP_BMP_INITIATION = 4,
    BGP_BMP_TERMINATION = 5,
    BGP_BMP_ROUTE_MIRRORING = 6,
};

enum bgp_bmp_peer_type {
    BGP_BMP_PEER_GLOBAL = 0,
    BGP_BMP_PEER_RD = 1,
    BGP_BMP_PEER_LOCAL = 2,
    BGP_BMP_PEER_LOC_RIB = 3
};

/* The per-peer header (RFC 7854 §4.2). */
struct bgp_bmp_peer {
    uint8_t type;     /* enum bgp_bmp_peer_type */
    uint8_t flags;    /* raw */
    bool post_policy; /* L flag: post-policy Adj-RIB */
    bool adj_rib_out; /* O flag (RFC 8671) */
    bool legacy_as;   /* A flag: 2-byte AS_PATH */
    uint8_t distinguisher[8];
    struct bgp_addr addr; /* V flag picks the family; zero for Loc-RIB */
    uint32_t as;
    uint32_t bgp_id;
    uint32_t time, time_usec;
};

/* What one BMP message was; strings are borrowed from the message. */
struct bgp_bmp_msg {
    uint8_t type; /* enum bgp_bmp_type */
    bool has_peer;
    struct bgp_bmp_peer peer;
    /* Route Monitoring: false when this message's view (pre-/post-policy,
     * Adj-RIB-Out, Loc-RIB) is not the first one the session reported
     * for this peer: a consumer that keeps one RIB per peer skips it. */
    bool primary_view;
    /* Peer Up: what the two OPENs negotiated; Peer Down: the reason */
    bool as4, addpath_v4, addpath_v6;
    uint8_t down_reason;
    /* Statistics Report */
    uint32_t nstats;
    /* Initiation: sysName (TLV 2), sysDescr (TLV 1); Termination: reason
     * (TLV 1). Raw bytes from the router: escape before printing. */
    const char *sys_name;
    size_t sys_name_len;
    const char *sys_descr;
    size_t sys_descr_len;
    bool has_term_reason;
    uint16_t term_reason;
};

/* A BMP session's state: the peers it announced (their negotiated AS4 and
 * ADD-PATH capabilities, first view seen) and scratch for UPDATEs. */
struct bgp_bmp;

enum mrd_code bgp_bmp_new(struct bgp_bmp **ret_bmp, struct mrd_err *err);
void bgp_bmp_free(struct bgp_bmp *bmp);

/* The length of the BMP message at the start of (buf, len) through
 * ret_len, or 0 when more bytes are needed to know it or to hold it all.
 * A version other than 3 or a length outside [BGP_BMP_HDR_LEN,
 * BGP_BMP_MAX_MSG] fails with MRD_E_PARSE (offset names it). */
enum mrd_code bgp_bmp_frame(const uint8_t *buf, size_t len, uint64_t offset, size_t *ret_len,
                            struct mrd_err *err);

/* Decodes one whole BMP message (len from bgp_bmp_frame) into ret_msg
 * and hands its routes to fn: Route Monitoring UPDATEs as ANNOUNCE and
 * WITHDRAW routes (time, peer_ip, peer_as from the per-peer header);
 * Peer Up as a STATE route to Established (6) and Peer Down as a STATE
 * route to Idle (1), so a detector drops that peer's routes. The AS_PATH
 * is read as 2-byte when the A flag is set or the peer's Peer Up OPENs
 * did not both carry the 4-octet AS capability (RFC 6793); path
 * identifiers are read per family where ADD-PATH (RFC 7911) was
 * negotiated in that direction. Errors: MRD_E_PARSE "bmp: message at
 * offset N: what (RFC section)", MRD_E_TOOBIG past BGP_BMP_MAX_PEERS or
 * the UPDATE limits. */
enum mrd_code bgp_bmp_decode(struct bgp_bmp *bmp, const uint8_t *msg, size_t len, uint64_t offset,
                             struct bgp_bmp_msg *ret_msg, bgp_route_fn fn, void *ctx,
                             struct mrd_err *err);

/* Decodes every message of a captured BMP stream (buf, len), as
 * bgp_bmp_decode would one by one; a stream cut inside a message fails. */
enum mrd_code bgp_bmp_decode_all(struct bgp_bmp *bmp, const uint8_t *buf, size_t len,
                                 uint64_t base_offset, bgp_route_fn fn, void *ctx,
                                 struct mrd_err *err);

const char *bgp_bmp_type_name(uint8_t type); /* "route-monitoring", ... "unknown" */

/* True when buf starts like a BMP stream (version 3, a plausible length,
 * a known type) rather than MRT (whose first bytes are a time: an MRT
 * file would have to date from 1971 to look like BMP). */
bool bgp_bmp_sniff(const uint8_t *buf, size_t len);

/* ---- VRPs and route-origin validation (RFC 6811) ---- */

struct bgp_vrp {
    struct bgp_prefix prefix;
    uint8_t max_len;
    uint32_t asn;
    int64_t expires; /* unix seconds, 0 when the source gives none */
};

struct bgp_vrps;

enum mrd_code bgp_vrps_new(struct bgp_vrps **ret_vrps, struct mrd_err *err);
void bgp_vrps_free(struct bgp_vrps *vrps);

/* Adds one VRP unless it expired before now (expires != 0 && expires < now).
 * maxLength must lie between the prefix length and the family's width. */
enum mrd_code bgp_vrps_add(struct bgp_vrps *vrps, const struct bgp_vrp *vrp, int64_t now,
                           struct mrd_err *err);

/* Parses a VRP file (rpki-client JSON, Routinator JSON or rpki-client CSV,
 * told apart by the first non-blank byte) and adds its unexpired VRPs. */
enum mrd_code bgp_vrps_parse(struct bgp_vrps *vrps, const char *buf, size_t len, int64_t now,
                             struct mrd_err *err);

/* Sorts the set for lookups; call after the last add, before validating. */
void bgp_vrps_finish(struct bgp_vrps *vrps);

size_t bgp_vrps_count(const struct bgp_vrps *vrps);

/* Calls fn for each VRP of a finished set: IPv4 first, in address order
 * (expires is 0: expired VRPs are not in the set). */
void bgp_vrps_each(const struct bgp_vrps *vrps, void (*fn)(const struct bgp_vrp *vrp, void *ctx),
                   void *ctx);

enum bgp_rov { BGP_ROV_NOT_FOUND, BGP_ROV_VALID, BGP_ROV_INVALID };

enum bgp_rov_reason {
    BGP_ROV_R_NOT_COVERED,  /* no VRP covers the prefix */
    BGP_ROV_R_MATCH,        /* a VRP matches origin and length */
    BGP_ROV_R_WRONG_ORIGIN, /* covered, no VRP for this origin */
    BGP_ROV_R_TOO_SPECIFIC, /* a VRP for this origin exists, its maxLength is exceeded */
    BGP_ROV_R_ORIGIN_NONE,  /* covered, origin is an AS_SET or path is empty (RFC 6811 §2) */
    BGP_ROV_R_AS0,          /* covered only by AS0 VRPs (RFC 7607) */
};

/* The origin AS of path per RFC 6811 §2: the last ASN of a final
 * AS_SEQUENCE; false (origin NONE) when the path is empty or ends in a set. */
bool bgp_aspath_origin(const struct bgp_aspath *path, uint32_t *ret_asn);

/* Validates (prefix, path) against the finished set. */
enum bgp_rov bgp_rov_validate(const struct bgp_vrps *vrps, const struct bgp_prefix *prefix,
                              const struct bgp_aspath *path, enum bgp_rov_reason *ret_reason);

const char *bgp_rov_name(enum bgp_rov rov);             /* "valid", "invalid", "not-found" */
const char *bgp_rov_reason_name(enum bgp_rov_reason r); /* e.g. "wrong-origin" */

/* Takes one more reference to a finished set, for a reader that may
 * outlive the owner's reference: bgp_vrps_free drops one reference and frees
 * the set with the last. Atomic, so a set may be handed between threads. */
struct bgp_vrps *bgp_vrps_hold(struct bgp_vrps *vrps);

/* ---- RTR: the RPKI-to-Router protocol, router side (docs/bgp.md, "RTR") ----
 *
 * RFC 8210 (version 1) and RFC 6810 (version 0). bgp_rtr_pdu_parse and the
 * session (struct bgp_rtr) are pure; struct bgp_rtr_client (rtr_client.c)
 * owns the TCP connection and struct bgp_rtr_feed a thread that keeps a VRP
 * set current. */

#define BGP_RTR_MAX_PDU 65536       /* bytes of one PDU (Error Report, Router Key) */
#define BGP_RTR_MAX_ERROR_TEXT 1024 /* bytes of error text we send */
#define BGP_RTR_MAX_HOSTPORT 300    /* bytes of a HOST:PORT argument */
#define BGP_RTR_CONNECT_TIMEOUT_MS 10000
#define BGP_RTR_ANSWER_TIMEOUT_MS 30000 /* default wait for the answer to a query */
#define BGP_RTR_BACKOFF_MIN 1           /* seconds before the first retry after a failure */

enum bgp_rtr_type {
    BGP_RTR_SERIAL_NOTIFY = 0,
    BGP_RTR_SERIAL_QUERY = 1,
    BGP_RTR_RESET_QUERY = 2,
    BGP_RTR_CACHE_RESPONSE = 3,
    BGP_RTR_IPV4_PREFIX = 4,
    BGP_RTR_IPV6_PREFIX = 6,
    BGP_RTR_END_OF_DATA = 7,
    BGP_RTR_CACHE_RESET = 8,
    BGP_RTR_ROUTER_KEY = 9,
    BGP_RTR_ERROR_REPORT = 10,
};

enum bgp_rtr_error { /* RFC 8210 §12 */
                     BGP_RTR_E_CORRUPT = 0,
                     BGP_RTR_E_INTERNAL = 1,
                     BGP_RTR_E_NO_DATA = 2,
                     BGP_RTR_E_INVALID_REQUEST = 3,
                     BGP_RTR_E_UNSUPP_VERSION = 4,
                     BGP_RTR_E_UNSUPP_PDU = 5,
                     BGP_RTR_E_WITHDRAW_UNKNOWN = 6,
                     BGP_RTR_E_DUPLICATE = 7,
                     BGP_RTR_E_UNEXPECTED_VERSION = 8,
};

struct bgp_rtr_pdu {
    uint8_t version, type;
    uint16_t session; /* Session ID, or an Error Report's error code */
    uint32_t length;
    uint32_t serial;                 /* Serial Notify/Query, End of Data */
    uint32_t refresh, retry, expire; /* End of Data (version 0: the RFC's defaults) */
    bool announce;                   /* prefix PDUs, Router Key: flags bit 0 */
    struct bgp_vrp vrp;              /* prefix PDUs (expires 0) */
    const uint8_t *err_pdu;          /* Error Report: the PDU in error, borrowed */
    uint32_t err_pdu_len;
    const uint8_t *err_text; /* Error Report: its text, borrowed, not NUL-terminated */
    uint32_t err_text_len;
};

/* Parses the PDU at the start of (buf, len). MRD_OK with *ret_len 0 when
 * more bytes are needed, else its length. A malformed PDU fails with
 * MRD_E_PARSE (MRD_E_TOOBIG past BGP_RTR_MAX_PDU, MRD_E_UNSUPP for a version
 * above 1) and *ret_code, the error code to report to the cache. */
enum mrd_code bgp_rtr_pdu_parse(const uint8_t *buf, size_t len, struct bgp_rtr_pdu *ret_pdu,
                                size_t *ret_len, enum bgp_rtr_error *ret_code, struct mrd_err *err);

/* Appends a Reset Query, or a Serial Query for (session, serial). */
enum mrd_code bgp_rtr_encode_query(uint8_t version, bool serial_query, uint16_t session,
                                   uint32_t serial, struct mrd_buf *out, struct mrd_err *err);

/* Appends an Error Report carrying the PDU in error (its header only when
 * it is too long) and text (at most BGP_RTR_MAX_ERROR_TEXT bytes). */
enum mrd_code bgp_rtr_encode_error(uint8_t version, enum bgp_rtr_error code, const uint8_t *pdu,
                                   size_t pdu_len, const char *text, struct mrd_buf *out,
                                   struct mrd_err *err);

const char *bgp_rtr_error_name(enum bgp_rtr_error code); /* "Corrupt Data", ... */

struct bgp_rtr;

enum bgp_rtr_action {
    BGP_RTR_A_NONE,    /* read on */
    BGP_RTR_A_UPDATED, /* End of Data: the table is the cache's (serial) */
    BGP_RTR_A_QUERY,   /* send bgp_rtr_query now: Serial Notify, Cache Reset, downgrade */
    BGP_RTR_A_CLOSE,   /* send out (an Error Report, if any) and close; err says why */
};

/* A session that proposes version (1, or 0 for RFC 6810 caches). */
enum mrd_code bgp_rtr_new(uint8_t version, struct bgp_rtr **ret_rtr, struct mrd_err *err);
void bgp_rtr_free(struct bgp_rtr *rtr);

/* Appends the query the session needs: Reset Query without a session,
 * Serial Query with one. */
enum mrd_code bgp_rtr_query(struct bgp_rtr *rtr, struct mrd_buf *out, struct mrd_err *err);

/* Handles the whole PDUs at the start of (buf, len) received at now (unix
 * seconds); *ret_used says how many bytes were consumed. Stops at the first
 * action other than NONE. Prefix PDUs are applied at End of Data, all or
 * nothing: a withdrawal of an unknown VRP, a duplicate announcement, a
 * version change or a malformed PDU keeps the last table, puts an Error
 * Report in out (never in answer to the cache's own Error Report) and
 * returns CLOSE. Versions: a first answer in version 0 to our version 1
 * query switches the session to version 0 (RFC 8210 §7). */
enum bgp_rtr_action bgp_rtr_input(struct bgp_rtr *rtr, const uint8_t *buf, size_t len, int64_t now,
                                  size_t *ret_used, struct mrd_buf *out, struct mrd_err *err);

/* Forgets a half-received response (the connection was lost). */
void bgp_rtr_disconnected(struct bgp_rtr *rtr);

/* Drops every VRP when the last End of Data is more than its expire
 * interval before now (RFC 8210 §6); true when it did. ROV then finds no
 * VRP (not-found) and the status says expired. */
bool bgp_rtr_expire(struct bgp_rtr *rtr, int64_t now);

struct bgp_rtr_status {
    uint8_t version;
    bool has_data, expired, waiting;
    bool has_session; /* the next query is a Serial Query for this session */
    uint16_t session;
    uint32_t serial;
    size_t count;
    int64_t updated; /* the last End of Data, unix seconds */
    uint32_t refresh, retry, expire;
    bool last_was_reset; /* the last response answered a Reset Query */
    size_t last_announced, last_withdrawn;
};

void bgp_rtr_status(const struct bgp_rtr *rtr, struct bgp_rtr_status *ret_status);

/* The table as a finished VRP set (expires 0), or each VRP in order. */
enum mrd_code bgp_rtr_vrps(const struct bgp_rtr *rtr, struct bgp_vrps **ret_vrps,
                           struct mrd_err *err);
enum mrd_code bgp_rtr_each(const struct bgp_rtr *rtr,
                           enum mrd_code (*fn)(const struct bgp_vrp *vrp, void *ctx), void *ctx);

/* A TCP connection to a cache at "HOST:PORT" ("[v6]:PORT"). */
struct bgp_rtr_client;

enum mrd_code bgp_rtr_client_new(const char *hostport, uint8_t version,
                                 struct bgp_rtr_client **ret_client, struct mrd_err *err);
void bgp_rtr_client_free(struct bgp_rtr_client *client);

/* Connects when not connected (and sends the query the session needs),
 * sends a query when query_now, then reads until an End of Data
 * (*ret_updated true) or timeout_ms. A query unanswered for the answer
 * timeout (BGP_RTR_ANSWER_TIMEOUT_MS unless set) fails with MRD_E_TIMEOUT;
 * any failure closes the connection and keeps the table. */
enum mrd_code bgp_rtr_client_run(struct bgp_rtr_client *client, int timeout_ms, bool query_now,
                                 bool *ret_updated, struct mrd_err *err);

struct bgp_rtr *bgp_rtr_client_session(struct bgp_rtr_client *client);
void bgp_rtr_client_set_timeout(struct bgp_rtr_client *client, int answer_timeout_ms);

/* One Reset Query to the cache at hostport: its VRPs as a finished set,
 * and the session's status (serial, intervals) when ret_status is not
 * NULL. No End of Data within timeout_ms fails with MRD_E_TIMEOUT. */
enum mrd_code bgp_rtr_fetch(const char *hostport, uint8_t version, int timeout_ms,
                            struct bgp_vrps **ret_vrps, struct bgp_rtr_status *ret_status,
                            struct mrd_err *err);

/* A thread that keeps a VRP set from one cache current: a Reset Query,
 * then Serial Queries on Serial Notify and every refresh interval; after a
 * failure, retries after BGP_RTR_BACKOFF_MIN seconds, doubling up to the
 * retry interval (except after a failure that ended the session, such as a
 * cache restarted with a new session ID: the cache is up and a Reset Query
 * is expected to succeed, so that one is retried after the minimum);
 * drops the VRPs when they expire. on_update (may be NULL) runs in the
 * thread after each new set, failure or expiry. */
struct bgp_rtr_feed;

struct bgp_rtr_feed_status {
    char source[BGP_RTR_MAX_HOSTPORT + 8]; /* "rtr://HOST:PORT" */
    struct bgp_rtr_status rtr;
    bool connected;
    unsigned failures; /* in a row */
    int64_t next_try;  /* after a failure: when the next attempt is due */
    unsigned backoff;  /* after a failure: the seconds waited before it */
    char last_error[MRD_ERR_MSG_MAX];
};

enum mrd_code bgp_rtr_feed_start(const char *hostport, uint8_t version,
                                 void (*on_update)(struct bgp_rtr_feed *feed, void *ctx), void *ctx,
                                 struct bgp_rtr_feed **ret_feed, struct mrd_err *err);
void bgp_rtr_feed_stop(struct bgp_rtr_feed *feed);

/* The current VRP set, held (release with bgp_vrps_free); never NULL once
 * started (empty before the first End of Data and after expiry). */
struct bgp_vrps *bgp_rtr_feed_vrps(struct bgp_rtr_feed *feed);
void bgp_rtr_feed_status(struct bgp_rtr_feed *feed, struct bgp_rtr_feed_status *ret_status);

/* The status as JSON: source, connected, version, session, serial, vrps,
 * updated (RFC 3339), age_seconds, refresh, retry, expire, expired,
 * failures, last_error, last_query ("reset" or "serial"), announced and
 * withdrawn (by the last response). */
json_t *bgp_rtr_feed_status_json(const struct bgp_rtr_feed_status *st, int64_t now);

/* ---- scanning: ROV verdicts per distinct (prefix, AS path) ---- */

#define BGP_MAX_SCAN_ROUTES ((size_t)1 << 26) /* distinct (prefix, path) pairs kept */
#define BGP_SCAN_ROV_CACHE ((size_t)1 << 21)  /* slots of the (prefix, origin) verdict cache */

/* One distinct (prefix, path) and its verdict; path is borrowed. */
struct bgp_rov_event {
    struct bgp_prefix prefix;
    const struct bgp_aspath *path;
    uint32_t peer_as;               /* the first peer that carried it */
    uint32_t first_seen, last_seen; /* MRT record times */
    enum bgp_rov rov;
    enum bgp_rov_reason reason;
};

struct bgp_scan;

/* vrps is borrowed, finished, and must outlive the scan. keep_all: record
 * every distinct (prefix, path) with its verdict; else only the Invalid
 * ones (the others are validated and forgotten). */
enum mrd_code bgp_scan_new(const struct bgp_vrps *vrps, bool keep_all, struct bgp_scan **ret_scan,
                           struct mrd_err *err);
void bgp_scan_free(struct bgp_scan *scan);

/* Validates one RIB or announced route (others are ignored) and records
 * it, or widens the first/last-seen times of an equal one. */
enum mrd_code bgp_scan_route(struct bgp_scan *scan, const struct bgp_route *route,
                             struct mrd_err *err);

/* Asks the memory for what bgp_scan_route(scan, route) will read first,
 * so that work done in between (bgp_detect_route) hides the wait. Advice
 * only: changes nothing. */
void bgp_scan_prefetch(const struct bgp_scan *scan, const struct bgp_route *route);

/* Calls fn for each distinct (prefix, path) in the order first seen. */
void bgp_scan_each(struct bgp_scan *scan, void (*fn)(const struct bgp_rov_event *ev, void *ctx),
                   void *ctx);

/* The event as the JSON object `meridian bgp scan --json` prints (kind
 * "rov", prefix, as_path, peer_as, first_seen and last_seen as RFC 3339
 * times, rov, reason). The caller owns *ret_json. */
enum mrd_code bgp_rov_event_json(const struct bgp_rov_event *ev, json_t **ret_json,
                                 struct mrd_err *err);

/* ---- watch configuration (`--config`) ---- */

#define BGP_CFG_MAX_PREFIXES 65536 /* owned prefixes in one configuration */
#define BGP_CFG_MAX_LIST 1024      /* ASNs in one origins/neighbors/group list */
#define BGP_CFG_MAX_GROUPS 1024    /* groups in one configuration */
#define BGP_CFG_MAX_NAME 64        /* bytes of a group name */

/* One owned prefix. norigins == 0: nobody may originate it (squatting);
 * any_neighbor: `neighbors` was absent or null. */
struct bgp_cfg_prefix {
    struct bgp_prefix prefix;
    uint8_t max_len;
    bool any_neighbor;
    bool no_export; /* "policies": ["no-export"]: announced with NO_EXPORT */
    size_t norigins, nneighbors;
    uint32_t *origins, *neighbors; /* sorted */
};

struct bgp_cfg_group {
    char name[BGP_CFG_MAX_NAME + 1];
    size_t nasns;
    uint32_t *asns; /* sorted */
};

struct bgp_config {
    size_t nprefixes, ngroups;
    struct bgp_cfg_prefix *prefixes; /* sorted by family, address, length */
    struct bgp_cfg_group *groups;    /* in the order of the file */
    uint8_t lens[2][129];            /* lens[afi-1][l]: some prefix has length l */
};

/* Parses the JSON configuration {"prefixes": [{"prefix", "origins",
 * "neighbors", "max_length"}...], "groups": {"name": [ASN...]}}. Unknown
 * members, duplicate prefixes, an AS in two groups, a max_length outside
 * [prefix length, family width] fail with MRD_E_PARSE naming the member
 * (e.g. `prefixes[2].origins[0]`); lists past the BGP_CFG_MAX_* limits with
 * MRD_E_TOOBIG. */
enum mrd_code bgp_config_parse(const char *buf, size_t len, struct bgp_config **ret_cfg,
                               struct mrd_err *err);
void bgp_config_free(struct bgp_config *cfg);

/* The most specific configured prefix that covers p (equal or shorter), or
 * NULL. */
const struct bgp_cfg_prefix *bgp_config_match(const struct bgp_config *cfg,
                                              const struct bgp_prefix *p);

/* The index of the group that lists asn, or -1. */
int bgp_config_group_of(const struct bgp_config *cfg, uint32_t asn);

/* ---- AS relationships (CAIDA serial-1/serial-2) ---- */

#define BGP_ASREL_MAX_LINKS ((size_t)1 << 23) /* relationships in one file */
#define BGP_ASREL_MAX_LINE 256                /* bytes of one line */

/* The relation of a to b, as seen by a route going from a to b. */
enum bgp_rel {
    BGP_REL_UNKNOWN,
    BGP_REL_TO_PROVIDER, /* a is a customer of b: uphill */
    BGP_REL_TO_PEER,     /* settlement-free peers */
    BGP_REL_TO_CUSTOMER, /* a is a provider of b: downhill */
};

struct bgp_asrel;

/* Parses `a|b|-1` (a provider of b) and `a|b|0` (peers) lines, an optional
 * fourth field (serial-2's source) and `#` comments. A malformed line fails
 * with MRD_E_PARSE naming its number. */
enum mrd_code bgp_asrel_parse(const char *buf, size_t len, struct bgp_asrel **ret_rel,
                              struct mrd_err *err);
void bgp_asrel_free(struct bgp_asrel *rel);
size_t bgp_asrel_count(const struct bgp_asrel *rel);
enum bgp_rel bgp_asrel_get(const struct bgp_asrel *rel, uint32_t a, uint32_t b);

/* ---- detectors: hijacks (ARTEMIS taxonomy), route leaks, outages ---- */

/* A hijack per ARTEMIS's classification "Prefix|Path|Data plane|Policy":
 * prefix E (exact configured prefix), S (more specific) or Q (squatting: a
 * configured prefix nobody may originate); path 0 (illegal origin), 1
 * (legal origin, illegal first hop: a forged-origin hijack that ROV calls
 * Valid) or '-'; data plane always '-' here; policy L (a no-export
 * violation: the entry's "policies" hold "no-export" and the path, prepends
 * removed, has more than BGP_NO_EXPORT_MAX_HOPS ASes, as ARTEMIS judges it)
 * or '-'. */
#define BGP_NO_EXPORT_MAX_HOPS 3
struct bgp_hijack {
    char type[8]; /* e.g. "S|0|-|-", "E|-|-|L" */
    bool has_hijacker;
    /* type 0, Q and S|-: the origin; type 1: the forged first hop; E|-|-|L:
     * the first hop, which exported the no-export route */
    uint32_t hijacker_as;
    const struct bgp_cfg_prefix *matched;
};

/* Classifies an announced (p, path). False when it is no hijack: the
 * prefix is not configured, or origin and first hop are legal, p is no
 * longer than the entry's max_length and no policy is violated. A path
 * ending in an AS_SET has no origin (RFC 6811 §2), which is never legal:
 * type 0, no hijacker. */
bool bgp_hijack_classify(const struct bgp_config *cfg, const struct bgp_prefix *p,
                         const struct bgp_aspath *path, struct bgp_hijack *ret);

enum bgp_leak_reason {
    BGP_LEAK_VALLEY, /* sent to a provider or peer after coming from a provider or peer */
    BGP_LEAK_OTC,    /* RFC 9234 §5: OTC set, then sent up or across */
};

struct bgp_leak {
    enum bgp_leak_reason reason;
    uint32_t leaker_as; /* the AS that exported the route wrongly */
    uint32_t from_as;   /* the AS it learned the route from */
    uint32_t to_as;     /* the provider or peer it sent it to */
    uint32_t otc;       /* BGP_LEAK_OTC: the AS in the route's OTC attribute */
};

/* Checks the path of attrs for a valley (Gao-Rexford: after the route has
 * gone across a peering or down to a customer it may only go down) and,
 * where the OTC attribute is present, for an AS after the OTC's AS that
 * sent it up or across. Prepends are ignored; a link absent from rel, an
 * AS_SET or a confederation segment ends what can be judged, and the
 * check starts afresh after it. */
bool bgp_leak_check(const struct bgp_asrel *rel, const struct bgp_attrs *attrs,
                    struct bgp_leak *ret);

const char *bgp_leak_reason_name(enum bgp_leak_reason r); /* "valley", "otc" */

#define BGP_MAX_EVENTS ((size_t)1 << 22)  /* events one detector keeps */
#define BGP_MAX_TRACKED ((size_t)1 << 26) /* routes tracked for event ends and visibility */
#define BGP_OUTAGE_COLLAPSE_PCT 50        /* visible below this % of the baseline: outage */
#define BGP_OUTAGE_STEADY_PCT 80          /* control groups at least this % are steady */
#define BGP_OUTAGE_RECOVER_PCT 80         /* back to this % of the baseline: outage ends */

enum bgp_event_kind { BGP_EV_HIJACK, BGP_EV_LEAK, BGP_EV_OUTAGE, BGP_EV_OUTAGE_END };

/* One event, borrowed during bgp_detect_each's callback. */
struct bgp_event {
    enum bgp_event_kind kind;
    struct bgp_prefix prefix;      /* hijack, leak */
    const struct bgp_aspath *path; /* hijack, leak: the path first seen; else NULL */
    uint32_t peer_as;              /* hijack, leak: the first peer that carried it */
    struct bgp_addr peer_ip;       /* hijack, leak: that peer's address */
    const char
        *collector; /* hijack, leak: where that route was seen (bgp_detect_source), or NULL */
    uint32_t first_seen, last_seen;
    bool ended; /* withdrawn or replaced everywhere (hijack, leak); recovered (outage) */
    uint32_t ended_at;
    size_t peers; /* hijack, leak: most routes (peer, path id) carrying it at once */
    /* hijack */
    char type[8];
    bool has_hijacker;
    uint32_t hijacker_as;
    struct bgp_prefix matched;
    bool has_rov;
    enum bgp_rov rov;
    enum bgp_rov_reason rov_reason;
    /* leak */
    struct bgp_leak leak;
    /* outage, outage-end */
    const char *group;
    const uint32_t *group_asns; /* the group's ASNs, sorted */
    size_t group_nasns;
    size_t visible, baseline, lowest; /* group prefixes visible to more than half the peers */
    size_t visible_v4, visible_v6, peers_v4, peers_v6;
};

struct bgp_detect;

/* cfg, rel and vrps are borrowed (each may be NULL: the detectors that
 * need it stay off) and must outlive the detector. Routes must come in
 * time order. */
enum mrd_code bgp_detect_new(const struct bgp_config *cfg, const struct bgp_asrel *rel,
                             const struct bgp_vrps *vrps, struct bgp_detect **ret_det,
                             struct mrd_err *err);
void bgp_detect_free(struct bgp_detect *det);

/* Names where the next routes come from (an input file, a BMP router),
 * kept as the collector of the events they open: at most
 * BGP_COLLECTOR_MAX bytes, each byte outside printable ASCII and '|' as
 * '?'. NULL or "" names nothing. */
#define BGP_COLLECTOR_MAX 63
void bgp_detect_source(struct bgp_detect *det, const char *name);

/* Asks the memory for the AS relationships of route's path, so that work
 * done before bgp_detect_route(det, route) (bgp_scan_route) hides the wait.
 * Advice only: changes nothing. */
void bgp_detect_prefetch(const struct bgp_detect *det, const struct bgp_route *route);

/* Feeds one route: RIB entries and announcements raise, update or replace
 * events; withdrawals end them; a peer leaving Established (STATE) withdraws
 * all its routes. Group visibility is evaluated each time the clock moves. */
enum mrd_code bgp_detect_route(struct bgp_detect *det, const struct bgp_route *route,
                               struct mrd_err *err);

/* Moves the clock to now without a route (a live sensor, each second):
 * the last time step is evaluated when now is later, so that a group whose
 * routes went away raises its outage (or its end) although nothing else
 * arrives. Does nothing before the first route or when now is not later. */
enum mrd_code bgp_detect_advance(struct bgp_detect *det, uint32_t now, struct mrd_err *err);

/* Evaluates the last time step; call once after the last route. */
void bgp_detect_finish(struct bgp_detect *det);

/* Calls fn for each event, ordered by first_seen (then by creation). */
void bgp_detect_each(struct bgp_detect *det, void (*fn)(const struct bgp_event *ev, void *ctx),
                     void *ctx);

/* Calls fn for each event created, ended or carried by more routes at once
 * since the previous call (or bgp_detect_new), in creation order, and
 * forgets them: what a live sensor stores as a new version of each alert.
 * A route that only moves an open event's last_seen is no change. */
void bgp_detect_each_changed(struct bgp_detect *det,
                             void (*fn)(const struct bgp_event *ev, void *ctx), void *ctx);

/* Forgets the events that ended (and outage-end events), so that a
 * detector that runs for months holds its open events, not its history.
 * Does nothing while changes are unreported (call right after
 * bgp_detect_each_changed) or when out of memory. bgp_detect_each no longer
 * lists what was forgotten; the same event seen again is a new event, as
 * after its end. */
void bgp_detect_forget_ended(struct bgp_detect *det);

const char *bgp_event_kind_name(enum bgp_event_kind k); /* "hijack", "leak", "outage", ... */

/* The event as the JSON object `meridian bgp scan --json` prints. */
enum mrd_code bgp_event_json(const struct bgp_event *ev, json_t **ret_json, struct mrd_err *err);

/* The AS path as JSON: ASNs in order, a set as a nested array. */
json_t *bgp_aspath_json(const struct bgp_aspath *path);

/* ---- routing view: what the routes seen say of an address ---- */

#define BGP_RIB_MAX_ORIGINS 8                  /* distinct origin ASNs reported per prefix */
#define BGP_RIB_MAX_PREFIXES ((size_t)1 << 24) /* prefixes one view keeps, withdrawn ones too */
#define BGP_RIB_WITHDRAWN_KEEP (30u * 86400u)  /* seconds a withdrawn prefix is remembered */
#define BGP_RIB_PRUNE_MIN ((size_t)4096)       /* no sweep of withdrawn prefixes below this */

/* Every route of every peer by prefix (a live sensor feeds it beside its
 * detector), for the longest-match lookups of other sensors: the DNS
 * sensor's ASN excuse and its correlation with routing (docs/dns.md,
 * "With the routing sensor"). A prefix whose last route is withdrawn is
 * kept, withdrawn, with the time and the origin of that last route, for
 * BGP_RIB_WITHDRAWN_KEEP seconds (by the routes' own times): older ones
 * are dropped when the view has doubled since the last sweep. */
struct bgp_rib;

enum mrd_code bgp_rib_new(struct bgp_rib **ret_rib, struct mrd_err *err);
void bgp_rib_free(struct bgp_rib *rib);

/* Feeds one route as bgp_detect_route does: a RIB entry or an
 * announcement adds or replaces the route of (peer, prefix, path id); a
 * withdrawal removes it; a peer leaving Established removes all its
 * routes. MRD_E_TOOBIG past BGP_RIB_MAX_PREFIXES prefixes (routed or
 * withdrawn within BGP_RIB_WITHDRAWN_KEEP) or BGP_MAX_TRACKED routes. */
enum mrd_code bgp_rib_route(struct bgp_rib *rib, const struct bgp_route *route,
                            struct mrd_err *err);

/* Routes held now. */
size_t bgp_rib_count(const struct bgp_rib *rib);

struct bgp_rib_entry {
    struct bgp_prefix prefix;
    size_t routes;         /* routes (peer, path id) carrying it now; 0: withdrawn */
    uint32_t since;        /* routes > 0: when it became routed */
    uint32_t withdrawn_at; /* routes == 0: when its last route went */
    size_t norigins;       /* routes > 0: the origins of its routes; else of its last one */
    uint32_t origins[BGP_RIB_MAX_ORIGINS]; /* ascending, distinct */
};

/* The longest prefix holding addr, among those routed now when
 * routed_only, else among every prefix ever routed (a withdrawn one
 * included). False when there is none. */
bool bgp_rib_lookup(const struct bgp_rib *rib, const struct bgp_addr *addr, bool routed_only,
                    struct bgp_rib_entry *ret);

/* True when a lies inside p (same family). */
bool bgp_prefix_holds(const struct bgp_prefix *p, const struct bgp_addr *a);

/* ---- alerts as STIX 2.1 (docs/bgp.md, "STIX alerts") ---- */

#define BGP_STIX_EXT_ID "extension-definition--55216efd-e6c2-52d8-b102-8ec96c5da078"
#define BGP_STIX_IDENTITY_ID "identity--00df6fdb-cbad-5466-99f0-23b15822b6e5"
#define BGP_STIX_ID_NS "4f8a0dd9-0644-58ae-bab2-903350aa073b" /* UUIDv5 namespace of alerts */

/* Appends the identity (the sensor) and the extension-definition that
 * every alert names to objects (a JSON array). */
enum mrd_code bgp_stix_definitions(json_t *objects, struct mrd_err *err);

/* Appends ev as STIX 2.1 objects to objects: an observed-data whose
 * property extension BGP_STIX_EXT_ID carries bgp_event_json's fields, and
 * the autonomous-system and ipv4-addr/ipv6-addr SCOs it refers to (SCOs
 * whose id is already a key of seen are not repeated; seen gets the new
 * ids). The observed-data id is a UUIDv5 of what identifies the event and
 * its first_seen, so a later, longer view of the same event is a new
 * version (modified = last_seen) of the same object. No TLP marking: the
 * caller adds the one it chose. */
enum mrd_code bgp_event_stix(const struct bgp_event *ev, json_t *objects, json_t *seen,
                             struct mrd_err *err);

#define BGP_EVENT_ID_LEN 51 /* "observed-data--" and a UUID */

/* The id of the observed-data bgp_event_stix makes of ev. */
enum mrd_code bgp_event_id(const struct bgp_event *ev, char out[BGP_EVENT_ID_LEN + 1],
                           struct mrd_err *err);

#endif
