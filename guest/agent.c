/*
 * mvm-agent: PID 1 of an mvm guest.
 *
 * Mounts the pseudo file systems, names the host, loads the kernel
 * modules listed in /etc/mvm/modules, prepares the users (user.c) and
 * the commands' cgroups (cgroup.c), finds the virtio-serial port named
 * "mvm.agent.0" and serves the agent protocol on it (loop.c).  It never
 * exits: PID 1 exiting panics the kernel.  On a fatal error it powers the
 * guest off.  The console (kept by the host) hears only about boot
 * problems.
 */
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define PORT_WAIT_LOG_MS	5000	/* say so if the port is this late */

struct agent	 ag;
static int	 console = -1;

static void	 stdio_fix(void);
static void	 mount_one(const char *, const char *, const char *,
		    unsigned long, const char *);
static void	 mount_all(void);
static void	 dev_links(void);
static void	 modules_load(const char *);
static void	 module_load(const char *);
static int	 port_lookup(char *, size_t);
static int	 port_open(void);
static void	 signals_init(void);

void
alog(const char *fmt, ...)
{
	char	 line[512] = "mvm-agent: ";
	size_t	 pre = strlen(line);
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line + pre, sizeof(line) - pre - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - pre - 2)
		n = sizeof(line) - pre - 2;
	line[pre + n] = '\n';
	if (write(console != -1 ? console : 2, line, pre + n + 1) == -1)
		return;			/* nowhere else to say it */
}

void
afatal(const char *fmt, ...)
{
	char	 msg[400];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	alog("fatal: %s", msg);
	agent_poweroff();
}

void
agent_poweroff(void)
{
	sync();
	if (getpid() != 1)
		_exit(1);
	for (;;) {
		(void)reboot(RB_POWER_OFF);
		pause();
	}
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		afatal("out of memory");
	return (p);
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		afatal("out of memory");
	return (p);
}

uint64_t
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Children get 0, 1, 2 by dup2: keep our own fds above them. */
static void
stdio_fix(void)
{
	int	 fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		continue;
	if (fd > 2)
		(void)close(fd);
}

static void
mount_one(const char *src, const char *dir, const char *type,
    unsigned long flags, const char *data)
{
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		alog("mkdir %s: %s", dir, strerror(errno));
	if (mount(src, dir, type, flags, data) == -1 && errno != EBUSY)
		alog("mount %s on %s: %s", type, dir, strerror(errno));
}

static void
mount_all(void)
{
	unsigned long	 nse = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	stdio_fix();
	console = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	/* a user sees its own processes only: not the agent, not others' */
	mount_one("proc", "/proc", "proc", nse, "hidepid=invisible");
	mount_one("sysfs", "/sys", "sysfs", nse, NULL);
	mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	    "mode=0620,ptmxmode=0666");
	mount_one("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=1777");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	dev_links();
}

static void
dev_links(void)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) == -1 &&
		    errno != EEXIST)
			alog("symlink %s: %s", links[i][1], strerror(errno));
}

/* Load the modules named one path a line, in that order. */
static void
modules_load(const char *list)
{
	FILE	*fp;
	char	 line[512];
	size_t	 n;

	if ((fp = fopen(list, "re")) == NULL) {
		if (errno != ENOENT)
			alog("%s: %s", list, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		module_load(line);
	}
	(void)fclose(fp);
}

static void
module_load(const char *path)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		alog("module %s: %s, skipped", path, strerror(errno));
		return;
	}
	if (syscall(SYS_finit_module, fd, "", 0) == -1 && errno != EEXIST)
		alog("module %s: %s", path, strerror(errno));
	(void)close(fd);
}

/*
 * Find the port whose sysfs name is AP_PORT_NAME; put "/dev/vportNpM"
 * into dev.  Returns 0, or -1 if it is not there (yet).
 */
static int
port_lookup(char *dev, size_t size)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[300], name[64];
	int		 fd, found = -1;
	ssize_t		 n;

	if ((d = opendir("/sys/class/virtio-ports")) == NULL)
		return (-1);
	while (found == -1 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name",
		    de->d_name);
		if ((fd = open(p, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, name, sizeof(name) - 1);
		(void)close(fd);
		if (n <= 0)
			continue;
		name[n] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, AP_PORT_NAME) == 0 &&
		    (size_t)snprintf(dev, size, "/dev/%s", de->d_name) < size)
			found = 0;
	}
	(void)closedir(d);
	return (found);
}

/*
 * The modules the agent channel does not need (disks, the RNG) load in
 * a child once the port is open, so the host hears HELLO sooner.
 */
static void
modules_late(void)
{
	pid_t	 pid;

	if (access(AGENT_MODULES_LATE, R_OK) == -1)
		return;
	if ((pid = fork()) == -1) {
		modules_load(AGENT_MODULES_LATE);
		return;
	}
	if (pid == 0) {
		modules_load(AGENT_MODULES_LATE);
		_exit(0);
	}
	/* PID 1 reaps it with every other child */
}

/* Wait for the port and its device node, then open it. */
static int
port_open(void)
{
	struct timespec	 ts = { 0, 2 * 1000 * 1000 };
	char		 dev[300];
	uint64_t	 t0 = now_ms();
	int		 fd, said = 0;

	for (;;) {
		if (port_lookup(dev, sizeof(dev)) == 0 &&
		    (fd = open(dev, O_RDWR | O_NONBLOCK | O_NOCTTY |
		    O_CLOEXEC)) != -1)
			return (fd);
		if (!said && now_ms() - t0 > PORT_WAIT_LOG_MS) {
			alog("waiting for virtio port %s", AP_PORT_NAME);
			said = 1;
		}
		(void)nanosleep(&ts, NULL);
	}
}

/* SIGCHLD arrives on a signalfd; children undo this before exec. */
static void
signals_init(void)
{
	sigset_t	 set;

	(void)signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		afatal("sigprocmask: %s", strerror(errno));
	if ((ag.a_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) ==
	    -1)
		afatal("signalfd: %s", strerror(errno));
}

int
main(void)
{
	struct timespec	 ts;
	struct utsname	 u;

	(void)clock_gettime(CLOCK_BOOTTIME, &ts);
	ag.a_uptime_ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (getpid() == 1) {
		(void)umask(022);
		mount_all();
		if (sethostname("mvm", 3) == -1)
			alog("sethostname: %s", strerror(errno));
		modules_load(AGENT_MODULES);
		user_init();
		cg_init();
	} else
		stdio_fix();
	if (uname(&u) == 0)
		(void)snprintf(ag.a_kernel, sizeof(ag.a_kernel), "%s",
		    u.release);
	if (setenv("PATH", AGENT_PATH, 1) == -1)
		afatal("setenv");
	TAILQ_INIT(&ag.a_outq);
	TAILQ_INIT(&ag.a_jobs);
	TAILQ_INIT(&ag.a_xfers);
	if (ap_rbuf_init(&ag.a_rb) == -1)
		afatal("out of memory");
	signals_init();
	ag.a_port = port_open();
	if (getpid() == 1)
		modules_late();
	loop_run();
}
