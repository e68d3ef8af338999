/*
 * config.toml: the model of gitlab-runner's configuration file.
 *
 * The file is a drop-in for gitlab-runner's: same keys, same types, same
 * defaults.  Every key is one row of a table (config_keys.c) that gives its
 * name, type, place in the structs below, default and validator; the same
 * rows drive parsing, defaults, the unknown-key warnings and the writer.
 *
 * The caller does:
 *
 * 1. config_load() to read a file into a fresh struct config, or
 *    config_default() when there is no file yet.  Unknown keys do not fail
 *    loading: each adds one line to cfg->warnings
 *    ("config.toml:7: unknown key 'foo' in [[runners]] (ignored)").  A wrong
 *    type or value fails with CR_ERR_INVALID and one sentence in err naming
 *    file:line and the key.  Loading never modifies the file.
 * 2. Reads the fields.  Defaults are already applied: a field holds the
 *    value gitlab-runner would use (check_interval = 0 in the file reads as
 *    3, a missing output_limit as 4096).  Strings are NULL when the key is
 *    absent or empty.
 * 3. To change the file (register, unregister, token rotation): edit with
 *    config_runner_add(), config_runner_remove() or config_runner_sync(),
 *    then config_save().  The parsed TOML tree is kept in cfg->tree, so
 *    other runners, unknown keys and sections crunner does not model are
 *    written back as they were.  Global fields are read-only: changing them
 *    in the struct does not change what config_save() writes.
 * 4. config_release() frees everything; tokens and other secrets are
 *    overwritten before they are freed.
 */
#ifndef CR_CONFIG_H
#define CR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/strvec.h"

struct buf;
struct json_t;
struct toml_value;

/* One "name = value" entry of a string map such as [runners.docker.tmpfs]. */
struct config_kv {
	char *key;
	char *value;
};

/* A table of string arrays: services_devices = { "img" = ["/dev/x"] }. */
struct config_kvlist {
	char *key;
	struct strvec values;
};

struct config_listmap {
	struct config_kvlist *items;
	size_t nr;
};

/* A table of strings, in file order. */
struct config_strmap {
	struct config_kv *items;
	size_t nr;
};

/* An array of numbers (integers read as doubles), in file order. */
struct config_doubles {
	double *v;
	size_t nr;
};

/* One feature flag: [runners.feature_flags] FF_X = true. */
struct config_flag {
	char *name;
	bool value;
};

struct config_flags {
	struct config_flag *items;
	size_t nr;
};

/* A Go *bool: unset, false or true. */
enum config_tribool {
	CONFIG_UNSET = -1,
	CONFIG_FALSE = 0,
	CONFIG_TRUE = 1,
};

/*
 * A sub-section is embedded by value; present says the file has it (or a
 * runner being added should write it).  Its fields hold defaults either way.
 */

struct config_session_server {
	bool present;
	char *listen_address;
	char *advertise_address;
	int session_timeout;		/* seconds; default 1800 */
};

struct config_cache_s3 {
	bool present;
	char *server_address;		/* ServerAddress */
	char *access_key;		/* AccessKey (secret) */
	char *secret_key;		/* SecretKey (secret) */
	char *session_token;		/* SessionToken (secret) */
	char *bucket_name;		/* BucketName */
	char *bucket_location;		/* BucketLocation */
	bool insecure;			/* Insecure */
	char *authentication_type;	/* access-key, iam */
	char *server_side_encryption;	/* ServerSideEncryption */
	char *server_side_encryption_key_id;
	enum config_tribool dual_stack;	/* DualStack; unset = true */
	enum config_tribool path_style;	/* PathStyle */
	bool accelerate;		/* Accelerate */
	char *role_arn;			/* RoleARN */
	char *upload_role_arn;		/* UploadRoleARN */
	/* DisableAssumeRoleCredentialsCaching: every URL asks STS anew. */
	bool disable_assume_role_credentials_caching;
};

struct config_cache_gcs {
	bool present;
	char *access_id;		/* AccessID */
	char *private_key;		/* PrivateKey (secret) */
	char *credentials_file;		/* CredentialsFile */
	char *bucket_name;		/* BucketName */
	char *universe_domain;		/* UniverseDomain */
	/* Not a key: FF_USE_LEGACY_GCS_CACHE_ADAPTER's copy (stage_cache.c):
	 * no application default credentials. */
	bool legacy_adapter;
};

struct config_cache_azure {
	bool present;
	char *account_name;		/* AccountName */
	char *account_key;		/* AccountKey (secret) */
	char *container_name;		/* ContainerName */
	char *storage_domain;		/* StorageDomain */
};

