/*
 * mvmctl image build NAME --from DIR: pack DIR as a cpio (newc) layer,
 * here, with the caller's own permissions (the supervisor never reads
 * host paths a client names), and send it to the supervisor, which
 * lays it over the default image's initramfs.  Entries are sorted,
 * owned by root, dated 0 and stripped of set-id bits, so the same tree
 * gives the same bytes.  Regular files, directories and symlinks only.
 * The tree is walked twice: once to size the layer, which the request
 * announces (the supervisor checks its quotas against it before a byte
 * is sent), then to send it.
 */
#include <sys/param.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mvmctl.h"

struct cpio {
	uint8_t		 buf[MVM_DATA_MAX];
	size_t		 len;
	uint64_t	 total;
	uint64_t	 size;		/* announced; 0: only sizing */
	uint32_t	 ino;
};

/*
 * Send what is buffered.  A refusal can come before the end (the
 * layer broke a quota, the build failed): then stop sending.
 */
static void
cpio_flush(struct cpio *c)
{
	struct pollfd	 pfd;
	struct imsg	 imsg;

	if (c->len > 0)
		ctl_send(IMSG_CTL_FILE_DATA, c->buf, c->len);
	c->len = 0;
	pfd.fd = ctl_fd();
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) == 1) {
		ctl_read();
		if (ctl_pending(&imsg))		/* an error exits there */
			errx(EXIT_MVM, "unexpected reply from the supervisor");
	}
}

static void
cpio_put(struct cpio *c, const void *p, size_t len)
{
	const uint8_t	*s = p;
	size_t		 n;

	c->total += len;
	if (c->total > MVM_IMAGE_LAYER_MAX)
		errx(EXIT_TOOBIG, "layer larger than %llu bytes",
		    (unsigned long long)MVM_IMAGE_LAYER_MAX);
	if (c->size == 0)
		return;
	if (c->total > c->size)
		errx(EXIT_ERR, "the tree changed while it was packed");
	while (len > 0) {
		n = sizeof(c->buf) - c->len;
		if (n > len)
			n = len;
		memcpy(c->buf + c->len, s, n);
		c->len += n;
		s += n;
		len -= n;
		if (c->len == sizeof(c->buf))
			cpio_flush(c);
	}
}

static void
cpio_pad(struct cpio *c)
{
	static const uint8_t	 zero[4];

	if (c->total % 4)
		cpio_put(c, zero, 4 - c->total % 4);
}

static void
cpio_header(struct cpio *c, const char *name, uint32_t mode, uint32_t nlink,
    uint64_t size)
{
	char	 hdr[111];

	if (size > 0xffffffffULL)
		errx(EXIT_TOOBIG, "%s: file too large for cpio", name);
	(void)snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X"
	    "%08X%08X%08X%08X%08X%08X%08X", ++c->ino, mode, 0, 0, nlink, 0,
	    (uint32_t)size, 0, 0, 0, 0, (uint32_t)strlen(name) + 1, 0);
	cpio_put(c, hdr, 110);
	cpio_put(c, name, strlen(name) + 1);
	cpio_pad(c);
}

/* Exactly the size its header says: a file that grew is cut there. */
static void
cpio_file(struct cpio *c, const char *path, const char *name,
    const struct stat *st)
{
	uint8_t	 buf[65536];
	off_t	 left = st->st_size;
	ssize_t	 n = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		err(EXIT_ERR, "%s", path);
	cpio_header(c, name, S_IFREG | (st->st_mode & 0777), 1, st->st_size);
	if (c->size == 0) {			/* sizing */
		c->total += left;
		left = 0;
	}
	while (left > 0 &&
	    (n = read(fd, buf, MIN((off_t)sizeof(buf), left))) > 0) {
		cpio_put(c, buf, n);
		left -= n;
	}
	if (n == -1)
		err(EXIT_ERR, "%s", path);
	if (left > 0)
		errx(EXIT_ERR, "%s: shrank while it was packed", path);
	close(fd);
	cpio_pad(c);
}

