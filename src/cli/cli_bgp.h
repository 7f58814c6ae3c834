/*
 * cli_bgp.h: the routing inputs `meridian bgp scan` and the routing sensor
 * of `meridian serve` both read (VRPs, watch configuration, AS
 * relationships), loaded and parsed one way.
 */
#ifndef MRD_CLI_BGP_H
#define MRD_CLI_BGP_H

#include <stdint.h>

#include "bgp/bgp.h"
#include "policy/policy.h"

struct cli_bgp_inputs {
    struct bgp_vrps *vrps; /* finished; NULL when no file was given */
    struct bgp_config *cfg;
    struct bgp_asrel *rel;
};

/* Reads and parses each file given (a NULL path leaves its member NULL);
 * VRPs expired before now are dropped. Prints errors as `meridian VERB:
 * PATH: message` and returns CLI_EXIT_USAGE; in is then released. */
int cli_bgp_inputs_load(const char *verb, const char *vrp_path, const char *cfg_path,
                        const char *rel_path, int64_t now, struct cli_bgp_inputs *in);
void cli_bgp_inputs_release(struct cli_bgp_inputs *in);

/* ---- the routing sensor of `meridian serve` (cli_sensor.c) ---- */

struct conf;
struct store;
struct cli_sensor;
struct dns_routing;

/* When bmp-listen is set in cf: loads bmp-vrps, bmp-config and bmp-as-rel,
 * resolves bmp-collection and the node's org, and starts the BMP listener
 * (sensor.h). *ret stays NULL when bmp-listen is not set. Prints errors as
 * `meridian serve: ...` and returns CLI_EXIT_USAGE. Call with signals
 * blocked (it starts a thread). */
int cli_sensor_start(const struct conf *cf, const char *data_dir, struct store *st,
                     struct cli_sensor **ret);
void cli_sensor_stop(struct cli_sensor *s);
/* The BMP listener's status for the console (sensor_bmp_status). */
json_t *cli_sensor_status(struct cli_sensor *s);

/* What the routing sensor knows, for the DNS sensor (sensor_view_routing);
 * NULL when s is NULL (no routing sensor). Lives as long as s. */
const struct dns_routing *cli_sensor_routing(struct cli_sensor *s);
/* The TLP the routing sensor marks its alerts with. */
enum policy_tlp cli_sensor_tlp(const struct cli_sensor *s);

#endif
