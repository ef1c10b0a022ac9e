/*
 * mvm.conf: JSON, read by the supervisor only (STYLE.md section 8).
 * Strict: unknown keys, duplicates and wrong types are errors reported
 * as "file:line:column: message".  json_t never leaves config.c.
 */
#ifndef MVM_CONFIG_H
#define MVM_CONFIG_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include "mvm.h"
#include "policy.h"

#define MVM_UID_BASE_DEFAULT	900000
#define MVM_UID_COUNT_DEFAULT	65536
#define MVM_UID_COUNT_MIN	64
#define MVM_SOCKPATH_MAX	108	/* sun_path */

/*
 * Who may use a profile (mvm.conf "users" and "groups"; root always
 * may).  Without either member: everyone for restrictive and standard,
 * nobody but root for dev and permissive.
 */
#define MVM_ACL_MAX		32
struct mvm_acl {
	int		 a_any;		/* every client may */
	uint32_t	 a_uids[MVM_ACL_MAX];
	int		 a_nuids;
	uint32_t	 a_gids[MVM_ACL_MAX];
	int		 a_ngids;
};

struct mvm_config {
	char		 c_state_dir[MVM_ROOT_MAX];
	char		 c_socket[MVM_SOCKPATH_MAX];
	int		 c_socket_set;		/* given in the file */
	int		 c_has_group;
	gid_t		 c_socket_gid;
	char		 c_socket_group[64];
	uint32_t	 c_uid_base;
	uint32_t	 c_uid_count;
	char		 c_tenant[MVM_TENANT_MAX];
	int		 c_log_level;		/* 0 info, 1 debug; -1 warning */
	char		 c_libexec_dir[MVM_ROOT_MAX];
	char		 c_key_name[MVM_KEYNAME_MAX];
	uint32_t	 c_audit_batch_max;	/* records per commit */
	uint32_t	 c_audit_batch_us;	/* commit delay bound */
	char		 c_qemu[MVM_ROOT_MAX];	/* qemu-system-x86_64 */
	uint32_t	 c_accel;		/* 0 auto, MVM_ACCEL_* */
	char		 c_images_dir[MVM_ROOT_MAX];	/* "": statedir/images */
	uint32_t	 c_boot_timeout_s;
	uint32_t	 c_guest_cpus;		/* defaults for run/up */
	uint32_t	 c_guest_memory_mib;
	uint32_t	 c_guests_max;		/* guests at once */
	uint32_t	 c_console_max_kib;	/* console log kept per guest */
	uint32_t	 c_net_flows_max;	/* egress flows at once, per guest */
	uint32_t	 c_net_mib;		/* egress MiB per guest, both ways */
	uint32_t	 c_images_max;		/* built images (not default) */
	uint32_t	 c_images_mib;		/* their bytes on disk */
	uint32_t	 c_image_layer_mib;	/* one build's layer */
	struct mvm_profile c_profiles[MVM_PROFILES];	/* as tightened */
	struct mvm_acl	 c_acl[MVM_PROFILES];	/* who may use each */
};

#define MVM_QEMU_DEFAULT		"/usr/bin/qemu-system-x86_64"
#define MVM_BOOT_TIMEOUT_DEFAULT	60
#define MVM_GUEST_CPUS_DEFAULT		1
#define MVM_GUEST_MEMORY_DEFAULT	256
#define MVM_GUESTS_MAX_DEFAULT		16
#define MVM_CONSOLE_MAX_DEFAULT		1024
#define MVM_NET_FLOWS_DEFAULT		16
#define MVM_NET_MIB_DEFAULT		1024
#define MVM_IMAGES_MAX_DEFAULT		16
#define MVM_IMAGES_MIB_DEFAULT		2048
#define MVM_IMAGE_LAYER_MIB_DEFAULT	512

#define MVM_AUDIT_BATCH_MAX_DEFAULT	256
#define MVM_AUDIT_BATCH_MS_DEFAULT	10

void	 config_defaults(struct mvm_config *);
int	 config_acl_allows(const struct mvm_acl *, uint32_t, uint32_t,
	    const uint32_t *, int);
int	 config_load(const char *, struct mvm_config *, char *, size_t);
int	 config_parse(const char *, const char *, size_t, struct mvm_config *,
	    char *, size_t);
int	 json_locate(const char *, size_t, const char *const *, int, int *,
	    int *);

#endif /* MVM_CONFIG_H */
