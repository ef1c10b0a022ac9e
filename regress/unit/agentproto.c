/*
 * Agent protocol framing: frames split at every byte boundary, several
 * frames in one feed, short and oversize length fields, a frame of
 * exactly the maximum size, header encoding and type names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentproto.h"
#include "tap.h"

static size_t	 frame(uint8_t *, uint32_t, uint32_t, const void *, size_t);
static size_t	 feed(struct ap_rbuf *, const uint8_t *, size_t);
static int	 same(const struct ap_frame *, uint32_t, uint32_t,
		    const void *, size_t);
static void	 test_split(void);
static void	 test_many(void);
static void	 test_short_len(void);
static void	 test_long_len(void);
static void	 test_max(void);
static void	 test_header(void);

/* Encode one frame into out; returns its size. */
static size_t
frame(uint8_t *out, uint32_t type, uint32_t id, const void *p, size_t len)
{
	if (ap_header(out, type, id, len) == -1)
		abort();
	if (len > 0)
		memcpy(out + AP_HDR_LEN, p, len);
	return (AP_HDR_LEN + len);
}

/* Copy up to n bytes into the buffer; returns how many fit. */
static size_t
feed(struct ap_rbuf *rb, const uint8_t *p, size_t n)
{
	uint8_t	*dst;
	size_t	 avail;

	dst = ap_rbuf_space(rb, &avail);
	if (n > avail)
		n = avail;
	memcpy(dst, p, n);
	ap_rbuf_fill(rb, n);
	return (n);
}

static int
same(const struct ap_frame *f, uint32_t type, uint32_t id, const void *p,
    size_t len)
{
	return (f->f_type == type && f->f_id == id && f->f_len == len &&
	    (len == 0 || memcmp(f->f_data, p, len) == 0));
}

/* Two frames back to back, cut into two feeds at every offset. */
static void
test_split(void)
{
	static const char	 a[] = "{\"proto_min\":1}";
	static const uint8_t	 b[5] = { 0, 1, 0xff, 0, 2 };
	struct ap_rbuf		 rb;
	struct ap_frame		 f;
	uint8_t			 wire[128];
	size_t			 n, cut;
	int			 bad = 0, got;

	n = frame(wire, AP_HELLO, 7, a, sizeof(a) - 1);
	n += frame(wire + n, AP_STDIN, 0xfffffffe, b, sizeof(b));
	for (cut = 0; cut <= n; cut++) {
		if (ap_rbuf_init(&rb) == -1)
			abort();
		got = 0;
		feed(&rb, wire, cut);
		while (ap_take(&rb, &f) == 1) {
			if (got == 0 &&
			    !same(&f, AP_HELLO, 7, a, sizeof(a) - 1))
				bad++;
			if (got == 1 && !same(&f, AP_STDIN, 0xfffffffe, b, 5))
				bad++;
			got++;
		}
		if (got != (cut >= AP_HDR_LEN + sizeof(a) - 1) + (cut == n))
			bad++;
		feed(&rb, wire + cut, n - cut);
		while (ap_take(&rb, &f) == 1) {
			if (got == 0 &&
			    !same(&f, AP_HELLO, 7, a, sizeof(a) - 1))
				bad++;
			if (got == 1 && !same(&f, AP_STDIN, 0xfffffffe, b, 5))
				bad++;
			got++;
		}
		if (got != 2 || ap_take(&rb, &f) != 0)
			bad++;
		ap_rbuf_free(&rb);
	}
	TAP_OK(bad == 0, "two frames split at each of %zu offsets", n + 1);
}

/* Byte by byte, then many frames in one feed, including empty ones. */
static void
test_many(void)
{
	struct ap_rbuf	 rb;
	struct ap_frame	 f;
	uint8_t		 wire[64 * 32], pay[32];
	size_t		 n = 0, i;
	int		 got = 0, bad = 0, r;

	for (i = 0; i < 64; i++) {
		memset(pay, (int)i, sizeof(pay));
		n += frame(wire + n, AP_STDOUT, i, pay, i % 20);
	}
	if (ap_rbuf_init(&rb) == -1)
		abort();
	for (i = 0; i < n; i++) {
		feed(&rb, wire + i, 1);
		while ((r = ap_take(&rb, &f)) == 1) {
			memset(pay, got, sizeof(pay));
			if (!same(&f, AP_STDOUT, got, pay, got % 20))
				bad++;
			got++;
		}
		if (r == -1)
			bad++;
	}
	TAP_OK(got == 64 && bad == 0, "64 frames fed byte by byte");

	got = bad = 0;
	TAP_OK(feed(&rb, wire, n) == n, "64 frames fit one feed");
	while (ap_take(&rb, &f) == 1) {
		memset(pay, got, sizeof(pay));
		if (!same(&f, AP_STDOUT, got, pay, got % 20))
			bad++;
		got++;
	}
	TAP_OK(got == 64 && bad == 0, "64 frames taken from one feed");
	TAP_OK(ap_take(&rb, &f) == 0, "then the buffer wants more");
	ap_rbuf_free(&rb);
}

