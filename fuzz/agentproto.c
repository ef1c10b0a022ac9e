/*
 * agentproto: bytes from the other end of the agent port.  They are fed
 * into an ap_rbuf in chunks the way both ends read (ap_rbuf_space,
 * ap_rbuf_fill, then ap_take until it wants more), and every control
 * frame's payload goes through the agent's JSON readers (guest/json.c:
 * j_parse, j_only, j_uint, j_str, j_bool) with the members and limits
 * the agent's handlers ask for (members[] below, after guest/loop.c
 * hello(), guest/exec.c exec_parse() and exec_signal(), guest/file.c
 * put_open() and file_get(), guest/share.c share_put() and share_get()).
 *
 * Those handlers themselves (exec_parse, env_parse, path_ok) are static
 * and act on the guest (fork, open), so they are not reached; nor is the
 * host side's reading of guest frames (mvm-vmm/agent.c, static, driven
 * by libevent).
 *
 * input: chunk, then the byte stream
 *	chunk	bytes per fill, from chunk_sizes[]
 *
 * Properties: each frame's header is what ap_header() makes for its
 * type, id and length; once the frames in the buffer are taken there is
 * always room for more (a whole frame fits).
 */
#include <signal.h>
#include <string.h>

#include "agentproto.h"
#include "fuzz.h"
#include "share.h"
#include "../guest/agent.h"

#define M_UINT		1
#define M_STR		2
#define M_BOOL		3
#define M_TIER		4	/* a string that must name a tier */
/* kind 0: a member the handler reads itself (exec_parse: argv, env) */

struct member {
	const char	*m_name;
	int		 m_kind;
	uint64_t	 m_max;
	int		 m_required;
};

static const struct schema {
	uint32_t		 s_type;
	int			 s_only;	/* j_only with the names */
	struct member		 s_m[9];
} schemas[] = {
	{ AP_HELLO, 1, {
	    { "proto_min", M_UINT, UINT32_MAX, 1 },
	    { "proto_max", M_UINT, UINT32_MAX, 1 },
	    { "host", M_STR, 0, 0 } } },
	{ AP_EXEC, 1, {
	    { "seccomp", M_TIER, 0, 1 },
	    { "cwd", M_STR, 0, 0 },
	    { "timeout_ms", M_UINT, INT64_MAX / 2, 0 },
	    { "stdin", M_BOOL, 0, 0 },
	    { "stdout_max", M_UINT, INT64_MAX, 0 },
	    { "stderr_max", M_UINT, INT64_MAX, 0 },
	    { "argv", 0, 0, 0 },
	    { "env", 0, 0, 0 } } },
	{ AP_SIGNAL, 1, {
	    { "signal", M_UINT, NSIG - 1, 1 } } },
	{ AP_FILE_PUT, 1, {
	    { "path", M_STR, 0, 1 },
	    { "mode", M_UINT, 07777, 0 },
	    { "size", M_UINT, UINT64_MAX >> 1, 1 } } },
	{ AP_FILE_GET, 1, {
	    { "path", M_STR, 0, 1 },
	    { "max", M_UINT, UINT64_MAX >> 1, 0 } } },
	{ AP_DIR_PUT, 1, {
	    { "path", M_STR, 0, 1 },
	    { "size", M_UINT, SHARE_ARCHIVE_MAX, 1 } } },
	{ AP_DIR_GET, 1, {
	    { "path", M_STR, 0, 1 },
	    { "max", M_UINT, UINT64_MAX >> 1, 0 } } },
	{ AP_PING, 0, { { NULL, 0, 0, 0 } } },
	{ AP_SHUTDOWN, 1, { { NULL, 0, 0, 0 } } },
};

static void	 check_json(const struct ap_frame *, const struct schema *);
static void	 frame(const struct ap_frame *);

static const size_t	 chunk_sizes[] = {
	0 /* all */, 1, 2, 3, 4, 5, 11, 12, 13, 64, 4095, 65536
};

/* The payload through the readers, member by member, as the agent would. */
static void
check_json(const struct ap_frame *f, const struct schema *s)
{
	const char		*names[10], *str;
	const struct member	*m;
	json_t			*o;
	uint64_t		 u;
	size_t			 i, n = 0;
	int			 b;

	if ((o = j_parse(f)) == NULL) {
		FUZZ_ASSERT(j_why()[0] != '\0');
		return;
	}
	FUZZ_ASSERT(json_is_object(o));
	for (i = 0; i < 9 && s->s_m[i].m_name != NULL; i++)
		names[n++] = s->s_m[i].m_name;
	names[n] = NULL;
	if (s->s_only && j_only(o, names) == -1)
		goto done;
	for (i = 0; i < n; i++) {
		m = &s->s_m[i];
		switch (m->m_kind) {
		case M_UINT:
			if (j_uint(o, m->m_name, m->m_max, &u,
			    m->m_required) == 1)
				FUZZ_ASSERT(u <= m->m_max);
			break;
		case M_STR:
		case M_TIER:
			if (j_str(o, m->m_name, &str, m->m_required) == 1) {
				FUZZ_ASSERT(strlen(str) == json_string_length(
				    json_object_get(o, m->m_name)));
				if (m->m_kind == M_TIER)
					(void)ap_tier_name(ap_tier_parse(str));
			}
			break;
		case M_BOOL:
			(void)j_bool(o, m->m_name, &b);
			break;
		}
	}
done:
	json_decref(o);
}

static void
frame(const struct ap_frame *f)
{
	uint8_t	 hdr[AP_HDR_LEN];
	size_t	 i;

	FUZZ_ASSERT(ap_header(hdr, f->f_type, f->f_id, f->f_len) == 0);
	FUZZ_ASSERT(memcmp(hdr, f->f_data - AP_HDR_LEN, AP_HDR_LEN) == 0);
	(void)ap_type_name(f->f_type);
	for (i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
		if (schemas[i].s_type == f->f_type) {
			check_json(f, &schemas[i]);
			break;
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_rbuf	 rb;
	struct ap_frame	 f;
	uint8_t		*space;
	size_t		 chunk, avail, n, off = 0;
	int		 r;

	if (size < 1)
		return (0);
	chunk = chunk_sizes[data[0] % (sizeof(chunk_sizes) /
	    sizeof(chunk_sizes[0]))];
	data++;
	size--;
	if (ap_rbuf_init(&rb) == -1)
		abort();
	while (off < size) {
		space = ap_rbuf_space(&rb, &avail);
		FUZZ_ASSERT(avail > 0);		/* a whole frame fits */
		n = size - off;
		if (n > avail)
			n = avail;
		if (chunk != 0 && n > chunk)
			n = chunk;
		memcpy(space, data + off, n);
		ap_rbuf_fill(&rb, n);
		off += n;
		while ((r = ap_take(&rb, &f)) == 1)
			frame(&f);
		if (r == -1) {
			FUZZ_ASSERT(ap_take(&rb, &f) == -1);	/* stays */
			break;
		}
	}
	ap_rbuf_free(&rb);
	return (0);
}
