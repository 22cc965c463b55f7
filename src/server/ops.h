/*
 * server/ops.h - /healthz, /readyz and /metrics.
 *
 * Owns: a store connection of its own (behind a mutex) for readiness and the queue gauges.
 */
#ifndef SB_SERVER_OPS_H
#define SB_SERVER_OPS_H

#include "core/err.h"
#include "http/http.h"
#include "store/store.h"

struct ops;

MUST_USE enum err ops_new(const struct store_opts *so, struct ops **out);
void ops_free(struct ops *o);

http_handler_fn ops_healthz;
http_handler_fn ops_readyz;
http_handler_fn ops_metrics;

#endif
