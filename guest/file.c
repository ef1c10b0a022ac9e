/*
 * file.c: FILE_PUT and FILE_GET.
 *
 * Paths are absolute, without empty, "." or ".." components; the last
 * component is never followed if it is a symlink.  A put writes
 * path.tmp, fsyncs it and renames it over path; the file is the default
 * user's (user.c), group mvm, so that commands can use it: the default
 * user as its owner, those with uids of their own through the group.
 * A put refused at the start (or failing on the way) stays as a "sink"
 * that swallows its FILE_DATA frames until FILE_END, so the host gets
 * one AP_ERROR per transfer, not one a frame.  Sinks do not count as
 * transfers; a new request with a sink's id replaces it, and beyond
 * XFER_MAX sinks the oldest is forgotten.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

static int	 path_ok(const char *);
static struct xfer *xfer_find(uint32_t);
static int	 xfer_busy(uint32_t);
static int	 sink_count(void);
static void	 sink_trim(void);
static struct xfer *xfer_new(uint32_t, int);
static void	 xfer_fail(struct xfer *);
static void	 xfer_free(struct xfer *);
static int	 put_open(const struct ap_frame *, struct xfer *);
static int	 put_commit(struct xfer *);
static void	 dir_sync(const char *);
static int	 write_all(int, const uint8_t *, size_t);
static void	 get_step(struct xfer *);

static int
path_ok(const char *p)
{
	const char	*c, *e;
	size_t		 n;

	if (p[0] != '/') {
		j_fail("path is not absolute");
		return (-1);
	}
	if (strlen(p) > AP_PATH_MAX) {
		j_fail("path is longer than %d bytes", AP_PATH_MAX);
		return (-1);
	}
	for (c = p + 1;; c = e + 1) {
		e = strchrnul(c, '/');
		n = e - c;
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.')) {
			j_fail("path component \"%.*s\" is not allowed",
			    (int)n, c);
			return (-1);
		}
		if (*e == '\0')
			return (0);
	}
}

static struct xfer *
xfer_find(uint32_t id)
{
	struct xfer	*x;

	TAILQ_FOREACH(x, &ag.a_xfers, x_entry)
		if (x->x_id == id)
			return (x);
	return (NULL);
}

static struct xfer *
xfer_new(uint32_t id, int put)
{
	struct xfer	*x;

	x = xcalloc(1, sizeof(*x));
	x->x_id = id;
	x->x_put = put;
	x->x_fd = -1;
	TAILQ_INSERT_TAIL(&ag.a_xfers, x, x_entry);
	return (x);
}

static int
sink_count(void)
{
	struct xfer	*x;
	int		 n = 0;

	TAILQ_FOREACH(x, &ag.a_xfers, x_entry)
		if (x->x_fd == -1)
			n++;
	return (n);
}

static void
sink_trim(void)
{
	struct xfer	*x;

	if (sink_count() <= XFER_MAX)
		return;
	TAILQ_FOREACH(x, &ag.a_xfers, x_entry)
		if (x->x_fd == -1) {
			xfer_free(x);
			return;
		}
}

/*
 * Can a transfer start with this id?  A sink with the id is dropped.
 * Returns 0, or -1 with AP_ERROR "busy" queued.
 */
static int
xfer_busy(uint32_t id)
{
	struct xfer	*x;
	int		 live;

	if ((x = xfer_find(id)) != NULL && x->x_fd == -1)
		xfer_free(x);
	live = 0;
	TAILQ_FOREACH(x, &ag.a_xfers, x_entry)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): TAILQ FP */
		live += x->x_fd != -1;
	if (xfer_find(id) == NULL && live < XFER_MAX)
		return (0);
	out_error(id, "busy", "%s", live >= XFER_MAX ?
	    "too many transfers" : "id in use");
	return (-1);
}

/* Drop what was written; the transfer swallows the rest. */
static void
xfer_fail(struct xfer *x)
{
	if (x->x_fd != -1)
		(void)close(x->x_fd);
	x->x_fd = -1;
	if (x->x_tmp != NULL)
		(void)unlink(x->x_tmp);
	free(x->x_tmp);
	x->x_tmp = NULL;
}

