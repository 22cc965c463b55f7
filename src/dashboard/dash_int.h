/*
 * dashboard/dash_int.h - shared by the dashboard's own files.
 */
#ifndef SB_DASHBOARD_DASH_INT_H
#define SB_DASHBOARD_DASH_INT_H

#include <pthread.h>

#include "dashboard/dashboard.h"
#include "meta/graph.h"
#include "meta/vault.h"

#define DASH_POOL_MAX 16

struct dashboard {
    const struct config *cfg;
    const struct store_opts *so;
    pthread_mutex_t lock;
    struct store *free_stores[DASH_POOL_MAX]; /* idle handles */
    int n_free;
    struct meta_graph *graph; /* NULL when no Meta app is configured */
    struct meta_vault *vault;
    char dummy_hash[160]; /* verified against when an email is unknown: same cost either way */
};

/* A store handle for this request (returned to the pool when the request's arena dies). NULL
 * after answering 503 when the database cannot be opened. */
struct store *dash_store(struct dashboard *d, struct http_req *r);
/* Hex SHA-256 of s, in the arena. */
char *dash_hash_hex(struct arena *a, const char *s);
/* 32 random bytes as base64url, in the arena. */
char *dash_random_token(struct arena *a);
/* The value of one cookie of the request, or NULL. */
const char *dash_cookie(struct http_req *r, const char *name);

http_handler_fn dash_h_login, dash_h_logout, dash_h_me, dash_h_oauth_start, dash_h_oauth_callback;
http_handler_fn dash_h_accounts; /* accounts_api.c */

#endif
