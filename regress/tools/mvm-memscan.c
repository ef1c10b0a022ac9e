/*
 * mvm-memscan PID STRING: look for STRING in every readable mapping of
 * process PID (root reads /proc/PID/mem).  Exit 0 if it is nowhere, 1
 * if it is found (the mapping and offset are printed), 2 on error.
 * Tests use it to show that a secret value does not stay behind in the
 * supervisor's memory once the run that used it is over.
 */
#include <sys/types.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK	(1024 * 1024)

static int	 scan_range(int, unsigned long, unsigned long, const char *,
		    size_t, const char *);

/* One mapping, in chunks that overlap by the needle's length. */
static int
scan_range(int fd, unsigned long lo, unsigned long hi, const char *needle,
    size_t nlen, const char *what)
{
	static char	 buf[CHUNK];
	unsigned long	 at;
	ssize_t		 n;
	char		*p;

	for (at = lo; at < hi; at += CHUNK - nlen) {
		n = pread(fd, buf, hi - at < CHUNK ? hi - at : CHUNK,
		    (off_t)at);
		if (n <= 0)
			return (0);	/* not readable after all: skip */
		if ((p = memmem(buf, n, needle, nlen)) != NULL) {
			printf("found at 0x%lx in %s", at + (p - buf), what);
			return (1);
		}
		if ((size_t)n < CHUNK)
			return (0);
	}
	return (0);
}

int
main(int argc, char *argv[])
{
	char		 path[64], line[512], perms[8];
	unsigned long	 lo, hi;
	size_t		 nlen;
	FILE		*maps;
	int		 fd, found = 0;

	if (argc != 3 || (nlen = strlen(argv[2])) == 0 || nlen >= CHUNK / 2) {
		fprintf(stderr, "usage: mvm-memscan pid string\n");
		return (2);
	}
	(void)snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	if ((maps = fopen(path, "re")) == NULL)
		err(2, "%s", path);
	(void)snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(2, "%s", path);
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		/* NOLINTNEXTLINE(cert-err34-c): the kernel formats this */
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || strstr(line, "[vvar]") != NULL ||
		    strstr(line, "[vsyscall]") != NULL)
			continue;
		found = scan_range(fd, lo, hi, argv[2], nlen, line);
	}
	(void)fclose(maps);
	close(fd);
	return (found);
}