static void
xfer_free(struct xfer *x)
{
	xfer_fail(x);
	TAILQ_REMOVE(&ag.a_xfers, x, x_entry);
	free(x->x_path);
	free(x);
}

/* Check FILE_PUT and open path.tmp; -1 with an AP_ERROR queued. */
static int
put_open(const struct ap_frame *f, struct xfer *x)
{
	static const char *const names[] = { "path", "mode", "size", NULL };
	struct stat	 st;
	json_t		*o;
	const char	*path;
	uint64_t	 mode = 0644;

	if ((o = j_parse(f)) == NULL || j_only(o, names) == -1 ||
	    j_str(o, "path", &path, 1) == -1 ||
	    j_uint(o, "mode", 07777, &mode, 0) == -1 ||
	    j_uint(o, "size", UINT64_MAX >> 1, &x->x_size, 1) == -1 ||
	    path_ok(path) == -1) {
		out_error(f->f_id, "bad_request", "%s", j_why());
		json_decref(o);
		return (-1);
	}
	x->x_path = xstrdup(path);
	x->x_mode = mode;
	json_decref(o);
	if (x->x_size > AP_FILE_MAX) {
		out_error(f->f_id, "too_large", "limit %llu bytes",
		    AP_FILE_MAX);
		return (-1);
	}
	if (lstat(x->x_path, &st) == 0 && !S_ISREG(st.st_mode)) {
		out_error(f->f_id, "denied", "%s", S_ISLNK(st.st_mode) ?
		    "path is a symlink" : "path is not a regular file");
		return (-1);
	}
	if (asprintf(&x->x_tmp, "%s.tmp", x->x_path) == -1)
		afatal("out of memory");
	if ((x->x_fd = open(x->x_tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600)) == -1) {
		out_errno(f->f_id, errno, "open");
		free(x->x_tmp);
		x->x_tmp = NULL;
		return (-1);
	}
	return (0);
}

void
file_put(const struct ap_frame *f)
{
	struct xfer	*x;

	if (xfer_busy(f->f_id) == -1)
		return;
	x = xfer_new(f->f_id, 1);
	if (put_open(f, x) == -1) {
		xfer_fail(x);
		sink_trim();
	}
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		n -= w;
	}
	return (0);
}

void
file_data(const struct ap_frame *f)
{
	struct xfer	*x;

	if ((x = xfer_find(f->f_id)) == NULL || !x->x_put) {
		out_error(f->f_id, "bad_request", "no FILE_PUT with this id");
		return;
	}
	if (x->x_fd == -1)
		return;				/* a refused put */
	if (f->f_len > x->x_size - x->x_done) {
		out_error(f->f_id, "bad_request", "more data than size");
		xfer_fail(x);
		sink_trim();
		return;
	}
	if (write_all(x->x_fd, f->f_data, f->f_len) == -1) {
		out_errno(f->f_id, errno, "write");
		xfer_fail(x);
		sink_trim();
		return;
	}
	x->x_done += f->f_len;
}

static void
dir_sync(const char *path)
{
	char	*copy, *dir;
	int	 fd;

	copy = xstrdup(path);
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		(void)close(fd);
	}
	free(copy);
}

/* Owner, mode, fsync, rename into place.  -1 with an AP_ERROR queued. */
static int
put_commit(struct xfer *x)
{
	const char	*what = "fchown";

	/* the owner first: chown clears set-id bits the mode may ask for */
	if (fchown(x->x_fd, AP_UID_USER, AP_GID_USER) == -1 ||
	    (what = "fchmod", fchmod(x->x_fd, x->x_mode)) == -1 ||
	    (what = "fsync", fsync(x->x_fd)) == -1 ||
	    (what = "close", close(x->x_fd)) == -1) {
		out_errno(x->x_id, errno, what);
		return (-1);
	}
	x->x_fd = -1;
	if (rename(x->x_tmp, x->x_path) == -1) {
		out_errno(x->x_id, errno, "rename");
		return (-1);
	}
	free(x->x_tmp);
	x->x_tmp = NULL;
	dir_sync(x->x_path);
	return (0);
}

