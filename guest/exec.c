/*
 * exec.c: EXEC, STDIN and SIGNAL; reaping children; timeouts.
 *
 * A job is one EXEC: a session leader with pipes for stdin (or
 * /dev/null), stdout and stderr, in a cgroup of its own (cgroup.c),
 * running as the EXEC's user (user.c).  Once the process has exited
 * and both output pipes reached EOF, or GRACE_MS after the exit if
 * something it left behind still holds them, the job's cgroup is
 * killed; its AP_EXIT goes out when nothing is left in it (or after
 * KILL_WAIT_MS), so the next command finds nothing of this one running.
 * The child moves into the cgroup, gives up root and then changes to
 * its working directory (as its user), and loads the EXEC's seccomp
 * tier (seccomp.c) as its last step before execve.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "seccomp.h"

#define STAGE_SETUP	0
#define STAGE_CWD	1
#define STAGE_EXEC	2
#define STAGE_SECCOMP	3
#define STAGE_USER	4
#define STAGE_CGROUP	5

#define SWEEP_MS	100	/* cg_sweep while cgroups wait */

struct spawn {
	const char	**s_argv;
	char		**s_envp;
	const char	 *s_cwd;
	uint32_t	  s_uid;	/* AP_UID_* */
	int		  s_procs;	/* its cgroup's cgroup.procs, or -1 */
	uint32_t	  s_tier;	/* AP_TIER_* */
	const struct sock_fprog *s_prog; /* its filter; NULL: none */
	int		  s_stdin;
	uint64_t	  s_timeout;
	uint64_t	  s_max[3];
	int		  s_fd[3];	/* the child's ends */
	int		  s_errfd;	/* the child reports exec failure */
	struct secfiles	  s_files;	/* secrets as files */
};

struct spawn_err {
	int		 se_stage;
	int		 se_errno;
};

extern char	**environ;

static int	 sweeping;	/* cgroups wait to be removed */

static struct job *job_find(uint32_t);
static void	 job_free(struct job *);
static void	 job_finish(struct job *);
static void	 job_gone(struct job *, uint64_t);
static void	 job_giveup(struct job *, uint64_t);
static void	 job_kill(struct job *, uint64_t);
static int	 job_done(struct job *, uint64_t);
static int	 uid_busy(uint32_t);
static struct job *job_new(uint32_t, struct spawn *, const int *);
static int	 exec_parse(json_t *, struct spawn *);
static int	 env_parse(json_t *, struct spawn *);
static void	 spawn_free(struct spawn *);
static int	 spawn_pipes(struct spawn *, int *);
static void	 spawn_child(struct spawn *) __attribute__((noreturn));
static void	 spawn_error(uint32_t, const struct spawn *,
		    const struct spawn_err *);
static int	 spawn_run(uint32_t, struct spawn *, int *);
static void	 stdin_close(struct job *);
static void	 stdin_write(struct job *);
static void	 out_read(struct job *, int);
static void	 forward(struct job *, int, const uint8_t *, size_t);

static struct job *
job_find(uint32_t id)
{
	struct job	*j;

	TAILQ_FOREACH(j, &ag.a_jobs, j_entry)
		if (j->j_id == id)
			return (j);
	return (NULL);
}

static void
job_free(struct job *j)
{
	int	 i;

	stdin_close(j);
	for (i = 1; i < 3; i++)
		if (j->j_fd[i] != -1)
			(void)close(j->j_fd[i]);
	secfiles_remove(&j->j_secfiles);
	secfiles_free(&j->j_secfiles);
	cg_release(j->j_cg, j->j_cgseq);
	TAILQ_REMOVE(&ag.a_jobs, j, j_entry);
	ag.a_njobs--;
	free(j);
}

static void
job_finish(struct job *j)
{
	int	 st = j->j_status;

	out_json(AP_EXIT, j->j_id, json_pack("{s:o,s:o,s:b,s:I,s:I,s:b,s:b}",
	    "code", WIFEXITED(st) ? json_integer(WEXITSTATUS(st)) :
	    json_null(),
	    "signal", WIFSIGNALED(st) ? json_integer(WTERMSIG(st)) :
	    json_null(),
	    "timed_out", (j->j_flags & J_TIMEDOUT) != 0,
	    "stdout_bytes", (json_int_t)j->j_sent[1],
	    "stderr_bytes", (json_int_t)j->j_sent[2],
	    "stdout_truncated", j->j_trunc[1],
	    "stderr_truncated", j->j_trunc[2]));
	job_free(j);
}

