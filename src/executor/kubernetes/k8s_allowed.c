/*
 * allowed_services and allowed_images for the kubernetes executor, as
 * gitlab-runner's verifyAllowedImages checks them while it builds the
 * pod's containers: the services first (preparePodServices), then the
 * build container's image.  config.toml's image and the helper image are
 * internal: always allowed.
 */
#include <stdlib.h>

#include "config/config.h"
#include "executor/allowed_images.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/k8s_pod.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static int check(struct k8s_job *kj, const char *image, const char *what,
		 const struct strvec *allowed, const struct strvec *internal)
{
	struct strvec lines = STRVEC_INIT;
	size_t i;

	if (allowed_image(image, what, allowed, internal, &lines))
		return 1;
	for (i = 0; i < lines.nr; i++)
		k8s_say(kj, "%s", lines.v[i]);
	strvec_clear(&lines);
	return 0;
}

int k8s_allowed_images(struct k8s_job *kj,
		       const struct k8s_service_spec *services, size_t nr)
{
	struct strvec internal = STRVEC_INIT;
	size_t i;
	int r = 0;

	if (kj->kc->image)
		strvec_push_nodup(&internal, kj->vars ?
				  variables_expand(kj->vars, kj->kc->image) :
				  xstrdup(kj->kc->image));
	strvec_push(&internal, kj->helper_image);
	for (i = 0; i < nr; i++)
		if (!check(kj, services[i].image, "services",
			   &kj->kc->allowed_services, &internal)) {
			k8s_fail(kj, CR_ERR_INVALID,
				 "setting up build pod: disallowed image");
			r = CR_ERR_INVALID;
			goto out;
		}
	if (!check(kj, kj->image, "images", &kj->kc->allowed_images,
		   &internal)) {
		k8s_fail(kj, CR_ERR_INVALID,
			 "setting up build pod: building build container: disallowed image");
		r = CR_ERR_INVALID;
	}
out:
	strvec_clear(&internal);
	return r;
}
