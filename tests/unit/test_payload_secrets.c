/*
 * The payload's "secrets" object (gitlab/payload_secrets.c) and the Vault
 * client's path joining (secrets/vault.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gitlab/payload.h"
#include "secrets/azure_key_vault.h"
#include "secrets/gcp_secret_manager.h"
#include "secrets/vault.h"
#include "util/buf.h"
#include "util/error.h"

static struct job_payload *decode_ok(const char *json)
{
	struct job_payload *p = NULL;
	struct buf err = BUF_INIT;

	assert_int_equal(job_payload_decode(json, strlen(json), &p, &err), 0);
	assert_non_null(p);
	buf_release(&err);
	return p;
}

static void decode_fails(const char *json, const char *message)
{
	struct job_payload *p = NULL;
	struct buf err = BUF_INIT;

	assert_int_equal(job_payload_decode(json, strlen(json), &p, &err),
			 CR_ERR_INVALID);
	assert_null(p);
	assert_string_equal(err.data, message);
	buf_release(&err);
}

static void test_vault_secret(void **state)
{
	struct job_payload *p;
	const struct job_secret *s;
	const struct job_secret_vault *v;

	(void)state;
	p = decode_ok("{\"id\": 1, \"secrets\": {"
		"\"DATABASE_PASSWORD\": {\"vault\": {"
		"  \"server\": {\"url\": \"https://vault.example.com\","
		"    \"auth\": {\"name\": \"jwt\", \"path\": \"jwt\","
		"      \"data\": {\"jwt\": \"$VAULT_ID_TOKEN\", \"role\": \"ci\"}},"
		"    \"namespace\": \"team-a\"},"
		"  \"engine\": {\"name\": \"kv-v2\", \"path\": \"secret\"},"
		"  \"path\": \"production/db\", \"field\": \"password\"}},"
		"\"API_KEY\": {\"vault\": {\"server\": {\"url\": \"http://v\","
		"  \"auth\": {\"name\": \"jwt\", \"path\": \"jwt\", \"data\": {\"jwt\": \"x\"}}},"
		"  \"engine\": {\"name\": \"kv-v1\", \"path\": \"kv\"},"
		"  \"path\": \"api\", \"field\": \"key\"}, \"file\": false}}}");
	assert_true(p->has_secrets);
	assert_int_equal(p->nr_secrets, 2);
	/* payload order */
	s = &p->secrets[0];
	assert_string_equal(s->name, "DATABASE_PASSWORD");
	assert_true(s->file);	/* the default */
	assert_int_equal(s->provider, JOB_SECRET_VAULT);
	v = s->vault;
	assert_non_null(v);
	assert_string_equal(v->url, "https://vault.example.com");
	assert_string_equal(v->namespace, "team-a");
	assert_string_equal(v->auth_name, "jwt");
	assert_string_equal(v->auth_path, "jwt");
	assert_int_equal(v->auth_keys.nr, 2);
	assert_string_equal(v->auth_keys.v[0], "jwt");
	assert_string_equal(v->auth_values.v[0], "$VAULT_ID_TOKEN");
	assert_string_equal(v->auth_keys.v[1], "role");
	assert_string_equal(v->auth_values.v[1], "ci");
	assert_string_equal(v->engine_name, "kv-v2");
	assert_string_equal(v->engine_path, "secret");
	assert_string_equal(v->path, "production/db");
	assert_string_equal(v->field, "password");
	s = &p->secrets[1];
	assert_string_equal(s->name, "API_KEY");
	assert_false(s->file);
	assert_string_equal(s->vault->namespace, "");
	assert_string_equal(s->vault->engine_name, "kv-v1");
	/* wiping leaves the JWT empty */
	job_payload_wipe(p);
	assert_string_equal(p->secrets[0].vault->auth_values.v[0], "");
	job_payload_free(p);
}

