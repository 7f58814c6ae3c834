/* The delivery settings of meridian.conf (smtp-*, webhook-ca, deliver-*),
 * shared by `meridian serve` and `meridian notify deliver`. */
#ifndef MRD_CLI_NOTIFY_H
#define MRD_CLI_NOTIFY_H

#include "conf/conf.h"
#include "notify/deliver.h"

/* Fills ret from cf (data: the data directory, for the OpenPGP keyring);
 * reads the password file. Prints the error and returns CLI_EXIT_USAGE on
 * a bad setting. */
int cli_notify_deliver_conf(const char *verb, const struct conf *cf, const char *data,
                            struct notify_deliver_conf *ret);

#endif
