/*
 * `include:` entries whose files are not in the working tree: remote,
 * project/ref/file, template and component, and local ones inside a file
 * that came from another project (GitLab reads those from that project
 * at that ref).  local/yaml.c walks the includes; this fetches the text
 * (local/include_fetch.h: HTTP and the cache) and says where the file's
 * own `include: local` entries live.
 *
 * GitLab's rules (lib/gitlab/ci/config/external/file/,
 * app/services/ci/components/fetch_service.rb):
 *  - a plain string is a remote include when it is an http(s) URL;
 *  - remote and project files must end in .yml or .yaml, templates in
 *    .gitlab-ci.yml;
 *  - project: ref defaults to HEAD, file may be a list, leading '/' off;
 *  - component: "<instance fqdn>/<project path>/<name>@<version>", the
 *    file templates/<name>.yml, else templates/<name>/template.yml, at
 *    version: "~latest" is the highest released semantic version (no
 *    pre-release), "1" or "1.2" the highest of that major (and minor),
 *    anything else a tag, branch or commit as it is;
 *  - a remote or template file's local includes are the includer's; a
 *    project or component file's are in that project, at that ref.
 * Remote URLs are fetched without the token; the instance's API with it.
 */
#ifndef CR_LOCAL_INCLUDE_REMOTE_H
#define CR_LOCAL_INCLUDE_REMOTE_H

#include "local/include_fetch.h"

struct buf;
struct gitlab_instance;
struct ynode;
struct yaml_include_ctx;
struct yaml_fetched;

struct include_remote {
	/* The instance for project/template/component; url NULL: unknown. */
	const struct gitlab_instance *instance;
	/* Why the instance is unknown, for the error message; may be NULL. */
	const char *instance_why;
	struct include_fetch fetch;
};

/*
 * yaml_include_ctx.fetch (local/yaml.h): the files entry names, read as
 * from a file of project at ref (project NULL: the working tree).  *out
 * is a new array of *nr files (the caller releases each one and frees
 * the array); on failure err holds one sentence that starts with the
 * entry's file:line:col and says what to do.
 */
int include_remote_fetch(void *ir, const struct yaml_include_ctx *ic,
			 const struct ynode *entry, const char *project,
			 const char *ref, struct yaml_fetched **out, size_t *nr,
			 struct buf *err);

/*
 * Exposed for the unit tests.  A semantic version "[v]MAJOR.MINOR.PATCH
 * [-pre][+build]": 1 and the numbers (prerelease: whether there is a
 * "-pre"); 0 when text is not one.
 */
int include_semver_parse(const char *text, long v[3], int *prerelease);

/*
 * The tag a component version resolves to among a releases API answer
 * (a JSON array of objects with "tag_name"): for "~latest" the highest
 * semantic version without pre-release, for "1" / "1.2" the highest with
 * that major (minor); a new string, NULL when none matches or version is
 * of another form.
 */
char *include_component_tag(const char *releases_json, size_t len,
			    const char *version);

#endif
