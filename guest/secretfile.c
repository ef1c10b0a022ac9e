/*
 * secretfile.c: secrets an EXEC is granted as files (mvmctl run
 * --secret-file NAME:/path).  The EXEC member "files" carries them:
 * [{"path":"/run/secrets/db","data":"<base64>"}], at most
 * AP_SECRET_FILES_MAX.  Before the command starts, each is written to
 * its path, created 0400 and the command's user's (O_EXCL, never
 * through a symlink in any component; missing parent directories are
 * made 0711, root's, so that a user can pass through them to its own
 * file and see nothing else there): the guest's root is the initramfs,
 * in memory, so the value never reaches a disk.  The command's user is
 * one of its own when it has secrets (user.c), so no other command's
 * user can read it.  Once the command's processes are all gone the file
 * is overwritten with zeros and removed, through the directory opened
 * when it was written, so a guest that goes on running (up, exec)
 * keeps no copy and a directory renamed meanwhile changes nothing.
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
	for (i = 0; i < AP_SECRET_FILES_MAX; i++)
		sf->sf_dir[i] = -1;
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

/*
 * Open the directory path names up to its last component, making the
 * missing ones; *base is that component.  The fd, or -1 with errno.
 */
static int
parent_open(const char *path, const char **base)
{
	char	 d[AP_PATH_MAX + 1];
	char	*slash;

	(void)snprintf(d, sizeof(d), "%s", path);
	slash = strrchr(d, '/');	/* ap_path_clean: there is one */
	*base = path + (slash - d) + 1;
	if (slash == d)
		slash[1] = '\0';	/* "/x": "/" */
	else
		*slash = '\0';
	return (share_dir_open(d, 0711));
}

/* One file into its directory dfd: 0 or -1 with errno. */
static int
secfile_put(int dfd, const char *base, const uint8_t *v, size_t len,
    uint32_t uid)
{
	size_t	 off;
	ssize_t	 n = 0;
	int	 fd, e;

	if ((fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0400)) == -1)
		return (-1);
	if (fchown(fd, uid, user_gid(uid)) == -1)
		n = -1;
	for (off = 0; n != -1 && off < len; off += n)
		if ((n = write(fd, v + off, len - off)) == 0) {
			errno = EIO;
			n = -1;
		}
	e = errno;
	(void)close(fd);
	if (n == -1) {
		(void)unlinkat(dfd, base, 0);
		errno = e;
		return (-1);
	}
	return (0);
}

/*
 * Write them all for the user uid, or none (0, or -1 with errno and
 * *bad the path).
 */
int
secfiles_write(struct secfiles *sf, uint32_t uid, const char **bad)
{
	const char	*base;
	int		 i, e;

	for (i = 0; i < sf->sf_n; i++) {
		if ((sf->sf_dir[i] = parent_open(sf->sf_path[i], &base)) !=
		    -1 && secfile_put(sf->sf_dir[i], base, sf->sf_val[i],
		    sf->sf_len[i], uid) == 0)
			continue;
		e = errno;
		if (sf->sf_dir[i] != -1)
			(void)close(sf->sf_dir[i]);
		sf->sf_dir[i] = -1;
		*bad = sf->sf_path[i];
		sf->sf_n = i;		/* the ones written go */
		secfiles_remove(sf);
		errno = e;
		return (-1);
	}
	return (0);
}

/* Overwrite with zeros and remove what secfiles_write made. */
void
secfiles_remove(struct secfiles *sf)
{
	static const uint8_t	 zero[4096];
	struct stat		 st;
	const char		*base;
	off_t			 off;
	int			 i, fd;

	for (i = 0; i < sf->sf_n; i++) {
		base = strrchr(sf->sf_path[i], '/') + 1;
		fd = openat(sf->sf_dir[i], base, O_WRONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);
		if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			for (off = 0; off < st.st_size; off += sizeof(zero))
				if (write(fd, zero, sizeof(zero)) <= 0)
					break;
		if (fd != -1)
			(void)close(fd);
		(void)unlinkat(sf->sf_dir[i], base, 0);
		(void)close(sf->sf_dir[i]);
		sf->sf_dir[i] = -1;
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
	for (i = 0; i < AP_SECRET_FILES_MAX; i++)
		sf->sf_dir[i] = -1;
}
