/*
 * Name resolution off the loop thread: getaddrinfo() can take seconds (a
 * slow or unreachable DNS server), and on the loop thread it would stall
 * every runner of the process.  Each lookup runs in a short-lived thread
 * of its own; the answer comes back through an eventfd the loop watches.
 *
 *   rs = resolver_start(loop, host, port, &hints, done, ctx);
 *   ... done(ctx, rc, addrs) is called once, on the loop thread, never
 *   from inside resolver_start(); rc is getaddrinfo()'s, and on 0 the
 *   caller owns addrs (freeaddrinfo());
 *   resolver_cancel(rs) before that: done is never called; the thread
 *   finishes its lookup on its own and frees what it got.
 *
 * An IP address is taken as it is, without a thread (still through done,
 * from the loop).  A thread that cannot be started is reported as
 * EAI_SYSTEM with errno set, through done, as any other failure.
 */
#ifndef CR_UTIL_RESOLVER_H
#define CR_UTIL_RESOLVER_H

#include <netdb.h>

struct loop;
struct resolver;

typedef void (*resolver_done)(void *ctx, int rc, struct addrinfo *addrs);

struct resolver *resolver_start(struct loop *loop, const char *host,
				const char *port, const struct addrinfo *hints,
				resolver_done done, void *ctx);
void resolver_cancel(struct resolver *rs);

#endif
