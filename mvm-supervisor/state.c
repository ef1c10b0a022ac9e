/*
 * state.c: the state directory (DESIGN.md section 4).  The supervisor
 * is the only process that opens files there; children get fds.
 *
 *   supervisor.lock    flock: one supervisor per state dir
 *   empty/             mount point for the children's empty roots
 *   signer/host.key    0600 root, handed to the signer as an fd
 *   signer/host.pub    C2SP verifier key, 0644
 *   audit/<tenant>/    log and checkpoints, O_APPEND fds for auditd
 *   guests/ images/
 */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "supervisor.h"

static void	 state_path(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 set_append_only(int, const char *);

static void
state_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		fatalx("path too long under %s", sv.conf.c_state_dir);
}

/*
 * Create a directory, or check an existing one: a real directory (no
 * symlink) already owned by uid; someone else's directory is refused,
 * never taken over.  The mode and group are fixed up.  Returns 1 if
 * created, 0 if it was there.
 */
int
mkdir_mode(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat	 st;
	int		 created = 0;

	if (mkdir(path, mode) == 0) {
		created = 1;
		if (chown(path, uid, gid) == -1)
			return (-1);
	} else if (errno != EEXIST)
		return (-1);
	if (lstat(path, &st) == -1)
		return (-1);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return (-1);
	}
	if (st.st_uid != uid) {
		errno = EPERM;
		return (-1);
	}
	if (st.st_gid != gid && chown(path, uid, gid) == -1)
		return (-1);
	if ((st.st_mode & 07777) != mode && chmod(path, mode) == -1)
		return (-1);
	return (created);
}

int
fsync_dir(const char *path)
{
	int	 fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

/* mkdir -p for the parents of a path we are about to create */
void
mkdir_parents(const char *path)
{
	char	 buf[MVM_ROOT_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		fatalx("%s: path too long", path);
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", buf);
		*p = '/';
	}
}

void
state_prepare(void)
{
	static const struct {
		const char	*name;
		mode_t		 mode;
	} dirs[] = {
		{ "empty", 0555 },
		{ "signer", 0711 },	/* host.key itself is 0600 */
		{ "audit", 0711 },
		{ "guests", 0711 },
		{ "images", 0755 },
	};
	const char	*top = sv.conf.c_state_dir;
	char		 path[MVM_ROOT_MAX], pid[32];
	size_t		 i;
	int		 n;

	mkdir_parents(top);
	if (mkdir_mode(top, 0711, 0, 0) == -1)
		fatal("state dir %s (must be a directory owned by root)", top);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		state_path(path, sizeof(path), "%s/%s", top, dirs[i].name);
		if (mkdir_mode(path, dirs[i].mode, 0, 0) == -1)
			fatal("%s", path);
	}
	state_path(path, sizeof(path), "%s/supervisor.lock", top);
	sv.lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sv.lockfd == -1)
		fatal("%s", path);
	if (flock(sv.lockfd, LOCK_EX | LOCK_NB) == -1)
		fatalx("another mvm-supervisor is using %s", top);
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(sv.lockfd, 0) == -1 ||
	    pwrite(sv.lockfd, pid, n, 0) != n)
		fatal("%s", path);
	(void)fsync_dir(top);
}

/*
 * The host key file: created empty if missing (the signer fills it),
 * refused if it is not a root-owned 0600 regular file.
 */
int
state_open_key(void)
{
	char		 path[MVM_ROOT_MAX], dir[MVM_ROOT_MAX];
	struct stat	 st;
	int		 fd;

	state_path(dir, sizeof(dir), "%s/signer", sv.conf.c_state_dir);
	state_path(path, sizeof(path), "%s/host.key", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		fatal("%s", path);
	if (fstat(fd, &st) == -1)
		fatal("%s", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
		fatalx("%s: must be a regular file, mode 0600, owned by root",
		    path);
	if (st.st_size == 0 && fsync_dir(dir) == -1)
		fatal("fsync %s", dir);
	return (fd);
}

/* Write signer/host.pub (the C2SP verifier key) atomically. */
void
state_write_pub(void)
{
	char	 path[MVM_ROOT_MAX], tmp[MVM_ROOT_MAX], dir[MVM_ROOT_MAX];
	char	 vkey[MVM_VKEY_MAX + 2];
	size_t	 len;
	int	 fd;

	if (vkey_format(sv.keyname, sv.pubkey, vkey, sizeof(vkey) - 1) == -1)
		fatalx("bad key from signer");
	len = strlen(vkey);
	vkey[len++] = '\n';
	state_path(dir, sizeof(dir), "%s/signer", sv.conf.c_state_dir);
	state_path(path, sizeof(path), "%s/host.pub", dir);
	state_path(tmp, sizeof(tmp), "%s/host.pub.tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		fatal("%s", tmp);
	if (fchmod(fd, 0644) == -1 || write(fd, vkey, len) != (ssize_t)len ||
	    fsync(fd) == -1 || close(fd) == -1)
		fatal("%s", tmp);
	if (rename(tmp, path) == -1 || fsync_dir(dir) == -1)
		fatal("%s", path);
}

/*
 * Open a tenant's audit file (which: "log" or "checkpoints") for
 * auditd: read/write, O_APPEND, never truncated.  A new file gets its
 * directory fsynced so the entry survives a crash.
 */
int
state_open_audit(const char *tenant, const char *which)
{
	char		 dir[MVM_ROOT_MAX], path[MVM_ROOT_MAX];
	struct stat	 st;
	int		 fd, created;

	if (!tenant_valid(tenant))
		fatalx("invalid tenant");
	state_path(dir, sizeof(dir), "%s/audit/%s", sv.conf.c_state_dir,
	    tenant);
	if ((created = mkdir_mode(dir, 0711, 0, 0)) == -1)
		fatal("%s", dir);
	if (created) {
		state_path(path, sizeof(path), "%s/audit", sv.conf.c_state_dir);
		if (fsync_dir(path) == -1)
			fatal("fsync %s", path);
	}
	state_path(path, sizeof(path), "%s/%s", dir, which);
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		fatal("%s", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0)
		fatalx("%s: not a root-owned regular file", path);
	if (st.st_size == 0 && fsync_dir(dir) == -1)
		fatal("fsync %s", dir);
	set_append_only(fd, path);
	return (fd);
}

/*
 * The append-only attribute (chattr +a), where the file system has it:
 * then not even root can truncate or rewrite the file without first
 * removing the attribute (which needs CAP_LINUX_IMMUTABLE).
 */
static void
set_append_only(int fd, const char *path)
{
	int	 flags;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == -1) {
		if (errno != ENOTTY && errno != EOPNOTSUPP && errno != EINVAL)
			log_warn("%s: FS_IOC_GETFLAGS", path);
		return;
	}
	if (flags & FS_APPEND_FL)
		return;
	flags |= FS_APPEND_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags) == -1)
		log_warnx("%s: cannot set the append-only attribute: %s",
		    path, strerror(errno));
}
