/*
 * vis.c: a guest's console bytes made safe for a terminal.  What a
 * guest writes on its console could, printed as it is, move the
 * cursor, retitle the window, redefine keys, or have the terminal
 * answer a query as if the user had typed it.  So every control
 * character but newline and tab shows as \xNN (ESC as \x1b), and so
 * does every byte that is not part of well-formed UTF-8; the C1
 * controls (U+0080 to U+009F), which some terminals obey, count as
 * control characters.  Printable ASCII and other UTF-8 pass, and so
 * does a carriage return right before a newline (a serial console
 * ends its lines so); one elsewhere could write over what was shown.
 */
#include <stdio.h>

#include "mvmctl.h"

static size_t	 vis_seqlen(uint8_t);
static int	 vis_prefix_ok(const uint8_t *, size_t);
static void	 vis_byte(struct vis *, uint8_t);

/* The length of a UTF-8 sequence that starts with c; 0 if none does. */
static size_t
vis_seqlen(uint8_t c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return (2);
	if (c >= 0xe0 && c <= 0xef)
		return (3);
	if (c >= 0xf0 && c <= 0xf4)
		return (4);
	return (0);
}

/*
 * Can p[0..n) begin a well-formed sequence?  The second byte's range
 * depends on the first (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF; and here, no C1 controls).
 */
static int
vis_prefix_ok(const uint8_t *p, size_t n)
{
	uint8_t	 lo = 0x80, hi = 0xbf;
	size_t	 i;

	if (p[0] == 0xc2 || p[0] == 0xe0)
		lo = 0xa0;		/* C1 controls; overlong */
	else if (p[0] == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;		/* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f;		/* above U+10FFFF */
	if (n > 1 && (p[1] < lo || p[1] > hi))
		return (0);
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	return (1);
}

static void
vis_byte(struct vis *v, uint8_t c)
{
	size_t	 i;

	if (v->v_cr) {
		v->v_cr = 0;
		if (c == '\n') {
			(void)fputs("\r\n", stdout);
			return;
		}
		(void)fputs("\\x0d", stdout);
	}
	if (v->v_len > 0) {
		v->v_seq[v->v_len++] = c;
		if (vis_prefix_ok(v->v_seq, v->v_len)) {
			if (v->v_len == vis_seqlen(v->v_seq[0])) {
				(void)fwrite(v->v_seq, 1, v->v_len, stdout);
				v->v_len = 0;
			}
			return;
		}
		/*
		 * Not UTF-8 after all: what came before c (a lead byte and
		 * continuation bytes, none of which starts a sequence)
		 * shows escaped, and c is taken afresh.
		 */
		for (i = 0; i + 1 < v->v_len; i++)
			printf("\\x%02x", v->v_seq[i]);
		v->v_len = 0;
	}
	if (c == '\r')
		v->v_cr = 1;		/* shown with what follows */
	else if (c == '\n' || c == '\t' || (c >= ' ' && c < 0x7f))
		putchar(c);
	else if (vis_seqlen(c) > 0)
		v->v_seq[v->v_len++] = c;
	else
		printf("\\x%02x", c);
}

/* Bytes as they come; a sequence cut between two calls is kept. */
void
vis_put(struct vis *v, const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		vis_byte(v, p[i]);
}

/* The end: a sequence left unfinished shows escaped. */
void
vis_flush(struct vis *v)
{
	size_t	 i;

	for (i = 0; i < v->v_len; i++)
		printf("\\x%02x", v->v_seq[i]);
	v->v_len = 0;
	if (v->v_cr)
		(void)fputs("\\x0d", stdout);
	v->v_cr = 0;
}
