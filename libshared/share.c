/*
 * share.c: the host-share stream (share.h), its strict incremental
 * reader and the checks on paths and link targets.  libc only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "share.h"

#define ST_MAGIC	0
#define ST_HDR		1
#define ST_PATH		2
#define ST_DATA		3
#define ST_TARGET	4
#define ST_DONE		5
#define ST_ERROR	6

static int	 share_out(struct share_writer *, const void *, size_t);
static int	 share_fail(struct share_reader *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 share_take(struct share_reader *, void *, size_t,
		    const uint8_t **, size_t *);
static int	 share_hdr(struct share_reader *);
static int	 share_path_done(struct share_reader *);
static uint64_t	 get_be(const uint8_t *, size_t);
static void	 put_be(uint8_t *, uint64_t, size_t);

static int
share_fail(struct share_reader *r, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(r->sr_why, sizeof(r->sr_why), fmt, ap);
	va_end(ap);
	r->sr_state = ST_ERROR;
	return (SHARE_EV_ERROR);
}

static uint64_t
get_be(const uint8_t *p, size_t n)
{
	uint64_t	 v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return (v);
}

static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

void
share_reader_init(struct share_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->sr_state = ST_MAGIC;
}

int
share_reader_done(const struct share_reader *r)
{
	return (r->sr_state == ST_DONE);
}

size_t
share_header(uint8_t *out, int kind, uint32_t mode, size_t pathlen,
    uint64_t size)
{
	out[0] = kind;
	out[1] = 0;
	put_be(out + 2, mode, 2);
	put_be(out + 4, pathlen, 4);
	put_be(out + 8, size, 8);
	return (SHARE_HDR_LEN);
}

/*
 * Copy into dst (want bytes in all, sr_have of them there already) what
 * the input has; 1 once dst is complete.
 */
static int
share_take(struct share_reader *r, void *dst, size_t want, const uint8_t **p,
    size_t *len)
{
	size_t	 n = want - r->sr_have;

	if (n > *len)
		n = *len;
	memcpy((uint8_t *)dst + r->sr_have, *p, n);
	r->sr_have += n;
	r->sr_total += n;
	*p += n;
	*len -= n;
	if (r->sr_have < want)
		return (0);
	r->sr_have = 0;
	return (1);
}

int
share_path_ok(const char *p, size_t len)
{
	const char	*c, *e, *end = p + len;
	size_t		 n;
	int		 depth = 0;

	if (len == 0 || len > SHARE_PATH_MAX || memchr(p, '\0', len) != NULL)
		return (0);
	for (c = p; c <= end; c = e + 1) {
		if ((e = memchr(c, '/', end - c)) == NULL)
			e = end;
		n = e - c;
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.') ||
		    ++depth > SHARE_DEPTH_MAX)
			return (0);
	}
	return (1);
}

int
share_link_ok(const char *path, const char *target)
{
	const char	*c, *e;
	size_t		 n;
	int		 depth = 0, up = 0, named = 0;

	for (c = path; (c = strchr(c, '/')) != NULL; c++)
		depth++;		/* the link's directory */
	if (target[0] == '\0' || target[0] == '/' ||
	    strlen(target) > SHARE_PATH_MAX)
		return (0);
	for (c = target; *c != '\0'; c = *e == '\0' ? e : e + 1) {
		e = strchrnul(c, '/');
		n = e - c;
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (named || ++up > depth)
				return (0);
		} else
			named = 1;
	}
	return (1);
}

int
share_guest_path_ok(const char *p)
{
	size_t	 len = strlen(p), i;

	if (len < 2 || len > 128 || p[0] != '/')
		return (0);
	for (i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') ||
		    strchr("._/@+=-", p[i]) != NULL))
			return (0);
	return (share_path_ok(p + 1, len - 1));
}