/* [runners.cache]; gitlab-runner spells these keys in CamelCase. */
struct config_cache {
	bool present;
	char *type;			/* Type: s3, gcs, azure; NULL = none */
	char *path;			/* Path */
	bool shared;			/* Shared */
	int64_t max_uploaded_archive_size;	/* bytes; 0 = no limit */
	struct config_cache_s3 s3;
	struct config_cache_gcs gcs;
	struct config_cache_azure azure;
};

/* [[runners.docker.services]] */
struct config_docker_service {
	char *name;
	char *alias;
	struct strvec command;
	struct strvec entrypoint;
	struct strvec environment;	/* "KEY=VALUE" */
};

/* [[runners.kubernetes.services]] */
struct config_kubernetes_service {
	char *name;
	char *alias;
	struct strvec command;
	struct strvec entrypoint;
};

/* [[runners.kubernetes.host_aliases]] */
struct config_kubernetes_host_alias {
	char *ip;
	struct strvec hostnames;
};

/* The kinds of [[runners.kubernetes.volumes.*]], in gitlab-runner's order. */
enum config_k8s_volume_kind { K8S_VOL_HOST_PATH, K8S_VOL_SECRET, K8S_VOL_PVC,
			      K8S_VOL_CONFIG_MAP, K8S_VOL_EMPTY_DIR,
			      K8S_VOL_CSI, K8S_VOL_KINDS };

/* One [[runners.kubernetes.volumes.<kind>]]; each kind reads its own keys. */
struct config_kubernetes_volume {
	char *name;
	char *mount_path;
	char *sub_path;
	bool read_only;
	char *host_path;		/* host_path */
	char *mount_propagation;	/* host_path, pvc, empty_dir */
	struct config_strmap items;	/* config_map, secret: key = path */
	char *medium;			/* empty_dir */
	char *size_limit;		/* empty_dir */
	char *driver;			/* csi */
	char *fs_type;			/* csi */
	struct config_strmap volume_attributes;	/* csi */
};

/* [[runners.kubernetes.volumes.nfs]] (its own keys: server, path) */
struct config_kubernetes_nfs {
	char *name;
	char *mount_path;
	char *sub_path;
	char *server;
	char *path;
	bool read_only;
};

/* [runners.kubernetes.container_lifecycle.*] (post_start, pre_stop) */
struct config_k8s_http_header {
	char *name;
	char *value;
};

struct config_k8s_exec_action {
	bool present;
	struct strvec command;
};

struct config_k8s_http_get {
	bool present;
	char *host;
	struct config_k8s_http_header *http_headers;
	size_t nr_http_headers;
	char *path;
	int port;
	char *scheme;
};

struct config_k8s_tcp_socket {
	bool present;
	char *host;
	int port;
};

struct config_k8s_lifecycle_handler {
	bool present;
	struct config_k8s_exec_action exec;
	struct config_k8s_http_get http_get;
	struct config_k8s_tcp_socket tcp_socket;
};

struct config_k8s_container_lifecycle {
	bool present;
	struct config_k8s_lifecycle_handler post_start, pre_stop;
};

/* [[runners.kubernetes.pod_spec]] (FF_USE_ADVANCED_POD_SPEC_CONFIGURATION) */
struct config_kubernetes_pod_spec {
	char *name;
	char *patch_path;
	char *patch;		/* YAML or JSON */
	char *patch_type;	/* strategic (NULL), json, merge */
};

/* [runners.kubernetes.volumes] */
struct config_kubernetes_volumes {
	bool present;
	struct config_kubernetes_volume *list[K8S_VOL_KINDS];
	size_t nr[K8S_VOL_KINDS];
	struct config_kubernetes_nfs *nfs;
	size_t nr_nfs;
};

/* seccomp_profile and app_armor_profile tables. */
struct config_kubernetes_profile {
	bool present;
	char *type;			/* RuntimeDefault, Localhost, Unconfined */
	char *localhost_profile;
};

/* [runners.kubernetes.pod_security_context] (Go's *int64: -1 unset) */
struct config_kubernetes_pod_security {
	bool present;
	int64_t fs_group;
	int64_t run_as_group;
	enum config_tribool run_as_non_root;
	int64_t run_as_user;
	char *selinux_type;
	struct config_kubernetes_profile seccomp_profile, app_armor_profile;
	char *supplemental_groups;	/* a JSON array of integers, or NULL */
};

/* [runners.kubernetes.*_container_security_context.capabilities] */
struct config_kubernetes_capabilities {
	bool present;
	struct strvec add;
	struct strvec drop;
};

