/*
 * Every key of config.toml, one row each, in the order gitlab-runner
 * writes them (the order of its Go struct fields: common/config.go).
 * Defaults are gitlab-runner's.  A row with CF_ALWAYS is a key gitlab-runner
 * writes even when it holds the zero value; CT_ACCEPTED rows are sections
 * crunner does not use yet: they are kept in the file.  NO_EFFECT rows and
 * UNUSED sections are keys crunner reads but does not act on: set to
 * anything but their default, each is one warning at load, and
 * docs/config-no-effect.md lists them (generated from these rows).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "config/toml.h"
#include "util/banned.h"

#define ROWS(a) (a), sizeof(a) / sizeof((a)[0])

#define STR(n, T, f, ...) \
	{ .name = n, .type = CT_STRING, OFF(T, f), ##__VA_ARGS__ }
#define INT(n, T, f, ...) \
	{ .name = n, .type = CT_INT, OFF(T, f), ##__VA_ARGS__ }
#define INT64(n, T, f, ...) \
	{ .name = n, .type = CT_INT64, OFF(T, f), ##__VA_ARGS__ }
#define BOOL(n, T, f, ...) \
	{ .name = n, .type = CT_BOOL, OFF(T, f), ##__VA_ARGS__ }
#define TRIBOOL(n, T, f, ...) \
	{ .name = n, .type = CT_TRIBOOL, OFF(T, f), ##__VA_ARGS__ }
#define DURATION(n, T, f, ...) \
	{ .name = n, .type = CT_DURATION, OFF(T, f), ##__VA_ARGS__ }
#define TIME(n, T, f, ...) \
	{ .name = n, .type = CT_TIME, OFF(T, f), ##__VA_ARGS__ }
#define LIST(n, T, f, ...) \
	{ .name = n, .type = CT_STRLIST, OFF(T, f), ##__VA_ARGS__ }
#define DOUBLES(n, T, f, ...) \
	{ .name = n, .type = CT_DOUBLE_LIST, OFF(T, f), ##__VA_ARGS__ }
#define STRMAP(n, T, f, ...) \
	{ .name = n, .type = CT_STRMAP, OFF(T, f), ##__VA_ARGS__ }
#define SECTION(n, T, f, s) \
	{ .name = n, .type = CT_SECTION, OFF(T, f), .sub = &(s) }
#define ACCEPTED(n) { .name = n, .type = CT_ACCEPTED }
/* A section crunner keeps but does not act on: warned about when set. */
#define UNUSED(n) { .name = n, .type = CT_ACCEPTED, .flags = CF_NO_EFFECT }
/* A key crunner reads but does not act on (CF_NO_EFFECT). */
#define NO_EFFECT .flags = CF_NO_EFFECT

/* Positive counts where gitlab-runner replaces 0 or less by a default. */
#define POSITIVE(d) .def = (d), .flags = CF_NONPOS_DEFAULT
#define NONNEG .min = 0, .max = INT_MAX
#define NONNEG64 .min = 0, .max = INT64_MAX

/* --- validators --- */

static const char *const log_levels[] = {
	"debug", "info", "warn", "warning", "error", "fatal", "panic", NULL
};
static const char *const log_formats[] = { "runner", "text", "json", NULL };
const char *const config_gitlab_executors[] = {
	"shell", "docker", "docker-windows", "docker+machine",
	"docker-autoscaler", "instance", "custom", "ssh", "parallels",
	"virtualbox", "kubernetes", NULL
};
static const char *const shells[] = {
	"bash", "sh", "pwsh", "powershell", "cmd", NULL
};
static const char *const pull_policies[] = {
	"always", "never", "if-not-present", NULL
};

/* A group ID: an integer >= 0 (supplemental_groups' elements). */
static int check_group_id(const struct toml_value *v)
{
	return v->type == TOML_INTEGER && v->u.integer >= 0 ? 0 : -1;
}

/* "KEY=VALUE" with a non-empty KEY, as gitlab-runner's ParseVariable. */
static int check_env(const struct toml_value *v)
{
	const char *eq = strchr(v->u.str.ptr, '=');

	return eq && eq != v->u.str.ptr ? 0 : -1;
}
#define ENV_EXPECT "an array of \"KEY=VALUE\" strings"

static int check_ram_size(const struct toml_value *v)
{
	int64_t bytes;

	if (!v->u.str.len)
		return 0;
	return config_parse_ram_size(v->u.str.ptr, &bytes) ? -1 : 0;
}
#define RAM_EXPECT "a size such as \"512m\" or \"2g\""

/* A rational number, as Go's big.Rat reads docker cpus: "1.5", "3/2". */
static int check_cpus(const struct toml_value *v)
{
	const char *s = v->u.str.ptr, *slash;
	char *end;

	if (!v->u.str.len)
		return 0;
	if ((slash = strchr(s, '/')) != NULL) {
		long long den;

		(void)strtoll(s, &end, 10);
		if (end != slash || end == s)
			return -1;
		den = strtoll(slash + 1, &end, 10);
		return *end || end == slash + 1 || den <= 0 ? -1 : 0;
	}
	/* strtod would also take "nan", "inf" and hex floats; big.Rat won't. */
	if (strpbrk(s, "xXnNiI"))
		return -1;
	(void)strtod(s, &end);
	return end == s || *end ? -1 : 0;
}
#define CPUS_EXPECT "a number of CPUs such as \"1.5\""

/* --- [session_server] --- */

