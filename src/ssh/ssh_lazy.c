/*
 * libssh, loaded when crunner first opens an SSH session (CR_LAZY_SSH, the
 * default), as libcurl is (util/curl_lazy.c): libssh brings libcrypto and
 * Kerberos with it, which `crunner exec`, a shell or docker job and an
 * idle runner never use.
 *
 * The functions src/ssh/ calls are defined here with libssh's own
 * prototypes, so the linker binds those calls here and --as-needed keeps
 * libssh out of DT_NEEDED.  The first call dlopen()s it and looks every
 * function up; each definition then forwards.  When libssh cannot be
 * loaded, one error line names it and what the loader said, and each
 * function fails as libssh's own does (ssh_new NULL, SSH_ERROR, ...).  A
 * libssh function used elsewhere and missing here links libssh again:
 * everything works, only the start-up saving is gone.
 *
 * Process-wide like the library mapping: filled once under pthread_once,
 * only read afterwards.
 */
#ifdef CR_LAZY_SSH

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "util/log.h"
#include "util/banned.h"

#define SSH_SONAME "libssh.so.4"

/* X(name, return type, parameter list) of every function forwarded. */
#define SSH_LAZY_FUNCTIONS(X) \
	X(ssh_new, ssh_session, (void)) \
	X(ssh_free, void, (ssh_session)) \
	X(ssh_options_set, int, (ssh_session, enum ssh_options_e, const void *)) \
	X(ssh_connect, int, (ssh_session)) \
	X(ssh_disconnect, void, (ssh_session)) \
	X(ssh_get_error, const char *, (void *)) \
	X(ssh_get_fd, socket_t, (ssh_session)) \
	X(ssh_is_connected, int, (ssh_session)) \
	X(ssh_send_keepalive, int, (ssh_session)) \
	X(ssh_session_is_known_server, enum ssh_known_hosts_e, (ssh_session)) \
	X(ssh_userauth_list, int, (ssh_session, const char *)) \
	X(ssh_userauth_password, int, (ssh_session, const char *, const char *)) \
	X(ssh_userauth_publickey, int, (ssh_session, const char *, const ssh_key)) \
	X(ssh_pki_import_privkey_base64, int, \
	  (const char *, const char *, ssh_auth_callback, void *, ssh_key *)) \
	X(ssh_pki_import_privkey_file, int, \
	  (const char *, const char *, ssh_auth_callback, void *, ssh_key *)) \
	X(ssh_key_free, void, (ssh_key)) \
	X(ssh_channel_new, ssh_channel, (ssh_session)) \
	X(ssh_channel_free, void, (ssh_channel)) \
	X(ssh_channel_close, int, (ssh_channel)) \
	X(ssh_channel_open_session, int, (ssh_channel)) \
	X(ssh_channel_open_forward_unix, int, \
	  (ssh_channel, const char *, const char *, int)) \
	X(ssh_channel_open_forward, int, \
	  (ssh_channel, const char *, int, const char *, int)) \
	X(ssh_channel_request_exec, int, (ssh_channel, const char *)) \
	X(ssh_channel_request_send_signal, int, (ssh_channel, const char *)) \
	X(ssh_channel_read_nonblocking, int, (ssh_channel, void *, uint32_t, int)) \
	X(ssh_channel_write, int, (ssh_channel, const void *, uint32_t)) \
	X(ssh_channel_send_eof, int, (ssh_channel)) \
	X(ssh_channel_window_size, uint32_t, (ssh_channel)) \
	X(ssh_channel_get_exit_status, int, (ssh_channel)) \
	X(ssh_channel_is_closed, int, (ssh_channel)) \
	X(ssh_channel_is_eof, int, (ssh_channel)) \
	X(ssh_channel_is_open, int, (ssh_channel)) \
	X(ssh_set_channel_callbacks, int, (ssh_channel, ssh_channel_callbacks)) \
	X(ssh_remove_channel_callbacks, int, (ssh_channel, ssh_channel_callbacks))

static struct {
#define SSH_LAZY_MEMBER(name, ret, params) ret (*name) params;
	SSH_LAZY_FUNCTIONS(SSH_LAZY_MEMBER)
#undef SSH_LAZY_MEMBER
} lib;
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *handle = dlopen(SSH_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!handle) {
		log_error("cannot load " SSH_SONAME ": %s", dlerror());
		return;
	}
