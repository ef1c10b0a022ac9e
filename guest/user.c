/*
 * user.c: the users commands run as (mvm-agent.8, Users).
 *
 * The agent stays root.  A command runs as root only if its EXEC says
 * "uid":0, which the host sends only where the profile allows it
 * (mvmctl --guest-root).  Any other command runs as the default user
 * "mvm" (AP_UID_USER) or, if the host granted it secrets, under a uid
 * of its own (AP_UID_EXEC..): another uid keeps every other command
 * from its environment, its memory and its secret files, since
 * /proc/PID/environ, /proc/PID/mem and ptrace need the same uid (or
 * CAP_SYS_PTRACE), and its secret files are its own, mode 0400.
 *
 * Such a command has group "mvm" and no other, and no capability in any
 * set: setting its uids takes the permitted and effective sets, and the
 * bounding set goes first, so that no program it runs can get one back;
 * with no_new_privs a set-uid or set-gid file does not change its ids
 * either.  The agent is out of its reach: /proc is mounted hidepid
 * (agent.c), and the agent's processes are root's.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

static void	 user_sysctl(const char *, const char *);

/*
 * Kernel settings that keep root's file operations (the agent's) from
 * being turned by what users make in shared directories such as /tmp:
 * links and FIFOs that are not the opener's, and regular files that
 * are not root's; and no user namespaces for users, in which they would
 * have every capability again.
 */
static void
user_sysctl(const char *name, const char *val)
{
	char	 path[128];
	int	 fd;

	(void)snprintf(path, sizeof(path), "/proc/sys/%s", name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			alog("%s: %s", path, strerror(errno));
		return;
	}
	if (write(fd, val, strlen(val)) == -1)
		alog("%s: %s", path, strerror(errno));
	(void)close(fd);
}

/* At boot: the settings above and the users' home. */
void
user_init(void)
{
	user_sysctl("fs/protected_symlinks", "1");
	user_sysctl("fs/protected_hardlinks", "1");
	user_sysctl("fs/protected_fifos", "1");
	user_sysctl("fs/protected_regular", "1");
	user_sysctl("kernel/unprivileged_userns_clone", "0");
	if (mkdir("/home", 0755) == -1 && errno != EEXIST)
		alog("mkdir /home: %s", strerror(errno));
	/* every user but root has group mvm: one home, theirs to write */
	if ((mkdir(USER_HOME, 0770) == -1 && errno != EEXIST) ||
	    chown(USER_HOME, AP_UID_USER, AP_GID_USER) == -1 ||
	    chmod(USER_HOME, 0770) == -1)
		alog("%s: %s", USER_HOME, strerror(errno));
}

gid_t
user_gid(uint32_t uid)
{
	return (uid == AP_UID_ROOT ? 0 : AP_GID_USER);
}

const char *
user_home(uint32_t uid)
{
	return (uid == AP_UID_ROOT ? AGENT_HOME : USER_HOME);
}

/*
 * In the child, as root: become uid with no capabilities left.  0, or
 * -1 with errno set.
 */
int
user_drop(uint32_t uid)
{
	struct __user_cap_header_struct	 h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	 d[2];
	gid_t				 gid = user_gid(uid);
	int				 cap;

	if (uid == AP_UID_ROOT)
		return (0);
	if (setgroups(0, NULL) == -1)
		return (-1);
	/* the bounding set, up to the kernel's last capability (EINVAL) */
	for (cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
		continue;
	if (errno != EINVAL || cap == 0)
		return (-1);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 ||
	    setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1)
		return (-1);
	/* permitted and effective went with uid 0; inheritable goes here */
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) == -1)
		return (-1);
	return (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

/*
 * The member "uid" of o (EXEC, DIR_PUT) into *uid: AP_UID_USER if it is
 * absent.  -1 and j_why() if it is not a guest user's.
 */
int
user_parse(json_t *o, uint32_t *uid)
{
	uint64_t	 u = AP_UID_USER;

	if (j_uint(o, "uid", UINT32_MAX, &u, 0) == -1)
		return (-1);
	if (!ap_uid_ok(u)) {
		j_fail("uid %llu is not a guest user's", (unsigned long long)u);
		return (-1);
	}
	*uid = (uint32_t)u;
	return (0);
}