static void test_other_providers(void **state)
{
	struct job_payload *p;

	(void)state;
	p = decode_ok("{\"secrets\": {"
		"\"G\": {\"gcp_secret_manager\": {\"name\": \"n\", \"version\": \"1\"}},"
		"\"A\": {\"azure_key_vault\": {\"name\": \"n\"}},"
		"\"W\": {\"aws_secrets_manager\": {\"secret_id\": \"s\"}},"
		"\"L\": {\"gitlab_secrets_manager\": {\"name\": \"s\"}},"
		"\"N\": {\"file\": true}}}");
	assert_int_equal(p->nr_secrets, 5);
	assert_int_equal(p->secrets[0].provider, JOB_SECRET_GCP_SECRET_MANAGER);
	assert_int_equal(p->secrets[1].provider, JOB_SECRET_AZURE_KEY_VAULT);
	assert_int_equal(p->secrets[2].provider, JOB_SECRET_AWS_SECRETS_MANAGER);
	assert_int_equal(p->secrets[3].provider,
			 JOB_SECRET_GITLAB_SECRETS_MANAGER);
	assert_int_equal(p->secrets[4].provider, JOB_SECRET_NONE);
	assert_null(p->secrets[0].vault);
	assert_string_equal(job_secret_provider_name(JOB_SECRET_AWS_SECRETS_MANAGER),
			    "aws_secrets_manager");
	job_payload_free(p);
}

/* One string member of a decoded secret and what it must hold. */
struct member {
	const char *name;
	size_t offset;
	const char *want;
};
#define MEMBER(type, field, want) { #field, offsetof(type, field), want }

static const char *member_of(const void *object, size_t offset)
{
	return *(char *const *)((const char *)object + offset);
}

/*
 * A payload of one secret for a provider other than Vault: which of
 * struct job_secret's pointers holds it, its members, and the member
 * job_payload_wipe() empties (the JWT).
 */
struct provider_case {
	const char *json;
	enum job_secret_provider provider;
	size_t object;		/* offsetof(struct job_secret, <provider>) */
	const struct member *members;
	size_t nr_members;
	size_t wiped;		/* offset of the JWT in the object */
};

static const struct member aws_members[] = {
	MEMBER(struct job_secret_aws, secret_id, "ci/db"),
	MEMBER(struct job_secret_aws, version_id, ""),
	MEMBER(struct job_secret_aws, version_stage, "AWSPREVIOUS"),
	MEMBER(struct job_secret_aws, field, "password"),
	MEMBER(struct job_secret_aws, region, ""),
	MEMBER(struct job_secret_aws, role_arn, ""),
	MEMBER(struct job_secret_aws, role_session_name, "own"),
	MEMBER(struct job_secret_aws, server_region, "eu-west-1"),
	MEMBER(struct job_secret_aws, server_jwt, "$AWS_ID"),
	MEMBER(struct job_secret_aws, server_role_arn, "arn:aws:iam::1:role/ci"),
	MEMBER(struct job_secret_aws, server_role_session_name, ""),
};

static const struct member gcp_members[] = {
	MEMBER(struct job_secret_gcp, name, "db"),
	MEMBER(struct job_secret_gcp, version, "latest"),
	MEMBER(struct job_secret_gcp, project_number, "12"),
	MEMBER(struct job_secret_gcp, pool_id, "pool"),
	MEMBER(struct job_secret_gcp, provider_id, "prov"),
	MEMBER(struct job_secret_gcp, jwt, "$T"),
};

static const struct member azure_members[] = {
	MEMBER(struct job_secret_azure, name, "db"),
	MEMBER(struct job_secret_azure, version, ""),
	MEMBER(struct job_secret_azure, url, "https://k.vault.azure.net"),
	MEMBER(struct job_secret_azure, tenant_id, "t"),
	MEMBER(struct job_secret_azure, client_id, "c"),
	MEMBER(struct job_secret_azure, jwt, "$J"),
};

static const struct member gitlab_members[] = {
	MEMBER(struct job_secret_gitlab, url, "https://bao"),
	MEMBER(struct job_secret_gitlab, auth_path, "auth/ns/jwt/login"),
	MEMBER(struct job_secret_gitlab, auth_mount, "jwt"),
	MEMBER(struct job_secret_gitlab, jwt, "eyJ.x.y"),
	MEMBER(struct job_secret_gitlab, role, "r"),
	MEMBER(struct job_secret_gitlab, engine_name, "kv-v2"),
	MEMBER(struct job_secret_gitlab, engine_path, "secrets"),
	MEMBER(struct job_secret_gitlab, path, "p"),
	MEMBER(struct job_secret_gitlab, field, "value"),
};

#define NR(a) (sizeof(a) / sizeof((a)[0]))

