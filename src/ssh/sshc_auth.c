/*
 * Login: the private key first (identity_file, or a key held in memory
 * such as a fleeting instance's), then the password.  gitlab-runner's Go
 * client offers the same two methods.  The error names each method tried
 * and what the server would still accept.
 */
#include <string.h>

#include "ssh/sshc_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

static int load_key(struct sshc_conn *c, const struct sshc_target *t,
		    ssh_key *key, struct buf *err)
{
	if (t->private_key && *t->private_key) {
		if (ssh_pki_import_privkey_base64(t->private_key, NULL, NULL,
						  NULL, key) != SSH_OK) {
			buf_seterr(err, "ssh: getting SSH authentication methods for %s: the private key given in memory cannot be read",
				   c->name);
			return CR_ERR_CONFIG;
		}
		return 0;
	}
	if (ssh_pki_import_privkey_file(t->identity_file, NULL, NULL, NULL,
					key) != SSH_OK) {
		buf_seterr(err, "ssh: getting SSH authentication methods for %s: cannot read the private key in identity_file %s (missing, unreadable, encrypted, or not a key)",
			   c->name, t->identity_file);
		return CR_ERR_CONFIG;
	}
	return 0;
}

static void say_methods(struct sshc_conn *c, struct buf *msg)
{
	int m = ssh_userauth_list(c->session, NULL);

	(void)buf_addstr(msg, " (the server accepts:");
	if (m & SSH_AUTH_METHOD_PUBLICKEY)
		(void)buf_addstr(msg, " publickey");
	if (m & SSH_AUTH_METHOD_PASSWORD)
		(void)buf_addstr(msg, " password");
	if (m & SSH_AUTH_METHOD_INTERACTIVE)
		(void)buf_addstr(msg, " keyboard-interactive");
	if (!(m & (SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_PASSWORD |
		   SSH_AUTH_METHOD_INTERACTIVE)))
		(void)buf_addstr(msg, " none of ours");
	(void)buf_addch(msg, ')');
}

int sshc_authenticate(struct sshc_conn *c, const struct sshc_target *t,
		      struct buf *err)
{
	int have_key = (t->private_key && *t->private_key) ||
		(t->identity_file && *t->identity_file);
	int have_password = t->password && *t->password;
	struct buf tried = BUF_INIT;
	ssh_key key = NULL;
	int rc, r;

	if (have_key) {
		if ((r = load_key(c, t, &key, err)) != 0)
			return r;
		rc = ssh_userauth_publickey(c->session, NULL, key);
		ssh_key_free(key);
		if (rc == SSH_AUTH_SUCCESS)
			return 0;
		if (rc == SSH_AUTH_ERROR)
			goto lost;
		(void)buf_addstr(&tried, "publickey");
	}
	if (have_password) {
		rc = ssh_userauth_password(c->session, NULL, t->password);
		if (rc == SSH_AUTH_SUCCESS) {
			buf_release(&tried);
			return 0;
		}
		if (rc == SSH_AUTH_ERROR)
			goto lost;
		(void)buf_addstr(&tried, tried.len ? ", password" : "password");
	}
	if (!tried.len)
		(void)buf_addstr(&tried, "nothing: neither password nor identity_file is set");
	buf_seterr(err, "ssh: unable to authenticate to %s, tried %s: access denied",
		   c->name, tried.data);
	{
		struct buf m = BUF_INIT;

		say_methods(c, &m);
		(void)buf_add(err, m.data, m.len);
		buf_release(&m);
	}
	buf_release(&tried);
	return CR_ERR_AUTH;
lost:
	buf_seterr(err, "ssh: authentication with %s failed: %s", c->name,
		   ssh_get_error(c->session));
	buf_release(&tried);
	return CR_ERR_NETWORK;
}
