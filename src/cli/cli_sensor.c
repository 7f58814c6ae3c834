/*
 * cli_sensor.c: `meridian serve --bmp-listen`: reads the sensor's settings
 * and files, then hands over to the sensor (sensor.h), which does the work.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_bgp.h"
#include "cli/cli_data.h"
#include "conf/conf.h"
#include "core/alloc.h"
#include "core/log.h"
#include "fed/fed.h"
#include "sensor/sensor.h"
#include "store/store.h"

struct cli_sensor {
    struct cli_bgp_inputs in;
    struct store_collection coll;
    struct store_org org;
    struct fed_trust *trust;
    struct sensor_bmp *bmp;
    struct sensor_view *view;   /* for the DNS sensor of the node */
    struct dns_routing routing; /* over view */
    enum policy_tlp tlp;        /* of the routing alerts */
};

void cli_sensor_stop(struct cli_sensor *s)
{
    if (s == NULL)
        return;
    sensor_bmp_stop(s->bmp);
    sensor_view_free(s->view);
    fed_trust_free(s->trust);
    cli_bgp_inputs_release(&s->in);
    mrd_free(s);
}

json_t *cli_sensor_status(struct cli_sensor *s)
{
    return sensor_bmp_status(s->bmp);
}

const struct dns_routing *cli_sensor_routing(struct cli_sensor *s)
{
    return s != NULL && s->view != NULL ? &s->routing : NULL;
}

enum policy_tlp cli_sensor_tlp(const struct cli_sensor *s)
{
    return s->tlp;
}

int cli_sensor_start(const struct conf *cf, const char *data_dir, struct store *st,
                     struct cli_sensor **ret)
{
    struct cli_sensor *s = NULL;
    struct sensor_bmp_config c = {0};
    struct mrd_err err = {0};
    const char *coll = conf_str(cf, CONF_BMP_COLLECTION);
    int ret_code = CLI_EXIT_USAGE;

    *ret = NULL;
    if (conf_addr_host(cf, CONF_BMP_LISTEN) == NULL)
        return CLI_EXIT_OK;
    if (coll == NULL) {
        cli_errorf("serve", "bmp-listen needs bmp-collection (where the alerts go)");
        return CLI_EXIT_USAGE;
    }
    if (conf_str(cf, CONF_BMP_CONFIG) == NULL && conf_str(cf, CONF_BMP_AS_REL) == NULL) {
        cli_errorf("serve", "bmp-listen needs bmp-config or bmp-as-rel (what to detect)");
        return CLI_EXIT_USAGE;
    }
    s = mrd_calloc(1, sizeof(*s));
    if (s == NULL) {
        cli_errorf("serve", "out of memory");
        return CLI_EXIT_USAGE;
    }
    if (cli_bgp_inputs_load("serve", conf_str(cf, CONF_BMP_VRPS), conf_str(cf, CONF_BMP_CONFIG),
                            conf_str(cf, CONF_BMP_AS_REL), (int64_t)time(NULL),
                            &s->in) != CLI_EXIT_OK ||
        cli_data_collection("serve", st, coll, &s->coll) != CLI_EXIT_OK ||
        cli_data_org("serve", st, NULL, &s->org) != CLI_EXIT_OK)
        goto out;
    /* the routing view only serves the DNS sensor: kept only with it */
    if (fed_trust_load(data_dir, &s->trust, &err) != MRD_OK ||
        (conf_str(cf, CONF_DNS_CONFIG) != NULL && sensor_view_new(&s->view, &err) != MRD_OK)) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    c.host = conf_addr_host(cf, CONF_BMP_LISTEN);
    c.port = conf_addr_port(cf, CONF_BMP_LISTEN);
    c.max_sessions = (unsigned)conf_uint(cf, CONF_BMP_MAX_SESSIONS);
    c.idle_timeout_s = (unsigned)conf_uint(cf, CONF_BMP_IDLE_TIMEOUT);
    c.vrps = s->in.vrps;
    c.cfg = s->in.cfg;
    c.rel = s->in.rel;
    c.view = s->view;
    if (s->view != NULL)
        s->routing = sensor_view_routing(s->view);
    c.st = st;
    c.coll = &s->coll;
    c.org = &s->org;
    c.trust = s->trust;
    if (policy_tlp_parse(conf_str(cf, CONF_BMP_TLP), strlen(conf_str(cf, CONF_BMP_TLP)), &c.tlp,
                         &err) != MRD_OK ||
        sensor_bmp_start(&c, &s->bmp, &err) != MRD_OK) {
        cli_errorf("serve", "%s", err.msg);
        goto out;
    }
    s->tlp = c.tlp;
    mrd_log(MRD_LOG_INFO,
            "routing sensor: BMP on %s%s%s:%u, %zu VRPs, %zu watched prefixes, %zu groups, "
            "%zu AS relationships; alerts to collection %s at TLP:%s",
            strchr(c.host, ':') ? "[" : "", c.host, strchr(c.host, ':') ? "]" : "",
            (unsigned)sensor_bmp_port(s->bmp), s->in.vrps ? bgp_vrps_count(s->in.vrps) : 0,
            s->in.cfg ? s->in.cfg->nprefixes : 0, s->in.cfg ? s->in.cfg->ngroups : 0,
            s->in.rel ? bgp_asrel_count(s->in.rel) : 0, s->coll.id, conf_str(cf, CONF_BMP_TLP));
    *ret = s;
    s = NULL;
    ret_code = CLI_EXIT_OK;
out:
    cli_sensor_stop(s);
    return ret_code;
}
