/*
 * Host-share streams (libshared/share.c): a tree read back whole and cut
 * at every byte, and each thing the reader refuses: bad magic, kinds,
 * modes and sizes, paths that are absolute, climb, hold "." or empty
 * components or a NUL, are too long or too deep, links that point out
 * of the tree, too many entries or bytes, a wrong or missing end, bytes
 * after the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "share.h"
#include "tap.h"

#define BUF_MAX		(512 * 1024)

struct buf {
	uint8_t		 b[BUF_MAX];
	size_t		 n;
	uint64_t	 entries;
};

static void	 put(struct buf *, const void *, size_t);
static void	 start(struct buf *);
static void	 ent(struct buf *, int, uint32_t, const char *, const void *,
		    size_t);
static void	 end(struct buf *);
static int	 parse(const uint8_t *, size_t, size_t, char *, size_t,
		    char *, size_t);
static void	 refused(const char *, const struct buf *, const char *);
static void	 test_whole(void);
static void	 test_refusals(void);
static void	 test_bounds(void);
static void	 test_links(void);
static void	 test_paths(void);

static struct buf	 B;

static void
put(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;		/* p may be NULL then */
	if (p == NULL || n > sizeof(b->b) - b->n)
		abort();
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
start(struct buf *b)
{
	b->n = 0;
	b->entries = 0;
	put(b, SHARE_MAGIC, SHARE_MAGIC_LEN);
}

/* an entry; for a link, body is its target */
static void
ent(struct buf *b, int kind, uint32_t mode, const char *path, const void *body,
    size_t len)
{
	uint8_t	 h[SHARE_HDR_LEN];

	share_header(h, kind, mode, strlen(path), len);
	put(b, h, sizeof(h));
	put(b, path, strlen(path));
	put(b, body, len);
	b->entries++;
}

static void
end(struct buf *b)
{
	uint8_t	 h[SHARE_HDR_LEN];

	share_header(h, SHARE_END, 0, 0, b->entries);
	put(b, h, sizeof(h));
}

/*
 * Read in pieces of chunk bytes (0: all at once).  What was found goes
 * into log ("D:path F:path(size) E L:path>target Z" ...), the file bytes
 * into data.  Returns 1 if the stream ended cleanly, 0 if it is short,
 * -1 on a refusal (why in log).
 */
static int
parse(const uint8_t *p, size_t len, size_t chunk, char *log, size_t loglen,
    char *data, size_t datalen)
{
	struct share_reader	 r;
	const uint8_t		*q, *d;
	size_t			 n, dn, dl = 0;
	char			 s[SHARE_PATH_MAX * 2 + 32];
	int			 ev;

	share_reader_init(&r);
	log[0] = '\0';
	while (len > 0) {
		n = chunk == 0 || chunk > len ? len : chunk;
		q = p;
		p += n;
		len -= n;
		while ((ev = share_read(&r, &q, &n, &d, &dn)) != SHARE_EV_MORE) {
			switch (ev) {
			case SHARE_EV_ERROR:
				(void)strlcpy(log, r.sr_why, loglen);
				return (-1);
			case SHARE_EV_DIR:
				(void)snprintf(s, sizeof(s), "D:%s:%o ",
				    r.sr_e.se_path, r.sr_e.se_mode);
				break;
			case SHARE_EV_FILE:
				(void)snprintf(s, sizeof(s), "F:%s:%o(%llu) ",
				    r.sr_e.se_path, r.sr_e.se_mode,
				    (unsigned long long)r.sr_e.se_size);
				break;
			case SHARE_EV_DATA:
				if (dn > datalen - 1 - dl)
					abort();
				memcpy(data + dl, d, dn);
				dl += dn;
				s[0] = '\0';
				break;
			case SHARE_EV_FILE_END:
				(void)strlcpy(s, "E ", sizeof(s));
				break;
			case SHARE_EV_LINK:
				(void)snprintf(s, sizeof(s), "L:%s>%s ",
				    r.sr_e.se_path, r.sr_e.se_target);
				break;
			case SHARE_EV_END:
				(void)strlcpy(s, "Z", sizeof(s));
				break;
			}
			(void)strlcat(log, s, loglen);
		}
	}
	data[dl] = '\0';
	return (share_reader_done(&r) ? 1 : 0);
}

static void
refused(const char *what, const struct buf *b, const char *why)
{
	char	 log[4096], data[64];
	int	 rc;

	rc = parse(b->b, b->n, 0, log, sizeof(log), data, sizeof(data));
	TAP_OK(rc == -1 && strstr(log, why) != NULL, "refused: %s (%s)",
	    what, log);
}

