/* crunner exec: is there a Docker engine for jobs with an image? */
#ifndef CR_LOCAL_DOCKER_PROBE_H
#define CR_LOCAL_DOCKER_PROBE_H

struct buf;

/*
 * Whether the engine DOCKER_HOST names (default unix:///var/run/docker.sock)
 * accepts a connection: a unix socket is connected to, a tcp:// engine is
 * taken as there (the job then says if it is not).  Returns 1, or 0 with
 * why saying what is missing.
 */
int local_docker_available(struct buf *why);

#endif