#define SSH_LAZY_SYM(name, ret, params) \
	if (!missing && !(lib.name = (__typeof__(lib.name)) \
			  dlsym(handle, #name))) \
		missing = #name;
	SSH_LAZY_FUNCTIONS(SSH_LAZY_SYM)
#undef SSH_LAZY_SYM
	if (missing) {
		log_error("cannot load " SSH_SONAME ": it has no %s", missing);
		return;
	}
	loaded = true;
}

static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

ssh_session ssh_new(void)
{
	return ready() ? lib.ssh_new() : NULL;
}

/* Keys are read before a session exists: these load libssh too. */
int ssh_pki_import_privkey_base64(const char *b64_key, const char *passphrase,
				  ssh_auth_callback auth_fn, void *auth_data,
				  ssh_key *pkey)
{
	return ready() ? lib.ssh_pki_import_privkey_base64(b64_key, passphrase,
							   auth_fn, auth_data,
							   pkey) : SSH_ERROR;
}

int ssh_pki_import_privkey_file(const char *filename, const char *passphrase,
				ssh_auth_callback auth_fn, void *auth_data,
				ssh_key *pkey)
{
	return ready() ? lib.ssh_pki_import_privkey_file(filename, passphrase,
							 auth_fn, auth_data,
							 pkey) : SSH_ERROR;
}

const char *ssh_get_error(void *error)
{
	return ready() ? lib.ssh_get_error(error) : "libssh could not be loaded";
}

/*
 * The rest take what only a loaded libssh can have made (a session, a
 * channel, a key), so libssh is there when they are called; ready() is
 * still asked, and a failure value returned, so a stray call is safe.
 */
#define SSH_FORWARD_VOID(name, params, args) \
	void name params \
	{ \
		if (ready()) \
			lib.name args; \
	}
#define SSH_FORWARD(ret, name, params, args, failed) \
	ret name params \
	{ \
		return ready() ? lib.name args : (failed); \
	}

SSH_FORWARD_VOID(ssh_free, (ssh_session s), (s))
SSH_FORWARD_VOID(ssh_disconnect, (ssh_session s), (s))
SSH_FORWARD_VOID(ssh_key_free, (ssh_key k), (k))
SSH_FORWARD_VOID(ssh_channel_free, (ssh_channel c), (c))
SSH_FORWARD(int, ssh_options_set,
	    (ssh_session s, enum ssh_options_e type, const void *value),
	    (s, type, value), SSH_ERROR)
SSH_FORWARD(int, ssh_connect, (ssh_session s), (s), SSH_ERROR)
SSH_FORWARD(socket_t, ssh_get_fd, (ssh_session s), (s), SSH_INVALID_SOCKET)
SSH_FORWARD(int, ssh_send_keepalive, (ssh_session s), (s), SSH_ERROR)
SSH_FORWARD(enum ssh_known_hosts_e, ssh_session_is_known_server,
	    (ssh_session s), (s), SSH_KNOWN_HOSTS_ERROR)
SSH_FORWARD(int, ssh_userauth_list, (ssh_session s, const char *user),
	    (s, user), 0)
SSH_FORWARD(int, ssh_userauth_password,
	    (ssh_session s, const char *user, const char *password),
	    (s, user, password), SSH_AUTH_ERROR)
SSH_FORWARD(int, ssh_userauth_publickey,
	    (ssh_session s, const char *user, const ssh_key key),
	    (s, user, key), SSH_AUTH_ERROR)
SSH_FORWARD(ssh_channel, ssh_channel_new, (ssh_session s), (s), NULL)
SSH_FORWARD(int, ssh_channel_close, (ssh_channel c), (c), SSH_ERROR)
SSH_FORWARD(int, ssh_is_connected, (ssh_session s), (s), 0)
SSH_FORWARD(int, ssh_channel_open_session, (ssh_channel c), (c), SSH_ERROR)
SSH_FORWARD(int, ssh_channel_open_forward_unix,
	    (ssh_channel c, const char *remotepath, const char *sourcehost,
	     int localport),
	    (c, remotepath, sourcehost, localport), SSH_ERROR)
SSH_FORWARD(int, ssh_channel_open_forward,
	    (ssh_channel c, const char *remotehost, int remoteport,
	     const char *sourcehost, int localport),
	    (c, remotehost, remoteport, sourcehost, localport), SSH_ERROR)
SSH_FORWARD(int, ssh_channel_request_exec, (ssh_channel c, const char *cmd),
	    (c, cmd), SSH_ERROR)
SSH_FORWARD(int, ssh_channel_request_send_signal,
	    (ssh_channel c, const char *signum), (c, signum), SSH_ERROR)
SSH_FORWARD(int, ssh_channel_read_nonblocking,
	    (ssh_channel c, void *dest, uint32_t count, int is_stderr),
	    (c, dest, count, is_stderr), SSH_ERROR)
SSH_FORWARD(int, ssh_channel_write,
	    (ssh_channel c, const void *data, uint32_t len), (c, data, len),
	    SSH_ERROR)
SSH_FORWARD(int, ssh_channel_send_eof, (ssh_channel c), (c), SSH_ERROR)
SSH_FORWARD(uint32_t, ssh_channel_window_size, (ssh_channel c), (c), 0)
SSH_FORWARD(int, ssh_channel_get_exit_status, (ssh_channel c), (c), -1)
SSH_FORWARD(int, ssh_channel_is_closed, (ssh_channel c), (c), 1)
SSH_FORWARD(int, ssh_channel_is_eof, (ssh_channel c), (c), 1)
SSH_FORWARD(int, ssh_channel_is_open, (ssh_channel c), (c), 0)
SSH_FORWARD(int, ssh_set_channel_callbacks,
	    (ssh_channel c, ssh_channel_callbacks cb), (c, cb), SSH_ERROR)
SSH_FORWARD(int, ssh_remove_channel_callbacks,
	    (ssh_channel c, ssh_channel_callbacks cb), (c, cb), SSH_ERROR)

#endif /* CR_LAZY_SSH */