/* A length below 8 breaks the buffer for good. */
static void
test_short_len(void)
{
	struct ap_rbuf	 rb;
	struct ap_frame	 f;
	uint8_t		 wire[64];
	uint32_t	 len;
	int		 bad = 0;
	size_t		 n;

	for (len = 0; len < 8; len++) {
		if (ap_rbuf_init(&rb) == -1)
			abort();
		memset(wire, 0, sizeof(wire));
		wire[3] = len;
		feed(&rb, wire, 3);
		if (ap_take(&rb, &f) != 0)
			bad++;
		feed(&rb, wire + 3, 1);
		if (ap_take(&rb, &f) != -1 || !rb.r_broken)
			bad++;
		n = frame(wire, AP_PING, 1, "{}", 2);
		feed(&rb, wire, n);
		if (ap_take(&rb, &f) != -1)
			bad++;
		ap_rbuf_free(&rb);
	}
	TAP_OK(bad == 0, "len 0..7: error once the length is read, and after");

	/* len 8 is the smallest valid frame: an empty payload */
	if (ap_rbuf_init(&rb) == -1)
		abort();
	n = frame(wire, AP_FILE_END, 3, NULL, 0);
	feed(&rb, wire, n);
	TAP_OK(ap_take(&rb, &f) == 1 && same(&f, AP_FILE_END, 3, NULL, 0),
	    "len 8: an empty frame");
	ap_rbuf_free(&rb);
}

/* A length beyond the maximum, detected before the payload arrives. */
static void
test_long_len(void)
{
	static const uint8_t	 hdrs[][4] = {
		{ 0x00, 0x03, 0xff, 0xfd },	/* AP_FRAME_MAX - 3 */
		{ 0x00, 0x04, 0x00, 0x00 },	/* AP_FRAME_MAX */
		{ 0x00, 0x10, 0x00, 0x00 },	/* 1 MiB */
		{ 0xff, 0xff, 0xff, 0xff },
	};
	struct ap_rbuf		 rb;
	struct ap_frame		 f;
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		if (ap_rbuf_init(&rb) == -1)
			abort();
		feed(&rb, hdrs[i], 4);
		/* twice: the error must stick */
		/* NOLINTNEXTLINE(misc-redundant-expression): not pure */
		if (ap_take(&rb, &f) != -1 || ap_take(&rb, &f) != -1)
			bad++;
		ap_rbuf_free(&rb);
	}
	TAP_OK(bad == 0, "len above AP_FRAME_MAX - 4: framing error");
}

/* A frame of exactly AP_FRAME_MAX bytes, after a small one, in pieces. */
static void
test_max(void)
{
	struct ap_rbuf	 rb;
	struct ap_frame	 f;
	uint8_t		*wire, *pay;
	size_t		 n, off, step;
	int		 r, got = 0, bad = 0;

	if ((wire = malloc(2 * AP_FRAME_MAX)) == NULL ||
	    (pay = malloc(AP_PAYLOAD_MAX)) == NULL)
		abort();
	for (n = 0; n < AP_PAYLOAD_MAX; n++)
		pay[n] = n * 7 + 3;
	n = frame(wire, AP_PING, 1, "{}", 2);
	n += frame(wire + n, AP_FILE_DATA, 2, pay, AP_PAYLOAD_MAX);
	TAP_OK(n == 14 + AP_FRAME_MAX, "maximum frame is AP_FRAME_MAX bytes");
	if (ap_rbuf_init(&rb) == -1)
		abort();
	for (off = 0, step = 1000; off < n; off += step) {
		if (step > n - off)
			step = n - off;
		if (feed(&rb, wire + off, step) != step)
			bad++;
		while ((r = ap_take(&rb, &f)) == 1) {
			if (got == 0 && !same(&f, AP_PING, 1, "{}", 2))
				bad++;
			if (got == 1 && !same(&f, AP_FILE_DATA, 2, pay,
			    AP_PAYLOAD_MAX))
				bad++;
			got++;
		}
		if (r == -1)
			bad++;
	}
	TAP_OK(got == 2 && bad == 0, "maximum frame taken whole");

	/* the same maximum frame fills an empty buffer exactly */
	if (feed(&rb, wire + 14, AP_FRAME_MAX) != AP_FRAME_MAX)
		bad++;
	TAP_OK(bad == 0 && ap_take(&rb, &f) == 1 &&
	    same(&f, AP_FILE_DATA, 2, pay, AP_PAYLOAD_MAX),
	    "maximum frame fills the buffer exactly");
	ap_rbuf_free(&rb);
	free(wire);
	free(pay);
}

static void
test_header(void)
{
	static const uint8_t	 want[12] = { 0, 0, 0, 10, 0, 0, 0, 107,
				    0x12, 0x34, 0x56, 0x78 };
	uint8_t			 h[AP_HDR_LEN];

	TAP_OK(ap_header(h, AP_ERROR, 0x12345678, 2) == 0 &&
	    memcmp(h, want, sizeof(want)) == 0, "header is big-endian");
	TAP_OK(ap_header(h, AP_STDOUT, 1, AP_PAYLOAD_MAX) == 0 &&
	    h[0] == 0 && h[1] == 0x03 && h[2] == 0xff && h[3] == 0xfc,
	    "header for the largest payload");
	TAP_OK(ap_header(h, AP_STDOUT, 1, AP_PAYLOAD_MAX + 1) == -1,
	    "header refuses a payload one byte too large");
	TAP_OK(strcmp(ap_type_name(AP_FILE_GET), "FILE_GET") == 0 &&
	    strcmp(ap_type_name(AP_ERROR), "ERROR") == 0 &&
	    strcmp(ap_type_name(55), "UNKNOWN") == 0, "type names");
}

int
main(void)
{
	test_split();
	test_many();
	test_short_len();
	test_long_len();
	test_max();
	test_header();
	TAP_DONE();
}
