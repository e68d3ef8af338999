/*
 * The job's TLS variables, as gitlab-runner's Build.GetCITLSVariables
 * gives them (common/build.go), all file variables (the value is written
 * to a file in the job's temporary directory and the variable names it):
 *  - CI_SERVER_TLS_CA_FILE: the content of tls-ca-file when it is set
 *    and holds certificates (network/client.go buildCAChain returns the
 *    CA data the client loaded); else the chain that verified GitLab
 *    on the job request (https only; job_settings.tls_ca_chain);
 *  - CI_SERVER_TLS_CERT_FILE and CI_SERVER_TLS_KEY_FILE: the content of
 *    tls-cert-file and tls-key-file, when both are set and readable
 *    (network/gitlab.go loadTLSData); the key is not public.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "job/engine_internal.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

/* Certificate and key files are small; a bigger one is not one of them. */
#define TLS_FILE_MAX ((size_t)4 << 20)

/* The content of path into out; false (logged) when it cannot be read. */
static bool read_tls_file(const char *path, struct buf *out)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_warn("cannot read %s for the job: %s", path, strerror(errno));
		return false;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("cannot read %s for the job: %s", path,
				 strerror(errno));
			break;
		}
		if (out->len + (size_t)n > TLS_FILE_MAX) {
			log_warn("%s is larger than %zu bytes: not given to the job",
				 path, TLS_FILE_MAX);
			n = -1;
			break;
		}
		(void)buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return n == 0;
}

void job_add_tls_variables(const struct job *job, struct variables *all)
{
	const struct runner_config *rc = job->settings.runner;
	struct buf ca = BUF_INIT, cert = BUF_INIT, key = BUF_INIT;

	if (rc->tls_ca_file && *rc->tls_ca_file &&
	    read_tls_file(rc->tls_ca_file, &ca) &&
	    strstr(ca.data, "-----BEGIN CERTIFICATE-----"))
		variables_add(all, "CI_SERVER_TLS_CA_FILE", ca.data,
			      VAR_PUBLIC | VAR_FILE | VAR_RAW);
	else if (job->settings.tls_ca_chain && *job->settings.tls_ca_chain)
		variables_add(all, "CI_SERVER_TLS_CA_FILE",
			      job->settings.tls_ca_chain,
			      VAR_PUBLIC | VAR_FILE | VAR_RAW);
	if (rc->tls_cert_file && *rc->tls_cert_file && rc->tls_key_file &&
	    *rc->tls_key_file && read_tls_file(rc->tls_cert_file, &cert) &&
	    read_tls_file(rc->tls_key_file, &key) && cert.len && key.len) {
		variables_add(all, "CI_SERVER_TLS_CERT_FILE", cert.data,
			      VAR_PUBLIC | VAR_FILE | VAR_RAW);
		variables_add(all, "CI_SERVER_TLS_KEY_FILE", key.data,
			      VAR_FILE | VAR_RAW);
	}
	buf_release(&ca);
	buf_release(&cert);
	buf_release_secret(&key);
}
