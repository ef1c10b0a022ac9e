/*
 * replay: the main() that libFuzzer would provide, for builds without
 * clang.  Each argument is an input file (or a directory of them); each
 * is read into a buffer of exactly its size and given to
 * LLVMFuzzerTestOneInput once.  A crash or a failed property aborts;
 * otherwise it prints how many inputs ran and exits 0.
 *
 * usage: fuzz-NAME FILE|DIR ...
 */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static void	 replay_file(const char *);
static void	 replay_dir(const char *);
static int	 nrun;

static void
replay_file(const char *path)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		err(1, "%s", path);
	/* exactly the input's size: an overread is an overflow */
	if ((buf = malloc(st.st_size > 0 ? st.st_size : 1)) == NULL)
		err(1, "malloc");
	while (off < (size_t)st.st_size) {
		if ((n = read(fd, buf + off, st.st_size - off)) <= 0)
			err(1, "%s: read", path);
		off += n;
	}
	close(fd);
	(void)LLVMFuzzerTestOneInput(buf, off);
	free(buf);
	nrun++;
}

/* Files in name order, so a run is repeatable. */
static void
replay_dir(const char *path)
{
	struct dirent	**de;
	char		 *p;
	int		  i, n;

	if ((n = scandir(path, &de, NULL, alphasort)) == -1)
		err(1, "%s", path);
	for (i = 0; i < n; i++) {
		if (de[i]->d_name[0] != '.') {
			if (asprintf(&p, "%s/%s", path, de[i]->d_name) == -1)
				err(1, "asprintf");
			replay_file(p);
			free(p);
		}
		free(de[i]);
	}
	free(de);
}

int
main(int argc, char *argv[])
{
	struct stat	 st;
	int		 i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file|dir ...\n", argv[0]);
		return (1);
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1)
			err(1, "%s", argv[i]);
		if (S_ISDIR(st.st_mode))
			replay_dir(argv[i]);
		else
			replay_file(argv[i]);
	}
	printf("replayed %d inputs\n", nrun);
	return (0);
}
