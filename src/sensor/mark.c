/*
 * mark.c: TLP markings of sensor alerts (sensor.h), shared by the
 * sensors inside `serve` and by `meridian bgp|dns --stix`.
 */
#include <string.h>

#include "sensor/sensor.h"

enum mrd_code sensor_alerts_mark(json_t *objects, enum policy_tlp tlp, struct mrd_err *err)
{
    size_t i;
    json_t *o;

    json_array_foreach(objects, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        bool alert = type != NULL && strcmp(type, "observed-data") == 0;
        enum mrd_code rc = policy_tlp_mark(o, alert ? tlp : POLICY_TLP_CLEAR, err);
        if (rc != MRD_OK)
            return rc;
    }
    return MRD_OK;
}
