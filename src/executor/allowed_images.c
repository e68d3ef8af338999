/*
 * allowed_images / allowed_services: see allowed_images.h.
 */
#include <string.h>

#include "archive/glob.h"
#include "executor/allowed_images.h"
#include "util/banned.h"

int allowed_image(const char *image, const char *what,
		  const struct strvec *allowed,
		  const struct strvec *internal, struct strvec *lines)
{
	size_t i;

	for (i = 0; i < allowed->nr; i++)
		if (glob_match(allowed->v[i], image))
			return 1;
	for (i = 0; internal && i < internal->nr; i++)
		if (!strcmp(internal->v[i], image))
			return 1;
	/* By default a job may name any image. */
	if (!allowed->nr)
		return 1;
	strvec_push(lines, "");
	strvec_pushf(lines, "ERROR: The \"%s\" image is not present on list of allowed %s:",
		     image, what);
	for (i = 0; i < allowed->nr; i++)
		strvec_pushf(lines, "- %s", allowed->v[i]);
	strvec_push(lines, "");
	strvec_push(lines, "Please check runner's allowed_images configuration: https://docs.gitlab.com/runner/configuration/advanced-configuration/");
	return 0;
}