/* EXEC members into s; -1 and j_why() if they are not acceptable. */
static int
exec_parse(json_t *o, struct spawn *s)
{
	static const char *const names[] = { "argv", "env", "cwd",
	    "timeout_ms", "stdin", "stdout_max", "stderr_max", "seccomp",
	    "files", "uid", NULL };
	const char	*tier;
	json_t		*a, *v;
	size_t		 i, n;

	if (j_only(o, names) == -1 || j_str(o, "seccomp", &tier, 1) == -1)
		return (-1);
	if ((s->s_tier = ap_tier_parse(tier)) == 0) {
		j_fail("unknown seccomp tier \"%.32s\"", tier);
		return (-1);
	}
	if (j_str(o, "cwd", &s->s_cwd, 0) == -1 ||
	    user_parse(o, &s->s_uid) == -1 ||
	    j_uint(o, "timeout_ms", INT64_MAX / 2, &s->s_timeout, 0) == -1 ||
	    j_bool(o, "stdin", &s->s_stdin) == -1 ||
	    j_uint(o, "stdout_max", INT64_MAX, &s->s_max[1], 0) == -1 ||
	    j_uint(o, "stderr_max", INT64_MAX, &s->s_max[2], 0) == -1)
		return (-1);
	if (s->s_cwd != NULL && s->s_cwd[0] != '/') {
		j_fail("cwd is not absolute");
		return (-1);
	}
	if (secfiles_parse(json_object_get(o, "files"), &s->s_files) == -1)
		return (-1);
	a = json_object_get(o, "argv");
	if (!json_is_array(a) || (n = json_array_size(a)) == 0 ||
	    n > AP_ARGV_MAX) {
		j_fail("argv: 1 to %d strings",
		    AP_ARGV_MAX);
		return (-1);
	}
	s->s_argv = xcalloc(n + 1, sizeof(*s->s_argv));
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v) || (i == 0 &&
		    json_string_length(v) == 0)) {
			j_fail("argv[%zu]: bad string",
			    i);
			return (-1);
		}
		s->s_argv[i] = json_string_value(v);
	}
	return (env_parse(json_object_get(o, "env"), s));
}

/*
 * The environment: "env", then PATH and HOME (the user's) unless given,
 * and once NET_GRANTS named a proxy, its variables unless given.
 */
static int
env_parse(json_t *env, struct spawn *s)
{
	static const char *const proxy[] = { "http_proxy", "https_proxy",
	    "HTTP_PROXY", "HTTPS_PROXY" };
	const char	*k;
	json_t		*v;
	size_t		 n = 0, i;
	char		*kv;
	int		 port;

	if (env != NULL && (!json_is_object(env) ||
	    json_object_size(env) > AP_ENV_MAX)) {
		j_fail("env: object of up to %d "
		    "strings", AP_ENV_MAX);
		return (-1);
	}
	s->s_envp = xcalloc(json_object_size(env) + 7, sizeof(char *));
	json_object_foreach(env, k, v) {
		if (*k == '\0' || strchr(k, '=') != NULL ||
		    !json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v)) {
			j_fail("env: bad member");
			return (-1);
		}
		if (asprintf(&kv, "%s=%s", k, json_string_value(v)) == -1)
			afatal("out of memory");
		s->s_envp[n++] = kv;
	}
	if (json_object_get(env, "PATH") == NULL)
		s->s_envp[n++] = xstrdup("PATH=" AGENT_PATH);
	if (json_object_get(env, "HOME") == NULL) {
		if (asprintf(&kv, "HOME=%s", user_home(s->s_uid)) == -1)
			afatal("out of memory");
		s->s_envp[n++] = kv;
	}
	if ((port = net_proxy()) == 0)
		return (0);
	for (i = 0; i < sizeof(proxy) / sizeof(proxy[0]); i++) {
		if (json_object_get(env, proxy[i]) != NULL)
			continue;
		if (asprintf(&kv, "%s=http://127.0.0.1:%d", proxy[i],
		    port) == -1)
			afatal("out of memory");
		s->s_envp[n++] = kv;
	}
	return (0);
}

