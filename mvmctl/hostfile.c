/*
 * hostfile.c: what mvmctl writes on the host from a guest's bytes.
 *
 * A temporary file that is not wanted any more goes on every way out:
 * an error (exit, through atexit), a lost connection (the same), and
 * SIGINT, SIGTERM, SIGHUP or SIGPIPE, whose handler removes it and then
 * dies of the signal as it would have.  Only SIGKILL leaves it.
 *
 * Modes: a guest names any permission bits it likes; the host file
 * gets them less the set-id and sticky bits and less the user's umask,
 * as if the user had made the file.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mvmctl.h"

static char			 hostfile_path[PATH_MAX];
static volatile sig_atomic_t	 hostfile_armed;

static const int		 hostfile_sigs[] = {
	SIGINT, SIGTERM, SIGHUP, SIGPIPE
};

static void	 hostfile_remove(void);
static void	 hostfile_signal(int);
static void	 hostfile_catch(void);
static void	 hostfile_block(int);

static void
hostfile_remove(void)
{
	if (hostfile_armed)
		(void)unlink(hostfile_path);
	hostfile_armed = 0;
}

/* SA_RESETHAND: raise() gets the default action, and ends us. */
static void
hostfile_signal(int sig)
{
	if (hostfile_armed)
		(void)unlink(hostfile_path);
	hostfile_armed = 0;
	(void)raise(sig);
}

static void
hostfile_catch(void)
{
	static int		 done;
	struct sigaction	 sa;
	size_t			 i;

	if (done++)
		return;
	if (atexit(hostfile_remove) != 0)
		errx(EXIT_ERR, "atexit");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hostfile_signal;
	sa.sa_flags = SA_RESETHAND;
	(void)sigfillset(&sa.sa_mask);
	for (i = 0; i < sizeof(hostfile_sigs) / sizeof(hostfile_sigs[0]); i++)
		if (sigaction(hostfile_sigs[i], &sa, NULL) == -1)
			err(EXIT_ERR, "sigaction");
}

/* Hold the signals off while the file exists and is not yet armed. */
static void
hostfile_block(int on)
{
	sigset_t	 set;
	size_t		 i;

	(void)sigemptyset(&set);
	for (i = 0; i < sizeof(hostfile_sigs) / sizeof(hostfile_sigs[0]); i++)
		(void)sigaddset(&set, hostfile_sigs[i]);
	if (sigprocmask(on ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL) == -1)
		err(EXIT_ERR, "sigprocmask");
}

/*
 * mkstemp(template), the file to go unless hostfile_keep() is called.
 * One at a time.  Returns the fd; ends mvmctl if it cannot be made.
 */
int
hostfile_mkstemp(char *template)
{
	int	 fd, saved;

	if (strlcpy(hostfile_path, template, sizeof(hostfile_path)) >=
	    sizeof(hostfile_path))
		errx(EXIT_ERR, "%s: path too long", template);
	hostfile_catch();
	hostfile_block(1);
	fd = mkstemp(hostfile_path);
	saved = errno;
	if (fd != -1) {
		(void)strlcpy(template, hostfile_path, strlen(template) + 1);
		hostfile_armed = 1;
	}
	hostfile_block(0);
	if (fd == -1) {
		errno = saved;
		err(EXIT_ERR, "%s", template);
	}
	return (fd);
}

/* It was renamed into place (or is gone): leave it be. */
void
hostfile_keep(void)
{
	hostfile_armed = 0;
}

/* The mode a host file gets for a guest's mode bits. */
mode_t
hostfile_mode(uint32_t guest_mode)
{
	static mode_t	 mask;
	static int	 known;

	if (!known) {
		mask = umask(0);
		(void)umask(mask);
		known = 1;
	}
	return (guest_mode & 0777 & ~mask);
}