/* A [runners.kubernetes.*_container_security_context] table. */
struct config_kubernetes_container_security {
	bool present;
	struct config_kubernetes_capabilities capabilities;
	enum config_tribool privileged;
	int64_t run_as_user;			/* -1: unset */
	int64_t run_as_group;			/* -1: unset */
	enum config_tribool run_as_non_root;
	enum config_tribool read_only_root_filesystem;
	enum config_tribool allow_privilege_escalation;
	char *selinux_type;
	char *proc_mount;
	struct config_kubernetes_profile seccomp_profile, app_armor_profile;
};

/* Whose container security context. */
enum config_k8s_sc_owner { K8S_SC_INIT, K8S_SC_BUILD, K8S_SC_HELPER,
			   K8S_SC_SERVICE, K8S_SC_OWNERS };

/* [[runners.kubernetes.dns_config.options]] */
struct config_kubernetes_dns_option {
	char *name;
	char *value;			/* NULL: no value */
};

/* [runners.kubernetes.dns_config] */
struct config_kubernetes_dns_config {
	bool present;
	struct strvec nameservers;
	struct strvec searches;
	struct config_kubernetes_dns_option *options;
	size_t nr_options;
};

/* [runners.kubernetes.affinity]: gitlab-runner's mirror of the API's. */
struct config_k8s_selector_req {	/* NodeSelectorRequirement */
	char *key;
	char *operator;
	struct strvec values;
};

struct config_k8s_node_selector_term {
	bool present;
	struct config_k8s_selector_req *match_expressions;
	size_t nr_match_expressions;
	struct config_k8s_selector_req *match_fields;
	size_t nr_match_fields;
};

struct config_k8s_node_selector {
	bool present;
	struct config_k8s_node_selector_term *terms;	/* node_selector_terms */
	size_t nr_terms;
};

struct config_k8s_preferred_term {
	int weight;
	struct config_k8s_node_selector_term preference;
};

struct config_k8s_node_affinity {
	bool present;
	struct config_k8s_node_selector required;
	struct config_k8s_preferred_term *preferred;
	size_t nr_preferred;
};

struct config_k8s_label_selector {
	bool present;
	struct config_strmap match_labels;
	struct config_k8s_selector_req *match_expressions;
	size_t nr_match_expressions;
};

struct config_k8s_pod_affinity_term {
	bool present;
	struct config_k8s_label_selector label_selector;
	struct strvec namespaces;
	char *topology_key;
	struct config_k8s_label_selector namespace_selector;
	struct strvec match_label_keys;
	struct strvec mismatch_label_keys;
};

struct config_k8s_weighted_term {
	int weight;
	struct config_k8s_pod_affinity_term term;	/* pod_affinity_term */
};

/* pod_affinity and pod_anti_affinity */
struct config_k8s_pod_affinity {
	bool present;
	struct config_k8s_pod_affinity_term *required;
	size_t nr_required;
	struct config_k8s_weighted_term *preferred;
	size_t nr_preferred;
};

struct config_k8s_affinity {
	bool present;
	struct config_k8s_node_affinity node;
	struct config_k8s_pod_affinity pod, pod_anti;
};

/* Who a resource setting is for, what it limits, and which bound. */
enum config_k8s_owner { K8S_RES_BUILD, K8S_RES_SERVICE, K8S_RES_HELPER,
			K8S_RES_OWNERS };
enum config_k8s_kind { K8S_RES_CPU, K8S_RES_MEMORY, K8S_RES_EPHEMERAL,
		       K8S_RES_KINDS };
enum config_k8s_bound { K8S_RES_LIMIT, K8S_RES_REQUEST, K8S_RES_BOUNDS };
/* The pod-level resources: cpu and memory only (pod_cpu_limit, ...). */
#define K8S_RES_POD_KINDS (K8S_RES_MEMORY + 1)

/* "cpu_limit" and "cpu_limit_overwrite_max_allowed", and the like. */
struct config_kubernetes_resource {
	char *value;			/* a Kubernetes quantity, or NULL */
	char *max;			/* the most a job may ask for */
};

