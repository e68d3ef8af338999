/*
 * go-plugin's handshake line, the first line a plugin writes on stdout:
 *
 *     CORE|APP|NETWORK|ADDRESS|PROTOCOL[|SERVER-CERT[|MUX]]
 *     e.g. 1|1|unix|/tmp/plugin2517389412|grpc
 *
 * CORE must be 1; APP is the plugin's application protocol version;
 * NETWORK is unix or tcp; PROTOCOL is netrpc when absent and must be grpc
 * here; a SERVER-CERT (AutoMTLS) or MUX field means the plugin uses a mode
 * crunner never asks for, so it is refused.
 */
#ifndef CR_AUTOSCALE_GP_HANDSHAKE_H
#define CR_AUTOSCALE_GP_HANDSHAKE_H

struct buf;

#define GP_CORE_PROTOCOL_VERSION 1

struct gp_handshake {
	int app_version;
	int network_unix;	/* 1: unix socket path, 0: tcp host:port */
	char *address;		/* owned; gp_handshake_release() frees it */
};

/*
 * Parses and checks one line (a trailing "\n" or "\r\n" is ignored).
 * Returns 0, or CR_ERR_PROTOCOL with a sentence in err that quotes the
 * line.
 */
int gp_handshake_parse(const char *line, struct gp_handshake *h,
		       struct buf *err);
void gp_handshake_release(struct gp_handshake *h);

#endif
