/*
 * fuzz_bmp: the BMP decoder (RFC 7854 framing, per-peer headers, Peer Up
 * OPENs and their capabilities, Statistics, Initiation/Termination TLVs,
 * Route Monitoring UPDATEs through the shared UPDATE decoder), fed the way
 * the listener in `meridian serve` feeds it: framed message by message,
 * every route formatted as a bgpdump line and handed to the
 * hijack/leak/outage detector under a fixed configuration, whose changed
 * events are reported and ended ones forgotten after each message, and to
 * the routing view (bgp_rib) the DNS sensor reads: after each announced
 * route, the longest routed prefix holding its first address must be at
 * least as long as its prefix. The input is
 * also decoded in two pieces split at its first byte, as a TCP stream
 * arrives, which must give the same result. Nothing may crash, leak or
 * read outside the buffer; an error must carry a message; a framed
 * message's length never exceeds BGP_BMP_MAX_MSG.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"

static const char fixed_cfg[] =
    "{\"prefixes\": [{\"prefix\": \"203.0.113.0/24\", \"origins\": [65002]},"
    " {\"prefix\": \"2001:db8:ff00::/40\", \"origins\": [65002], \"max_length\": 48}],"
    " \"groups\": {\"a\": [65002], \"b\": [64666]}}";

static struct bgp_config *cfg;

struct ctx {
    struct mrd_buf out;
    struct bgp_detect *det;
    struct bgp_rib *rib;
    size_t routes;
};

static int on_route(const struct bgp_route *r, void *arg)
{
    struct ctx *c = arg;

    mrd_buf_reset(&c->out);
    if (bgp_route_format_bgpdump(r, &c->out, NULL) != MRD_OK)
        abort(); /* every decoded route must format */
    (void)bgp_detect_route(c->det, r, NULL);
    if (bgp_rib_route(c->rib, r, NULL) == MRD_OK &&
        (r->kind == BGP_ROUTE_RIB || r->kind == BGP_ROUTE_ANNOUNCE) && r->attrs != NULL) {
        struct bgp_rib_entry e;
        if (!bgp_rib_lookup(c->rib, &r->prefix.addr, true, &e) || e.prefix.len < r->prefix.len ||
            e.routes == 0 || !bgp_prefix_holds(&e.prefix, &r->prefix.addr))
            abort();
    }
    c->routes++;
    return 0;
}

static void on_event(const struct bgp_event *ev, void *arg)
{
    json_t *j = NULL;
    char id[BGP_EVENT_ID_LEN + 1];
    (void)arg;
    if (bgp_event_json(ev, &j, NULL) != MRD_OK || bgp_event_id(ev, id, NULL) != MRD_OK)
        abort();
    json_decref(j);
}

/* Frames and decodes in as a stream would arrive: first cut bytes, then
 * the rest. Returns the number of routes, or (size_t)-1 on an error. */
static size_t run(const uint8_t *in, size_t size, size_t cut)
{
    struct bgp_bmp *b = NULL;
    struct ctx c = {0};
    struct mrd_err err = {0};
    size_t off = 0, avail = cut < size ? cut : size, ret = (size_t)-1;

    mrd_buf_init(&c.out, 1 << 20);
    if (bgp_bmp_new(&b, NULL) != MRD_OK ||
        bgp_detect_new(cfg, NULL, NULL, &c.det, NULL) != MRD_OK ||
        bgp_rib_new(&c.rib, NULL) != MRD_OK)
        abort();
    for (;;) {
        size_t n;
        struct bgp_bmp_msg m;
        if (bgp_bmp_frame(in + off, avail - off, off, &n, &err) != MRD_OK) {
            if (err.msg[0] == '\0')
                abort();
            goto out;
        }
        if (n > BGP_BMP_MAX_MSG || n > avail - off)
            abort();
        if (n == 0) {
            if (avail == size)
                break;
            avail = size; /* the rest of the stream arrives */
            continue;
        }
        if (bgp_bmp_decode(b, in + off, n, off, &m, on_route, &c, &err) != MRD_OK) {
            if (err.msg[0] == '\0')
                abort();
            goto out;
        }
        off += n;
        /* what the sensor does after each read: report, then forget */
        bgp_detect_each_changed(c.det, on_event, NULL);
        bgp_detect_forget_ended(c.det);
    }
    ret = c.routes;
out:
    bgp_detect_finish(c.det);
    bgp_detect_each(c.det, on_event, NULL);
    bgp_detect_free(c.det);
    bgp_rib_free(c.rib);
    bgp_bmp_free(b);
    mrd_buf_release(&c.out);
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (cfg == NULL && bgp_config_parse(fixed_cfg, strlen(fixed_cfg), &cfg, NULL) != MRD_OK)
        abort();
    if (size == 0)
        return 0;
    if (run(in + 1, size - 1, size - 1) != run(in + 1, size - 1, in[0]))
        abort(); /* the same bytes in two pieces decode the same */
    (void)bgp_bmp_sniff(in, size);
    return 0;
}