static void
spawn_free(struct spawn *s)
{
	size_t	 i;

	free(s->s_argv);
	for (i = 0; s->s_envp != NULL && s->s_envp[i] != NULL; i++)
		free(s->s_envp[i]);
	free(s->s_envp);
	secfiles_free(&s->s_files);
}

/*
 * Pipes: ours[i] is the agent's end of stdin (write), stdout and stderr
 * (read); s->s_fd[i] the child's.  All close-on-exec; the child dup2()s
 * its ends onto 0, 1, 2.
 */
static int
spawn_pipes(struct spawn *s, int *ours)
{
	int	 p[2], i;

	for (i = 0; i < 3; i++)
		ours[i] = s->s_fd[i] = -1;
	s->s_errfd = -1;
	for (i = s->s_stdin ? 0 : 1; i < 3; i++) {
		if (pipe2(p, O_CLOEXEC) == -1)
			return (-1);
		ours[i] = i == 0 ? p[1] : p[0];
		s->s_fd[i] = i == 0 ? p[0] : p[1];
		(void)fcntl(ours[i], F_SETFL, O_NONBLOCK);
	}
	return (0);
}

static void
spawn_child(struct spawn *s)
{
	struct spawn_err	 se = { STAGE_SETUP, 0 };
	sigset_t		 none;
	int			 i;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)setsid();
	if (s->s_fd[0] == -1 &&
	    (s->s_fd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	for (i = 0; i < 3; i++)
		if (dup2(s->s_fd[i], i) == -1)
			goto fail;
	se.se_stage = STAGE_CGROUP;
	if (cg_enter(s->s_procs) == -1)
		goto fail;
	se.se_stage = STAGE_USER;
	if (user_drop(s->s_uid) == -1)
		goto fail;
	se.se_stage = STAGE_CWD;
	if (chdir(s->s_cwd != NULL ? s->s_cwd : user_home(s->s_uid)) == -1)
		goto fail;
	se.se_stage = STAGE_SECCOMP;
	if (tier_load(s->s_prog) == -1)
		goto fail;
	se.se_stage = STAGE_EXEC;
	environ = s->s_envp;
	execvp(s->s_argv[0], (char *const *)s->s_argv);
 fail:
	se.se_errno = errno;
	if (write(s->s_errfd, &se, sizeof(se)) != sizeof(se))
		_exit(126);
	_exit(127);
}

/* Why the child did not exec, as an AP_ERROR. */
static void
spawn_error(uint32_t id, const struct spawn *s, const struct spawn_err *se)
{
	switch (se->se_stage) {
	case STAGE_CWD:
		out_errno(id, se->se_errno, "cwd");
		break;
	case STAGE_SECCOMP:
		out_error(id, "denied", "seccomp %s: %s",
		    ap_tier_name(s->s_tier), strerror(se->se_errno));
		break;
	case STAGE_EXEC:
		out_errno(id, se->se_errno, s->s_argv[0]);
		break;
	case STAGE_USER:
		out_error(id, "denied", "uid %u: %s", s->s_uid,
		    strerror(se->se_errno));
		break;
	case STAGE_CGROUP:
		out_errno(id, se->se_errno, "cgroup");
		break;
	default:
		out_errno(id, se->se_errno, "setup");
		break;
	}
}

/*
 * Fork and exec; wait until the child has exec'd (the error pipe closes)
 * or said why it could not.  Returns the pid, or -1 with an AP_ERROR
 * queued.
 */
static int
spawn_run(uint32_t id, struct spawn *s, int *ours)
{
	struct spawn_err	 se;
	int			 ep[2], i;
	pid_t			 pid;
	ssize_t			 n;

	if (spawn_pipes(s, ours) == -1 || pipe2(ep, O_CLOEXEC) == -1) {
		out_errno(id, errno, "pipe");
		pid = -1;
		goto done;
	}
	s->s_errfd = ep[1];
	if ((pid = fork()) == -1)
		out_errno(id, errno, "fork");
	else if (pid == 0)
		spawn_child(s);
	(void)close(ep[1]);
	while ((n = read(ep[0], &se, sizeof(se))) == -1 && errno == EINTR)
		continue;
	(void)close(ep[0]);
	if (pid != -1 && n == sizeof(se)) {
		(void)waitpid(pid, NULL, 0);
		spawn_error(id, s, &se);
		pid = -1;
	}
 done:
	for (i = 0; i < 3; i++) {
		if (s->s_fd[i] != -1)
			(void)close(s->s_fd[i]);
		if (pid == -1 && ours[i] != -1)
			(void)close(ours[i]);
	}
	return (pid);
}

/* A per-exec uid is one job's at a time. */
static int
uid_busy(uint32_t uid)
{
	struct job	*j;

	if (uid < AP_UID_EXEC)
		return (0);
	TAILQ_FOREACH(j, &ag.a_jobs, j_entry)
		if (j->j_uid == uid)
			return (1);
	return (0);
}

/* The job of a child that exec'd; it takes its cgroup and files. */
static struct job *
job_new(uint32_t id, struct spawn *s, const int *ours)
{
	struct job	*j;
	int		 i;

	j = xcalloc(1, sizeof(*j));
	j->j_id = id;
	j->j_uid = s->s_uid;
	j->j_cg = -1;
	j->j_secfiles = s->s_files;	/* the job removes them */
	memset(&s->s_files, 0, sizeof(s->s_files));
	TAILQ_INIT(&j->j_inq);
	for (i = 0; i < 3; i++) {
		j->j_fd[i] = ours[i];
		j->j_max[i] = s->s_max[i];
	}
	j->j_flags = s->s_stdin ? J_STDIN : 0;
	if (s->s_timeout > 0)
		j->j_deadline = now_ms() + s->s_timeout;
	TAILQ_INSERT_TAIL(&ag.a_jobs, j, j_entry);
	ag.a_njobs++;
	return (j);
}

void
exec_start(const struct ap_frame *f)
{
	struct spawn	 s;
	struct job	*j;
	json_t		*o;
	const char	*bad = NULL;
	int		 ours[3], cg = -1;
	uint32_t	 seq = 0;
	pid_t		 pid;

	if (job_find(f->f_id) != NULL || ag.a_njobs >= JOB_MAX) {
		out_error(f->f_id, "busy", ag.a_njobs >= JOB_MAX ?
		    "too many processes" : "id in use");
		return;
	}
	memset(&s, 0, sizeof(s));
	s.s_procs = -1;
	if ((o = j_parse(f)) == NULL || exec_parse(o, &s) == -1) {
		out_error(f->f_id, "bad_request", "%s", j_why());
		goto done;
	}
	if (uid_busy(s.s_uid)) {
		out_error(f->f_id, "busy", "uid %u is in use", s.s_uid);
		goto done;
	}
	if (tier_prog(s.s_tier, &s.s_prog) == -1) {
		out_error(f->f_id, "denied", "seccomp %s: no filter: %s",
		    ap_tier_name(s.s_tier), strerror(errno));
		goto done;
	}
	if ((cg = cg_new(&seq, &s.s_procs)) == -1 && errno != 0) {
		out_errno(f->f_id, errno, "cgroup");
		goto done;
	}
	if (secfiles_write(&s.s_files, s.s_uid, &bad) == -1) {
		out_errno(f->f_id, errno, bad);
		goto done;
	}
	if ((pid = spawn_run(f->f_id, &s, ours)) == -1) {
		secfiles_remove(&s.s_files);
		goto done;
	}
	j = job_new(f->f_id, &s, ours);
	j->j_pid = pid;
	j->j_cg = cg;
	j->j_cgseq = seq;
	cg = -1;
	out_json(AP_STARTED, f->f_id, json_pack("{s:i}", "pid", (int)pid));
 done:
	if (s.s_procs != -1)
		(void)close(s.s_procs);
	cg_release(cg, seq);
	spawn_free(&s);
	json_decref(o);
}

static void
stdin_close(struct job *j)
{
	struct obuf	*ob;

	while ((ob = TAILQ_FIRST(&j->j_inq)) != NULL) {
		TAILQ_REMOVE(&j->j_inq, ob, o_entry);
		ag.a_inlen -= ob->o_len - ob->o_off;
		free(ob);
	}
	if (j->j_fd[0] != -1)
		(void)close(j->j_fd[0]);
	j->j_fd[0] = -1;
}

void
exec_stdin(const struct ap_frame *f)
{
	struct job	*j;
	struct obuf	*ob;

	if ((j = job_find(f->f_id)) == NULL) {
		out_error(f->f_id, "not_found", "no such process");
		return;
	}
	if ((j->j_flags & J_STDIN) == 0 || (j->j_flags & J_INCLOSE)) {
		out_error(f->f_id, "bad_request", "stdin %s",
		    j->j_flags & J_STDIN ? "is closed" : "was not requested");
		return;
	}
	if (f->f_len == 0) {
		j->j_flags |= J_INCLOSE;
		if (TAILQ_EMPTY(&j->j_inq))
			stdin_close(j);
		return;
	}
	if (j->j_fd[0] == -1)
		return;			/* the process stopped reading */
	ob = obuf_new(f->f_data, f->f_len);
	TAILQ_INSERT_TAIL(&j->j_inq, ob, o_entry);
	ag.a_inlen += ob->o_len;
}

static void
stdin_write(struct job *j)
{
	struct obuf	*ob;
	ssize_t		 n;

	while ((ob = TAILQ_FIRST(&j->j_inq)) != NULL) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): TAILQ FP */
		n = write(j->j_fd[0], ob->o_data + ob->o_off,
		    ob->o_len - ob->o_off);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			stdin_close(j);		/* EPIPE: it is not reading */
			return;
		}
		ob->o_off += n;
		ag.a_inlen -= n;
		if (ob->o_off < ob->o_len)
			continue;
		TAILQ_REMOVE(&j->j_inq, ob, o_entry);
		free(ob);
	}
	if (j->j_flags & J_INCLOSE)
		stdin_close(j);
}