void
file_end(const struct ap_frame *f)
{
	struct xfer	*x;

	if ((x = xfer_find(f->f_id)) == NULL || !x->x_put) {
		out_error(f->f_id, "bad_request", "no FILE_PUT with this id");
		return;
	}
	if (x->x_fd == -1)
		;				/* refused: answered already */
	else if (f->f_len != 0)
		out_error(f->f_id, "bad_request", "FILE_END carries data");
	else if (x->x_done != x->x_size)
		out_error(f->f_id, "bad_request", "%llu of %llu bytes",
		    (unsigned long long)x->x_done,
		    (unsigned long long)x->x_size);
	else if (put_commit(x) == 0)
		out_ok(f->f_id);
	xfer_free(x);
}

void
file_get(const struct ap_frame *f)
{
	static const char *const names[] = { "path", "max", NULL };
	struct stat	 st;
	struct xfer	*x;
	json_t		*o;
	const char	*path;
	uint64_t	 max = 0;
	int		 fd;

	if (xfer_busy(f->f_id) == -1)
		return;
	if ((o = j_parse(f)) == NULL || j_only(o, names) == -1 ||
	    j_str(o, "path", &path, 1) == -1 ||
	    j_uint(o, "max", UINT64_MAX >> 1, &max, 0) == -1 ||
	    path_ok(path) == -1) {
		out_error(f->f_id, "bad_request", "%s", j_why());
		json_decref(o);
		return;
	}
	if (max == 0 || max > AP_FILE_MAX)
		max = AP_FILE_MAX;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	json_decref(o);
	if (fd == -1) {
		out_errno(f->f_id, errno, "open");
		return;
	}
	if (fstat(fd, &st) == -1) {
		out_errno(f->f_id, errno, "fstat");
		(void)close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		out_error(f->f_id, S_ISREG(st.st_mode) ? "too_large" :
		    "denied", "%s", S_ISREG(st.st_mode) ?
		    "file is larger than max" : "not a regular file");
		(void)close(fd);
		return;
	}
	x = xfer_new(f->f_id, 0);
	x->x_fd = fd;
	x->x_size = st.st_size;
	x->x_mode = st.st_mode & 07777;
}

int
file_pending(void)
{
	struct xfer	*x;

	TAILQ_FOREACH(x, &ag.a_xfers, x_entry)
		if (!x->x_put)
			return (1);
	return (0);
}

/* One FILE_DATA chunk of a get, or its FILE_END. */
static void
get_step(struct xfer *x)
{
	static uint8_t	 buf[CHUNK];
	uint64_t	 want = x->x_size - x->x_done;
	ssize_t		 n = 0;

	if (want > sizeof(buf))
		want = sizeof(buf);
	if (want > 0 && (n = read(x->x_fd, buf, want)) == -1) {
		if (errno == EINTR)
			return;
		out_errno(x->x_id, errno, "read");
		xfer_free(x);
		return;
	}
	if (n > 0) {
		out_frame(AP_FILE_DATA, x->x_id, buf, n);
		x->x_done += n;
		return;
	}
	out_json(AP_FILE_END, x->x_id, json_pack("{s:I,s:i}", "size",
	    (json_int_t)x->x_done, "mode", (int)x->x_mode));
	xfer_free(x);
}

/* Feed the gets while the output queue has room. */
void
file_pump(void)
{
	struct xfer	*x, *next;

	while (!out_high() && file_pending())
		for (x = TAILQ_FIRST(&ag.a_xfers); x != NULL; x = next) {
			next = TAILQ_NEXT(x, x_entry);
			if (!x->x_put && !out_high())
				get_step(x);
		}
}

void
file_abortall(void)
{
	struct xfer	*x;

	while ((x = TAILQ_FIRST(&ag.a_xfers)) != NULL)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): TAILQ FP */
		xfer_free(x);
}
