#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "agentproto.h"
#include "config.h"
#include "crypto.h"

#define CONF_FILE_MAX	(1024 * 1024)

struct conf_ctx {
	const char	*file;
	const char	*text;
	size_t		 len;
	char		*err;
	size_t		 errlen;
};

struct conf_key {
	const char	*k_name;
	int		(*k_set)(struct conf_ctx *, const char *, json_t *,
			    struct mvm_config *);
};

static int	 conf_err(struct conf_ctx *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 prof_err(struct conf_ctx *, const char *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	 set_state_dir(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_socket(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_socket_group(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_uid_base(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_uid_count(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_tenant(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_log_level(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_libexec_dir(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_key_name(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);

static int	 set_audit_batch_max(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_audit_batch_ms(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);

static int	 set_qemu(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_accel(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_images_dir(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_boot_timeout(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_guest_cpus(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_guest_memory(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_guests_max(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_console_max(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_net_flows_max(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_net_mib(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_images_max(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_images_mib(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);
static int	 set_image_layer_mib(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);

static int	 set_profiles(struct conf_ctx *, const char *, json_t *,
		    struct mvm_config *);

static const struct conf_key conf_keys[] = {
	{ "accel",		set_accel },
	{ "audit_batch_max",	set_audit_batch_max },
	{ "audit_batch_ms",	set_audit_batch_ms },
	{ "boot_timeout_s",	set_boot_timeout },
	{ "console_max_kib",	set_console_max },
	{ "guest_cpus",		set_guest_cpus },
	{ "guest_memory_mib",	set_guest_memory },
	{ "guests_max",		set_guests_max },
	{ "image_layer_mib",	set_image_layer_mib },
	{ "images_dir",		set_images_dir },
	{ "images_max",		set_images_max },
	{ "images_mib",		set_images_mib },
	{ "key_name",		set_key_name },
	{ "libexec_dir",	set_libexec_dir },
	{ "log_level",		set_log_level },
	{ "net_flows_max",	set_net_flows_max },
	{ "net_mib",		set_net_mib },
	{ "profiles",		set_profiles },
	{ "qemu",		set_qemu },
	{ "socket",		set_socket },
	{ "socket_group",	set_socket_group },
	{ "state_dir",		set_state_dir },
	{ "tenant",		set_tenant },
	{ "uid_base",		set_uid_base },
	{ "uid_count",		set_uid_count },
};

void
config_defaults(struct mvm_config *c)
{
	int	 i;

	memset(c, 0, sizeof(*c));
	(void)strlcpy(c->c_state_dir, MVM_STATEDIR, sizeof(c->c_state_dir));
	(void)strlcpy(c->c_socket, MVM_SOCKET, sizeof(c->c_socket));
	c->c_uid_base = MVM_UID_BASE_DEFAULT;
	c->c_uid_count = MVM_UID_COUNT_DEFAULT;
	(void)strlcpy(c->c_tenant, MVM_TENANT_DEFAULT, sizeof(c->c_tenant));
	c->c_log_level = 0;
	c->c_audit_batch_max = MVM_AUDIT_BATCH_MAX_DEFAULT;
	c->c_audit_batch_us = MVM_AUDIT_BATCH_MS_DEFAULT * 1000;
	(void)strlcpy(c->c_qemu, MVM_QEMU_DEFAULT, sizeof(c->c_qemu));
	c->c_boot_timeout_s = MVM_BOOT_TIMEOUT_DEFAULT;
	c->c_guest_cpus = MVM_GUEST_CPUS_DEFAULT;
	c->c_guest_memory_mib = MVM_GUEST_MEMORY_DEFAULT;
	c->c_guests_max = MVM_GUESTS_MAX_DEFAULT;
	c->c_console_max_kib = MVM_CONSOLE_MAX_DEFAULT;
	c->c_net_flows_max = MVM_NET_FLOWS_DEFAULT;
	c->c_net_mib = MVM_NET_MIB_DEFAULT;
	c->c_images_max = MVM_IMAGES_MAX_DEFAULT;
	c->c_images_mib = MVM_IMAGES_MIB_DEFAULT;
	c->c_image_layer_mib = MVM_IMAGE_LAYER_MIB_DEFAULT;
	policy_defaults(c->c_profiles);
	/* dev and permissive are root's until mvm.conf names others */
	for (i = 0; i < MVM_PROFILES; i++)
		c->c_acl[i].a_any =
		    strcmp(c->c_profiles[i].pr_name, "dev") != 0 &&
		    strcmp(c->c_profiles[i].pr_name, "permissive") != 0;
}

/* Format "file:line:col: message" for the key's position. */
static int
conf_err(struct conf_ctx *cx, const char *key, const char *fmt, ...)
{
	const char	*path[1] = { key };
	char		 msg[256];
	va_list		 ap;
	int		 line = 1, col = 1;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key != NULL)
		(void)json_locate(cx->text, cx->len, path, 1, &line, &col);
	(void)snprintf(cx->err, cx->errlen, "%s:%d:%d: %s", cx->file, line,
	    col, msg);
	return (-1);
}

static int
get_string(struct conf_ctx *cx, const char *k, json_t *v, char *out,
    size_t len)
{
	if (!json_is_string(v))
		return (conf_err(cx, k, "\"%s\": expected a string", k));
	if (strlen(json_string_value(v)) != json_string_length(v))
		return (conf_err(cx, k, "\"%s\": NUL in string", k));
	if (strlcpy(out, json_string_value(v), len) >= len)
		return (conf_err(cx, k, "\"%s\": too long (at most %zu bytes)",
		    k, len - 1));
	return (0);
}

/* An absolute path with no "." or ".." component. */
static int
path_clean(const char *p)
{
	const char	*c;
	size_t		 n;

	if (p[0] != '/')
		return (0);
	for (c = p; *c != '\0'; c += n) {
		c += strspn(c, "/");
		n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return (0);
	}
	return (1);
}

static int
get_abspath(struct conf_ctx *cx, const char *k, json_t *v, char *out,
    size_t len)
{
	if (get_string(cx, k, v, out, len) == -1)
		return (-1);
	if (!path_clean(out))
		return (conf_err(cx, k, "\"%s\": want an absolute path "
		    "without . or .. components", k));
	return (0);
}

static int
get_uint32(struct conf_ctx *cx, const char *k, json_t *v, uint32_t lo,
    uint32_t hi, uint32_t *out)
{
	json_int_t	 n;

	if (!json_is_integer(v))
		return (conf_err(cx, k, "\"%s\": expected an integer", k));
	n = json_integer_value(v);
	if (n < (json_int_t)lo || n > (json_int_t)hi)
		return (conf_err(cx, k, "\"%s\": %lld out of range %u-%u", k,
		    (long long)n, lo, hi));
	*out = (uint32_t)n;
	return (0);
}

static int
set_state_dir(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	/* leave room for the deepest path we build under it */
	return (get_abspath(cx, k, v, c->c_state_dir,
	    sizeof(c->c_state_dir) - 96));
}

static int
set_socket(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	if (get_abspath(cx, k, v, c->c_socket, sizeof(c->c_socket)) == -1)
		return (-1);
	c->c_socket_set = 1;
	return (0);
}

static int
set_socket_group(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	struct group	*gr;
	uint32_t	 gid = 0;

	if (json_is_integer(v)) {
		if (get_uint32(cx, k, v, 1, 0xfffffffe, &gid) == -1)
			return (-1);
		c->c_socket_gid = gid;
		(void)snprintf(c->c_socket_group, sizeof(c->c_socket_group),
		    "%u", gid);
	} else {
		if (get_string(cx, k, v, c->c_socket_group,
		    sizeof(c->c_socket_group)) == -1)
			return (-1);
		if ((gr = getgrnam(c->c_socket_group)) == NULL)
			return (conf_err(cx, k, "\"%s\": no such group: %s", k,
			    c->c_socket_group));
		if (gr->gr_gid == 0)
			return (conf_err(cx, k, "\"%s\": must not be gid 0",
			    k));
		c->c_socket_gid = gr->gr_gid;
	}
	c->c_has_group = 1;
	return (0);
}

static int
set_uid_base(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1000, 0x7fffffff, &c->c_uid_base));
}

static int
set_uid_count(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, MVM_UID_COUNT_MIN, 1 << 20,
	    &c->c_uid_count));
}

static int
set_tenant(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	if (get_string(cx, k, v, c->c_tenant, sizeof(c->c_tenant)) == -1)
		return (-1);
	if (!tenant_valid(c->c_tenant))
		return (conf_err(cx, k, "\"%s\": invalid tenant name "
		    "(want [a-z0-9][a-z0-9_-]*)", k));
	return (0);
}

static int
set_log_level(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	char	 lvl[16];

	if (get_string(cx, k, v, lvl, sizeof(lvl)) == -1)
		return (-1);
	if (strcmp(lvl, "warning") == 0)
		c->c_log_level = -1;
	else if (strcmp(lvl, "info") == 0)
		c->c_log_level = 0;
	else if (strcmp(lvl, "debug") == 0)
		c->c_log_level = 1;
	else
		return (conf_err(cx, k, "\"%s\": want warning, info or debug",
		    k));
	return (0);
}

/* auto: kvm where a jailed uid can use /dev/kvm, else tcg */
static int
set_accel(struct conf_ctx *cx, const char *k, json_t *v, struct mvm_config *c)
{
	char	 a[16];

	if (get_string(cx, k, v, a, sizeof(a)) == -1)
		return (-1);
	if (strcmp(a, "auto") == 0)
		c->c_accel = 0;
	else if (strcmp(a, "tcg") == 0)
		c->c_accel = MVM_ACCEL_TCG;
	else if (strcmp(a, "kvm") == 0)
		c->c_accel = MVM_ACCEL_KVM;
	else
		return (conf_err(cx, k, "\"%s\": want auto, kvm or tcg", k));
	return (0);
}

static int
set_libexec_dir(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_abspath(cx, k, v, c->c_libexec_dir,
	    sizeof(c->c_libexec_dir) - 32));
}

static int
set_key_name(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	if (get_string(cx, k, v, c->c_key_name, sizeof(c->c_key_name)) == -1)
		return (-1);
	if (!key_name_valid(c->c_key_name))
		return (conf_err(cx, k, "\"%s\": invalid key name (printable, "
		    "no spaces, no '+')", k));
	return (0);
}

static int
set_audit_batch_max(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, 4096, &c->c_audit_batch_max));
}

static int
set_audit_batch_ms(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	uint32_t	 ms = 0;

	if (get_uint32(cx, k, v, 1, 1000, &ms) == -1)
		return (-1);
	c->c_audit_batch_us = ms * 1000;
	return (0);
}

static int
set_qemu(struct conf_ctx *cx, const char *k, json_t *v, struct mvm_config *c)
{
	return (get_abspath(cx, k, v, c->c_qemu, sizeof(c->c_qemu)));
}

static int
set_images_dir(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_abspath(cx, k, v, c->c_images_dir,
	    sizeof(c->c_images_dir) - 96));
}

static int
set_boot_timeout(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, 3600, &c->c_boot_timeout_s));
}

static int
set_guest_cpus(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, 64, &c->c_guest_cpus));
}

static int
set_guest_memory(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 64, 1024 * 1024, &c->c_guest_memory_mib));
}

static int
set_guests_max(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, 1024, &c->c_guests_max));
}

static int
set_console_max(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 4, 1024 * 1024, &c->c_console_max_kib));
}

static int
set_net_flows_max(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, AP_NET_FLOWS_MAX,
	    &c->c_net_flows_max));
}

static int
set_net_mib(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, 1024 * 1024, &c->c_net_mib));
}

