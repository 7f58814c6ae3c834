/*
 * format.c: routes as `bgpdump -m` lines, AS paths, prefixes.
 *
 * The line layout follows bgpdump 1.6 field for field, including its
 * quirks (local_pref and med printed as 0 when absent, signed in BGP4MP
 * lines; "NAG" for no ATOMIC_AGGREGATE; well-known communities by name), so
 * the two tools' outputs can be compared byte for byte.
 */
#include <arpa/inet.h>
#include <string.h>

#include "bgp/bgp.h"
#include "core/str.h"

static enum mrd_code put_addr(const struct bgp_addr *a, struct mrd_buf *out, struct mrd_err *err)
{
    char s[INET6_ADDRSTRLEN];
    if (inet_ntop(a->afi == BGP_AFI_IPV6 ? AF_INET6 : AF_INET, a->bytes, s, sizeof(s)) == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "bgp: cannot format an address");
    return mrd_buf_puts(out, s, err);
}

enum mrd_code bgp_addr_format(const struct bgp_addr *a, struct mrd_buf *out, struct mrd_err *err)
{
    return put_addr(a, out, err);
}

enum mrd_code bgp_prefix_format(const struct bgp_prefix *p, struct mrd_buf *out,
                                struct mrd_err *err)
{
    enum mrd_code rc = put_addr(&p->addr, out, err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err, "/%u", p->len);
    return rc;
}

enum mrd_code bgp_prefix_parse(const char *s, size_t n, struct bgp_prefix *ret_prefix,
                               struct mrd_err *err)
{
    char tmp[INET6_ADDRSTRLEN + 8];
    const char *slash = memchr(s, '/', n);
    struct bgp_prefix p;
    uint64_t len;
    size_t alen;

    memset(&p, 0, sizeof(p));
    if (slash == NULL || n >= sizeof(tmp))
        return mrd_err_set(err, MRD_E_PARSE, "bgp: prefix %s is not ADDRESS/LENGTH",
                           MRD_ESCN(s, n));
    alen = (size_t)(slash - s);
    memcpy(tmp, s, alen);
    tmp[alen] = '\0';
    if (inet_pton(AF_INET, tmp, p.addr.bytes) == 1)
        p.addr.afi = BGP_AFI_IPV4;
    else if (inet_pton(AF_INET6, tmp, p.addr.bytes) == 1)
        p.addr.afi = BGP_AFI_IPV6;
    else
        return mrd_err_set(err, MRD_E_PARSE, "bgp: %s is not an IP address", MRD_ESCN(s, alen));
    if (mrd_str_to_u64(slash + 1, n - alen - 1, p.addr.afi == BGP_AFI_IPV6 ? 128 : 32, &len,
                       NULL) != MRD_OK)
        return mrd_err_set(err, MRD_E_PARSE, "bgp: prefix %s has a bad length", MRD_ESCN(s, n));
    p.len = (uint8_t)len;
    for (unsigned bit = p.len; bit < 128; bit++) {
        if (p.addr.bytes[bit / 8] & (0x80 >> (bit % 8)))
            return mrd_err_set(err, MRD_E_PARSE, "bgp: prefix %s has host bits set",
                               MRD_ESCN(s, n));
    }
    *ret_prefix = p;
    return MRD_OK;
}

enum mrd_code bgp_aspath_format(const struct bgp_aspath *path, struct mrd_buf *out,
                                struct mrd_err *err)
{
    static const char open[] = {0, '{', 0, '(', '['};
    static const char close[] = {0, '}', 0, ')', ']'};
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < path->nseg && rc == MRD_OK; i++) {
        const struct bgp_seg *s = &path->seg[i];
        bool set = s->type == BGP_SEG_SET || s->type == BGP_SEG_CONFED_SET;
        if (i > 0)
            rc = mrd_buf_putc(out, ' ', err);
        if (rc == MRD_OK && open[s->type] != 0)
            rc = mrd_buf_putc(out, open[s->type], err);
        for (size_t j = 0; j < s->count && rc == MRD_OK; j++)
            rc = mrd_buf_printf(out, err, "%s%u", j == 0 ? "" : (set ? "," : " "),
                                path->asn[s->off + j]);
        if (rc == MRD_OK && close[s->type] != 0)
            rc = mrd_buf_putc(out, close[s->type], err);
    }
    return rc;
}

