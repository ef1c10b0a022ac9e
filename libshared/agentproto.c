/*
 * agentproto.c: framing for the agent protocol (agentproto.h).
 *
 * Used by mvm-agent (linked statically into the guest) and mvm-vmm, so
 * it depends on libc alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentproto.h"

#define AP_LEN_MIN	8			/* type + id */
#define AP_LEN_MAX	(AP_FRAME_MAX - 4)	/* the rest of a frame */

static uint32_t	 get32(const uint8_t *);
static void	 put32(uint8_t *, uint32_t);

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

int
ap_rbuf_init(struct ap_rbuf *rb)
{
	memset(rb, 0, sizeof(*rb));
	if ((rb->r_buf = malloc(AP_FRAME_MAX)) == NULL)
		return (-1);
	return (0);
}

void
ap_rbuf_free(struct ap_rbuf *rb)
{
	free(rb->r_buf);
	memset(rb, 0, sizeof(*rb));
}

/*
 * Where the next bytes go, and how many fit.  Moves unconsumed bytes to
 * the front first, so frames taken earlier become invalid.  A whole
 * frame always fits once the frames before it have been taken.
 */
uint8_t *
ap_rbuf_space(struct ap_rbuf *rb, size_t *avail)
{
	if (rb->r_off > 0) {
		memmove(rb->r_buf, rb->r_buf + rb->r_off,
		    rb->r_len - rb->r_off);
		rb->r_len -= rb->r_off;
		rb->r_off = 0;
	}
	*avail = AP_FRAME_MAX - rb->r_len;
	return (rb->r_buf + rb->r_len);
}

/* n bytes were written where ap_rbuf_space() pointed. */
void
ap_rbuf_fill(struct ap_rbuf *rb, size_t n)
{
	if (n > AP_FRAME_MAX - rb->r_len)
		abort();		/* the caller overran the space */
	rb->r_len += n;
}

int
ap_take(struct ap_rbuf *rb, struct ap_frame *f)
{
	size_t		 have;
	uint32_t	 len;

	if (rb->r_broken)
		return (-1);
	have = rb->r_len - rb->r_off;
	if (have < 4)
		return (0);
	len = get32(rb->r_buf + rb->r_off);
	if (len < AP_LEN_MIN || len > AP_LEN_MAX) {
		rb->r_broken = 1;
		return (-1);
	}
	if (have < 4 + (size_t)len)
		return (0);
	f->f_type = get32(rb->r_buf + rb->r_off + 4);
	f->f_id = get32(rb->r_buf + rb->r_off + 8);
	f->f_data = rb->r_buf + rb->r_off + AP_HDR_LEN;
	f->f_len = len - AP_LEN_MIN;
	rb->r_off += 4 + len;
	if (rb->r_off == rb->r_len)
		rb->r_off = rb->r_len = 0;	/* the data stays in place */
	return (1);
}

int
ap_header(uint8_t *out, uint32_t type, uint32_t id, size_t paylen)
{
	if (paylen > AP_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return (-1);
	}
	put32(out, AP_LEN_MIN + paylen);
	put32(out + 4, type);
	put32(out + 8, id);
	return (0);
}

const char *
ap_type_name(uint32_t type)
{
	switch (type) {
	case AP_HELLO:		return ("HELLO");
	case AP_EXEC:		return ("EXEC");
	case AP_STDIN:		return ("STDIN");
	case AP_SIGNAL:		return ("SIGNAL");
	case AP_FILE_PUT:	return ("FILE_PUT");
	case AP_FILE_GET:	return ("FILE_GET");
	case AP_FILE_DATA:	return ("FILE_DATA");
	case AP_FILE_END:	return ("FILE_END");
	case AP_PING:		return ("PING");
	case AP_SHUTDOWN:	return ("SHUTDOWN");
	case AP_STARTED:	return ("STARTED");
	case AP_STDOUT:		return ("STDOUT");
	case AP_STDERR:		return ("STDERR");
	case AP_EXIT:		return ("EXIT");
	case AP_OK:		return ("OK");
	case AP_PONG:		return ("PONG");
	case AP_ERROR:		return ("ERROR");
	case AP_NET_GRANTS:	return ("NET_GRANTS");
	case AP_NET_OPENED:	return ("NET_OPENED");
	case AP_NET_REFUSED:	return ("NET_REFUSED");
	case AP_NET_DATA:	return ("NET_DATA");
	case AP_NET_ACK:	return ("NET_ACK");
	case AP_NET_CLOSE:	return ("NET_CLOSE");
	case AP_NET_OPEN:	return ("NET_OPEN");
	case AP_DIR_PUT:	return ("DIR_PUT");
	case AP_DIR_GET:	return ("DIR_GET");
	}
	return ("UNKNOWN");
}

