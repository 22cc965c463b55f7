/*
 * server/cli_privacy.h - `switchboard privacy delete --user ID [--no-wait]` and
 * `switchboard privacy export --user ID`.
 */
#ifndef SB_SERVER_CLI_PRIVACY_H
#define SB_SERVER_CLI_PRIVACY_H

#include "core/config.h"

/* Returns the process exit code (0, 1 runtime failure, 2 usage). */
int cli_privacy(const struct config *cfg, int argc, const char **argv);

#endif
