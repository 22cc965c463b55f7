/*
 * meta/graph_int.h - shared by the Graph client's own files; nothing outside meta/ includes it.
 */
#ifndef SB_META_GRAPH_INT_H
#define SB_META_GRAPH_INT_H

#include "meta/graph.h"

/* Fills *out from a parsed body when it holds a Graph error (any shape meta_parse_graph_error()
 * knows), classified, and returns true; false leaves *out untouched. */
bool meta_graph_error_from_json(const json_t *root, int http_status, struct meta_graph_error *out);
/* An error with no Graph body (transport, non-JSON answer): code 0, the given class. */
void meta_graph_error_set(struct meta_graph_error *e, int http_status, enum meta_err_class cls,
                          const char *message);
/* Sets e->retry_after_s for a rate-limit error from the response's usage headers. */
void meta_graph_error_apply_usage(struct meta_graph_error *e, const struct meta_usage *u);
/* The enum err a class is returned as (see meta_graph_call()). */
enum err meta_err_class_to_err(enum meta_err_class c);

/* An answer that is not what the call documents: ERR_UPSTREAM with *gerr META_ERR_INVALID. */
enum err meta_graph_bad_answer(struct meta_graph_error *gerr, int status, const char *what);
/* "/{id}/{edge}" (edge NULL: "/{id}") when id is a plain Graph id ([A-Za-z0-9_]), else NULL. */
const char *meta_graph_id_path(struct arena *a, const char *id, const char *edge);

/* The client's credentials, for the typed calls (graph_login.c). Borrowed from g. */
const char *meta_graph_app_id(const struct meta_graph *g);
const char *meta_graph_app_secret(const struct meta_graph *g);
const char *meta_graph_app_token(const struct meta_graph *g); /* "{app_id}|{app_secret}" */

#endif