static int
set_images_max(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, 1024, &c->c_images_max));
}

static int
set_images_mib(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, 1024 * 1024, &c->c_images_mib));
}

/* at most what the control protocol carries (MVM_IMAGE_LAYER_MAX) */
static int
set_image_layer_mib(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	return (get_uint32(cx, k, v, 1, MVM_IMAGE_LAYER_MAX >> 20,
	    &c->c_image_layer_mib));
}

/* "file:line:col: message" at profiles.<name>[.<member>] */
static int
prof_err(struct conf_ctx *cx, const char *name, const char *member,
    const char *fmt, ...)
{
	const char	*path[3] = { "profiles", name, member };
	char		 msg[256];
	va_list		 ap;
	int		 line = 1, col = 1;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)json_locate(cx->text, cx->len, path, member != NULL ? 3 : 2,
	    &line, &col);
	(void)snprintf(cx->err, cx->errlen, "%s:%d:%d: profiles.%s%s%s: %s",
	    cx->file, line, col, name, member != NULL ? "." : "",
	    member != NULL ? member : "", msg);
	return (-1);
}

/* One member of a profile in mvm.conf into p. */
static int
prof_member(struct conf_ctx *cx, const char *name, const char *m, json_t *v,
    struct mvm_profile *p)
{
	static const struct {
		const char	*m;
		size_t		 off;
		uint32_t	 hi;	/* 0: a boolean */
	} nums[] = {
		{ "env", offsetof(struct mvm_profile, pr_env), 0 },
		{ "secrets", offsetof(struct mvm_profile, pr_secrets), 0 },
		{ "network", offsetof(struct mvm_profile, pr_network), 0 },
		{ "ack", offsetof(struct mvm_profile, pr_ack), 0 },
		{ "guest_root", offsetof(struct mvm_profile, pr_guest_root),
		    0 },
		{ "cpus_max", offsetof(struct mvm_profile, pr_cpus_max), 64 },
		{ "memory_max_mib",
		    offsetof(struct mvm_profile, pr_memory_max_mib), 1048576 },
		{ "timeout_max_s",
		    offsetof(struct mvm_profile, pr_timeout_max_s), 86400 },
	};
	const char	*s;
	uint32_t	*u;
	json_int_t	 n;
	size_t		 i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(m, nums[i].m) != 0)
			continue;
		u = (uint32_t *)((char *)p + nums[i].off);
		if (nums[i].hi == 0) {
			if (!json_is_boolean(v))
				return (prof_err(cx, name, m,
				    "expected true or false"));
			*u = json_is_true(v);
			return (0);
		}
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 ||
		    n > nums[i].hi || (n == 0 && nums[i].off !=
		    offsetof(struct mvm_profile, pr_timeout_max_s)))
			return (prof_err(cx, name, m, "expected an integer "
			    "%u-%u", nums[i].off == offsetof(struct mvm_profile,
			    pr_timeout_max_s) ? 0 : 1, nums[i].hi));
		*u = (uint32_t)n;
		return (0);
	}
	if (strcmp(m, "seccomp") == 0 || strcmp(m, "add_dir") == 0) {
		if (!json_is_string(v))
			return (prof_err(cx, name, m, "expected a string"));
		s = json_string_value(v);
		if (strcmp(m, "seccomp") == 0) {
			if ((p->pr_seccomp = ap_tier_parse(s)) == 0)
				return (prof_err(cx, name, m, "want essential, "
				    "minimal, standard, network or "
				    "unrestricted"));
		} else if (strcmp(s, "none") == 0)
			p->pr_add_dir = MVM_ADD_DIR_NONE;
		else if (strcmp(s, "ro") == 0)
			p->pr_add_dir = MVM_ADD_DIR_RO;
		else if (strcmp(s, "rw") == 0)
			p->pr_add_dir = MVM_ADD_DIR_RW;
		else
			return (prof_err(cx, name, m, "want none, ro or rw"));
		return (0);
	}
	return (prof_err(cx, name, m, "unknown member"));
}