/* [runners.kubernetes] */
struct config_kubernetes {
	bool present;
	char *host;
	char *context;
	char *cert_file;
	char *key_file;
	char *ca_file;
	bool bearer_token_overwrite_allowed;
	char *bearer_token;
	char *image;
	char *namespace;
	char *namespace_overwrite_allowed;	/* a regular expression */
	bool namespace_per_job;		/* "ci-job-<id>", made and deleted */
	bool privileged;
	char *runtime_class_name;
	enum config_tribool allow_privilege_escalation;
	struct config_kubernetes_resource
		res[K8S_RES_OWNERS][K8S_RES_KINDS][K8S_RES_BOUNDS];
	struct config_kubernetes_resource
		pod_res[K8S_RES_POD_KINDS][K8S_RES_BOUNDS];
	struct strvec allowed_images;
	struct strvec allowed_pull_policies;
	struct strvec allowed_services;
	/* UIDs / GIDs a job's kubernetes user may ask for (k8s_pod_ids.c). */
	struct strvec allowed_users, allowed_groups;
	struct strvec pull_policy;
	struct config_strmap node_selector;
	struct config_strmap node_tolerations;	/* "key=value": "Effect" */
	char *node_selector_overwrite_allowed;		/* a regular expression */
	char *node_tolerations_overwrite_allowed;	/* likewise */
	struct strvec image_pull_secrets;
	bool use_service_account_image_pull_secrets;
	char *helper_image;
	int64_t pod_termination_grace_period_seconds;	/* -1: unset */
	int64_t cleanup_grace_period_seconds;		/* -1: unset */
	int poll_interval;		/* seconds; default 3 */
	int poll_timeout;		/* seconds; default 180 */
	struct config_strmap pod_labels;
	char *pod_labels_overwrite_allowed;
	char *scheduler_name;
	char *service_account;
	char *service_account_overwrite_allowed;
	enum config_tribool automount_service_account_token;
	struct config_strmap pod_annotations;
	char *pod_annotations_overwrite_allowed;
	struct config_kubernetes_host_alias *host_aliases;
	size_t nr_host_aliases;
	struct config_kubernetes_service *services;
	size_t nr_services;
	char *dns_policy;
	char *priority_class_name;
	struct config_kubernetes_volumes volumes;
	struct strvec cap_add, cap_drop;
	struct config_kubernetes_pod_security pod_security;
	struct config_kubernetes_container_security sc[K8S_SC_OWNERS];
	struct config_kubernetes_dns_config dns_config;
	struct config_k8s_affinity affinity;
	/* k8sff: keys of the FFs, volumes and lifecycle. */
	struct config_kubernetes_pod_spec *pod_specs;
	size_t nr_pod_specs;
	char *logs_base_dir;
	char *scripts_base_dir;
	enum config_tribool print_pod_warning_events;	/* default true */
	struct config_k8s_container_lifecycle container_lifecycle;
	int64_t cleanup_resources_timeout;	/* ms; <= 0: 5 minutes */
	int resource_availability_check_max_attempts;	/* 0: no check */
	int retry_limit;		/* attempts; <= 0: 5 */
	int retry_backoff_max;		/* ms; <= 0: 2000, at least 500 */
	char *retry_limits;		/* JSON {"error text": attempts} */
};

/* [runners.docker] */
struct config_docker {
	bool present;
	char *host;
	char *cert_path;
	bool tls_verify;
	char *hostname;
	char *image;
	char *runtime;
	char *memory;			/* "128m": config_parse_ram_size() */
	char *memory_swap;
	char *memory_reservation;
	char *cpuset_cpus;
	char *cpus;			/* "1.5" or "3/2" */
	int64_t cpu_shares;
	struct strvec dns;
	struct strvec dns_search;
	bool privileged;
	enum config_tribool services_privileged;
	bool disable_entrypoint_overwrite;
	char *user;
	struct strvec group_add;
	char *userns_mode;
	struct strvec cap_add;
	struct strvec cap_drop;
	bool oom_kill_disable;
	int oom_score_adjust;
	struct strvec security_opt;
	struct strvec services_security_opt;
	struct strvec devices;
	struct strvec device_cgroup_rules;
	char *gpus;
	bool disable_cache;
	struct strvec volumes;
	char *volume_driver;
	struct config_strmap volume_driver_ops;	/* DriverOpts of its volumes */
	/* Containers are removed without their anonymous volumes. */
	bool volume_keep;
	char *cache_dir;
	struct strvec extra_hosts;
	struct strvec volumes_from;
	char *network_mode;
	char *ipcmode;
	char *mac_address;
	struct strvec links;
	struct config_docker_service *services;
	size_t nr_services;
	int wait_for_services_timeout;	/* seconds; default 30; -1: no wait */
	struct strvec allowed_images;
	struct strvec allowed_privileged_images;
	struct strvec allowed_privileged_services;
	struct strvec allowed_pull_policies;
	struct strvec allowed_services;
	/* Users the build container may run as (config_docker_user_allowed). */
	struct strvec allowed_users;
	/* always, never, if-not-present; empty means always. */
	struct strvec pull_policy;
	char *isolation;
	int64_t shm_size;		/* bytes */
	struct config_strmap tmpfs;
	struct config_strmap services_tmpfs;
	struct config_strmap sysctls;
	char *helper_image;
	char *helper_image_flavor;
	struct config_strmap container_labels;
	bool enable_ipv6;
	struct config_strmap ulimit;
	int network_mtu;
	/* HostConfig of the build and helper containers (not services). */
	char *cgroup_parent;
	char *cpuset_mems;
	char *pid_mode;			/* the build container only */
	/* Services at most (job's and config's); -1: no limit. */
	int services_limit;
	/* Resources of service containers, as memory, cpus, ... above. */
	char *service_memory;
	char *service_memory_swap;
	char *service_memory_reservation;
	char *service_cgroup_parent;
	/*
	 * With [[runners]] use_slot_cgroups: the services' cgroup parent
	 * from an autoscaler slot (NULL: slot_cgroup_template's).
	 */
	char *service_slot_cgroup_template;
	char *service_cpuset_cpus;
	char *service_cpus;
	int64_t service_cpu_shares;
	char *service_gpus;		/* docker run --gpus syntax */
	/* Service image pattern (doublestar) -> "host[:ctr[:perms]]" list. */
	struct config_listmap services_devices;
	/* LogConfig.Config of every container (json-file): env, labels. */
	struct config_strmap log_options;
};

