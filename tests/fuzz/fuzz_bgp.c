/*
 * fuzz_bgp: the MRT decoder (RFC 6396 records, BGP UPDATEs inside), the
 * VRP parsers, the watch configuration (--config) and the AS relationship
 * file (--as-rel).
 *
 * The first byte modulo 4 chooses: 0, the rest is an MRT stream whose every
 * route is formatted as a bgpdump line, validated against a small fixed VRP
 * set and fed to the hijack/leak/outage detector under a fixed
 * configuration; 1, a VRP file (JSON or CSV); 2, a configuration, then
 * queried; 3, an AS relationship file, then queried. Nothing may crash, leak
 * or read outside the buffer; an error must carry a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"

static const char fixed_vrps[] = "ASN,IP Prefix,Max Length,Trust Anchor\n"
                                 "AS64500,192.0.2.0/24,24,t\nAS0,10.0.0.0/8,8,t\n"
                                 "AS64510,2001:db8::/32,48,t\n";

static const char fixed_cfg[] =
    "{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\", \"origins\": [64500], \"neighbors\": [3356]},"
    " {\"prefix\": \"2001:db8::/32\", \"origins\": [64510], \"max_length\": 48},"
    " {\"prefix\": \"192.0.2.0/24\"},"
    " {\"prefix\": \"198.18.0.0/15\", \"origins\": [64500], \"policies\": [\"no-export\"]}],"
    " \"groups\": {\"a\": [64500], \"b\": [64501]}}";
static const char fixed_rel[] = "3356|64500|-1\n3356|174|0\n174|64501|-1\n";

static struct bgp_vrps *vrps;
static struct bgp_config *cfg;
static struct bgp_asrel *rel;

struct ctx {
    struct mrd_buf out;
    struct bgp_detect *det;
};

static int on_route(const struct bgp_route *r, void *arg)
{
    struct ctx *c = arg;
    enum bgp_rov_reason reason;

    mrd_buf_reset(&c->out);
    if (bgp_route_format_bgpdump(r, &c->out, NULL) != MRD_OK)
        abort(); /* every decoded route must format */
    if (r->attrs != NULL)
        (void)bgp_rov_validate(vrps, &r->prefix, &r->attrs->path, &reason);
    (void)bgp_detect_route(c->det, r, NULL);
    return 0;
}

static void on_event(const struct bgp_event *ev, void *arg)
{
    json_t *j = NULL, *objs = json_array(), *seen = json_object();
    (void)arg;
    if (bgp_event_json(ev, &j, NULL) != MRD_OK || bgp_event_stix(ev, objs, seen, NULL) != MRD_OK)
        abort(); /* every event must print and become STIX */
    json_decref(j);
    json_decref(objs);
    json_decref(seen);
}

static void query_config(const struct bgp_config *c)
{
    struct bgp_prefix p;
    memset(&p, 0, sizeof(p));
    for (size_t i = 0; i < c->nprefixes; i++) {
        if (bgp_config_match(c, &c->prefixes[i].prefix) != &c->prefixes[i])
            abort(); /* each entry is its own best match */
    }
    p.addr.afi = BGP_AFI_IPV4;
    p.len = 32;
    (void)bgp_config_match(c, &p);
    for (size_t g = 0; g < c->ngroups; g++) {
        for (size_t k = 0; k < c->groups[g].nasns; k++) {
            if (bgp_config_group_of(c, c->groups[g].asns[k]) != (int)g)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    struct mrd_err err = {0};

    if (vrps == NULL) {
        if (bgp_vrps_new(&vrps, NULL) != MRD_OK ||
            bgp_vrps_parse(vrps, fixed_vrps, strlen(fixed_vrps), 0, NULL) != MRD_OK)
            abort();
        bgp_vrps_finish(vrps);
        if (bgp_config_parse(fixed_cfg, strlen(fixed_cfg), &cfg, NULL) != MRD_OK ||
            bgp_asrel_parse(fixed_rel, strlen(fixed_rel), &rel, NULL) != MRD_OK)
            abort();
    }
    if (size == 0)
        return 0;
    if (in[0] % 4 == 0) {
        struct bgp_mrt *mrt = NULL;
        struct ctx c = {0};
        mrd_buf_init(&c.out, 1 << 20);
        if (bgp_detect_new(cfg, rel, vrps, &c.det, NULL) != MRD_OK)
            abort();
        if (bgp_mrt_new(&mrt, &err) == MRD_OK &&
            bgp_mrt_decode(mrt, in + 1, size - 1, 0, on_route, &c, &err) != MRD_OK &&
            err.msg[0] == '\0')
            abort();
        bgp_detect_finish(c.det);
        bgp_detect_each(c.det, on_event, NULL);
        bgp_detect_free(c.det);
        bgp_mrt_free(mrt);
        mrd_buf_release(&c.out);
    } else if (in[0] % 4 == 2) {
        struct bgp_config *c = NULL;
        if (bgp_config_parse((const char *)in + 1, size - 1, &c, &err) == MRD_OK)
            query_config(c);
        else if (err.msg[0] == '\0')
            abort();
        bgp_config_free(c);
    } else if (in[0] % 4 == 3) {
        struct bgp_asrel *r = NULL;
        if (bgp_asrel_parse((const char *)in + 1, size - 1, &r, &err) == MRD_OK)
            (void)bgp_asrel_get(r, 3356, 174);
        else if (err.msg[0] == '\0')
            abort();
        bgp_asrel_free(r);
    } else {
        struct bgp_vrps *v = NULL;
        if (bgp_vrps_new(&v, &err) == MRD_OK &&
            bgp_vrps_parse(v, (const char *)in + 1, size - 1, 0, &err) != MRD_OK &&
            err.msg[0] == '\0')
            abort();
        if (v != NULL)
            bgp_vrps_finish(v);
        bgp_vrps_free(v);
    }
    return 0;
}