void
exec_signal(const struct ap_frame *f)
{
	static const char *const names[] = { "signal", NULL };
	struct job	*j;
	json_t		*o;
	uint64_t	 sig = 1;

	if ((o = j_parse(f)) == NULL || j_only(o, names) == -1 ||
	    j_uint(o, "signal", NSIG - 1, &sig, 1) == -1 || sig == 0) {
		out_error(f->f_id, "bad_request", "%s",
		    o != NULL && sig == 0 ? "signal 0" : j_why());
		json_decref(o);
		return;
	}
	json_decref(o);
	if ((j = job_find(f->f_id)) == NULL) {
		out_error(f->f_id, "not_found", "no such process");
		return;
	}
	if (killpg(j->j_pid, (int)sig) == -1 && errno != ESRCH) {
		out_errno(f->f_id, errno, "kill");
		return;
	}
	out_ok(f->f_id);
}

/* Reap every child, ours or orphans handed to PID 1. */
void
exec_reap(void)
{
	struct job	*j;
	pid_t		 pid;
	int		 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		TAILQ_FOREACH(j, &ag.a_jobs, j_entry)
			if (j->j_pid == pid && !(j->j_flags & J_EXITED)) {
				job_gone(j, now_ms());
				j->j_status = st;
				break;
			}
}