#define T struct config_session_server
static const struct config_key session_server_keys[] = {
	STR("listen_address", T, listen_address, NO_EFFECT),
	STR("advertise_address", T, advertise_address, NO_EFFECT),
	INT("session_timeout", T, session_timeout, .def = 1800,
	    .flags = CF_NONPOS_DEFAULT | CF_ALWAYS),
};
static const struct config_section session_server_section = {
	"[session_server]", ROWS(session_server_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

/* --- the global section --- */

#define T struct config
static const struct config_key global_keys[] = {
	STR("listen_address", T, listen_address),
	SECTION("session_server", T, session_server, session_server_section),
	/* Each runner's defaults (config_labels.c). */
	STRMAP("labels", T, labels),
	INT("concurrent", T, concurrent, .def = 1, .min = 1, .max = INT_MAX,
	    .flags = CF_ALWAYS),
	INT("check_interval", T, check_interval, POSITIVE(3) | CF_ALWAYS),
	DURATION("connection_max_age", T, connection_max_age_ms,
		 .def = 15 * 60 * 1000, .flags = CF_ALWAYS),
	STR("log_level", T, log_level, .def_str = "info",
	    .choices = log_levels),
	STR("log_format", T, log_format, .def_str = "runner",
	    .choices = log_formats),
	STR("user", T, user),
	/* [[runners]] is read by config_runner.c, entry by entry. */
	ACCEPTED("runners"),
	STR("sentry_dsn", T, sentry_dsn, .flags = CF_SECRET | CF_NO_EFFECT),
	INT("shutdown_timeout", T, shutdown_timeout, POSITIVE(30) | CF_ALWAYS),
};
const struct config_section config_global_section = {
	NULL, ROWS(global_keys), sizeof(T), NO_PRESENT
};
#undef T

/* --- [runners.custom_build_dir] --- */

#define T struct config_custom_build_dir
static const struct config_key custom_build_dir_keys[] = {
	TRIBOOL("enabled", T, enabled),
};
static const struct config_section custom_build_dir_section = {
	"[runners.custom_build_dir]", ROWS(custom_build_dir_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

/* --- [runners.artifact] --- */

#define T struct config_artifact
static const struct config_key artifact_keys[] = {
	DURATION("upload_timeout", T, upload_timeout_ms,
		 .def = 60 * 60 * 1000),
	/* 0: no deadline (gitlab/http.h, response_header_timeout_ms). */
	DURATION("response_header_timeout", T, response_header_timeout_ms,
		 .def = 10 * 60 * 1000),
};
static const struct config_section artifact_section = {
	"[runners.artifact]", ROWS(artifact_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

/* --- [runners.cache] and its backends --- */

#define T struct config_cache_s3
static const struct config_key cache_s3_keys[] = {
	STR("ServerAddress", T, server_address),
	STR("AccessKey", T, access_key, .flags = CF_SECRET),
	STR("SecretKey", T, secret_key, .flags = CF_SECRET),
	STR("SessionToken", T, session_token, .flags = CF_SECRET),
	STR("BucketName", T, bucket_name),
	STR("BucketLocation", T, bucket_location),
	BOOL("Insecure", T, insecure),
	STR("AuthenticationType", T, authentication_type),
	STR("ServerSideEncryption", T, server_side_encryption),
	STR("ServerSideEncryptionKeyID", T, server_side_encryption_key_id),
	TRIBOOL("DualStack", T, dual_stack),
	TRIBOOL("PathStyle", T, path_style),
	BOOL("Accelerate", T, accelerate),
	STR("RoleARN", T, role_arn),
	STR("UploadRoleARN", T, upload_role_arn),
	BOOL("DisableAssumeRoleCredentialsCaching", T,
	     disable_assume_role_credentials_caching),
	/* crunner asks STS once at a time: no limit to apply. */
	UNUSED("AssumeRoleMaxConcurrency"),
};
static const struct config_section cache_s3_section = {
	"[runners.cache.s3]", ROWS(cache_s3_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

#define T struct config_cache_gcs
static const struct config_key cache_gcs_keys[] = {
	STR("AccessID", T, access_id),
	STR("PrivateKey", T, private_key, .flags = CF_SECRET),
	STR("CredentialsFile", T, credentials_file),
	STR("BucketName", T, bucket_name),
	STR("UniverseDomain", T, universe_domain),
};
static const struct config_section cache_gcs_section = {
	"[runners.cache.gcs]", ROWS(cache_gcs_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

#define T struct config_cache_azure
static const struct config_key cache_azure_keys[] = {
	STR("AccountName", T, account_name),
	STR("AccountKey", T, account_key, .flags = CF_SECRET),
	STR("ContainerName", T, container_name),
	STR("StorageDomain", T, storage_domain),
};
static const struct config_section cache_azure_section = {
	"[runners.cache.azure]", ROWS(cache_azure_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

#define T struct config_cache
static const struct config_key cache_keys[] = {
	STR("Type", T, type),
	STR("Path", T, path),
	BOOL("Shared", T, shared),
	INT64("MaxUploadedArchiveSize", T, max_uploaded_archive_size, NONNEG64,
	      .flags = CF_ALWAYS),
	SECTION("s3", T, s3, cache_s3_section),
	SECTION("gcs", T, gcs, cache_gcs_section),
	SECTION("azure", T, azure, cache_azure_section),
};
static const struct config_section cache_section = {
	"[runners.cache]", ROWS(cache_keys), sizeof(T), offsetof(T, present)
};
#undef T

/* --- [runners.docker] --- */

#define T struct config_docker_service
static const struct config_key docker_service_keys[] = {
	STR("name", T, name, .flags = CF_ALWAYS),
	STR("alias", T, alias),
	LIST("command", T, command),
	LIST("entrypoint", T, entrypoint),
	LIST("environment", T, environment, .check = check_env,
	     .expect = ENV_EXPECT),
};
static const struct config_section docker_service_section = {
	"[[runners.docker.services]]", ROWS(docker_service_keys), sizeof(T),
	NO_PRESENT
};
#undef T

#define T struct config_docker
static const struct config_key docker_keys[] = {
	STR("host", T, host),
	STR("tls_cert_path", T, cert_path),
	BOOL("tls_verify", T, tls_verify, .flags = CF_ALWAYS),
	STR("hostname", T, hostname),
	STR("image", T, image, .flags = CF_ALWAYS),
	STR("runtime", T, runtime),
	STR("memory", T, memory, .check = check_ram_size,
	    .expect = RAM_EXPECT),
	STR("memory_swap", T, memory_swap, .check = check_ram_size,
	    .expect = RAM_EXPECT),
	STR("memory_reservation", T, memory_reservation,
	    .check = check_ram_size, .expect = RAM_EXPECT),
	STR("cpuset_cpus", T, cpuset_cpus),
	STR("cpus", T, cpus, .check = check_cpus, .expect = CPUS_EXPECT),
	INT64("cpu_shares", T, cpu_shares, NONNEG64),
	LIST("dns", T, dns),
	LIST("dns_search", T, dns_search),
	BOOL("privileged", T, privileged, .flags = CF_ALWAYS),
	TRIBOOL("services_privileged", T, services_privileged),
	BOOL("disable_entrypoint_overwrite", T, disable_entrypoint_overwrite,
	     .flags = CF_ALWAYS),
	STR("user", T, user),
	LIST("group_add", T, group_add),
	STR("userns_mode", T, userns_mode),
	LIST("cap_add", T, cap_add),
	LIST("cap_drop", T, cap_drop),
	BOOL("oom_kill_disable", T, oom_kill_disable, .flags = CF_ALWAYS),
	INT("oom_score_adjust", T, oom_score_adjust),
	LIST("security_opt", T, security_opt),
	LIST("services_security_opt", T, services_security_opt),
	LIST("devices", T, devices),
	LIST("device_cgroup_rules", T, device_cgroup_rules),
	STR("gpus", T, gpus),
	BOOL("disable_cache", T, disable_cache, .flags = CF_ALWAYS),
	LIST("volumes", T, volumes),
	STR("volume_driver", T, volume_driver),
	STRMAP("volume_driver_ops", T, volume_driver_ops),
	STR("cache_dir", T, cache_dir),
	LIST("extra_hosts", T, extra_hosts),
	LIST("volumes_from", T, volumes_from),
	STR("network_mode", T, network_mode),
	STR("ipcmode", T, ipcmode),
	STR("mac_address", T, mac_address),
	LIST("links", T, links),
	{ .name = "services", .type = CT_SECTION_ARRAY, OFF(T, services),
	  .off2 = offsetof(T, nr_services), .sub = &docker_service_section },
	INT("wait_for_services_timeout", T, wait_for_services_timeout,
	    .def = 30, .flags = CF_ZERO_DEFAULT),
	LIST("allowed_images", T, allowed_images),
	LIST("allowed_privileged_images", T, allowed_privileged_images),
	LIST("allowed_privileged_services", T, allowed_privileged_services),
	LIST("allowed_pull_policies", T, allowed_pull_policies,
	     .choices = pull_policies,
	     .expect = "an array of always, never or if-not-present"),
	LIST("allowed_services", T, allowed_services),
	LIST("allowed_users", T, allowed_users),
	{ .name = "pull_policy", .type = CT_STR_OR_LIST, OFF(T, pull_policy),
	  .choices = pull_policies,
	  .expect = "always, never or if-not-present, or an array of them" },
	STR("isolation", T, isolation),
	INT64("shm_size", T, shm_size, NONNEG64, .flags = CF_ALWAYS),
	STRMAP("tmpfs", T, tmpfs),
	STRMAP("services_tmpfs", T, services_tmpfs),
	STRMAP("sysctls", T, sysctls),
	STR("helper_image", T, helper_image),
	/* Picks among gitlab-runner's helper images; crunner has its own. */
	STR("helper_image_flavor", T, helper_image_flavor, NO_EFFECT),
	STRMAP("container_labels", T, container_labels),
	BOOL("enable_ipv6", T, enable_ipv6),
	STRMAP("ulimit", T, ulimit),
	INT("network_mtu", T, network_mtu, NONNEG, .flags = CF_ALWAYS),
	/* Newer gitlab-runner settings. */
	STR("cgroup_parent", T, cgroup_parent),
	STRMAP("log_options", T, log_options),
	{ .name = "services_devices", .type = CT_LISTMAP,
	  OFF(T, services_devices) },
	STR("service_memory", T, service_memory, .check = check_ram_size,
	    .expect = RAM_EXPECT),
	STR("service_memory_swap", T, service_memory_swap,
	    .check = check_ram_size, .expect = RAM_EXPECT),
	STR("service_memory_reservation", T, service_memory_reservation,
	    .check = check_ram_size, .expect = RAM_EXPECT),
	STR("service_cgroup_parent", T, service_cgroup_parent),
	STR("service_cpuset_cpus", T, service_cpuset_cpus),
	STR("service_cpus", T, service_cpus, .check = check_cpus,
	    .expect = CPUS_EXPECT),
	INT64("service_cpu_shares", T, service_cpu_shares, NONNEG64),
	STR("service_gpus", T, service_gpus),
	STR("cpuset_mems", T, cpuset_mems),
	BOOL("volume_keep", T, volume_keep),
	STR("pid_mode", T, pid_mode),
	INT("services_limit", T, services_limit, .def = -1),
	STR("service_slot_cgroup_template", T, service_slot_cgroup_template),
};
static const struct config_section docker_section = {
	"[runners.docker]", ROWS(docker_keys), sizeof(T), offsetof(T, present)
};
#undef T

/* --- [runners.kubernetes] --- */

#define T struct config_kubernetes_service
static const struct config_key kubernetes_service_keys[] = {
	STR("name", T, name, .flags = CF_ALWAYS),
	STR("alias", T, alias),
	LIST("command", T, command),
	LIST("entrypoint", T, entrypoint),
};
static const struct config_section kubernetes_service_section = {
	"[[runners.kubernetes.services]]", ROWS(kubernetes_service_keys),
	sizeof(T), NO_PRESENT
};
#undef T

#define T struct config_kubernetes_host_alias
static const struct config_key kubernetes_host_alias_keys[] = {
	STR("ip", T, ip, .flags = CF_ALWAYS),
	LIST("hostnames", T, hostnames),
};
static const struct config_section kubernetes_host_alias_section = {
	"[[runners.kubernetes.host_aliases]]",
	ROWS(kubernetes_host_alias_keys), sizeof(T), NO_PRESENT
};
#undef T

/* [[runners.kubernetes.volumes.<kind>]]: the rows each kind has. */
#define T struct config_kubernetes_volume
#define K8S_VOL_COMMON \
	STR("name", T, name, .flags = CF_ALWAYS), \
	STR("mount_path", T, mount_path, .flags = CF_ALWAYS), \
	STR("sub_path", T, sub_path)
static const struct config_key k8s_host_path_keys[] = {
	K8S_VOL_COMMON,
	BOOL("read_only", T, read_only),
	STR("host_path", T, host_path),
	STR("mount_propagation", T, mount_propagation),
};
static const struct config_key k8s_pvc_keys[] = {
	K8S_VOL_COMMON,
	BOOL("read_only", T, read_only),
	STR("mount_propagation", T, mount_propagation),
};
static const struct config_key k8s_config_map_keys[] = {
	K8S_VOL_COMMON,
	BOOL("read_only", T, read_only),
	STRMAP("items", T, items),
};
static const struct config_key k8s_empty_dir_keys[] = {
	K8S_VOL_COMMON,
	STR("medium", T, medium),
	STR("size_limit", T, size_limit),
	STR("mount_propagation", T, mount_propagation),
};
static const struct config_key k8s_csi_keys[] = {
	K8S_VOL_COMMON,
	STR("driver", T, driver, .flags = CF_ALWAYS),
	STR("fs_type", T, fs_type, .flags = CF_ALWAYS),
	BOOL("read_only", T, read_only),
	STRMAP("volume_attributes", T, volume_attributes),
};
#define K8S_VOL_SECTION(var, title, keys) \
	static const struct config_section var = { \
		title, ROWS(keys), sizeof(T), NO_PRESENT }
K8S_VOL_SECTION(k8s_host_path_section,
		"[[runners.kubernetes.volumes.host_path]]", k8s_host_path_keys);
K8S_VOL_SECTION(k8s_pvc_section, "[[runners.kubernetes.volumes.pvc]]",
		k8s_pvc_keys);
K8S_VOL_SECTION(k8s_config_map_section,
		"[[runners.kubernetes.volumes.config_map]]",
		k8s_config_map_keys);
K8S_VOL_SECTION(k8s_secret_section, "[[runners.kubernetes.volumes.secret]]",
		k8s_config_map_keys);
K8S_VOL_SECTION(k8s_empty_dir_section,
		"[[runners.kubernetes.volumes.empty_dir]]", k8s_empty_dir_keys);
K8S_VOL_SECTION(k8s_csi_section, "[[runners.kubernetes.volumes.csi]]",
		k8s_csi_keys);
#undef K8S_VOL_SECTION
#undef K8S_VOL_COMMON
#undef T

#define T struct config_kubernetes_nfs
static const struct config_key k8s_nfs_keys[] = {
	STR("name", T, name, .flags = CF_ALWAYS),
	STR("mount_path", T, mount_path, .flags = CF_ALWAYS),
	STR("sub_path", T, sub_path),
	STR("server", T, server, .flags = CF_ALWAYS),
	STR("path", T, path, .flags = CF_ALWAYS),
	BOOL("read_only", T, read_only),
};
static const struct config_section k8s_nfs_section = {
	"[[runners.kubernetes.volumes.nfs]]", ROWS(k8s_nfs_keys), sizeof(T),
	NO_PRESENT
};
#undef T

#define T struct config_k8s_http_header
static const struct config_key k8s_http_header_keys[] = {
	STR("name", T, name, .flags = CF_ALWAYS),
	STR("value", T, value, .flags = CF_ALWAYS),
};
static const struct config_section k8s_http_header_section = {
	"[[runners.kubernetes.container_lifecycle.*.http_get.http_headers]]",
	ROWS(k8s_http_header_keys), sizeof(T), NO_PRESENT
};
#undef T

#define T struct config_k8s_exec_action
static const struct config_key k8s_lifecycle_exec_keys[] = {
	LIST("command", T, command, .flags = CF_ALWAYS),
};
static const struct config_section k8s_lifecycle_exec_section = {
	"[runners.kubernetes.container_lifecycle.*.exec]",
	ROWS(k8s_lifecycle_exec_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_http_get
static const struct config_key k8s_lifecycle_http_get_keys[] = {
	STR("host", T, host, .flags = CF_ALWAYS),
	{ .name = "http_headers", .type = CT_SECTION_ARRAY,
	  OFF(T, http_headers), .off2 = offsetof(T, nr_http_headers),
	  .sub = &k8s_http_header_section },
	STR("path", T, path, .flags = CF_ALWAYS),
	INT("port", T, port, .flags = CF_ALWAYS),
	STR("scheme", T, scheme, .flags = CF_ALWAYS),
};
static const struct config_section k8s_lifecycle_http_get_section = {
	"[runners.kubernetes.container_lifecycle.*.http_get]",
	ROWS(k8s_lifecycle_http_get_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_tcp_socket
static const struct config_key k8s_lifecycle_tcp_keys[] = {
	STR("host", T, host, .flags = CF_ALWAYS),
	INT("port", T, port, .flags = CF_ALWAYS),
};
static const struct config_section k8s_lifecycle_tcp_section = {
	"[runners.kubernetes.container_lifecycle.*.tcp_socket]",
	ROWS(k8s_lifecycle_tcp_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_lifecycle_handler
static const struct config_key k8s_lifecycle_handler_keys[] = {
	SECTION("exec", T, exec, k8s_lifecycle_exec_section),
	SECTION("http_get", T, http_get, k8s_lifecycle_http_get_section),
	SECTION("tcp_socket", T, tcp_socket, k8s_lifecycle_tcp_section),
};
static const struct config_section k8s_lifecycle_handler_section = {
	"[runners.kubernetes.container_lifecycle.*]",
	ROWS(k8s_lifecycle_handler_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_container_lifecycle
static const struct config_key k8s_container_lifecycle_keys[] = {
	SECTION("post_start", T, post_start, k8s_lifecycle_handler_section),
	SECTION("pre_stop", T, pre_stop, k8s_lifecycle_handler_section),
};
static const struct config_section k8s_container_lifecycle_section = {
	"[runners.kubernetes.container_lifecycle]",
	ROWS(k8s_container_lifecycle_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_kubernetes_pod_spec
static const char *const k8s_patch_types[] = {
	"strategic", "json", "merge", NULL
};
static const struct config_key k8s_pod_spec_keys[] = {
	STR("name", T, name, .flags = CF_ALWAYS),
	STR("patch_path", T, patch_path, .flags = CF_ALWAYS),
	STR("patch", T, patch, .flags = CF_ALWAYS),
	STR("patch_type", T, patch_type, .flags = CF_ALWAYS,
	    .choices = k8s_patch_types),
};
static const struct config_section k8s_pod_spec_section = {
	"[[runners.kubernetes.pod_spec]]", ROWS(k8s_pod_spec_keys), sizeof(T),
	NO_PRESENT
};
#undef T

#define T struct config_kubernetes_volumes
#define K8S_VOLS(n, kind, s) \
	{ .name = n, .type = CT_SECTION_ARRAY, OFF(T, list[kind]), \
	  .off2 = offsetof(T, nr[kind]), .sub = &(s) }
static const struct config_key kubernetes_volumes_keys[] = {
	K8S_VOLS("host_path", K8S_VOL_HOST_PATH, k8s_host_path_section),
	K8S_VOLS("pvc", K8S_VOL_PVC, k8s_pvc_section),
	K8S_VOLS("config_map", K8S_VOL_CONFIG_MAP, k8s_config_map_section),
	K8S_VOLS("secret", K8S_VOL_SECRET, k8s_secret_section),
	K8S_VOLS("empty_dir", K8S_VOL_EMPTY_DIR, k8s_empty_dir_section),
	K8S_VOLS("csi", K8S_VOL_CSI, k8s_csi_section),
	{ .name = "nfs", .type = CT_SECTION_ARRAY, OFF(T, nfs),
	  .off2 = offsetof(T, nr_nfs), .sub = &k8s_nfs_section },
};
#undef K8S_VOLS
static const struct config_section kubernetes_volumes_section = {
	"[runners.kubernetes.volumes]", ROWS(kubernetes_volumes_keys),
	sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_kubernetes_profile
static const struct config_key kubernetes_profile_keys[] = {
	STR("type", T, type),
	STR("localhost_profile", T, localhost_profile),
};
static const struct config_section kubernetes_profile_section = {
	"seccomp_profile or app_armor_profile", ROWS(kubernetes_profile_keys),
	sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_kubernetes_pod_security
static const struct config_key kubernetes_pod_security_keys[] = {
	INT64("fs_group", T, fs_group, .def = -1, NONNEG64),
	INT64("run_as_group", T, run_as_group, .def = -1, NONNEG64),
	TRIBOOL("run_as_non_root", T, run_as_non_root),
	INT64("run_as_user", T, run_as_user, .def = -1, NONNEG64),
	{ .name = "supplemental_groups", .type = CT_JSON,
	  OFF(T, supplemental_groups), .check = check_group_id,
	  .expect = "an array of group IDs (integers >= 0)" },
	STR("selinux_type", T, selinux_type),
	SECTION("seccomp_profile", T, seccomp_profile,
		kubernetes_profile_section),
	SECTION("app_armor_profile", T, app_armor_profile,
		kubernetes_profile_section),
};
static const struct config_section kubernetes_pod_security_section = {
	"[runners.kubernetes.pod_security_context]",
	ROWS(kubernetes_pod_security_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_kubernetes_capabilities
static const struct config_key kubernetes_capabilities_keys[] = {
	LIST("add", T, add),
	LIST("drop", T, drop),
};
static const struct config_section kubernetes_capabilities_section = {
	"[runners.kubernetes.*_container_security_context.capabilities]",
	ROWS(kubernetes_capabilities_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_kubernetes_container_security
static const struct config_key kubernetes_container_security_keys[] = {
	SECTION("capabilities", T, capabilities,
		kubernetes_capabilities_section),
	TRIBOOL("privileged", T, privileged),
	INT64("run_as_user", T, run_as_user, .def = -1, NONNEG64),
	INT64("run_as_group", T, run_as_group, .def = -1, NONNEG64),
	TRIBOOL("run_as_non_root", T, run_as_non_root),
	TRIBOOL("read_only_root_filesystem", T, read_only_root_filesystem),
	TRIBOOL("allow_privilege_escalation", T, allow_privilege_escalation),
	STR("selinux_type", T, selinux_type),
	STR("proc_mount", T, proc_mount),
	SECTION("seccomp_profile", T, seccomp_profile,
		kubernetes_profile_section),
	SECTION("app_armor_profile", T, app_armor_profile,
		kubernetes_profile_section),
};
static const struct config_section kubernetes_container_security_section = {
	"[runners.kubernetes.*_container_security_context]",
	ROWS(kubernetes_container_security_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_kubernetes_dns_option
static const struct config_key kubernetes_dns_option_keys[] = {
	STR("name", T, name, .flags = CF_ALWAYS),
	STR("value", T, value),
};
static const struct config_section kubernetes_dns_option_section = {
	"[[runners.kubernetes.dns_config.options]]",
	ROWS(kubernetes_dns_option_keys), sizeof(T), NO_PRESENT
};
#undef T

#define T struct config_kubernetes_dns_config
static const struct config_key kubernetes_dns_config_keys[] = {
	LIST("nameservers", T, nameservers, .flags = CF_ALWAYS),
	{ .name = "options", .type = CT_SECTION_ARRAY, OFF(T, options),
	  .off2 = offsetof(T, nr_options),
	  .sub = &kubernetes_dns_option_section },
	LIST("searches", T, searches, .flags = CF_ALWAYS),
};
static const struct config_section kubernetes_dns_config_section = {
	"[runners.kubernetes.dns_config]", ROWS(kubernetes_dns_config_keys),
	sizeof(T), offsetof(T, present)
};
#undef T

/* [runners.kubernetes.affinity] and everything under it. */
#define ARRAY(n, T, f, s) \
	{ .name = n, .type = CT_SECTION_ARRAY, OFF(T, f), \
	  .off2 = offsetof(T, nr_##f), .sub = &(s) }
#define REQUIRED "required_during_scheduling_ignored_during_execution"
#define PREFERRED "preferred_during_scheduling_ignored_during_execution"

#define T struct config_k8s_selector_req
static const struct config_key k8s_selector_req_keys[] = {
	STR("key", T, key),
	STR("operator", T, operator),
	LIST("values", T, values),
};
static const struct config_section k8s_selector_req_section = {
	"match_expressions or match_fields", ROWS(k8s_selector_req_keys),
	sizeof(T), NO_PRESENT
};
#undef T

#define T struct config_k8s_node_selector_term
static const struct config_key k8s_node_selector_term_keys[] = {
	ARRAY("match_expressions", T, match_expressions,
	      k8s_selector_req_section),
	ARRAY("match_fields", T, match_fields, k8s_selector_req_section),
};
static const struct config_section k8s_node_selector_term_section = {
	"node_selector_terms or preference", ROWS(k8s_node_selector_term_keys),
	sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_node_selector
static const struct config_key k8s_node_selector_keys[] = {
	{ .name = "node_selector_terms", .type = CT_SECTION_ARRAY,
	  OFF(T, terms), .off2 = offsetof(T, nr_terms),
	  .sub = &k8s_node_selector_term_section },
};
static const struct config_section k8s_node_selector_section = {
	"[runners.kubernetes.affinity.node_affinity." REQUIRED "]",
	ROWS(k8s_node_selector_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_preferred_term
static const struct config_key k8s_preferred_term_keys[] = {
	INT("weight", T, weight),
	SECTION("preference", T, preference, k8s_node_selector_term_section),
};
static const struct config_section k8s_preferred_term_section = {
	"[[runners.kubernetes.affinity.node_affinity." PREFERRED "]]",
	ROWS(k8s_preferred_term_keys), sizeof(T), NO_PRESENT
};
#undef T

#define T struct config_k8s_node_affinity
static const struct config_key k8s_node_affinity_keys[] = {
	SECTION(REQUIRED, T, required, k8s_node_selector_section),
	ARRAY(PREFERRED, T, preferred, k8s_preferred_term_section),
};
static const struct config_section k8s_node_affinity_section = {
	"[runners.kubernetes.affinity.node_affinity]",
	ROWS(k8s_node_affinity_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_label_selector
static const struct config_key k8s_label_selector_keys[] = {
	STRMAP("match_labels", T, match_labels),
	ARRAY("match_expressions", T, match_expressions,
	      k8s_selector_req_section),
};
static const struct config_section k8s_label_selector_section = {
	"label_selector or namespace_selector", ROWS(k8s_label_selector_keys),
	sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_pod_affinity_term
static const struct config_key k8s_pod_affinity_term_keys[] = {
	SECTION("label_selector", T, label_selector,
		k8s_label_selector_section),
	LIST("namespaces", T, namespaces),
	STR("topology_key", T, topology_key),
	SECTION("namespace_selector", T, namespace_selector,
		k8s_label_selector_section),
	LIST("match_label_keys", T, match_label_keys),
	LIST("mismatch_label_keys", T, mismatch_label_keys),
};
static const struct config_section k8s_pod_affinity_term_section = {
	"a pod affinity term", ROWS(k8s_pod_affinity_term_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

#define T struct config_k8s_weighted_term
static const struct config_key k8s_weighted_term_keys[] = {
	INT("weight", T, weight),
	SECTION("pod_affinity_term", T, term, k8s_pod_affinity_term_section),
};
static const struct config_section k8s_weighted_term_section = {
	"a weighted pod affinity term", ROWS(k8s_weighted_term_keys),
	sizeof(T), NO_PRESENT
};
#undef T

#define T struct config_k8s_pod_affinity
static const struct config_key k8s_pod_affinity_keys[] = {
	ARRAY(REQUIRED, T, required, k8s_pod_affinity_term_section),
	ARRAY(PREFERRED, T, preferred, k8s_weighted_term_section),
};
static const struct config_section k8s_pod_affinity_section = {
	"[runners.kubernetes.affinity.pod_affinity] or pod_anti_affinity",
	ROWS(k8s_pod_affinity_keys), sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_k8s_affinity
static const struct config_key k8s_affinity_keys[] = {
	SECTION("node_affinity", T, node, k8s_node_affinity_section),
	SECTION("pod_affinity", T, pod, k8s_pod_affinity_section),
	SECTION("pod_anti_affinity", T, pod_anti, k8s_pod_affinity_section),
};
static const struct config_section k8s_affinity_section = {
	"[runners.kubernetes.affinity]", ROWS(k8s_affinity_keys), sizeof(T),
	offsetof(T, present)
};
#undef T
#undef PREFERRED
#undef REQUIRED
#undef ARRAY

/* One resource's limit or request and the most a job may ask for. */
#define K8S_RES(p, o, k, b, n) \
	STR(p n, T, res[o][k][b].value), \
	STR(p n "_overwrite_max_allowed", T, res[o][k][b].max)
#define K8S_RES_ROWS(p, o) \
	K8S_RES(p, o, K8S_RES_CPU, K8S_RES_LIMIT, "cpu_limit"), \
	K8S_RES(p, o, K8S_RES_CPU, K8S_RES_REQUEST, "cpu_request"), \
	K8S_RES(p, o, K8S_RES_MEMORY, K8S_RES_LIMIT, "memory_limit"), \
	K8S_RES(p, o, K8S_RES_MEMORY, K8S_RES_REQUEST, "memory_request"), \
	K8S_RES(p, o, K8S_RES_EPHEMERAL, K8S_RES_LIMIT, \
		"ephemeral_storage_limit"), \
	K8S_RES(p, o, K8S_RES_EPHEMERAL, K8S_RES_REQUEST, \
		"ephemeral_storage_request")

#define K8S_POD_RES(k, b, n) \
	STR(n, T, pod_res[k][b].value), \
	STR(n "_overwrite_max_allowed", T, pod_res[k][b].max)

#define T struct config_kubernetes
static const struct config_key kubernetes_keys[] = {
	STR("host", T, host),
	STR("context", T, context),
	STR("cert_file", T, cert_file),
	STR("key_file", T, key_file),
	STR("ca_file", T, ca_file),
	BOOL("bearer_token_overwrite_allowed", T,
	     bearer_token_overwrite_allowed),
	STR("bearer_token", T, bearer_token, .flags = CF_SECRET),
	STR("image", T, image, .flags = CF_ALWAYS),
	STR("namespace", T, namespace, .flags = CF_ALWAYS),
	STR("namespace_overwrite_allowed", T, namespace_overwrite_allowed),
	BOOL("namespace_per_job", T, namespace_per_job),
	BOOL("privileged", T, privileged),
	STR("runtime_class_name", T, runtime_class_name),
	TRIBOOL("allow_privilege_escalation", T, allow_privilege_escalation),
	K8S_RES_ROWS("", K8S_RES_BUILD),
	K8S_RES_ROWS("service_", K8S_RES_SERVICE),
	K8S_RES_ROWS("helper_", K8S_RES_HELPER),
	K8S_POD_RES(K8S_RES_CPU, K8S_RES_LIMIT, "pod_cpu_limit"),
	K8S_POD_RES(K8S_RES_CPU, K8S_RES_REQUEST, "pod_cpu_request"),
	K8S_POD_RES(K8S_RES_MEMORY, K8S_RES_LIMIT, "pod_memory_limit"),
	K8S_POD_RES(K8S_RES_MEMORY, K8S_RES_REQUEST, "pod_memory_request"),
	LIST("allowed_images", T, allowed_images),
	LIST("allowed_pull_policies", T, allowed_pull_policies,
	     .choices = pull_policies,
	     .expect = "an array of always, never or if-not-present"),
	LIST("allowed_services", T, allowed_services),
	LIST("allowed_users", T, allowed_users),
	LIST("allowed_groups", T, allowed_groups),
	{ .name = "pull_policy", .type = CT_STR_OR_LIST, OFF(T, pull_policy),
	  .choices = pull_policies,
	  .expect = "always, never or if-not-present, or an array of them" },
	STRMAP("node_selector", T, node_selector),
	STR("node_selector_overwrite_allowed", T,
	    node_selector_overwrite_allowed),
	STRMAP("node_tolerations", T, node_tolerations),
	STR("node_tolerations_overwrite_allowed", T,
	    node_tolerations_overwrite_allowed),
	SECTION("affinity", T, affinity, k8s_affinity_section),
	LIST("image_pull_secrets", T, image_pull_secrets),
	BOOL("use_service_account_image_pull_secrets", T,
	     use_service_account_image_pull_secrets),
	STR("helper_image", T, helper_image),
	UNUSED("helper_image_flavor"),
	UNUSED("helper_image_autoset_arch_and_os"),
	INT64("pod_termination_grace_period_seconds", T,
	      pod_termination_grace_period_seconds, .def = -1, NONNEG64),
	INT64("cleanup_grace_period_seconds", T, cleanup_grace_period_seconds,
	      .def = -1, NONNEG64),
	DURATION("cleanup_resources_timeout", T, cleanup_resources_timeout),
	INT("poll_interval", T, poll_interval, POSITIVE(3)),
	INT("poll_timeout", T, poll_timeout, POSITIVE(180)),
	INT("resource_availability_check_max_attempts", T,
	    resource_availability_check_max_attempts),
	INT("retry_limit", T, retry_limit),
	INT("retry_backoff_max", T, retry_backoff_max),
	{ .name = "retry_limits", .type = CT_JSON, OFF(T, retry_limits) },
	STRMAP("pod_labels", T, pod_labels),
	STR("pod_labels_overwrite_allowed", T, pod_labels_overwrite_allowed),
	STR("scheduler_name", T, scheduler_name),
	STR("service_account", T, service_account),
	STR("service_account_overwrite_allowed", T,
	    service_account_overwrite_allowed),
	TRIBOOL("automount_service_account_token", T,
		automount_service_account_token),
	STRMAP("pod_annotations", T, pod_annotations),
	STR("pod_annotations_overwrite_allowed", T,
	    pod_annotations_overwrite_allowed),
	SECTION("pod_security_context", T, pod_security,
		kubernetes_pod_security_section),
	/* The attach strategy's init-permissions container. */
	SECTION("init_permissions_container_security_context", T,
		sc[K8S_SC_INIT], kubernetes_container_security_section),
	SECTION("build_container_security_context", T, sc[K8S_SC_BUILD],
		kubernetes_container_security_section),
	SECTION("helper_container_security_context", T, sc[K8S_SC_HELPER],
		kubernetes_container_security_section),
	SECTION("service_container_security_context", T, sc[K8S_SC_SERVICE],
		kubernetes_container_security_section),
	SECTION("volumes", T, volumes, kubernetes_volumes_section),
	{ .name = "host_aliases", .type = CT_SECTION_ARRAY,
	  OFF(T, host_aliases), .off2 = offsetof(T, nr_host_aliases),
	  .sub = &kubernetes_host_alias_section },
	{ .name = "services", .type = CT_SECTION_ARRAY, OFF(T, services),
	  .off2 = offsetof(T, nr_services),
	  .sub = &kubernetes_service_section },
	LIST("cap_add", T, cap_add),
	LIST("cap_drop", T, cap_drop),
	UNUSED("suspend_pvc_size"),
	UNUSED("suspend_pvc_storage_class"),
	STR("dns_policy", T, dns_policy),
	SECTION("dns_config", T, dns_config, kubernetes_dns_config_section),
	SECTION("container_lifecycle", T, container_lifecycle,
		k8s_container_lifecycle_section),
	STR("priority_class_name", T, priority_class_name),
	{ .name = "pod_spec", .type = CT_SECTION_ARRAY, OFF(T, pod_specs),
	  .off2 = offsetof(T, nr_pod_specs), .sub = &k8s_pod_spec_section },
	STR("logs_base_dir", T, logs_base_dir),
	STR("scripts_base_dir", T, scripts_base_dir),
	TRIBOOL("print_pod_warning_events", T, print_pod_warning_events),
	UNUSED("pod_disruption_budget"),
	UNUSED("autoscaler"),
};
static const struct config_section kubernetes_section = {
	"[runners.kubernetes]", ROWS(kubernetes_keys), sizeof(T),
	offsetof(T, present)
};
#undef T
#undef K8S_RES_ROWS
#undef K8S_RES
#undef K8S_POD_RES

/* --- [runners.custom] --- */

#define T struct config_custom
static const struct config_key custom_keys[] = {
	STR("config_exec", T, config_exec),
	LIST("config_args", T, config_args),
	INT("config_exec_timeout", T, config_exec_timeout, POSITIVE(3600)),
	STR("prepare_exec", T, prepare_exec),
	LIST("prepare_args", T, prepare_args),
	INT("prepare_exec_timeout", T, prepare_exec_timeout, POSITIVE(3600)),
	STR("run_exec", T, run_exec, .flags = CF_ALWAYS),
	LIST("run_args", T, run_args),
	STR("cleanup_exec", T, cleanup_exec),
	LIST("cleanup_args", T, cleanup_args),
	INT("cleanup_exec_timeout", T, cleanup_exec_timeout, POSITIVE(3600)),
	INT("graceful_kill_timeout", T, graceful_kill_timeout, POSITIVE(600)),
	INT("force_kill_timeout", T, force_kill_timeout, POSITIVE(10)),
};
static const struct config_section custom_section = {
	"[runners.custom]", ROWS(custom_keys), sizeof(T), offsetof(T, present)
};
#undef T

/* --- [runners.ssh] (gitlab-runner's SshConfig) --- */

#define T struct config_ssh
static const struct config_key ssh_keys[] = {
	STR("user", T, user),
	STR("password", T, password, .flags = CF_SECRET),
	STR("host", T, host),
	STR("port", T, port),
	STR("identity_file", T, identity_file),
	TRIBOOL("disable_strict_host_key_checking", T,
		disable_strict_host_key_checking),
	STR("known_hosts_file", T, known_hosts_file),
};
static const struct config_section ssh_section = {
	"[runners.ssh]", ROWS(ssh_keys), sizeof(T), offsetof(T, present)
};
#undef T

/* --- [runners.instance] and [runners.autoscaler] (gitlab-runner 19) --- */

#define T struct config_instance
static const struct config_key instance_keys[] = {
	LIST("allowed_images", T, allowed_images, NO_EFFECT),
	BOOL("use_common_build_dir", T, use_common_build_dir),
};
static const struct config_section instance_section = {
	"[runners.instance]", ROWS(instance_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

#define T struct config_connector
static const struct config_key connector_keys[] = {
	STR("os", T, os),
	STR("arch", T, arch),
	STR("protocol", T, protocol),
	INT("protocol_port", T, protocol_port, NONNEG),
	STR("username", T, username),
	STR("password", T, password, .flags = CF_SECRET),
	STR("key_path", T, key_path),
	BOOL("use_static_credentials", T, use_static_credentials),
	DURATION("keepalive", T, keepalive_ms),
	DURATION("timeout", T, timeout_ms),
	BOOL("use_external_addr", T, use_external_addr),
};
static const struct config_section connector_section = {
	"[runners.autoscaler.connector_config]", ROWS(connector_keys),
	sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_autoscaler_policy
static const struct config_key autoscaler_policy_keys[] = {
	LIST("periods", T, periods),
	STR("timezone", T, timezone),
	INT("idle_count", T, idle_count, NONNEG),
	DURATION("idle_time", T, idle_time_ms),
	{ .name = "scale_factor", .type = CT_DOUBLE, OFF(T, scale_factor) },
	INT("scale_factor_limit", T, scale_factor_limit, NONNEG),
	TRIBOOL("preemptive_mode", T, preemptive_mode),
};
static const struct config_section autoscaler_policy_section = {
	"[[runners.autoscaler.policy]]", ROWS(autoscaler_policy_keys),
	sizeof(T), NO_PRESENT
};
#undef T

#define T struct config_scale_throttle
static const struct config_key scale_throttle_keys[] = {
	INT("limit", T, limit, .min = -1, .max = INT_MAX),
	INT("burst", T, burst, NONNEG),
};
static const struct config_section scale_throttle_section = {
	"[runners.autoscaler.scale_throttle]", ROWS(scale_throttle_keys),
	sizeof(T), offsetof(T, present)
};
#undef T

#define T struct config_state_storage
static const struct config_key state_storage_keys[] = {
	BOOL("enabled", T, enabled),
	STR("dir", T, dir),
	BOOL("keep_instance_with_acquisitions", T,
	     keep_instance_with_acquisitions),
};
static const struct config_section state_storage_section = {
	"[runners.autoscaler.state_storage]", ROWS(state_storage_keys),
	sizeof(T), offsetof(T, present)
};
#undef T

/*
 * Durations gitlab-runner's autoscaler provider replaces when zero carry
 * that default here; the taskscaler reads <= 0 as the default too.
 */
#define T struct config_autoscaler
static const struct config_key autoscaler_keys[] = {
	INT("capacity_per_instance", T, capacity_per_instance, NONNEG),
	INT("max_use_count", T, max_use_count, NONNEG),
	INT("max_instances", T, max_instances, NONNEG),
	STR("plugin", T, plugin),
	{ .name = "plugin_config", .type = CT_JSON, OFF(T, plugin_config_json) },
	SECTION("connector_config", T, connector_config, connector_section),
	{ .name = "policy", .type = CT_SECTION_ARRAY, OFF(T, policy),
	  .off2 = offsetof(T, nr_policy), .sub = &autoscaler_policy_section },
	STR("instance_ready_command", T, instance_ready_command),
	DURATION("instance_acquire_timeout", T, instance_acquire_timeout_ms,
		 .def = 15 * 60 * 1000),
	DURATION("update_interval", T, update_interval_ms, .def = 60 * 1000),
	DURATION("update_interval_when_expecting", T,
		 update_interval_when_expecting_ms, .def = 2 * 1000),
	DURATION("deletion_retry_interval", T, deletion_retry_interval_ms,
		 .def = 60 * 1000),
	DURATION("shutdown_deletion_interval", T,
		 shutdown_deletion_interval_ms, .def = 10 * 1000),
	INT("shutdown_deletion_retries", T, shutdown_deletion_retries,
	    POSITIVE(3)),
	/* Heartbeats' (FF_USE_FLEETING_ACQUIRE_HEARTBEATS). */
	INT("failure_threshold", T, failure_threshold, .def = 3,
	    .flags = CF_NONPOS_DEFAULT),
	SECTION("scale_throttle", T, scale_throttle, scale_throttle_section),
	TRIBOOL("reservation_throttling", T, reservation_throttling),
	BOOL("log_internal_ip", T, log_internal_ip),
	BOOL("log_external_ip", T, log_external_ip),
	BOOL("delete_instances_on_shutdown", T, delete_instances_on_shutdown),
	UNUSED("vm_isolation"),
	SECTION("state_storage", T, state_storage, state_storage_section),
	DOUBLES("instance_operation_time_buckets", T, instance_operation_time_buckets),
	DOUBLES("instance_creation_time_buckets", T, instance_creation_time_buckets),
	DOUBLES("instance_is_running_time_buckets", T, instance_is_running_time_buckets),
	DOUBLES("instance_deletion_time_buckets", T, instance_deletion_time_buckets),
	DOUBLES("instance_readiness_time_buckets", T, instance_readiness_time_buckets),
	DOUBLES("instance_life_duration_buckets", T, instance_life_duration_buckets),
};
static const struct config_section autoscaler_section = {
	"[runners.autoscaler]", ROWS(autoscaler_keys), sizeof(T),
	offsetof(T, present)
};
#undef T

/* --- [[runners]] --- */

#define T struct runner_config
static const struct config_key runner_keys[] = {
	STR("name", T, name, .flags = CF_ALWAYS),
	INT("limit", T, limit, NONNEG),
	INT("output_limit", T, output_limit, POSITIVE(4096)),
	INT("request_concurrency", T, request_concurrency, POSITIVE(1)),
	TRIBOOL("strict_check_interval", T, strict_check_interval),
	INT("unhealthy_requests_limit", T, unhealthy_requests_limit,
	    POSITIVE(3)),
	DURATION("unhealthy_interval", T, unhealthy_interval_ms,
		 .def = 60 * 60 * 1000),
	STR("url", T, url, .flags = CF_ALWAYS),
	INT64("id", T, id, NONNEG64, .flags = CF_ALWAYS),
	STR("token", T, token, .flags = CF_SECRET | CF_ALWAYS),
	TIME("token_obtained_at", T, token_obtained_at, .flags = CF_ALWAYS),
	TIME("token_expires_at", T, token_expires_at, .flags = CF_ALWAYS),
	STR("tls-ca-file", T, tls_ca_file),
	STR("tls-cert-file", T, tls_cert_file),
	STR("tls-key-file", T, tls_key_file),
	STRMAP("labels", T, labels),
	/* Not checked here: a name crunner lacks disables that runner only. */
	STR("executor", T, executor, .flags = CF_ALWAYS),
	STR("builds_dir", T, builds_dir),
	STR("cache_dir", T, cache_dir),
	STR("clone_url", T, clone_url),
	LIST("environment", T, environment, .check = check_env,
	     .expect = ENV_EXPECT),
	/* Deprecated; config_runner.c copies them to the new names. */
	STR("pre_clone_script", T, pre_clone_script),
	STR("post_clone_script", T, post_clone_script),
	STR("pre_get_sources_script", T, pre_get_sources_script),
	STR("post_get_sources_script", T, post_get_sources_script),
	STR("pre_build_script", T, pre_build_script),
	STR("post_build_script", T, post_build_script),
	DURATION("prepare_timeout", T, prepare_timeout_ms),
	DURATION("get_sources_timeout", T, get_sources_timeout_ms),
	BOOL("debug_trace_disabled", T, debug_trace_disabled),
	TRIBOOL("safe_directory_checkout", T, safe_directory_checkout),
	STR("shell", T, shell, .choices = shells),
	SECTION("custom_build_dir", T, custom_build_dir,
		custom_build_dir_section),
	UNUSED("referees"),
	SECTION("cache", T, cache, cache_section),
	SECTION("artifact", T, artifact, artifact_section),
	{ .name = "feature_flags", .type = CT_BOOLMAP, OFF(T, feature_flags) },
	SECTION("instance", T, instance, instance_section),
	SECTION("ssh", T, ssh, ssh_section),
	SECTION("docker", T, docker, docker_section),
	UNUSED("parallels"),
	UNUSED("virtualbox"),
	UNUSED("machine"),
	SECTION("kubernetes", T, kubernetes, kubernetes_section),
	SECTION("custom", T, custom, custom_section),
	SECTION("autoscaler", T, autoscaler, autoscaler_section),
	/* Autoscaler slots' cgroups (config_slot_cgroup()). */
	BOOL("use_slot_cgroups", T, use_slot_cgroups),
	STR("slot_cgroup_template", T, slot_cgroup_template),
	/* Keys register writes that crunner keeps without acting on. */
	INT("job_status_final_update_retry_limit", T,
	    job_status_final_update_retry_limit, POSITIVE(10)),
	UNUSED("proxy_exec"),
	TRIBOOL("clean_git_config", T, clean_git_config),
	UNUSED("step_runner_image"),
};
const struct config_section config_runner_section = {
	"[[runners]]", ROWS(runner_keys), sizeof(T), NO_PRESENT
};
#undef T
