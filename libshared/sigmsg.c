#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "mvm.h"
#include "sigmsg.h"

static int
sigmsg_cat(struct sigmsg *m, const char *ctx, const uint8_t *b, size_t len)
{
	size_t	 cl = strlen(ctx);

	m->sm_len = cl + len;
	if ((m->sm_buf = malloc(m->sm_len)) == NULL)
		return (-1);
	memcpy(m->sm_buf, ctx, cl);
	if (len > 0)
		memcpy(m->sm_buf + cl, b, len);
	return (0);
}

int
sigmsg_audit(struct sigmsg *m, const uint8_t *body, size_t len)
{
	return (sigmsg_cat(m, MVM_CTX_AUDIT, body, len));
}

int
sigmsg_snapshot(struct sigmsg *m, const uint8_t *body, size_t len)
{
	return (sigmsg_cat(m, MVM_CTX_SNAPSHOT, body, len));
}

/* DSSE v1 pre-authentication encoding (lengths in ASCII decimal). */
int
sigmsg_pae(struct sigmsg *m, const char *type, const uint8_t *body,
    size_t len)
{
	char	 head[256];
	int	 n;

	n = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(type),
	    type, len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return (-1);
	return (sigmsg_cat(m, head, body, len));
}

/* Origin lines: 1-127 printable ASCII, no spaces, at least one '/'. */
int
origin_valid(const char *o)
{
	size_t	 i, len = strlen(o);

	if (len == 0 || len >= MVM_ORIGIN_MAX || strchr(o, '/') == NULL)
		return (0);
	for (i = 0; i < len; i++)
		if (o[i] <= ' ' || o[i] > '~')
			return (0);
	return (1);
}

int
sigmsg_note(struct sigmsg *m, const char *origin, uint64_t size,
    const uint8_t root[32])
{
	char	 b64[MVM_B64_LEN(32)], text[MVM_ORIGIN_MAX + 80];
	int	 n;

	if (!origin_valid(origin))
		return (-1);
	b64_encode(root, 32, b64, sizeof(b64));
	n = snprintf(text, sizeof(text), "%s\n%" PRIu64 "\n%s\n", origin,
	    size, b64);
	if (n < 0 || (size_t)n >= sizeof(text))
		return (-1);
	return (sigmsg_cat(m, text, NULL, 0));
}

void
sigmsg_free(struct sigmsg *m)
{
	free(m->sm_buf);
	m->sm_buf = NULL;
	m->sm_len = 0;
}