static const struct provider_case provider_cases[] = {
	{ "{\"secrets\": {\"DB\": {\"aws_secrets_manager\": {"
	  "\"secret_id\": \"ci/db\", \"version_stage\": \"AWSPREVIOUS\","
	  "\"field\": \"password\", \"role_session_name\": \"own\","
	  "\"server\": {\"region\": \"eu-west-1\", \"jwt\": \"$AWS_ID\","
	  "  \"role_arn\": \"arn:aws:iam::1:role/ci\"}}}}}",
	  JOB_SECRET_AWS_SECRETS_MANAGER, offsetof(struct job_secret, aws),
	  aws_members, NR(aws_members),
	  offsetof(struct job_secret_aws, server_jwt) },
	{ "{\"secrets\": {\"G\": {\"gcp_secret_manager\": {"
	  "\"name\": \"db\", \"version\": \"latest\", \"server\": {"
	  "\"project_number\": \"12\", \"workload_identity_federation_pool_id\": \"pool\","
	  "\"workload_identity_federation_provider_id\": \"prov\", \"jwt\": \"$T\"}}}}}",
	  JOB_SECRET_GCP_SECRET_MANAGER, offsetof(struct job_secret, gcp),
	  gcp_members, NR(gcp_members), offsetof(struct job_secret_gcp, jwt) },
	{ "{\"secrets\": {\"A\": {\"azure_key_vault\": {"
	  "\"name\": \"db\", \"server\": {\"url\": \"https://k.vault.azure.net\","
	  "\"tenant_id\": \"t\", \"client_id\": \"c\", \"jwt\": \"$J\"}}}}}",
	  JOB_SECRET_AZURE_KEY_VAULT, offsetof(struct job_secret, azure),
	  azure_members, NR(azure_members),
	  offsetof(struct job_secret_azure, jwt) },
	{ "{\"secrets\": {\"L\": {\"gitlab_secrets_manager\": {"
	  "\"server\": {\"url\": \"https://bao\", \"inline_auth\": {"
	  "\"path\": \"auth/ns/jwt/login\", \"jwt\": \"eyJ.x.y\", \"role\": \"r\","
	  "\"auth_mount\": \"jwt\"}},"
	  "\"engine\": {\"name\": \"kv-v2\", \"path\": \"secrets\"},"
	  "\"path\": \"p\", \"field\": \"value\"}}}}",
	  JOB_SECRET_GITLAB_SECRETS_MANAGER, offsetof(struct job_secret, gitlab),
	  gitlab_members, NR(gitlab_members),
	  offsetof(struct job_secret_gitlab, jwt) },
};

/* Each provider's members decoded, and its JWT emptied by the wipe. */
static void test_provider_secrets(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < NR(provider_cases); i++) {
		const struct provider_case *c = &provider_cases[i];
		struct job_payload *p = decode_ok(c->json);
		const void *object;

		assert_int_equal(p->nr_secrets, 1);
		assert_int_equal(p->secrets[0].provider, c->provider);
		object = member_of(&p->secrets[0], c->object);
		assert_non_null(object);
		for (k = 0; k < c->nr_members; k++) {
			const char *have = member_of(object, c->members[k].offset);

			if (!have || strcmp(have, c->members[k].want) != 0)
				fail_msg("%s: %s is '%s', not '%s'",
					 job_secret_provider_name(c->provider),
					 c->members[k].name, have ? have : "(null)",
					 c->members[k].want);
		}
		job_payload_wipe(p);
		assert_string_equal(member_of(object, c->wiped), "");
		job_payload_free(p);
	}
	decode_fails("{\"secrets\": {\"X\": {\"aws_secrets_manager\": {\"server\": {\"region\": 1}}}}}",
		     "job payload: 'secrets.X.aws_secrets_manager.server.region' must be a string");
}

