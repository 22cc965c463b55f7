/*
 * server/cli_posts.h - `switchboard publish` and `switchboard posts list|show`.
 */
#ifndef SB_SERVER_CLI_POSTS_H
#define SB_SERVER_CLI_POSTS_H

#include "core/config.h"

/* `publish --account ID --image PATH|URL [--image ...] --caption TEXT [--fit pad|blur|crop]
 * [--at ISO8601]`: ID is the account's id, its Instagram id or @username; 2 to 10 --image make
 * a carousel. Prints the new post's id. Returns the exit code: 0, 1 runtime failure, 2 usage
 * or invalid input. */
int cli_publish(const struct config *cfg, int argc, const char **argv);
/* `posts list [--json]` (newest first) | `posts show ID [--json]`. */
int cli_posts(const struct config *cfg, int argc, const char **argv);

#endif
