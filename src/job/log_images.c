/*
 * FF_LOG_IMAGES_CONFIGURED_FOR_JOB: as gitlab-runner's logUsedImages, the
 * runner's log (not the job's) names the job's image and each service
 * image, with its image:docker:platform when set, once the job starts.
 * gitlab-runner says it with logrus fields; crunner's log has none, so
 * they follow the message as key=value words, the job's first.
 */
#include <stdio.h>

#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

static void log_image(const struct job *job, const char *what,
		      const struct job_image *img)
{
	struct buf fields = BUF_INIT;

	(void)buf_addf(&fields, "job=%lld project=%lld runner=%s",
		       (long long)job->payload->id,
		       (long long)job->payload->job_info.project_id,
		       job->short_token);
	if (img->name && *img->name) {
		(void)buf_addf(&fields, " image_name=%s", img->name);
		if (img->executor_opts.docker.platform &&
		    *img->executor_opts.docker.platform)
			(void)buf_addf(&fields, " image_platform=%s",
				       img->executor_opts.docker.platform);
	}
	log_info("%s configured for job %s", what, fields.data);
	buf_release(&fields);
}

void job_log_images(const struct job *job)
{
	const struct job_payload *p = job->payload;
	size_t i;

	if (!variables_get_bool(&job->vars, "FF_LOG_IMAGES_CONFIGURED_FOR_JOB",
				0))
		return;
	/* gitlab-runner: the job's image only when it has a name. */
	if (p->image && p->image->name && *p->image->name)
		log_image(job, "Image", p->image);
	for (i = 0; i < p->nr_services; i++)
		log_image(job, "Service image", &p->services[i]);
}
