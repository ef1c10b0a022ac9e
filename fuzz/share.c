/*
 * share: a host-share stream (libshared/share.h), as mvm-vmm and mvmctl
 * read what a guest sends back and the supervisor and the agent read
 * what mvmctl sends in: share_read() over the bytes in pieces.
 *
 * input: chunk, then the stream
 *	chunk	bytes per piece, from chunk_sizes[]
 *
 * Properties: every entry reported has a well-formed path, a link's
 * target stays in the tree, a file's DATA adds up to its size, the
 * counts stay within the bounds; an error is final; a stream read to
 * its end was taken whole, and written again from what was reported
 * (share_header, path, body) it is the same bytes: the form is
 * canonical.
 */
#include <string.h>

#include "fuzz.h"
#include "share.h"

static const size_t	 chunk_sizes[] = {
	0 /* all */, 1, 2, 3, 7, 8, 15, 16, 17, 64, 4095, 65536
};

/* the stream written again from what the reader reported */
struct again {
	uint8_t		*a_buf;
	size_t		 a_len;
	size_t		 a_max;
	int		 a_over;
};

static void	 again_put(struct again *, const void *, size_t);
static void	 entry(const struct share_reader *, int, struct again *);

static void
again_put(struct again *a, const void *p, size_t n)
{
	if (a->a_over || n > a->a_max - a->a_len) {
		a->a_over = 1;
		return;
	}
	memcpy(a->a_buf + a->a_len, p, n);
	a->a_len += n;
}

static void
entry(const struct share_reader *r, int ev, struct again *a)
{
	const struct share_entry	*e = &r->sr_e;
	uint8_t				 h[SHARE_HDR_LEN];

	FUZZ_ASSERT(r->sr_entries <= SHARE_FILES_MAX);
	FUZZ_ASSERT(r->sr_bytes <= SHARE_BYTES_MAX);
	if (ev == SHARE_EV_END) {
		share_header(h, SHARE_END, 0, 0, r->sr_entries);
		again_put(a, h, sizeof(h));
		return;
	}
	FUZZ_ASSERT(strlen(e->se_path) == e->se_pathlen);
	FUZZ_ASSERT(share_path_ok(e->se_path, e->se_pathlen));
	FUZZ_ASSERT(e->se_mode <= 0777);
	share_header(h, e->se_kind, e->se_mode, e->se_pathlen, e->se_size);
	again_put(a, h, sizeof(h));
	again_put(a, e->se_path, e->se_pathlen);
	if (ev == SHARE_EV_LINK) {
		FUZZ_ASSERT(e->se_kind == SHARE_LINK && e->se_mode == 0);
		FUZZ_ASSERT(strlen(e->se_target) == e->se_size);
		FUZZ_ASSERT(share_link_ok(e->se_path, e->se_target));
		again_put(a, e->se_target, e->se_size);
	} else
		FUZZ_ASSERT(e->se_kind == (ev == SHARE_EV_DIR ? SHARE_DIR :
		    SHARE_FILE));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct share_reader	*r;
	struct again		 a;
	const uint8_t		*p, *d;
	size_t			 chunk, n, dn, off = 0;
	uint64_t		 fbytes = 0;
	int			 ev, ended = 0, infile = 0;

	if (size < 1)
		return (0);
	chunk = chunk_sizes[data[0] % (sizeof(chunk_sizes) /
	    sizeof(chunk_sizes[0]))];
	data++;
	size--;
	if ((r = malloc(sizeof(*r))) == NULL ||
	    (a.a_buf = malloc(size + 1)) == NULL)
		abort();
	a.a_len = 0;
	a.a_max = size;
	a.a_over = 0;
	again_put(&a, SHARE_MAGIC, SHARE_MAGIC_LEN);
	share_reader_init(r);
	ev = SHARE_EV_MORE;
	while (off < size && ev != SHARE_EV_ERROR) {
		n = chunk == 0 || chunk > size - off ? size - off : chunk;
		p = data + off;
		off += n;
		while ((ev = share_read(r, &p, &n, &d, &dn)) != SHARE_EV_MORE &&
		    ev != SHARE_EV_ERROR) {
			FUZZ_ASSERT(!ended);
			switch (ev) {
			case SHARE_EV_DATA:
				FUZZ_ASSERT(infile && dn > 0);
				fbytes += dn;
				FUZZ_ASSERT(fbytes <= r->sr_e.se_size);
				again_put(&a, d, dn);
				break;
			case SHARE_EV_FILE_END:
				FUZZ_ASSERT(infile && fbytes ==
				    r->sr_e.se_size);
				infile = 0;
				break;
			case SHARE_EV_FILE:
				FUZZ_ASSERT(!infile);
				infile = 1;
				fbytes = 0;
				entry(r, ev, &a);
				break;
			case SHARE_EV_END:
				ended = 1;
				entry(r, ev, &a);
				break;
			default:
				FUZZ_ASSERT(!infile);
				entry(r, ev, &a);
				break;
			}
		}
		if (ev == SHARE_EV_ERROR)
			FUZZ_ASSERT(r->sr_why[0] != '\0');
		else
			FUZZ_ASSERT(n == 0);
	}
	if (ev == SHARE_EV_ERROR) {
		n = 1;
		p = data;
		FUZZ_ASSERT(share_read(r, &p, &n, &d, &dn) == SHARE_EV_ERROR);
		FUZZ_ASSERT(!share_reader_done(r));
	} else if (share_reader_done(r)) {
		FUZZ_ASSERT(ended && r->sr_total == size);
		FUZZ_ASSERT(!a.a_over && a.a_len == size &&
		    memcmp(a.a_buf, data, size) == 0);
	}
	free(a.a_buf);
	free(r);
	return (0);
}
