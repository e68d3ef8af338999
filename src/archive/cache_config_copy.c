/* cache_config_copy.h: field by field, as config.h lists them. */
#include <stdlib.h>
#include <string.h>

#include "archive/cache_config_copy.h"
#include "config/config.h"
#include "util/xalloc.h"
#include "util/banned.h"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void free_wiped(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

void cache_config_copy(const struct config_cache *from,
		       struct config_cache *to)
{
	struct config_cache_s3 *s3 = &to->s3;
	struct config_cache_gcs *gcs = &to->gcs;
	struct config_cache_azure *az = &to->azure;

	*to = *from;	/* the scalars; every string is replaced below */
	to->type = dup_or_null(from->type);
	to->path = dup_or_null(from->path);
	s3->server_address = dup_or_null(from->s3.server_address);
	s3->access_key = dup_or_null(from->s3.access_key);
	s3->secret_key = dup_or_null(from->s3.secret_key);
	s3->session_token = dup_or_null(from->s3.session_token);
	s3->bucket_name = dup_or_null(from->s3.bucket_name);
	s3->bucket_location = dup_or_null(from->s3.bucket_location);
	s3->authentication_type = dup_or_null(from->s3.authentication_type);
	s3->server_side_encryption =
		dup_or_null(from->s3.server_side_encryption);
	s3->server_side_encryption_key_id =
		dup_or_null(from->s3.server_side_encryption_key_id);
	s3->role_arn = dup_or_null(from->s3.role_arn);
	s3->upload_role_arn = dup_or_null(from->s3.upload_role_arn);
	gcs->access_id = dup_or_null(from->gcs.access_id);
	gcs->private_key = dup_or_null(from->gcs.private_key);
	gcs->credentials_file = dup_or_null(from->gcs.credentials_file);
	gcs->bucket_name = dup_or_null(from->gcs.bucket_name);
	gcs->universe_domain = dup_or_null(from->gcs.universe_domain);
	az->account_name = dup_or_null(from->azure.account_name);
	az->account_key = dup_or_null(from->azure.account_key);
	az->container_name = dup_or_null(from->azure.container_name);
	az->storage_domain = dup_or_null(from->azure.storage_domain);
}

void cache_config_release(struct config_cache *c)
{
	free(c->type);
	free(c->path);
	free(c->s3.server_address);
	free_wiped(c->s3.access_key);
	free_wiped(c->s3.secret_key);
	free_wiped(c->s3.session_token);
	free(c->s3.bucket_name);
	free(c->s3.bucket_location);
	free(c->s3.authentication_type);
	free(c->s3.server_side_encryption);
	free(c->s3.server_side_encryption_key_id);
	free(c->s3.role_arn);
	free(c->s3.upload_role_arn);
	free(c->gcs.access_id);
	free_wiped(c->gcs.private_key);
	free(c->gcs.credentials_file);
	free(c->gcs.bucket_name);
	free(c->gcs.universe_domain);
	free(c->azure.account_name);
	free_wiped(c->azure.account_key);
	free(c->azure.container_name);
	free(c->azure.storage_domain);
	memset(c, 0, sizeof(*c));
}