/* A whole header: check it against the kind and the bounds. */
static int
share_hdr(struct share_reader *r)
{
	struct share_entry	*e = &r->sr_e;
	const uint8_t		*h = r->sr_buf;
	uint64_t		 pathlen = get_be(h + 4, 4);

	e->se_kind = h[0];
	e->se_mode = get_be(h + 2, 2);
	e->se_size = get_be(h + 8, 8);
	e->se_pathlen = 0;
	e->se_path[0] = e->se_target[0] = '\0';
	if (e->se_kind < SHARE_DIR || e->se_kind > SHARE_END || h[1] != 0)
		return (share_fail(r, "entry %llu: bad kind",
		    (unsigned long long)r->sr_entries));
	if (e->se_kind == SHARE_END) {
		if (e->se_mode != 0 || pathlen != 0 ||
		    e->se_size != r->sr_entries)
			return (share_fail(r, "bad end record"));
		r->sr_state = ST_DONE;
		return (SHARE_EV_END);
	}
	if (e->se_mode > 0777 || (e->se_kind == SHARE_LINK && e->se_mode != 0))
		return (share_fail(r, "entry %llu: bad mode",
		    (unsigned long long)r->sr_entries));
	if (pathlen == 0 || pathlen > SHARE_PATH_MAX)
		return (share_fail(r, "entry %llu: path length %llu",
		    (unsigned long long)r->sr_entries,
		    (unsigned long long)pathlen));
	if (r->sr_entries >= SHARE_FILES_MAX)
		return (share_fail(r, "more than %d entries",
		    SHARE_FILES_MAX));
	if ((e->se_kind == SHARE_DIR && e->se_size != 0) ||
	    (e->se_kind == SHARE_LINK && (e->se_size == 0 ||
	    e->se_size > SHARE_PATH_MAX)))
		return (share_fail(r, "entry %llu: bad size",
		    (unsigned long long)r->sr_entries));
	if (e->se_size > SHARE_BYTES_MAX - r->sr_bytes)
		return (share_fail(r, "more than %llu bytes",
		    (unsigned long long)SHARE_BYTES_MAX));
	r->sr_entries++;
	r->sr_bytes += e->se_size;
	e->se_pathlen = pathlen;
	r->sr_state = ST_PATH;
	return (SHARE_EV_MORE);
}

static int
share_path_done(struct share_reader *r)
{
	struct share_entry	*e = &r->sr_e;

	e->se_path[e->se_pathlen] = '\0';
	if (!share_path_ok(e->se_path, e->se_pathlen))
		return (share_fail(r, "entry %llu: bad path",
		    (unsigned long long)r->sr_entries - 1));
	switch (e->se_kind) {
	case SHARE_DIR:
		r->sr_state = ST_HDR;
		return (SHARE_EV_DIR);
	case SHARE_FILE:
		r->sr_left = e->se_size;
		r->sr_state = ST_DATA;
		return (SHARE_EV_FILE);
	}
	r->sr_state = ST_TARGET;
	return (SHARE_EV_MORE);
}

