/*
 * cli_feed: how `meridian serve` and `meridian feed fetch` report a feed
 * round (defined in cli_feed.c).
 */
#ifndef MRD_CLI_CLI_FEED_H
#define MRD_CLI_CLI_FEED_H

#include <stdbool.h>

#include "feed/feed.h"

/* One line per round: to the log (serve) or stderr (feed fetch). */
void cli_feed_report(const struct feed_report *r, bool to_log);

#endif