/* One user or group of a profile's "users" or "groups": a name or an id. */
static int
acl_id(struct conf_ctx *cx, const char *name, const char *m, json_t *v,
    uint32_t *id)
{
	struct passwd	 pwb, *pw = NULL;
	struct group	 grb, *gr = NULL;
	char		 buf[4096];
	const char	*s;
	json_int_t	 n;

	if (json_is_integer(v)) {
		if ((n = json_integer_value(v)) < 0 || n > 0xfffffffe)
			return (prof_err(cx, name, m, "bad id %lld",
			    (long long)n));
		*id = (uint32_t)n;
		return (0);
	}
	if (!json_is_string(v))
		return (prof_err(cx, name, m, "expected names or ids"));
	s = json_string_value(v);
	if (m[0] == 'u') {
		if (getpwnam_r(s, &pwb, buf, sizeof(buf), &pw) != 0 ||
		    pw == NULL)
			return (prof_err(cx, name, m, "no such user: %.64s",
			    s));
		*id = pw->pw_uid;
	} else {
		if (getgrnam_r(s, &grb, buf, sizeof(buf), &gr) != 0 ||
		    gr == NULL)
			return (prof_err(cx, name, m, "no such group: %.64s",
			    s));
		*id = gr->gr_gid;
	}
	return (0);
}

