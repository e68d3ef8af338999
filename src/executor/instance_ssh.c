/*
 * An acquired instance's connect info as "crunner ssh-helper" options.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autoscale/instance_group.h"
#include "executor/instance_ssh.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define NS_PER_S 1000000000LL

void instance_ssh_split_addr(const char *addr, char **host, char **port)
{
	const char *colon = strrchr(addr, ':');
	const char *close;

	*port = NULL;
	if (addr[0] == '[' && (close = strchr(addr, ']')) != NULL) {
		*host = xstrndup(addr + 1, (size_t)(close - addr - 1));
		if (close[1] == ':' && close[2])
			*port = xstrdup(close + 2);
		return;
	}
	/* A bare IPv6 address has colons of its own and no port. */
	if (!colon || strchr(addr, ':') != colon) {
		*host = xstrdup(addr);
		return;
	}
	*host = xstrndup(addr, (size_t)(colon - addr));
	if (colon[1])
		*port = xstrdup(colon + 1);
}

static void push2(struct strvec *v, const char *a, const char *b)
{
	strvec_push(v, a);
	strvec_push(v, b);
}

/* Whole seconds, rounded up, of a positive duration in ns. */
static long ceil_s(int64_t ns)
{
	return (long)((ns + NS_PER_S - 1) / NS_PER_S);
}

int instance_ssh_args(const struct ig_connect_info *ci, struct strvec *args,
		      struct strvec *env, struct buf *err)
{
	const struct ig_connector *c = &ci->conn;
	const char *addr = ci->internal_addr && *ci->internal_addr ?
		ci->internal_addr : ci->external_addr;
	const char *id = ci->id && *ci->id ? ci->id : "(no id)";
	char *host, *port;

	if (c->protocol && *c->protocol && strcmp(c->protocol, "ssh")) {
		buf_seterr(err, "instance %s: protocol '%s' is not supported (only ssh)",
			   id, c->protocol);
		return CR_ERR_UNSUPPORTED;
	}
	if (!addr || !*addr) {
		buf_seterr(err, "instance %s has no address to connect to", id);
		return CR_ERR_INVALID;
	}
	instance_ssh_split_addr(addr, &host, &port);
	push2(args, "--host", host);
	if (port)
		push2(args, "--port", port);
	else if (c->protocol_port > 0)
		strvec_pushf(args, "--port=%d", c->protocol_port);
	free(host);
	free(port);
	if (c->username && *c->username)
		push2(args, "--user", c->username);
	strvec_push(args, "--disable-strict-host-key-checking");
	if (c->timeout_ns > 0)
		strvec_pushf(args, "--connect-timeout=%ld", ceil_s(c->timeout_ns));
	if (c->keepalive_ns > 0)
		strvec_pushf(args, "--keepalive=%ld", ceil_s(c->keepalive_ns));

	if (c->key && c->key_len) {
		struct buf kv = BUF_INIT;

		(void)buf_addstr(&kv, "CRUNNER_SSH_PRIVATE_KEY=");
		(void)buf_add(&kv, c->key, c->key_len);
		strvec_push(env, kv.data);
		buf_release_secret(&kv);
	} else {
		strvec_push(env, "CRUNNER_SSH_PRIVATE_KEY");
	}
	if (c->password && *c->password) {
		struct buf kv = BUF_INIT;

		(void)buf_addf(&kv, "CRUNNER_SSH_PASSWORD=%s", c->password);
		strvec_push(env, kv.data);
		buf_release_secret(&kv);
	} else {
		strvec_push(env, "CRUNNER_SSH_PASSWORD");
	}
	return 0;
}

char *instance_dial_ident(const struct ig_connect_info *ci,
			  int log_internal_ip, int log_external_ip)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, ci->id ? ci->id : "");
	if (log_internal_ip && ci->internal_addr && *ci->internal_addr)
		buf_addf(&b, ", %s", ci->internal_addr);
	if (log_external_ip && ci->external_addr && *ci->external_addr)
		buf_addf(&b, ", %s", ci->external_addr);
	return buf_detach(&b, NULL);
}