static void
test_whole(void)
{
	static const char	 want[] = "D:a:755 F:a/f:644(5) E F:a/empty:600(0) "
				    "E L:a/l>f D:a/b:700 L:a/b/up>../f F:top:640(3) "
				    "E Z";
	char			 log[4096], data[64];
	size_t			 c;
	int			 rc, bad = 0;

	start(&B);
	ent(&B, SHARE_DIR, 0755, "a", NULL, 0);
	ent(&B, SHARE_FILE, 0644, "a/f", "hello", 5);
	ent(&B, SHARE_FILE, 0600, "a/empty", NULL, 0);
	ent(&B, SHARE_LINK, 0, "a/l", "f", 1);
	ent(&B, SHARE_DIR, 0700, "a/b", NULL, 0);
	ent(&B, SHARE_LINK, 0, "a/b/up", "../f", 4);
	ent(&B, SHARE_FILE, 0640, "top", "xyz", 3);
	end(&B);
	rc = parse(B.b, B.n, 0, log, sizeof(log), data, sizeof(data));
	TAP_OK(rc == 1 && strcmp(log, want) == 0, "a tree read whole: %s", log);
	TAP_OK(strcmp(data, "helloxyz") == 0, "file bytes: %s", data);
	for (c = 1; c < B.n; c++) {
		rc = parse(B.b, B.n, c, log, sizeof(log), data, sizeof(data));
		if (rc != 1 || strcmp(log, want) != 0 ||
		    strcmp(data, "helloxyz") != 0)
			bad++;
	}
	TAP_OK(bad == 0, "the same in pieces of 1..%zu bytes", B.n - 1);
	rc = parse(B.b, B.n - 1, 0, log, sizeof(log), data, sizeof(data));
	TAP_OK(rc == 0, "a stream cut short is not done");
	put(&B, "x", 1);
	refused("a byte after the end", &B, "after the end");
	start(&B);
	end(&B);
	rc = parse(B.b, B.n, 0, log, sizeof(log), data, sizeof(data));
	TAP_OK(rc == 1 && strcmp(log, "Z") == 0, "an empty tree");
}

static void
test_refusals(void)
{
	uint8_t	 h[SHARE_HDR_LEN];
	char	 p[SHARE_PATH_MAX + 2];
	int	 i;

	start(&B);
	B.b[3] = 'X';
	refused("bad magic", &B, "not a share stream");
	start(&B); ent(&B, SHARE_FILE, 0644, "/etc/passwd", "x", 1); end(&B);
	refused("an absolute path", &B, "bad path");
	start(&B); ent(&B, SHARE_FILE, 0644, "../x", "x", 1); end(&B);
	refused("a path starting with ..", &B, "bad path");
	start(&B); ent(&B, SHARE_DIR, 0755, "a", NULL, 0);
	ent(&B, SHARE_FILE, 0644, "a/../../x", "x", 1); end(&B);
	refused("a path with .. inside", &B, "bad path");
	start(&B); ent(&B, SHARE_FILE, 0644, "a/./x", "x", 1); end(&B);
	refused("a . component", &B, "bad path");
	start(&B); ent(&B, SHARE_FILE, 0644, "a//x", "x", 1); end(&B);
	refused("an empty component", &B, "bad path");
	start(&B); ent(&B, SHARE_DIR, 0755, "a/", NULL, 0); end(&B);
	refused("a trailing slash", &B, "bad path");
	start(&B); ent(&B, SHARE_FILE, 0644, "a", "x", 1); end(&B);
	B.b[SHARE_MAGIC_LEN + 7] = 3;		/* pathlen 3: "a" + 2 bytes */
	B.b[SHARE_MAGIC_LEN + SHARE_HDR_LEN + 1] = '\0';
	refused("a NUL in a path", &B, "bad path");
	memset(p, 'a', SHARE_PATH_MAX + 1);
	p[SHARE_PATH_MAX + 1] = '\0';
	start(&B); ent(&B, SHARE_FILE, 0644, p, "x", 1); end(&B);
	refused("a path over 4096 bytes", &B, "path length");
	for (i = 0; i < SHARE_DEPTH_MAX + 1; i++)
		memcpy(p + 2 * i, "d/", 2);
	p[2 * i - 1] = '\0';
	start(&B); ent(&B, SHARE_DIR, 0755, p, NULL, 0); end(&B);
	refused("65 components", &B, "bad path");
	start(&B); ent(&B, SHARE_LINK, 0, "l", "/etc/passwd", 11); end(&B);
	refused("an absolute link", &B, "outside the tree");
	start(&B); ent(&B, SHARE_LINK, 0, "l", "..", 2); end(&B);
	refused("a link to ..", &B, "outside the tree");
	start(&B); ent(&B, SHARE_DIR, 0755, "a", NULL, 0);
	ent(&B, SHARE_LINK, 0, "a/l", "../../x", 7); end(&B);
	refused("a link climbing two levels from depth 1", &B,
	    "outside the tree");
	start(&B); ent(&B, SHARE_LINK, 0, "l", "b/../c", 6); end(&B);
	refused("a link with .. after a name", &B, "outside the tree");
	start(&B); ent(&B, SHARE_LINK, 0, "l", "a\0b", 3); end(&B);
	refused("a NUL in a link target", &B, "outside the tree");
	start(&B); ent(&B, SHARE_LINK, 0777, "l", "x", 1); end(&B);
	refused("a link with a mode", &B, "bad mode");
	start(&B); ent(&B, SHARE_FILE, 04755, "f", "x", 1); end(&B);
	refused("a setuid file", &B, "bad mode");
	start(&B); ent(&B, SHARE_DIR, 0755, "d", NULL, 0); end(&B);
	B.b[SHARE_MAGIC_LEN + 15] = 1;		/* size 1 */
	refused("a directory with a size", &B, "bad size");
	start(&B);
	share_header(h, 9, 0, 1, 0);
	put(&B, h, sizeof(h)); put(&B, "x", 1); end(&B);
	refused("an unknown kind", &B, "bad kind");
	start(&B);
	share_header(h, SHARE_FILE, 0644, 1, 0);
	h[1] = 1;
	put(&B, h, sizeof(h)); put(&B, "x", 1); end(&B);
	refused("a reserved byte set", &B, "bad kind");
	start(&B); ent(&B, SHARE_FILE, 0644, "f", "x", 1);
	B.entries = 7; end(&B);
	refused("an end that miscounts", &B, "bad end record");
	start(&B);
	share_header(h, SHARE_FILE, 0644, 0, 0);
	put(&B, h, sizeof(h)); end(&B);
	refused("an empty path", &B, "path length");
}

