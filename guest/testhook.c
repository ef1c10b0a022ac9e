/*
 * testhook.c: an agent that lies, for tests of the host's bounds.  Only
 * in builds with -DMVM_TEST_HOOKS (make variant-test builds one as
 * build/test/mvm-agent); the release agent has none of it, which
 * regress/guest/cp.t checks.  Each lie is asked for by the host, never
 * by anything in the guest:
 *
 *	FILE_GET "/mvm-test/endless"	FILE_DATA for ever, whatever its max
 *	FILE_GET "/mvm-test/size/S/A"	S bytes, then FILE_END {"size":A}
 *	EXEC with MVM_TEST_LIE=1 in env	its EXIT says timed_out,
 *					stdout_truncated and stderr_truncated
 *
 * The lies are paced like real output: a chunk only while the output
 * queue is below OUTQ_HIGH, so what they cost the host is the host's
 * doing, not a flood of the guest's own memory.
 */
#ifdef MVM_TEST_HOOKS

#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define LIE_MAX		16		/* lies at once, of each kind */
#define LIE_ENDLESS	UINT64_MAX
#define LIE_PREFIX	"/mvm-test/"

/* FILE_GETs that lie */
static struct {
	uint32_t	 id;
	int		 live;
	uint64_t	 size;		/* bytes to send; LIE_ENDLESS */
	uint64_t	 announce;	/* FILE_END's "size" */
	uint64_t	 done;
} gets[LIE_MAX];

/* EXECs whose EXIT lies */
static uint32_t	 liars[LIE_MAX];
static int	 nliars;

static int	 lie_get(const struct ap_frame *);
static void	 lie_exec(const struct ap_frame *);
static int	 lie_get_path(const char *, uint64_t *, uint64_t *);
static void	 lie_get_step(int);

/*
 * A frame the host sent, before the agent serves it.  Returns 1 if a
 * lie took it (then nothing else may), 0 to serve it as usual.
 */
int
testhook_frame(const struct ap_frame *f)
{
	if (f->f_type == AP_EXEC)
		lie_exec(f);
	else if (f->f_type == AP_FILE_GET)
		return (lie_get(f));
	return (0);
}

/* "/mvm-test/endless" or "/mvm-test/size/S/A"; -1 if neither */
static int
lie_get_path(const char *path, uint64_t *size, uint64_t *announce)
{
	const char	*p = path + strlen(LIE_PREFIX "size/");
	char		*end;

	if (strcmp(path, LIE_PREFIX "endless") == 0) {
		*size = *announce = LIE_ENDLESS;
		return (0);
	}
	if (strncmp(path, LIE_PREFIX "size/", strlen(LIE_PREFIX "size/")) != 0)
		return (-1);
	*size = strtoull(p, &end, 10);
	if (end == p || *end != '/')
		return (-1);
	p = end + 1;
	*announce = strtoull(p, &end, 10);
	return (end == p || *end != '\0' ? -1 : 0);
}

static int
lie_get(const struct ap_frame *f)
{
	json_t		*o;
	const char	*path;
	uint64_t	 size, announce;
	int		 i, rc = 0;

	if ((o = j_parse(f)) == NULL || j_str(o, "path", &path, 1) == -1 ||
	    strncmp(path, LIE_PREFIX, strlen(LIE_PREFIX)) != 0)
		goto done;			/* the agent's own answer */
	rc = 1;
	for (i = 0; i < LIE_MAX && gets[i].live; i++)
		continue;
	if (lie_get_path(path, &size, &announce) == -1)
		out_error(f->f_id, "not_found", "no such test hook");
	else if (i == LIE_MAX)
		out_error(f->f_id, "busy", "too many test hooks");
	else {
		alog("test hook: FILE_GET %s ignores its max", path);
		memset(&gets[i], 0, sizeof(gets[i]));
		gets[i].id = f->f_id;
		gets[i].live = 1;
		gets[i].size = size;
		gets[i].announce = announce;
	}
done:
	json_decref(o);
	return (rc);
}

/* Remember an EXEC whose environment asks for a lying EXIT. */
static void
lie_exec(const struct ap_frame *f)
{
	json_t		*o, *env;
	const char	*v;

	if ((o = j_parse(f)) == NULL)
		return;
	env = json_object_get(o, "env");
	v = json_string_value(json_object_get(env, "MVM_TEST_LIE"));
	if (v != NULL && strcmp(v, "1") == 0 && nliars < LIE_MAX) {
		alog("test hook: EXIT %u will lie", f->f_id);
		liars[nliars++] = f->f_id;
	}
	json_decref(o);
}

/* An EXIT about to be queued: the lie, if its EXEC asked for one. */
void
testhook_out(uint32_t type, uint32_t id, json_t *o)
{
	int	 i;

	if (type != AP_EXIT)
		return;
	for (i = 0; i < nliars && liars[i] != id; i++)
		continue;
	if (i == nliars)
		return;
	liars[i] = liars[--nliars];
	json_object_set_new(o, "timed_out", json_true());
	json_object_set_new(o, "stdout_truncated", json_true());
	json_object_set_new(o, "stderr_truncated", json_true());
}

/* One chunk of a lying FILE_GET, or its FILE_END. */
static void
lie_get_step(int i)
{
	static uint8_t	 buf[CHUNK];
	uint64_t	 n = gets[i].size - gets[i].done;

	if (n == 0) {
		out_json(AP_FILE_END, gets[i].id, json_pack("{s:I,s:i}",
		    "size", (json_int_t)gets[i].announce, "mode", 0644));
		gets[i].live = 0;
		return;
	}
	if (buf[0] == 0)
		memset(buf, 'M', sizeof(buf));
	if (n > sizeof(buf))
		n = sizeof(buf);
	out_frame(AP_FILE_DATA, gets[i].id, buf, n);
	if (gets[i].size != LIE_ENDLESS)
		gets[i].done += n;
}

/* Feed the lying gets while the output queue has room. */
void
testhook_pump(void)
{
	int	 i;

	while (!out_high() && testhook_timeout(-1) == 0)
		for (i = 0; i < LIE_MAX; i++)
			if (gets[i].live && !out_high())
				lie_get_step(i);
}

/* The poll timeout: 0 while a lying get has something to send. */
int
testhook_timeout(int t)
{
	int	 i;

	if (out_high())
		return (t);
	for (i = 0; i < LIE_MAX; i++)
		if (gets[i].live)
			return (0);
	return (t);
}

/* The session ended: its lies with it. */
void
testhook_reset(void)
{
	memset(gets, 0, sizeof(gets));
	nliars = 0;
}

#endif /* MVM_TEST_HOOKS */