/* [runners.custom]; timeouts in seconds, a value <= 0 means the default. */
struct config_custom {
	bool present;
	char *config_exec;
	struct strvec config_args;
	int config_exec_timeout;	/* default 3600 */
	char *prepare_exec;
	struct strvec prepare_args;
	int prepare_exec_timeout;	/* default 3600 */
	char *run_exec;
	struct strvec run_args;
	char *cleanup_exec;
	struct strvec cleanup_args;
	int cleanup_exec_timeout;	/* default 3600 */
	int graceful_kill_timeout;	/* default 600 */
	int force_kill_timeout;		/* default 10 */
};

/* [runners.ssh], gitlab-runner's SshConfig; NULL strings are unset. */
struct config_ssh {
	bool present;
	char *user;			/* default root */
	char *password;
	char *host;			/* default localhost */
	char *port;			/* a string, as gitlab-runner's; default 22 */
	char *identity_file;
	enum config_tribool disable_strict_host_key_checking;
	char *known_hosts_file;		/* default ~/.ssh/known_hosts */
};

/* [runners.artifact] (gitlab-runner's ArtifactConfig) */
struct config_artifact {
	bool present;
	int64_t upload_timeout_ms;		/* default 1h */
	int64_t response_header_timeout_ms;	/* default 10m; 0: none */
};

/* [runners.autoscaler.connector_config] (gitlab-runner's ConnectorConfig) */
struct config_connector {
	bool present;
	char *os;
	char *arch;
	char *protocol;			/* ssh, winrm, winrm+https */
	int protocol_port;		/* 0: the protocol's (ssh 22) */
	char *username;
	char *password;			/* secret */
	char *key_path;			/* read by crunner, sent as Key */
	bool use_static_credentials;
	int64_t keepalive_ms;		/* 0: the library's */
	int64_t timeout_ms;		/* 0: the library's */
	bool use_external_addr;
};

/* One [[runners.autoscaler.policy]]; the last one whose period matches wins. */
struct config_autoscaler_policy {
	struct strvec periods;		/* cron ranges; empty: "* * * * *" */
	char *timezone;			/* IANA name; NULL: local time */
	int idle_count;			/* idle job slots to keep */
	int64_t idle_time_ms;
	double scale_factor;
	int scale_factor_limit;		/* 0: no cap */
	enum config_tribool preemptive_mode;	/* unset: idle_count > 0 */
};

/* [runners.autoscaler.state_storage] */
struct config_state_storage {
	bool present;
	bool enabled;
	char *dir;			/* NULL: <config dir>/.taskscaler */
	bool keep_instance_with_acquisitions;
};

/* [runners.autoscaler.scale_throttle] */
struct config_scale_throttle {
	bool present;
	int limit;			/* per second; 0: 100; -1: unlimited */
	int burst;			/* 0: max_instances, or limit */
};

/* [runners.autoscaler] (gitlab-runner's AutoscalerConfig) */
struct config_autoscaler {
	bool present;
	int capacity_per_instance;	/* < 1 reads as 1 */
	int max_use_count;		/* 0: unlimited */
	int max_instances;		/* 0: unlimited */
	char *plugin;
	/* plugin_config as Go's encoding/json writes it; NULL: "null". */
	char *plugin_config_json;
	struct config_connector connector_config;
	struct config_autoscaler_policy *policy;
	size_t nr_policy;
	char *instance_ready_command;
	int64_t instance_acquire_timeout_ms;	/* default 15m */
	int64_t update_interval_ms;		/* default 1m */
	int64_t update_interval_when_expecting_ms;	/* default 2s */
	int64_t deletion_retry_interval_ms;	/* default 1m */
	int64_t shutdown_deletion_interval_ms;	/* default 10s */
	int shutdown_deletion_retries;		/* default 3 */
	int failure_threshold;			/* default 3 */
	struct config_scale_throttle scale_throttle;
	enum config_tribool reservation_throttling;	/* unset: on */
	bool log_internal_ip;
	bool log_external_ip;
	bool delete_instances_on_shutdown;
	struct config_state_storage state_storage;
	/*
	 * Histogram buckets (seconds) of the autoscaler metrics; empty: the
	 * operation buckets, else the metric's default (docs/autoscale-plugins.md).
	 */
	struct config_doubles instance_operation_time_buckets;
	struct config_doubles instance_creation_time_buckets;
	struct config_doubles instance_is_running_time_buckets;
	struct config_doubles instance_deletion_time_buckets;
	struct config_doubles instance_readiness_time_buckets;
	struct config_doubles instance_life_duration_buckets;
};