static const char *const ap_tiers[] = {
	NULL, "essential", "minimal", "standard", "network", "unrestricted"
};

const char *
ap_tier_name(uint32_t t)
{
	if (t < AP_TIER_ESSENTIAL || t > AP_TIER_UNRESTRICTED)
		return (NULL);
	return (ap_tiers[t]);
}

uint32_t
ap_tier_parse(const char *s)
{
	uint32_t	 t;

	for (t = AP_TIER_ESSENTIAL; t <= AP_TIER_UNRESTRICTED; t++)
		if (strcmp(s, ap_tiers[t]) == 0)
			return (t);
	return (0);
}

/*
 * An egress host name as the protocol carries it: a DNS name (labels of
 * letters, digits and '-', not starting or ending with '-', 1..63 bytes,
 * joined by single dots, AP_NET_HOST_MAX bytes at most, no trailing dot)
 * or an IPv4 dotted quad.  Returns AP_HOST_NAME, AP_HOST_IPV4, or 0 if
 * it is neither.  A name made only of digits and dots must be a valid
 * quad: "1.2.3" and "999.1.1.1" are refused, not resolved.
 */
int
ap_net_host(const char *h)
{
	size_t		 n, lab = 0;
	int		 alpha = 0, dots = 0;
	unsigned long	 v;
	const char	*p;
	char		*end;

	if ((n = strlen(h)) == 0 || n > AP_NET_HOST_MAX)
		return (0);
	for (p = h; *p != '\0'; p++) {
		if (*p == '.') {
			if (lab == 0 || p[-1] == '-')
				return (0);
			lab = 0;
			dots++;
			continue;
		}
		if (*p == '-') {
			if (lab == 0)
				return (0);
		} else if ((*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z'))
			alpha = 1;
		else if (*p < '0' || *p > '9')
			return (0);
		if (++lab > 63)
			return (0);
	}
	if (lab == 0 || p[-1] == '-')
		return (0);
	if (alpha)
		return (AP_HOST_NAME);
	if (dots != 3)
		return (0);
	for (p = h; ; p = end + 1) {
		if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' &&
		    p[1] <= '9'))
			return (0);	/* no sign, no leading zero */
		v = strtoul(p, &end, 10);
		if (v > 255)
			return (0);
		if (*end == '\0')
			break;
	}
	return (AP_HOST_IPV4);
}

/*
 * A clean absolute path: "/" followed by components that are not
 * empty, "." or "..", with no control character, at most max bytes.
 * (Secret files: the supervisor checks it, the agent again.)
 */
int
ap_path_clean(const char *p, size_t max)
{
	const char	*c;
	size_t		 n, i;

	if (p[0] != '/' || p[1] == '\0' || strlen(p) > max)
		return (0);
	for (c = p + 1; ; c += n + 1) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return (0);
		for (i = 0; i < n; i++)
			if ((unsigned char)c[i] < ' ' || c[i] == 0x7f)
				return (0);
		if (c[n] == '\0')
			return (1);
	}
}

int
ap_uid_ok(uint64_t uid)
{
	return (uid == AP_UID_ROOT || uid == AP_UID_USER ||
	    (uid >= AP_UID_EXEC && uid < AP_UID_EXEC + AP_UID_EXEC_N));
}
