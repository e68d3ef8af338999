/*
 * One local socket joined to one channel, copied both ways; used by
 * sshc_pump() (one) and sshc_forward_serve() (many).  The caller polls
 * the session's socket and, when sshc_link_want_read(), fd; then calls
 * sshc_link_step() until it returns 0, and frees the link when
 * sshc_link_done().
 */
#ifndef CR_SSHC_LINK_H
#define CR_SSHC_LINK_H

struct ssh_channel_struct;

struct sshc_link {
	int fd;			/* the caller's; made non-blocking */
	struct ssh_channel_struct *ch;	/* owned */
	int local_eof;		/* fd gave end of file: EOF sent on ch */
	int remote_eof;		/* ch gave end of file: fd shut for writing */
};

void sshc_link_init(struct sshc_link *l, int fd, struct ssh_channel_struct *ch);
/* Copies what can be copied now: 1 something moved, 0 nothing, -1 error. */
int sshc_link_step(struct sshc_link *l);
int sshc_link_want_read(const struct sshc_link *l);
int sshc_link_done(const struct sshc_link *l);
/* Closes and frees the channel (not fd). */
void sshc_link_release(struct sshc_link *l);

#endif
