/*
 * secretfile.c: secrets an EXEC is granted as files (mvmctl run
 * --secret-file NAME:/path).  The EXEC member "files" carries them:
 * [{"path":"/run/secrets/db","data":"<base64>"}], at most
 * AP_SECRET_FILES_MAX.  Before the command starts, each is written to
 * its path (created 0400, O_EXCL, never through a symlink; missing
 * parent directories are made 0700): the guest's root is the initramfs,
 * in memory, so the value never reaches a disk.  When the command's
 * process is reaped the file is overwritten with zeros and removed, so
 * a guest that goes on running (up, exec) keeps no copy.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"

/* "files" of an EXEC: parsed into sf (values decoded); -1 and j_why() */
int
secfiles_parse(json_t *a, struct secfiles *sf)
{
	static const char *const names[] = { "path", "data", NULL };
	const char	*path, *data;
	json_t		*v;
	size_t		 i, len, dl;

	memset(sf, 0, sizeof(*sf));
	if (a == NULL)
		return (0);
	if (!json_is_array(a) || json_array_size(a) > AP_SECRET_FILES_MAX) {
		j_fail("files: an array of up to %d", AP_SECRET_FILES_MAX);
		return (-1);
	}
	json_array_foreach(a, i, v) {
		if (!json_is_object(v) || j_only(v, names) == -1 ||
		    j_str(v, "path", &path, 1) == -1 ||
		    j_str(v, "data", &data, 1) == -1 || !ap_path_clean(path, 255)) {
			j_fail("files[%zu]: want a clean absolute path and "
			    "base64 data", i);
			return (-1);
		}
		dl = strlen(data);
		sf->sf_path[i] = xstrdup(path);
		sf->sf_val[i] = xcalloc(1, dl / 4 * 3 + 3);
		sf->sf_n = i + 1;
		if (sodium_base642bin(sf->sf_val[i], dl / 4 * 3 + 3, data, dl,
		    NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
			j_fail("files[%zu]: bad base64", i);
			return (-1);
		}
		sf->sf_len[i] = len;
	}
	return (0);
}

/* Make the missing directories above path, 0700. */
static void
parents(const char *path)
{
	char	 d[256];
	char	*s;

	(void)snprintf(d, sizeof(d), "%s", path);
	for (s = d + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(d, 0700) == -1 && errno != EEXIST)
			return;
		*s = '/';
	}
}

/* Write them all, or none (0, or -1 with errno and *bad the path). */
int
secfiles_write(struct secfiles *sf, const char **bad)
{
	int	 i, fd, e;
	size_t	 off;
	ssize_t	 n;

	for (i = 0; i < sf->sf_n; i++) {
		parents(sf->sf_path[i]);
		fd = open(sf->sf_path[i], O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0400);
		for (off = 0; fd != -1 && off < sf->sf_len[i]; off += n)
			if ((n = write(fd, sf->sf_val[i] + off,
			    sf->sf_len[i] - off)) <= 0) {
				e = n == 0 ? EIO : errno;
				(void)close(fd);
				(void)unlink(sf->sf_path[i]);
				errno = e;
				fd = -1;
			}
		if (fd == -1) {
			e = errno;
			*bad = sf->sf_path[i];
			sf->sf_n = i;		/* the ones written go */
			secfiles_remove(sf);
			errno = e;
			return (-1);
		}
		(void)close(fd);
	}
	return (0);
}

/* Overwrite with zeros and remove what secfiles_write made. */
void
secfiles_remove(struct secfiles *sf)
{
	static const uint8_t	 zero[4096];
	struct stat		 st;
	off_t			 off;
	int			 i, fd;

	for (i = 0; i < sf->sf_n; i++) {
		fd = open(sf->sf_path[i], O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			for (off = 0; off < st.st_size; off += sizeof(zero))
				if (write(fd, zero, sizeof(zero)) <= 0)
					break;
		if (fd != -1)
			(void)close(fd);
		(void)unlink(sf->sf_path[i]);
	}
	sf->sf_n = 0;
}

void
secfiles_free(struct secfiles *sf)
{
	int	 i;

	for (i = 0; i < AP_SECRET_FILES_MAX; i++) {
		free(sf->sf_path[i]);
		if (sf->sf_val[i] != NULL)
			sodium_memzero(sf->sf_val[i], sf->sf_len[i]);
		free(sf->sf_val[i]);
	}
	memset(sf, 0, sizeof(*sf));
}