/* "users": [...] or "groups": [...] of a profile: who may use it. */
static int
acl_member(struct conf_ctx *cx, const char *name, const char *m, json_t *v,
    struct mvm_acl *a)
{
	uint32_t	*ids = m[0] == 'u' ? a->a_uids : a->a_gids;
	int		*n = m[0] == 'u' ? &a->a_nuids : &a->a_ngids;
	json_t		*e;
	size_t		 i;

	if (!json_is_array(v) || json_array_size(v) > MVM_ACL_MAX)
		return (prof_err(cx, name, m, "expected an array of at most "
		    "%d names or ids", MVM_ACL_MAX));
	a->a_any = 0;
	*n = 0;
	json_array_foreach(v, i, e)
		if (acl_id(cx, name, m, e, &ids[(*n)++]) == -1)
			return (-1);
	return (0);
}

/*
 * May uid (primary gid, supplementary groups) use a profile of acl a?
 * Root always may.
 */
int
config_acl_allows(const struct mvm_acl *a, uint32_t uid, uint32_t gid,
    const uint32_t *groups, int ngroups)
{
	int	 i, j;

	if (uid == 0 || a->a_any)
		return (1);
	for (i = 0; i < a->a_nuids; i++)
		if (a->a_uids[i] == uid)
			return (1);
	for (i = 0; i < a->a_ngids; i++) {
		if (a->a_gids[i] == gid)
			return (1);
		for (j = 0; j < ngroups; j++)
			if (a->a_gids[i] == groups[j])
				return (1);
	}
	return (0);
}

