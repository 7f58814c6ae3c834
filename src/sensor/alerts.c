/*
 * alerts.c: how routing alerts are marked for sharing (sensor.h), one rule
 * for `meridian bgp scan --stix` and the live sensor.
 */
#include <string.h>

#include "sensor/sensor.h"

enum mrd_code sensor_alerts_mark(json_t *objects, enum policy_tlp tlp, struct mrd_err *err)
{
    json_t *o;
    size_t i;

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
