/*
 * struct curl_loop: a libcurl multi handle driven by our event loop
 * (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION become loop fd watches and a loop
 * timer), for every module that talks HTTP: the GitLab client and the
 * Docker Engine API client.
 *
 * The caller does:
 *  1. cl = curl_loop_new(loop, done, ctx);
 *  2. curl_multi_add_handle(curl_loop_multi(cl), easy) for each transfer
 *     (CURLOPT_PRIVATE is the caller's, as ever);
 *  3. gets done(ctx, easy, result) from the loop for each finished
 *     transfer, which curl_loop has already removed from the multi handle;
 *     done may add and remove other handles;
 *  4. curl_loop_free(cl) once no transfer is added any more (never from
 *     inside done): drops the loop's watches and the multi handle.
 */
#ifndef CR_CURL_LOOP_H
#define CR_CURL_LOOP_H

#include <curl/curl.h>

struct loop;
struct curl_loop;

typedef void (*curl_loop_done_fn)(void *ctx, CURL *easy, CURLcode result);

/* Never fails: aborts when libcurl cannot make a multi handle. */
struct curl_loop *curl_loop_new(struct loop *loop, curl_loop_done_fn done,
				void *ctx);
CURLM *curl_loop_multi(const struct curl_loop *cl);
void curl_loop_free(struct curl_loop *cl);

#endif
