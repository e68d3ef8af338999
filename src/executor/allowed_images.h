/*
 * gitlab-runner's common.VerifyAllowedImage, shared by the executors that
 * take images from the job (docker, kubernetes): an image may be used when
 * it matches one of the allowed globs (doublestar syntax), is one of the
 * executor's internal images (config.toml's image, the helper image), or
 * when the allowed list is empty.
 */
#ifndef CR_ALLOWED_IMAGES_H
#define CR_ALLOWED_IMAGES_H

#include "util/strvec.h"

/*
 * Whether image may be used.  what is "images" or "services" (the
 * option's name after "allowed_").  internal (may be NULL) lists images
 * allowed whatever the list says.  When not allowed, the job-log lines
 * gitlab-runner prints are appended to lines (without newlines; "" for a
 * blank line) and 0 is returned; else 1 and lines is untouched.
 */
int allowed_image(const char *image, const char *what,
		  const struct strvec *allowed,
		  const struct strvec *internal, struct strvec *lines);

#endif