/* [runners.instance] */
struct config_instance {
	bool present;
	struct strvec allowed_images;
	bool use_common_build_dir;
};

/* [runners.custom_build_dir] */
struct config_custom_build_dir {
	bool present;
	/* unset: the executor's default (job/clone_path.h) */
	enum config_tribool enabled;
};

/* One [[runners]] entry.  Times are Unix seconds, 0 = never/unset. */
struct runner_config {
	char *name;
	int limit;			/* concurrent jobs; 0 = no limit */
	int output_limit;		/* KiB; default 4096 */
	int request_concurrency;	/* default 1 */
	/* true: after a job, ask again only at check_interval's pace */
	enum config_tribool strict_check_interval;
	int unhealthy_requests_limit;	/* default 3 */
	int64_t unhealthy_interval_ms;	/* default 1h */
	/* Tries of a job's final update; default 10 (also for <= 0). */
	int job_status_final_update_retry_limit;
	/* Remove the worktree's git config and hooks around a job; unset:
	 * yes but for the shell executor and GIT_STRATEGY none. */
	enum config_tribool clean_git_config;

	char *url;
	int64_t id;
	char *token;			/* secret: log runner_short_token() */
	time_t token_obtained_at;	/* 0001-01-01T00:00:00Z reads as 0 */
	time_t token_expires_at;
	char *tls_ca_file;		/* tls-ca-file */
	char *tls_cert_file;		/* tls-cert-file */
	char *tls_key_file;		/* tls-key-file */

	/* Sent in the runner info (job requests, verify, job updates). */
	struct config_strmap labels;
	char *executor;			/* shell, docker, custom, ... */
	char *builds_dir;
	char *cache_dir;
	char *clone_url;
	struct strvec environment;	/* "KEY=VALUE" */
	/* Deprecated names, copied into the next two when those are unset. */
	char *pre_clone_script;
	char *post_clone_script;
	char *pre_get_sources_script;
	char *post_get_sources_script;
	char *pre_build_script;
	char *post_build_script;
	/* Deadlines of preparation and of get_sources; 0: the job's only. */
	int64_t prepare_timeout_ms;
	int64_t get_sources_timeout_ms;
	bool debug_trace_disabled;
	enum config_tribool safe_directory_checkout;
	/*
	 * Autoscaler jobs (instance, docker-autoscaler): the cgroup named by
	 * slot_cgroup_template (NULL: "gitlab-runner/slot-${slot}") with the
	 * acquisition's slot number (config_slot_cgroup()).
	 */
	bool use_slot_cgroups;
	char *slot_cgroup_template;
	char *shell;			/* bash, sh, pwsh, powershell, cmd */

	struct config_custom_build_dir custom_build_dir;
	struct config_cache cache;
	struct config_artifact artifact;
	struct config_flags feature_flags;
	struct config_docker docker;
	struct config_custom custom;
	struct config_kubernetes kubernetes;
	struct config_ssh ssh;
	struct config_instance instance;
	struct config_autoscaler autoscaler;

	/*
	 * Not a key: the global labels with this runner's over them, as
	 * flattened key, value pairs (gitlab-runner's ComputedLabels), set by
	 * config_load(); the runner info carries them.  Owned.
	 */
	char **computed_labels;
	size_t nr_computed_labels;
};

struct config {
	char *path;			/* for messages and config_save() */
	char *listen_address;		/* metrics; NULL = disabled */
	struct config_session_server session_server;
	/* Default labels of every runner (runner_config.computed_labels). */
	struct config_strmap labels;
	int concurrent;			/* >= 1; default 1 */
	int check_interval;		/* seconds; default 3 (also for <= 0) */
	int64_t connection_max_age_ms;	/* default 15m */
	/* Never NULL: "info" and "runner" unless the file says otherwise. */
	char *log_level;		/* debug info warn error fatal panic */
	char *log_format;		/* runner text json */
	char *user;
	char *sentry_dsn;		/* secret */
	int shutdown_timeout;		/* seconds; default 30 */

	struct runner_config **runners;	/* in file order */
	size_t nr_runners;