static void
job_gone(struct job *j, uint64_t now)
{
	j->j_flags |= J_EXITED;
	j->j_grace = now + GRACE_MS;
	stdin_close(j);
}

static void
forward(struct job *j, int w, const uint8_t *p, size_t n)
{
	uint64_t	 k = n;

	if (j->j_max[w] > 0 && j->j_sent[w] + k > j->j_max[w]) {
		k = j->j_max[w] - j->j_sent[w];
		j->j_trunc[w] = 1;
	}
	if (k > 0)
		out_frame(w == 1 ? AP_STDOUT : AP_STDERR, j->j_id, p, k);
	j->j_sent[w] += k;
}

/* One read from stdout (w 1) or stderr (w 2); 0 at EOF or error. */
static void
out_read(struct job *j, int w)
{
	static uint8_t	 buf[CHUNK];
	ssize_t		 n;

	if ((n = read(j->j_fd[w], buf, sizeof(buf))) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		forward(j, w, buf, n);
		return;
	}
	(void)close(j->j_fd[w]);
	j->j_fd[w] = -1;
}

void
exec_io(struct job *j, int w, short revents)
{
	if (w == 0)
		stdin_write(j);
	else if (revents & (POLLIN | POLLHUP | POLLERR))
		out_read(j, w);
}