/*
 * "profiles": {"standard": {"env": false, ...}, ...}: each named
 * profile tightened; a value looser than the built-in one is an error,
 * so a profile never grows more lenient without anyone noticing.
 */
static int
set_profiles(struct conf_ctx *cx, const char *k, json_t *v,
    struct mvm_config *c)
{
	struct mvm_profile	 builtin[MVM_PROFILES], *p;
	const char		*name, *m, *field;
	json_t			*o, *mv;

	if (!json_is_object(v))
		return (conf_err(cx, k, "\"%s\": expected an object", k));
	policy_defaults(builtin);
	json_object_foreach(v, name, o) {
		if ((p = policy_find(c->c_profiles, name)) == NULL)
			return (prof_err(cx, name, NULL, "no such profile "
			    "(restrictive, standard, dev, permissive)"));
		if (!json_is_object(o))
			return (prof_err(cx, name, NULL, "expected an object"));
		json_object_foreach(o, m, mv) {
			if (strcmp(m, "users") == 0 || strcmp(m, "groups") == 0) {
				if (acl_member(cx, name, m, mv,
				    &c->c_acl[p - c->c_profiles]) == -1)
					return (-1);
			} else if (prof_member(cx, name, m, mv, p) == -1)
				return (-1);
		}
		if (policy_tighter(policy_find(builtin, name), p, &field) == -1)
			return (prof_err(cx, name, field, "looser than the "
			    "built-in profile; mvm.conf may only tighten it"));
	}
	return (0);
}

static const struct conf_key *
conf_key_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		if (strcmp(conf_keys[i].k_name, name) == 0)
			return (&conf_keys[i]);
	return (NULL);
}

/*
 * Parse configuration text.  On error, err holds one line
 * "file:line:col: message" and -1 is returned; c is then undefined.
 */
int
config_parse(const char *file, const char *text, size_t len,
    struct mvm_config *c, char *err, size_t errlen)
{
	struct conf_ctx		 cx = { file, text, len, err, errlen };
	const struct conf_key	*ck;
	json_error_t		 je;
	json_t			*root, *v;
	const char		*k;
	int			 rc = -1;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		(void)snprintf(err, errlen, "%s:%d:%d: %s", file, je.line,
		    je.column, je.text);
		return (-1);
	}
	if (!json_is_object(root)) {
		conf_err(&cx, NULL, "top level must be an object");
		goto done;
	}
	json_object_foreach(root, k, v) {
		if ((ck = conf_key_find(k)) == NULL) {
			conf_err(&cx, k, "unknown key \"%s\"", k);
			goto done;
		}
		if (ck->k_set(&cx, k, v, c) == -1)
			goto done;
	}
	rc = 0;
done:
	json_decref(root);
	return (rc);
}

/* Read and parse a file on top of whatever c already holds. */
int
config_load(const char *file, struct mvm_config *c, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*text;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd, rc;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONF_FILE_MAX) {
		(void)snprintf(err, errlen, "%s: not a regular file of at "
		    "most %d bytes", file, CONF_FILE_MAX);
		close(fd);
		return (-1);
	}
	if ((text = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		return (-1);
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, text + off, st.st_size - off);
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	text[off] = '\0';
	rc = config_parse(file, text, off, c, err, errlen);
	free(text);
	return (rc);
}
