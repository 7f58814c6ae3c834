/*
 * dns_int.h: helpers shared by the files of src/dns/, not part of its API.
 */
#ifndef MRD_DNS_INT_H
#define MRD_DNS_INT_H

#include <netinet/in.h>

#include "core/timestamp.h"
#include "dns/dns.h"

/* What a parent publishes for a zone, as learned by following referrals. */
struct dns_deleg {
    struct dns_name cut; /* the zone the last referral named */
    json_t *ns;          /* sorted NS names */
    json_t *glue;        /* NS name -> sorted addresses */
    json_t *ds;          /* sorted "tag alg type HEX" */
    json_t *parent_servers;
    struct dns_msg *ds_msg; /* the parent's DS answer (NULL: none) */
    size_t nparent, nnext;
    char parent[DNS_MAX_SET][DNS_MAX_SERVER + 1]; /* the parent's servers asked */
    char next[DNS_MAX_SET][DNS_MAX_SERVER + 1];   /* the zone's servers, from glue */
};

enum mrd_code dns__delegation(const struct dns_config *cfg, const struct dns_transport *t,
                              const struct dns_name *zone, struct dns_deleg *d,
                              struct mrd_err *err);
void dns__deleg_release(struct dns_deleg *d);
enum mrd_code dns__auth_addrs(const struct dns_transport *t, const struct dns_deleg *d,
                              const struct dns_name *name, json_t *ret_set, bool *ret_ok,
                              struct mrd_err *err);
enum mrd_code dns__answer_addrs(const struct dns_msg *m, uint16_t type, json_t *set,
                                struct mrd_err *err);
void dns__server_of(const struct dns_rr *rr, char out[DNS_MAX_SERVER + 1]);
void dns__addr_str(const struct dns_rr *rr, char out[INET6_ADDRSTRLEN]);
void dns__ds_str(const struct dns_rr *rr, char *out, size_t cap);
void dns__set_sort(json_t *arr);
enum mrd_code dns__set_add(json_t *arr, const char *s, struct mrd_err *err);
void dns__time_str(int64_t sec, char out[40]);

#endif
