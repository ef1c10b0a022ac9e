/*
 * cgroup.c: a cgroup for each command, so that what it started goes
 * when it ends (mvm-agent.8, Processes).
 *
 * At boot the agent mounts cgroup2 on /sys/fs/cgroup, gives the cpu and
 * pids controllers to its children and makes "mvm" there; each EXEC
 * gets a cgroup "jN" under it (N counts up over the agent's life).  The
 * child moves itself in before it gives up root.  A command cannot move
 * out: that takes writing the cgroup.procs of the root cgroup, which is
 * root's.  Once the command's process has exited and its pipes are
 * done, the agent writes 1 to its cgroup.kill, which kills every
 * process in it (forking ones too, in a new session or not), and the
 * command's EXIT goes out only once cgroup.events says none is left;
 * then the cgroup is removed.  One that is not empty yet when the agent
 * lets go of it (the session ended) is removed later (cg_sweep).
 *
 * cgroup2 is mounted with favordynmods: moving each command's process
 * into its cgroup then costs no RCU grace period (measured under TCG:
 * an EXEC of /bin/true took 17 ms, 22 ms without it, 14 ms with no
 * cgroup at all), at a small cost to every fork and exit.
 *
 * "mvm" has the default cpu weight, as heavy as the agent beside it in
 * the root cgroup: however many processes the commands have, the agent
 * keeps about half of the CPU.  A command may have CG_PIDS_MAX
 * processes and threads, so a fork bomb stops there.
 *
 * Without cgroup2 (logged at boot) a command's process group is all
 * that is killed.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_PIDS_MAX	"1024"
#define CG_GRAVE_MAX	(2 * JOB_MAX)

static int	 cg_dir = -1;		/* CG_ROOT/mvm */
static uint32_t	 cg_seq;
static uint32_t	 cg_grave[CG_GRAVE_MAX];	/* to remove once empty */
static int	 cg_ngrave;

static int	 cg_write(int, const char *, const char *);

/* Write s to the file name under the directory dfd; 0 or -1 (errno). */
static int
cg_write(int dfd, const char *name, const char *s)
{
	ssize_t	 n;
	int	 fd, e;

	if ((fd = openat(dfd, name, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = write(fd, s, strlen(s));
	e = errno;
	(void)close(fd);
	errno = e;
	return (n == (ssize_t)strlen(s) ? 0 : -1);
}

void
cg_init(void)
{
	int	 root;

	if (mount("cgroup2", CG_ROOT, "cgroup2", MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, "favordynmods") == -1 && errno != EBUSY) {
		alog("mount cgroup2: %s: commands are killed by process "
		    "group only", strerror(errno));
		return;
	}
	if ((root = open(CG_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if (cg_write(root, "cgroup.subtree_control", "+cpu +pids") == -1)
		alog("cgroup controllers: %s", strerror(errno));
	if ((mkdirat(root, "mvm", 0755) == -1 && errno != EEXIST) ||
	    (cg_dir = openat(root, "mvm", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		alog("cgroup mvm: %s", strerror(errno));
	else if (cg_write(cg_dir, "cgroup.subtree_control", "+pids") == -1)
		alog("cgroup mvm controllers: %s", strerror(errno));
	(void)close(root);
}

/*
 * A new cgroup for a command: its directory fd and, in *procs, an fd of
 * its cgroup.procs for the child; -1 with errno.  No cgroup2: -1 in
 * both, errno 0.
 */
int
cg_new(uint32_t *seq, int *procs)
{
	char	 name[16];
	int	 fd, e;

	*procs = -1;
	errno = 0;
	if (cg_dir == -1)
		return (-1);
	*seq = ++cg_seq;
	(void)snprintf(name, sizeof(name), "j%u", *seq);
	if (mkdirat(cg_dir, name, 0755) == -1)
		return (-1);
	if ((fd = openat(cg_dir, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 ||
	    cg_write(fd, "pids.max", CG_PIDS_MAX) == -1 ||
	    (*procs = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC)) ==
	    -1) {
		e = errno;
		if (fd != -1)
			(void)close(fd);
		(void)unlinkat(cg_dir, name, AT_REMOVEDIR);
		errno = e;
		return (-1);
	}
	return (fd);
}

/* In the child: move into the cgroup (procs from cg_new). */
int
cg_enter(int procs)
{
	if (procs == -1)
		return (0);
	return (write(procs, "0", 1) == 1 ? 0 : -1);
}

/* SIGKILL to every process in it. */
void
cg_kill(int fd)
{
	if (fd != -1 && cg_write(fd, "cgroup.kill", "1") == -1)
		alog("cgroup.kill: %s", strerror(errno));
}

/* Is a process left in it?  (An error reads as no.) */
int
cg_populated(int fd)
{
	char	 buf[256];
	ssize_t	 n;
	int	 efd;

	if (fd == -1 || (efd = openat(fd, "cgroup.events", O_RDONLY |
	    O_CLOEXEC)) == -1)
		return (0);
	n = read(efd, buf, sizeof(buf) - 1);
	(void)close(efd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	return (strstr(buf, "populated 1") != NULL);
}

/* Close it and remove it, now or, while processes are left, later. */
void
cg_release(int fd, uint32_t seq)
{
	char	 name[16];

	if (fd == -1)
		return;
	(void)close(fd);
	(void)snprintf(name, sizeof(name), "j%u", seq);
	if (unlinkat(cg_dir, name, AT_REMOVEDIR) == 0 || errno != EBUSY)
		return;
	if (cg_ngrave < CG_GRAVE_MAX)
		cg_grave[cg_ngrave++] = seq;
	else
		alog("cgroup %s left behind", name);
}

/* Remove the cgroups let go of that are empty now; 1 if some are left. */
int
cg_sweep(void)
{
	char	 name[16];
	int	 i, n = 0;

	for (i = 0; i < cg_ngrave; i++) {
		(void)snprintf(name, sizeof(name), "j%u", cg_grave[i]);
		if (unlinkat(cg_dir, name, AT_REMOVEDIR) == -1 &&
		    errno == EBUSY)
			cg_grave[n++] = cg_grave[i];
	}
	cg_ngrave = n;
	return (n > 0);
}