	/* One line per ignored key: "f:7: unknown key 'k' in [x] (ignored)". */
	struct strvec warnings;

	/* The parsed document, written back by config_save(). */
	struct toml_value *tree;
};

/*
 * Reads path into cfg, which is overwritten (pass a fresh struct; release
 * an old one yourself).  Returns 0, or a negative CR_ERR_* with one sentence
 * in err and cfg left empty (safe to config_release()):
 * CR_ERR_NOT_FOUND when the file does not exist, CR_ERR_INVALID for a TOML
 * syntax error or a wrong key, CR_ERR_IO/CR_ERR_TOO_LARGE when reading fails.
 */
int config_load(const char *path, struct config *cfg, struct buf *err);

/*
 * Fills cfg as for a missing file: gitlab-runner's defaults, no runners,
 * and a tree holding what gitlab-runner writes into a new config.toml.
 * path (may be NULL) is where config_save() will write.
 */
void config_default(struct config *cfg, const char *path);

/* Frees everything cfg holds and leaves it empty; accepts an empty struct. */
void config_release(struct config *cfg);

/*
 * Writes cfg->tree to cfg->path atomically with mode 0600 (the old file is
 * untouched on failure).  Returns 0 or a negative CR_ERR_* with err set.
 */
int config_save(struct config *cfg, struct buf *err);

/*
 * Appends a copy of r as a new [[runners]] entry, both to cfg->runners and
 * to the tree, with gitlab-runner's key names and order.  r stays the
 * caller's.  Returns CR_ERR_INVALID if r has a value the loader would
 * refuse (call config_runner_check() first for the message).
 */
int config_runner_add(struct config *cfg, const struct runner_config *r);

/* Removes runner index from cfg->runners and the tree (CR_ERR_NOT_FOUND). */
int config_runner_remove(struct config *cfg, size_t index);

/*
 * After the caller changed cfg->runners[index] (a rotated token, say),
 * writes the changed values into the tree; keys crunner does not know and
 * values that did not change stay as they were in the file.
 */
int config_runner_sync(struct config *cfg, size_t index);

/* 0 when r would load back; else CR_ERR_INVALID and one sentence in err. */
int config_runner_check(const struct runner_config *r, struct buf *err);

/* The first runner named name, or NULL; *index (if not NULL) gets its place. */
struct runner_config *config_find_runner(const struct config *cfg,
					 const char *name, size_t *index);
/* The runner with this URL and token (gitlab-runner's SameAs), or NULL. */
struct runner_config *config_find_runner_by_token(const struct config *cfg,
						  const char *url,
						  const char *token,
						  size_t *index);

/* Sets every field of r to its default (no name, url or token). */
void runner_config_init(struct runner_config *r);
/* Frees what r holds (wiping secrets) and resets r to the defaults. */
void runner_config_release(struct runner_config *r);

/*
 * gitlab-runner's label rules (common/labels.go, as GitLab's
 * ci_runner_labels schema): every key of the global and of each runner's
 * labels matches ^[a-zA-Z0-9_][a-zA-Z0-9._-]{2,64}$, every value
 * ^[a-zA-Z0-9._-]{1,256}$, and no runner has more than 32 labels once the
 * global ones are added; then sets each runner's computed_labels.
 * CR_ERR_INVALID with one sentence in err otherwise (the file does not
 * load, as with gitlab-runner).
 */
int config_labels_resolve(struct config *cfg, struct buf *err);

/*
 * A feature flag's value from [runners.feature_flags], or def when the
 * runner does not set it.
 */
bool runner_feature_flag(const struct runner_config *r, const char *name,
			 bool def);

/*
 * Calls fn for every key crunner reads but does not act on, in the order
 * of the key tables: each is one "has no effect in crunner" warning at load
 * when it is set to anything but its default.  section is the TOML section
 * ("[runners.docker]"), or NULL for the global one.  For docs/.
 */
typedef void (*config_key_fn)(void *ctx, const char *section,
			      const char *key);
void config_no_effect_keys(config_key_fn fn, void *ctx);

/*
 * What crunner does with the [[runners]] key at path ("docker.image",
 * "cache.s3.BucketName"): acts on it, keeps it without acting on it (a
 * CF_NO_EFFECT row or a section crunner does not use), or has no row for it.
 */
enum config_key_state {
	CONFIG_KEY_ACTED_ON,
	CONFIG_KEY_NO_EFFECT,
	CONFIG_KEY_UNKNOWN,
};
enum config_key_state config_runner_key_state(const char *path);

/*
 * config_runner_add(), and then every key of extra (a [[runners]] table)
 * that no row of the key tables reads into r is copied into the new entry
 * too (a kubernetes section for register, say); keys r writes win.
 */