int
share_read(struct share_reader *r, const uint8_t **p, size_t *len,
    const uint8_t **data, size_t *dlen)
{
	struct share_entry	*e = &r->sr_e;
	size_t			 n;
	int			 ev;

	for (;;) {
		switch (r->sr_state) {
		case ST_ERROR:
			return (SHARE_EV_ERROR);
		case ST_DONE:
			if (*len > 0)
				return (share_fail(r, "bytes after the end"));
			return (SHARE_EV_MORE);
		case ST_DATA:
			if (r->sr_left == 0) {
				r->sr_state = ST_HDR;
				return (SHARE_EV_FILE_END);
			}
			if (*len == 0)
				return (SHARE_EV_MORE);
			n = *len < r->sr_left ? *len : r->sr_left;
			*data = *p;
			*dlen = n;
			*p += n;
			*len -= n;
			r->sr_left -= n;
			r->sr_total += n;
			return (SHARE_EV_DATA);
		}
		if (*len == 0)
			return (SHARE_EV_MORE);
		switch (r->sr_state) {
		case ST_MAGIC:
			if (!share_take(r, r->sr_buf, SHARE_MAGIC_LEN, p, len))
				break;
			if (memcmp(r->sr_buf, SHARE_MAGIC,
			    SHARE_MAGIC_LEN) != 0)
				return (share_fail(r, "not a share stream"));
			r->sr_state = ST_HDR;
			break;
		case ST_HDR:
			if (share_take(r, r->sr_buf, SHARE_HDR_LEN, p, len) &&
			    (ev = share_hdr(r)) != SHARE_EV_MORE)
				return (ev);
			break;
		case ST_PATH:
			if (share_take(r, e->se_path, e->se_pathlen, p, len) &&
			    (ev = share_path_done(r)) != SHARE_EV_MORE)
				return (ev);
			break;
		case ST_TARGET:
			if (!share_take(r, e->se_target, e->se_size, p, len))
				break;
			e->se_target[e->se_size] = '\0';
			if (memchr(e->se_target, '\0', e->se_size) != NULL ||
			    !share_link_ok(e->se_path, e->se_target))
				return (share_fail(r, "%s: a link that points "
				    "outside the tree", e->se_path));
			r->sr_state = ST_HDR;
			return (SHARE_EV_LINK);
		}
	}
}

/* ------------------------------------------------------------------ */
/* the writer */

static int
share_out(struct share_writer *w, const void *p, size_t n)
{
	if (n == 0)
		return (0);
	if (w->sw_out(w->sw_arg, p, n) == -1)
		return (-1);
	w->sw_total += n;
	return (0);
}

int
share_write_start(struct share_writer *w,
    int (*out)(void *, const void *, size_t), void *arg)
{
	memset(w, 0, sizeof(*w));
	w->sw_out = out;
	w->sw_arg = arg;
	return (share_out(w, SHARE_MAGIC, SHARE_MAGIC_LEN));
}

/* size: a file's bytes (then share_write_data); target: a link's */
int
share_write_entry(struct share_writer *w, int kind, uint32_t mode,
    const char *path, uint64_t size, const char *target)
{
	uint8_t	 h[SHARE_HDR_LEN];
	size_t	 pl = strlen(path);

	if (kind == SHARE_LINK)
		size = strlen(target);
	if (w->sw_left != 0 || !share_path_ok(path, pl) ||
	    (kind != SHARE_DIR && kind != SHARE_FILE && kind != SHARE_LINK) ||
	    (kind == SHARE_DIR && size != 0) ||
	    (kind == SHARE_LINK && !share_link_ok(path, target))) {
		errno = EINVAL;
		return (-1);
	}
	if (w->sw_entries >= SHARE_FILES_MAX ||
	    size > SHARE_BYTES_MAX - w->sw_bytes) {
		errno = E2BIG;
		return (-1);
	}
	share_header(h, kind, kind == SHARE_LINK ? 0 : mode & 0777, pl, size);
	if (share_out(w, h, sizeof(h)) == -1 || share_out(w, path, pl) == -1 ||
	    (kind == SHARE_LINK && share_out(w, target, size) == -1))
		return (-1);
	w->sw_entries++;
	w->sw_bytes += size;
	if (kind == SHARE_FILE)
		w->sw_left = size;
	return (0);
}

int
share_write_data(struct share_writer *w, const void *p, size_t n)
{
	if (n > w->sw_left) {
		errno = EINVAL;
		return (-1);
	}
	w->sw_left -= n;
	return (share_out(w, p, n));
}

int
share_write_end(struct share_writer *w)
{
	uint8_t	 h[SHARE_HDR_LEN];

	if (w->sw_left != 0) {
		errno = EINVAL;
		return (-1);
	}
	share_header(h, SHARE_END, 0, 0, w->sw_entries);
	return (share_out(w, h, sizeof(h)));
}