static void
/* NOLINTNEXTLINE(misc-no-recursion): the operator's own tree */
cpio_tree(struct cpio *c, const char *top, const char *rel)
{
	struct dirent	**ents;
	struct stat	 st;
	char		 path[PATH_MAX], name[PATH_MAX], link[PATH_MAX];
	ssize_t		 ln;
	int		 i, n;

	(void)snprintf(path, sizeof(path), "%s%s%s", top, *rel ? "/" : "",
	    rel);
	if ((n = scandir(path, &ents, NULL, alphasort)) == -1)
		err(EXIT_ERR, "%s", path);
	for (i = 0; i < n; i++) {
		const char	*d = ents[i]->d_name;

		if (strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
			goto next;
		if ((size_t)snprintf(name, sizeof(name), "%s%s%s", rel,
		    *rel ? "/" : "", d) >= sizeof(name) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", top, name) >=
		    sizeof(path))
			errx(EXIT_TOOBIG, "%s: path too long", name);
		if (lstat(path, &st) == -1)
			err(EXIT_ERR, "%s", path);
		if (S_ISDIR(st.st_mode)) {
			cpio_header(c, name, S_IFDIR | (st.st_mode & 01777), 2,
			    0);
			cpio_tree(c, top, name);
		} else if (S_ISREG(st.st_mode))
			cpio_file(c, path, name, &st);
		else if (S_ISLNK(st.st_mode)) {
			if ((ln = readlink(path, link, sizeof(link) - 1)) == -1)
				err(EXIT_ERR, "%s", path);
			cpio_header(c, name, S_IFLNK | 0777, 1, ln);
			cpio_put(c, link, ln);
			cpio_pad(c);
		} else
			warnx("%s: not a file, directory or symlink; skipped",
			    path);
next:
		free(ents[i]);
	}
	free(ents);
}

/* The tree, then the trailer; c->size 0 only counts the bytes. */
static void
cpio_layer(struct cpio *c, const char *from)
{
	cpio_tree(c, from, "");
	cpio_header(c, "TRAILER!!!", 0, 1, 0);
}

int
image_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct cmd self = { "image", NULL, USAGE_IMAGE };
	struct mvm_ctl_guest	 cg;
	struct cpio		 c;
	struct imsg		 imsg;
	struct stat		 st;
	const char		*from = NULL;
	int			 ch;

	optind = 0;	/* glibc: start over, forget "+" */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'f')
			cmd_usage(&self);
		from = optarg;
	}
	if (optind + 1 != argc || from == NULL)
		cmd_usage(&self);
	if (stat(from, &st) == -1 || !S_ISDIR(st.st_mode))
		errx(EXIT_USAGE, "--from %s: not a directory", from);
	memset(&cg, 0, sizeof(cg));
	cg.cg_op = MVM_GUEST_IMAGE_BUILD;
	if (strlcpy(cg.cg_name, argv[optind], sizeof(cg.cg_name)) >=
	    sizeof(cg.cg_name))
		cmd_usage(&self);
	memset(&c, 0, sizeof(c));
	cpio_layer(&c, from);
	cg.cg_size = c.total;
	g.typed_exits = 1;
	ctl_connect();
	ctl_send(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg));
	/* a refusal (name in use, a quota) comes before the layer is sent */
	ctl_expect(&imsg, IMSG_CTL_OK);
	imsg_free(&imsg);
	memset(&c, 0, sizeof(c));
	c.size = cg.cg_size;
	cpio_layer(&c, from);
	if (c.total != c.size)
		errx(EXIT_ERR, "the tree changed while it was packed");
	cpio_flush(&c);
	ctl_send(IMSG_CTL_FILE, NULL, 0);
	ctl_expect(&imsg, IMSG_CTL_OK);
	imsg_free(&imsg);
	ctl_close();
	printf("%s: built (%llu byte layer over the default image)\n",
	    cg.cg_name, (unsigned long long)c.total);
	return (EXIT_OK);
}