static enum mrd_code put_communities(const struct bgp_attrs *a, struct mrd_buf *out,
                                     struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    for (size_t i = 0; i < a->ncommunities && rc == MRD_OK; i++) {
        const uint8_t *p = a->communities + 4 * i;
        uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        const char *sep = i == 0 ? "" : " ";
        if (v == 0xFFFFFF01u)
            rc = mrd_buf_printf(out, err, "%sno-export", sep);
        else if (v == 0xFFFFFF02u)
            rc = mrd_buf_printf(out, err, "%sno-advertise", sep);
        else if (v == 0xFFFFFF03u)
            rc = mrd_buf_printf(out, err, "%slocal-AS", sep);
        else
            rc = mrd_buf_printf(out, err, "%s%u:%u", sep, v >> 16, v & 0xffffu);
    }
    return rc;
}

enum mrd_code bgp_route_format_bgpdump(const struct bgp_route *r, struct mrd_buf *out,
                                       struct mrd_err *err)
{
    static const char *const origins[] = {"IGP", "EGP", "INCOMPLETE"};
    const struct bgp_attrs *a = r->attrs;
    const char *tag = r->kind == BGP_ROUTE_RIB ? "TABLE_DUMP2"
                      : r->extended_time       ? "BGP4MP_ET"
                                               : "BGP4MP";
    /* bgpdump marks ADD-PATH lines with "_AP" and prints the path id
     * after the prefix (RFC 8050). */
    const char *ap = r->has_path_id ? "_AP" : "";
    const char *kind = r->kind == BGP_ROUTE_RIB        ? "B"
                       : r->kind == BGP_ROUTE_ANNOUNCE ? "A"
                       : r->kind == BGP_ROUTE_WITHDRAW ? "W"
                                                       : "STATE";
    enum mrd_code rc;

    if (r->extended_time)
        rc = mrd_buf_printf(out, err, "%s%s|%u.%06u|%s|", tag, ap, r->time, r->time_usec, kind);
    else
        rc = mrd_buf_printf(out, err, "%s%s|%u|%s|", tag, ap, r->time, kind);
    if (rc == MRD_OK)
        rc = put_addr(&r->peer_ip, out, err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err, "|%u|", r->peer_as);
    if (rc != MRD_OK)
        return rc;
    if (r->kind == BGP_ROUTE_STATE)
        return mrd_buf_printf(out, err, "%u|%u\n", r->old_state, r->new_state);
    rc = bgp_prefix_format(&r->prefix, out, err);
    if (rc == MRD_OK && r->has_path_id)
        rc = mrd_buf_printf(out, err, "|%u", r->path_id);
    if (rc != MRD_OK || r->kind == BGP_ROUTE_WITHDRAW)
        return rc == MRD_OK ? mrd_buf_putc(out, '\n', err) : rc;
    rc = mrd_buf_putc(out, '|', err);
    if (rc == MRD_OK)
        rc = bgp_aspath_format(&a->path, out, err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err, "|%s|", origins[a->origin]);
    if (rc != MRD_OK)
        return rc;
    if ((a->has & BGP_HAS_MP_NEXTHOP) && r->prefix.addr.afi == BGP_AFI_IPV6) {
        struct bgp_addr nh = {.afi = BGP_AFI_IPV6};
        memcpy(nh.bytes, a->mp_nexthop, 16);
        rc = put_addr(&nh, out, err);
    } else {
        struct bgp_addr nh = {.afi = BGP_AFI_IPV4};
        if (a->has & BGP_HAS_NEXTHOP)
            memcpy(nh.bytes, a->nexthop, 4);
        rc = put_addr(&nh, out, err);
    }
    if (rc != MRD_OK)
        return rc;
    {
        uint32_t lp = (a->has & BGP_HAS_LOCALPREF) ? a->local_pref : 0;
        uint32_t med = (a->has & BGP_HAS_MED) ? a->med : 0;
        /* bgpdump prints these with %u in TABLE_DUMP2 lines, %d in BGP4MP. */
        if (r->kind == BGP_ROUTE_RIB)
            rc = mrd_buf_printf(out, err, "|%u|%u|", lp, med);
        else
            rc = mrd_buf_printf(out, err, "|%d|%d|", (int32_t)lp, (int32_t)med);
    }
    if (rc == MRD_OK)
        rc = put_communities(a, out, err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err, "|%s|", (a->has & BGP_HAS_ATOMIC) ? "AG" : "NAG");
    if (rc == MRD_OK && (a->has & BGP_HAS_AGGREGATOR)) {
        struct bgp_addr ag = {.afi = BGP_AFI_IPV4};
        memcpy(ag.bytes, a->aggregator_addr, 4);
        rc = mrd_buf_printf(out, err, "%u ", a->aggregator_as);
        if (rc == MRD_OK)
            rc = put_addr(&ag, out, err);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_puts(out, "|\n", err);
    return rc;
}