/* gcp_secret_manager.c's version name and CRC32C. */
static void test_gcp_helpers(void **state)
{
	struct gcp_sm_request r = { 0 };
	struct buf name = BUF_INIT;

	(void)state;
	/* secretVersionResourceName(): a resource name keeps its project */
	r.name = "db";
	r.version = "3";
	r.project_number = "12";
	gcp_sm_version_name(&r, &name);
	assert_string_equal(name.data, "projects/12/secrets/db/versions/3");
	buf_reset(&name);
	r.name = "projects/other/secrets/db";
	gcp_sm_version_name(&r, &name);
	assert_string_equal(name.data, "projects/other/secrets/db/versions/3");
	buf_reset(&name);
	r.name = "projects/other/secrets/db/extra";
	gcp_sm_version_name(&r, &name);
	assert_string_equal(name.data,
			    "projects/12/secrets/projects/other/secrets/db/extra/versions/3");
	buf_release(&name);

	/* RFC 3720's check value */
	assert_int_equal(gcp_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(gcp_crc32c("", 0), 0);
}

/* The parameters of Azure Key Vault's challenge. */
static void test_azure_challenge(void **state)
{
	struct buf v = BUF_INIT;

	(void)state;
	assert_int_equal(azure_kv_challenge_param(
		"Bearer authorization=\"https://login.microsoftonline.com/t\", resource=\"https://vault.azure.net\"",
		"resource", &v), 0);
	assert_string_equal(v.data, "https://vault.azure.net");
	buf_reset(&v);
	assert_int_equal(azure_kv_challenge_param(
		"Bearer authorization=\"https://login.microsoftonline.com/t\", scope=\"https://vault.azure.net/.default\"",
		"scope", &v), 0);
	assert_string_equal(v.data, "https://vault.azure.net/.default");
	buf_reset(&v);
	assert_int_equal(azure_kv_challenge_param(
		"Bearer authorization=\"https://login/t, resource=x\"", "resource", &v), -1);
	buf_release(&v);
}

static void test_absent_and_empty(void **state)
{
	struct job_payload *p;

	(void)state;
	p = decode_ok("{\"id\": 1}");
	assert_false(p->has_secrets);
	assert_int_equal(p->nr_secrets, 0);
	job_payload_free(p);
	p = decode_ok("{\"secrets\": null}");
	assert_false(p->has_secrets);
	job_payload_free(p);
	/* {} is a secrets object all the same: the stage runs, empty */
	p = decode_ok("{\"secrets\": {}}");
	assert_true(p->has_secrets);
	assert_int_equal(p->nr_secrets, 0);
	job_payload_free(p);
}

static void test_wrong_types(void **state)
{
	(void)state;
	decode_fails("{\"secrets\": []}",
		     "job payload: 'secrets' must be an object");
	decode_fails("{\"secrets\": {\"X\": 1}}",
		     "job payload: 'secrets.X' must be an object");
	decode_fails("{\"secrets\": {\"X\": {\"file\": \"yes\"}}}",
		     "job payload: 'secrets.X.file' must be a boolean");
	decode_fails("{\"secrets\": {\"X\": {\"vault\": \"v\"}}}",
		     "job payload: 'secrets.X.vault' must be an object");
	decode_fails("{\"secrets\": {\"X\": {\"vault\": {\"path\": 3}}}}",
		     "job payload: 'secrets.X.vault.path' must be a string");
	decode_fails("{\"secrets\": {\"X\": {\"vault\": {\"server\": {\"auth\": []}}}}}",
		     "job payload: 'secrets.X.vault.server.auth' must be an object");
	/* never the value itself in the message */
	decode_fails("{\"secrets\": {\"X\": {\"vault\": {\"server\": {\"auth\": "
		     "{\"data\": {\"jwt\": [\"eyJhbGciOi\"]}}}}}}}",
		     "job payload: 'secrets.X.vault.server.auth.data.jwt' must be a string");
}

static void join(const char *a, const char *b, const char *c,
		 const char *want)
{
	struct buf out = BUF_INIT;

	vault_path_join(&out, a, b, c);
	assert_string_equal(out.len ? out.data : "", want);
	buf_release(&out);
}

static void test_path_join(void **state)
{
	(void)state;
	join("secret", "data", "production/db", "secret/data/production/db");
	join("/secret/", "data", "/a//b/", "secret/data/a/b");
	join("auth", "jwt", "login", "auth/jwt/login");
	join("kv", "./x/../y", NULL, "kv/y");
	join("kv", "../../etc", NULL, "etc");
	join(NULL, NULL, NULL, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vault_secret),
		cmocka_unit_test(test_other_providers),
		cmocka_unit_test(test_provider_secrets),
		cmocka_unit_test(test_gcp_helpers),
		cmocka_unit_test(test_azure_challenge),
		cmocka_unit_test(test_absent_and_empty),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_path_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