static void
test_bounds(void)
{
	uint8_t	 h[SHARE_HDR_LEN];
	char	 name[16], log[256], data[8];
	int	 i, rc;

	start(&B);
	for (i = 0; i < SHARE_FILES_MAX; i++) {
		(void)snprintf(name, sizeof(name), "d%d", i);
		ent(&B, SHARE_DIR, 0755, name, NULL, 0);
	}
	end(&B);
	rc = parse(B.b, B.n, 0, log, sizeof(log), data, sizeof(data));
	TAP_OK(rc == 1, "%d entries: accepted", SHARE_FILES_MAX);
	B.n -= SHARE_HDR_LEN;
	ent(&B, SHARE_DIR, 0755, "one-more", NULL, 0);
	end(&B);
	refused("one entry more", &B, "more than 10000 entries");
	start(&B);
	share_header(h, SHARE_FILE, 0644, 1, SHARE_BYTES_MAX + 1);
	put(&B, h, sizeof(h));
	refused("a file over the byte bound (by its header)", &B,
	    "more than 268435456 bytes");
	start(&B);
	share_header(h, SHARE_FILE, 0644, 1, SHARE_BYTES_MAX - 1);
	put(&B, h, sizeof(h)); put(&B, "a", 1);
	rc = parse(B.b, B.n, 0, log, sizeof(log), data, sizeof(data));
	/* its bytes are not there: not refused, only not done */
	TAP_OK(rc == 0, "a file just under the bound is taken");
	TAP_OK(SHARE_ARCHIVE_MAX > SHARE_BYTES_MAX + SHARE_FILES_MAX *
	    (uint64_t)SHARE_PATH_MAX, "SHARE_ARCHIVE_MAX covers the worst "
	    "case");
}

static void
test_links(void)
{
	static const struct {
		const char	*path, *target;
		int		 ok;
	} t[] = {
		{ "l", "f", 1 },
		{ "l", "./f", 1 },
		{ "l", "d/e/f", 1 },
		{ "l", "d//f/", 1 },
		{ "a/l", "../f", 1 },
		{ "a/b/l", "../../f", 1 },
		{ "a/b/l", "./../.././f", 1 },
		{ "l", "../f", 0 },
		{ "a/l", "../../f", 0 },
		{ "a/l", "d/../f", 0 },
		{ "a/l", "/f", 0 },
		{ "l", "", 0 },
		{ "a/b/l", "../x/../../f", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		TAP_OK(share_link_ok(t[i].path, t[i].target) == t[i].ok,
		    "link %s -> \"%s\": %s", t[i].path, t[i].target,
		    t[i].ok ? "inside" : "refused");
}

static void
test_paths(void)
{
	static const struct {
		const char	*p;
		int		 ok;
	} t[] = {
		{ "a", 1 }, { "a/b.c/d", 1 }, { "..a/b..", 1 }, { ".a", 1 },
		{ "", 0 }, { "/a", 0 }, { "a/", 0 }, { "a//b", 0 },
		{ ".", 0 }, { "..", 0 }, { "a/./b", 0 }, { "a/..", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		TAP_OK(share_path_ok(t[i].p, strlen(t[i].p)) == t[i].ok,
		    "path \"%s\": %s", t[i].p, t[i].ok ? "ok" : "refused");
}

int
main(void)
{
	test_whole();
	test_refusals();
	test_bounds();
	test_links();
	test_paths();
	TAP_DONE();
}