int config_runner_add_tree(struct config *cfg, const struct runner_config *r,
			   const struct toml_value *extra);

/*
 * Reads a [[runners]] table into r (overwritten) as config_load() does;
 * file (may be NULL) names it in messages.  0, or CR_ERR_INVALID with one
 * sentence in err and r released.
 */
int config_runner_from_tree(struct runner_config *r,
			    const struct toml_value *table, const char *file,
			    struct buf *err);

/* Frees a [[runners]] table (NULL is fine), wiping its secrets first. */
void config_runner_tree_free(struct toml_value *t);

/* gitlab-runner's feature flags: what crunner does with each. */
enum config_ff_state {
	CONFIG_FF_HONOURED,	/* crunner acts on it */
	CONFIG_FF_NO_EFFECT,	/* accepted; a warning when not the default */
};

struct config_feature_flag {
	const char *name;	/* "FF_TIMESTAMPS" */
	bool def;		/* gitlab-runner's default */
	enum config_ff_state state;
	/* NULL, or what crunner lacks that the flag is about ("Windows"). */
	const char *applies_to;
};

/* gitlab-runner 19.4's flags, in its order; *nr gets their number. */
const struct config_feature_flag *config_feature_flags(size_t *nr);
/* The flag named name (len bytes), or NULL when gitlab-runner has none. */
const struct config_feature_flag *config_feature_flag_find(const char *name,
							   size_t len);

/*
 * The short form of a token that logs and directory names may show
 * (gitlab-runner's ShortenToken): the known prefixes glrt- (optionally with
 * a t1_/t2_/t3_ partition), t1_.., glrtr-, glcbt- and GR + 7 hex digits
 * removed, then at most the first 9 characters.  Writes into out and
 * returns it; token may be NULL (gives "").
 */
#define RUNNER_SHORT_TOKEN_SIZE 10
const char *runner_short_token(const char *token,
			       char out[RUNNER_SHORT_TOKEN_SIZE]);

/*
 * Go duration strings as time.ParseDuration reads them: "300ms", "1.5h",
 * "1h30m", "-2m", "0".  Units ns, us, µs, ms, s, m, h.  Stores
 * milliseconds (sub-millisecond parts are dropped).  Returns 0 or
 * CR_ERR_INVALID.
 */
int config_parse_duration(const char *s, int64_t *ms);
/*
 * Go's os.ExpandEnv: $NAME, ${NAME} and the one-character special names
 * replaced by the environment's value ("" when unset); "${}" and an
 * unclosed "${" are dropped; any other '$' stays.  Heap.  gitlab-runner
 * applies it to a runner's token and url when it loads config.toml.
 */
char *config_expand_env(const char *s);
/* Go's os.Expand: as config_expand_env with lookup's value (NULL: ""). */
char *config_expand(const char *s,
		    const char *(*lookup)(void *ctx, const char *name),
		    void *ctx);
/*
 * gitlab-runner's GetSlotCgroupPath (service: GetServiceSlotCgroupPath):
 * with use_slot_cgroups and slot >= 0, slot_cgroup_template (default
 * "gitlab-runner/slot-${slot}"; for services [runners.docker]
 * service_slot_cgroup_template when set) with $slot / ${slot} replaced by
 * the number and any other $name by "".  NULL otherwise.  Heap.
 */
char *config_slot_cgroup(const struct runner_config *rc, int slot,
			 bool service);
#define CONFIG_DEFAULT_SLOT_CGROUP_TEMPLATE "gitlab-runner/slot-${slot}"
/*
 * gitlab-runner's DockerConfig.IsUserAllowed: whether the build container
 * may run as user ("" or NULL: the image's own, always allowed).  With
 * neither `user` nor `allowed_users` set, any user is; with `user` alone,
 * only that one; else those listed, compared as strings.
 */
bool config_docker_user_allowed(const struct config_docker *dc,
				const char *user);
/* Appends ms as Go's Duration.String() writes it: "15m0s", "1h0m0s", "1.5s". */
int config_format_duration(int64_t ms, struct buf *out);

/*
 * Docker memory sizes as gitlab-runner reads them (go-units RAMInBytes):
 * a number, optional space, optional unit b/k/m/g/t/p (any case) with an
 * optional "i" and "b"; powers of 1024.  Returns 0 or CR_ERR_INVALID.
 */
int config_parse_ram_size(const char *s, int64_t *bytes);

/*
 * The TOML value of a decoded JSON value, as register writes a JSON flag
 * and plugin_config is read back: objects as tables, arrays, strings,
 * integers, floats, booleans; null (and a null member) gives NULL.  The
 * caller owns the result.
 */
struct toml_value *config_toml_from_json(const struct json_t *j);

#endif
