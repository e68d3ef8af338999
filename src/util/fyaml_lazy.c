/*
 * libfyaml, loaded on first use (CR_LAZY_FYAML, the default).
 *
 * YAML is read by `crunner exec` (.gitlab-ci.yml and its includes) and by
 * the kubernetes executor (kubeconfig, pod spec patches); `crunner run`
 * with a shell or docker runner reads none, yet linking libfyaml mapped it
 * (and libm, which it needs) into every crunner process.  As
 * src/util/curl_lazy.c does for libcurl, this file defines the libfyaml
 * functions crunner calls, with libfyaml.h's prototypes; --as-needed then
 * leaves it out of the binary's DT_NEEDED and the first call dlopen()s it.
 * When it cannot be loaded, the functions that create something return
 * NULL after one error line naming the library, fy_diag_got_error() says
 * there was an error, and the getters answer as for a NULL node.
 *
 * Process-wide, like the mapping itself: filled once under pthread_once,
 * then only read.
 */
#ifdef CR_LAZY_FYAML

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <libfyaml.h>

#include "util/lazy_lib.h"
#include "util/banned.h"

#define FYAML_SONAME "libfyaml.so.0"

#define FYAML_LAZY_FUNCTIONS(X, V) \
	V(fy_diag_cfg_default, (struct fy_diag_cfg *cfg), (cfg)) \
	X(struct fy_diag *, fy_diag_create, (const struct fy_diag_cfg *cfg), \
	  (cfg), NULL) \
	V(fy_diag_destroy, (struct fy_diag *diag), (diag)) \
	X(struct fy_diag_error *, fy_diag_errors_iterate, \
	  (struct fy_diag *diag, void **prevp), (diag, prevp), NULL) \
	X(bool, fy_diag_got_error, (struct fy_diag *diag), (diag), true) \
	V(fy_diag_set_collect_errors, \
	  (struct fy_diag *diag, bool collect_errors), (diag, collect_errors)) \
	X(struct fy_document *, fy_document_build_from_string, \
	  (const struct fy_parse_cfg *cfg, const char *str, size_t len), \
	  (cfg, str, len), NULL) \
	V(fy_document_destroy, (struct fy_document *fyd), (fyd)) \
	X(struct fy_node *, fy_document_root, (struct fy_document *fyd), \
	  (fyd), NULL) \
	X(char *, fy_emit_document_to_string, \
	  (struct fy_document *fyd, enum fy_emitter_cfg_flags flags), \
	  (fyd, flags), NULL) \
	X(const char *, fy_node_get_scalar, \
	  (struct fy_node *fyn, size_t *lenp), (fyn, lenp), NULL) \
	X(const char *, fy_node_get_scalar0, (struct fy_node *fyn), (fyn), \
	  NULL) \
	X(struct fy_token *, fy_node_get_scalar_token, (struct fy_node *fyn), \
	  (fyn), NULL) \
	X(enum fy_node_style, fy_node_get_style, (struct fy_node *fyn), \
	  (fyn), FYNS_PLAIN) \
	X(const char *, fy_node_get_tag, (struct fy_node *fyn, size_t *lenp), \
	  (fyn, lenp), NULL) \
	X(struct fy_token *, fy_node_get_tag_token, (struct fy_node *fyn), \
	  (fyn), NULL) \
	X(enum fy_node_type, fy_node_get_type, (struct fy_node *fyn), (fyn), \
	  FYNT_SCALAR) \
	X(struct fy_node_pair *, fy_node_mapping_iterate, \
	  (struct fy_node *fyn, void **prevp), (fyn, prevp), NULL) \
	X(struct fy_node *, fy_node_mapping_lookup_by_string, \
	  (struct fy_node *fyn, const char *key, size_t len), \
	  (fyn, key, len), NULL) \
	X(struct fy_node *, fy_node_pair_key, (struct fy_node_pair *fynp), \
	  (fynp), NULL) \
	X(struct fy_node *, fy_node_pair_value, (struct fy_node_pair *fynp), \
	  (fynp), NULL) \
	X(struct fy_node *, fy_node_resolve_alias, (struct fy_node *fyn), \
	  (fyn), NULL) \
	X(struct fy_node *, fy_node_sequence_iterate, \
	  (struct fy_node *fyn, void **prevp), (fyn, prevp), NULL) \
	V(fy_parse_document_destroy, \
	  (struct fy_parser *fyp, struct fy_document *fyd), (fyp, fyd)) \
	X(struct fy_document *, fy_parse_load_document, \
	  (struct fy_parser *fyp), (fyp), NULL) \
	X(struct fy_parser *, fy_parser_create, \
	  (const struct fy_parse_cfg *cfg), (cfg), NULL) \
	V(fy_parser_destroy, (struct fy_parser *fyp), (fyp)) \
	X(int, fy_parser_set_string, \
	  (struct fy_parser *fyp, const char *str, size_t len), \
	  (fyp, str, len), -1) \
	X(const struct fy_mark *, fy_token_start_mark, (struct fy_token *fyt), \
	  (fyt), NULL) \
	X(const struct fy_mark *, fy_token_end_mark, (struct fy_token *fyt), \
	  (fyt), NULL)

enum { FYAML_LAZY_FUNCTIONS(LAZY_LIB_INDEX, LAZY_LIB_INDEX_V) LAZY_COUNT };
static const char *const lazy_names[] = {
	FYAML_LAZY_FUNCTIONS(LAZY_LIB_NAME, LAZY_LIB_NAME_V)
};
static void *lazy_fns[LAZY_COUNT];
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	loaded = lazy_lib_open(FYAML_SONAME, lazy_names, lazy_fns, LAZY_COUNT);
}

static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

FYAML_LAZY_FUNCTIONS(LAZY_LIB_FORWARD, LAZY_LIB_FORWARD_V)

#else
/* ISO C wants a translation unit to declare something. */
typedef int fyaml_lazy_unused;
#endif
