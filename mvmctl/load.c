/*
 * load.c: reading the files mvmctl audit and mvmctl receipt check, with
 * no daemon: logs, checkpoints, notes, public keys.  Nothing here opens
 * a file for writing.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "load.h"
#include "mvmctl.h"
#include "note.h"

#define LOAD_PIPE_MAX	(16 * 1024 * 1024)	/* from a pipe */

static void	 load_sigbus(int);

/*
 * A whole file, read-only, NUL-terminated for convenience.  A regular
 * file is read up to the size it had when opened (a log may grow
 * meanwhile); anything else (a pipe) up to EOF.
 */
uint8_t *
load_file(const char *path, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 off = 0, cap;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		err(EXIT_ERR, "%s", path);
	if (S_ISDIR(st.st_mode))
		errx(EXIT_ERR, "%s: is a directory", path);
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size : 4096;
	if ((buf = malloc(cap + 1)) == NULL)
		err(EXIT_ERR, NULL);
	for (;;) {
		if (off == cap) {
			if (S_ISREG(st.st_mode) || cap >= LOAD_PIPE_MAX)
				break;
			cap *= 2;
			/* cppcheck-suppress memleakOnRealloc ; err() exits */
			if ((buf = realloc(buf, cap + 1)) == NULL)
				err(EXIT_ERR, NULL);
		}
		if ((n = read(fd, buf + off, cap - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n == -1)
			err(EXIT_ERR, "%s", path);
		if (n == 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	*lenp = off;
	return (buf);
}

static void
load_sigbus(int sig)
{
	static const char	 msg[] = "mvmctl: the log shrank while it was "
				    "being read\n";
	ssize_t			 n;

	(void)sig;
	n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	_exit(EXIT_ERR);
}

/*
 * A log, mapped read-only (a log can be gigabytes; mapping spares
 * copying it and zeroing as much memory).  A log is only ever appended
 * to; should it shrink meanwhile, SIGBUS ends the command.
 */
uint8_t *
load_map(const char *path, size_t *lenp)
{
	static uint8_t	 empty[1];
	struct stat	 st;
	void		*p;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		err(EXIT_ERR, "%s", path);
	if (!S_ISREG(st.st_mode))
		errx(EXIT_ERR, "%s: not a regular file", path);
	if (st.st_size == 0) {			/* nothing to map */
		close(fd);
		*lenp = 0;
		return (empty);
	}
	(void)signal(SIGBUS, load_sigbus);
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
	    0);
	if (p == MAP_FAILED)
		err(EXIT_ERR, "%s", path);
	close(fd);
	*lenp = st.st_size;
	return (p);
}

void
load_unmap(uint8_t *p, size_t len)
{
	if (len > 0 && munmap(p, len) == -1)
		err(EXIT_ERR, "munmap");
}

/* The verifying key: path, or (NULL) the host's signer/host.pub. */
void
load_pubkey(const char *path, uint8_t *pk, char *name, size_t namelen)
{
	char	 def[1024];
	uint8_t	*buf;
	size_t	 len;

	if (path == NULL) {
		if ((size_t)snprintf(def, sizeof(def), "%s/signer/host.pub",
		    ctl_statedir()) >= sizeof(def))
			errx(EXIT_ERR, "%s: state dir too long",
			    ctl_statedir());
		path = def;
	}
	buf = load_file(path, &len);
	if (pubkey_parse(buf, len, pk, name, namelen) == -1)
		errx(EXIT_ERR, "%s: not a public key (want a verifier key, "
		    "PEM or 32 raw bytes)", path);
	free(buf);
}

/*
 * One signed note from a file (as mvmctl audit checkpoint prints it).
 * With pk, the signature line by pk is the one kept, if there is one;
 * whether it verifies is for the caller to find out.  The note text
 * goes to text.
 */
void
load_note(const char *path, const uint8_t *pk, struct checkpoint *ck,
    char *text, size_t textlen)
{
	uint8_t	*buf;
	size_t	 len, used;

	buf = load_file(path, &len);
	while (len > 1 && buf[len - 1] == '\n' && buf[len - 2] == '\n')
		len--;				/* extra blank lines */
	if (note_parse((char *)buf, len, ck, &used) == -1 || used != len ||
	    len >= textlen)
		errx(EXIT_ERR, "%s: not one signed checkpoint note", path);
	if (pk != NULL)
		(void)note_verify((char *)buf, len, pk, ck, NULL);
	memcpy(text, buf, len);
	text[len] = '\0';
	free(buf);
}