int
exec_pollfds(struct pollfd *pfd, struct job **jobs, int *which, int room)
{
	struct job	*j;
	int		 n = 0, w;

	TAILQ_FOREACH(j, &ag.a_jobs, j_entry)
		for (w = 0; w < 3 && n < room; w++) {
			if (j->j_fd[w] == -1 || (w == 0 &&
			    TAILQ_EMPTY(&j->j_inq)) || (w > 0 && out_high()))
				continue;
			pfd[n].fd = j->j_fd[w];
			pfd[n].events = w == 0 ? POLLOUT : POLLIN;
			jobs[n] = j;
			which[n++] = w;
		}
	return (n);
}

/*
 * The process is gone but something it left behind holds its pipes:
 * forward what is already in them, then close our ends.  Not while the
 * output queue is full: then the pipes may just not have been read.
 */
static void
job_giveup(struct job *j, uint64_t now)
{
	int	 w, i;

	if (out_high()) {
		j->j_grace = now + GRACE_MS / 4;
		return;
	}
	for (w = 1; w < 3; w++) {
		for (i = 0; i < 16 && j->j_fd[w] != -1; i++)
			out_read(j, w);
		if (j->j_fd[w] != -1)
			(void)close(j->j_fd[w]);
		j->j_fd[w] = -1;
	}
}

/* Kill what is left of the job: its cgroup, or its process group. */
static void
job_kill(struct job *j, uint64_t now)
{
	if (j->j_cg != -1)
		cg_kill(j->j_cg);
	else
		(void)killpg(j->j_pid, SIGKILL);
	j->j_flags |= J_KILLED;
	j->j_killdl = now + KILL_WAIT_MS;
}

/*
 * The process and its pipes are done: kill what it left.  1 once
 * nothing is left (or KILL_WAIT_MS went by), and its EXIT may go.
 */
static int
job_done(struct job *j, uint64_t now)
{
	if (!(j->j_flags & J_KILLED))
		job_kill(j, now);
	if (!cg_populated(j->j_cg))
		return (1);
	if (now < j->j_killdl)
		return (0);
	alog("EXEC %u: processes left %d ms after the kill", j->j_id,
	    KILL_WAIT_MS);
	return (1);
}

/* Kill on timeout; give up on held pipes; send EXIT when done. */
void
exec_tick(uint64_t now)
{
	struct job	*j, *next;

	for (j = TAILQ_FIRST(&ag.a_jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, j_entry);
		if (!(j->j_flags & (J_EXITED | J_TIMEDOUT)) &&
		    j->j_deadline != 0 && now >= j->j_deadline) {
			(void)killpg(j->j_pid, SIGKILL);
			(void)kill(j->j_pid, SIGKILL);
			cg_kill(j->j_cg);
			j->j_flags |= J_TIMEDOUT;
		}
		if (!(j->j_flags & J_EXITED))
			continue;
		if ((j->j_fd[1] != -1 || j->j_fd[2] != -1) &&
		    now >= j->j_grace)
			job_giveup(j, now);
		if (j->j_fd[1] == -1 && j->j_fd[2] == -1 && job_done(j, now))
			job_finish(j);
	}
	sweeping = cg_sweep();
}

/* The poll timeout t, shortened to the next deadline of a job. */
int
exec_timeout(uint64_t now, int t)
{
	struct job	*j;
	uint64_t	 due, d;

	TAILQ_FOREACH(j, &ag.a_jobs, j_entry) {
		if (j->j_flags & J_KILLED)
			due = now + KILL_POLL_MS;
		else if (j->j_flags & J_EXITED)
			due = j->j_grace;
		else if (j->j_deadline != 0 && !(j->j_flags & J_TIMEDOUT))
			due = j->j_deadline;
		else
			continue;
		d = due > now ? due - now : 0;
		if (t == -1 || d < (uint64_t)t)
			t = d > INT32_MAX ? INT32_MAX : (int)d;
	}
	if (sweeping && (t == -1 || t > SWEEP_MS))
		t = SWEEP_MS;
	return (t);
}

/*
 * The session ended: kill every job's processes, forget the jobs (their
 * cgroups go once empty, cg_sweep).
 */
void
exec_killall(void)
{
	struct job	*j;

	while ((j = TAILQ_FIRST(&ag.a_jobs)) != NULL) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): TAILQ FP */
		if (!(j->j_flags & J_EXITED)) {
			(void)killpg(j->j_pid, SIGKILL);
			(void)kill(j->j_pid, SIGKILL);
		}
		cg_kill(j->j_cg);
		job_free(j);
	}
	sweeping = 1;
}
