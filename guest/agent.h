/*
 * mvm-agent: the guest side of the agent protocol (agentproto.h), run
 * as PID 1 of the guest.
 *
 *	agent.c		PID 1 duties: mounts, modules, the port, power off
 *	loop.c		poll loop, port I/O, output queue, dispatch, session
 *	exec.c		EXEC, STDIN, SIGNAL, reaping, timeouts
 *	file.c		FILE_PUT, FILE_GET
 *	net.c		egress: NET_GRANTS, flows, the HTTP proxy
 *	share.c		DIR_PUT, DIR_GET (host shares)
 *	user.c		the users commands run as
 *	cgroup.c	a cgroup per command, killed when it ends
 *	json.c		strict readers for control payloads
 *	seccomp.c	the workload's seccomp tiers (seccomp.h)
 *	testhook.c	lies the host can ask for (test builds only)
 *
 * Built on the host, not part of the agent: mktiers.c makes the tiers'
 * BPF programs from the lists of tiers.h (seccomp.c includes them).
 */
#ifndef MVM_AGENT_H
#define MVM_AGENT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <poll.h>
#include <stdint.h>

#include <jansson.h>

#include "agentproto.h"

#define AGENT_NAME	"mvm-agent " MVM_VERSION
#define AGENT_MODULES	"/etc/mvm/modules"
#define AGENT_MODULES_LATE "/etc/mvm/modules.late"
#define AGENT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" \
			    "/sbin:/bin"
#define AGENT_HOME	"/root"			/* root's */
#define USER_HOME	"/home/mvm"		/* every other user's */

#define CHUNK		(64 * 1024)	/* bytes per STDOUT/FILE_DATA frame */
#define OUTQ_HIGH	(1024 * 1024)	/* above: stop reading children */
#define OUTQ_MAX	(4 * 1024 * 1024) /* above: stop reading the port */
#define STDIN_HIGH	(1024 * 1024)	/* queued stdin: stop reading port */
#define JOB_MAX		64		/* EXECs at once */
#define XFER_MAX	16		/* file transfers at once, and sinks */
#define RETRY_MS	20		/* host not connected: poll again */
#define HOST_WAIT_MS	500		/* bytes came, no host yet: wait */
#define GRACE_MS	200		/* pipes held open after exit */
#define KILL_POLL_MS	5		/* killed: is the cgroup empty yet */
#define KILL_WAIT_MS	5000		/* ... at most this long */
#define NET_POLL_MAX	(AP_NET_GRANTS_MAX + 1 + AP_NET_FLOWS_MAX)

/* One queued frame (output to the port) or stdin chunk. */
struct obuf {
	TAILQ_ENTRY(obuf)	 o_entry;
	size_t			 o_len;
	size_t			 o_off;
	uint8_t			 o_data[];
};
TAILQ_HEAD(obufq, obuf);

/* Secrets granted to an EXEC as files (secretfile.c). */
struct secfiles {
	int			 sf_n;
	char			*sf_path[AP_SECRET_FILES_MAX];
	int			 sf_dir[AP_SECRET_FILES_MAX];	/* its parent */
	uint8_t			*sf_val[AP_SECRET_FILES_MAX];
	size_t			 sf_len[AP_SECRET_FILES_MAX];
};

/* One EXEC, from fork until its AP_EXIT is queued. */
struct job {
	TAILQ_ENTRY(job)	 j_entry;
	uint32_t		 j_id;
	pid_t			 j_pid;		/* process group too */
	int			 j_fd[3];	/* our ends; -1: closed */
	struct obufq		 j_inq;		/* stdin not yet written */
	int			 j_flags;
#define J_STDIN		0x01			/* stdin was requested */
#define J_INCLOSE	0x02			/* close stdin once drained */
#define J_EXITED	0x04
#define J_TIMEDOUT	0x08
#define J_KILLED	0x10			/* its cgroup was killed */
	int			 j_status;	/* from waitpid */
	uint32_t		 j_uid;		/* AP_UID_* */
	int			 j_cg;		/* its cgroup; -1: none */
	uint32_t		 j_cgseq;
	uint64_t		 j_killdl;	/* ms: EXIT even if not empty */
	uint64_t		 j_max[3];	/* stdout_max, stderr_max */
	uint64_t		 j_sent[3];
	int			 j_trunc[3];
	uint64_t		 j_deadline;	/* ms, 0: none */
	uint64_t		 j_grace;	/* ms: give up on the pipes */
	struct secfiles		 j_secfiles;	/* removed once it is reaped */
};
TAILQ_HEAD(jobq, job);

/* One FILE_PUT or FILE_GET. */
struct xfer {
	TAILQ_ENTRY(xfer)	 x_entry;
	uint32_t		 x_id;
	int			 x_put;
	int			 x_fd;		/* -1: failed, swallow data */
	char			*x_path;
	char			*x_tmp;		/* put: path.tmp */
	uint64_t		 x_size;
	uint64_t		 x_done;
	mode_t			 x_mode;
};
TAILQ_HEAD(xferq, xfer);

struct agent {
	int			 a_port;	/* the virtio-serial port */
	int			 a_sigfd;	/* signalfd for SIGCHLD */
	int			 a_ready;	/* HELLO done */
	int			 a_connected;	/* bytes seen since reset */
	int			 a_hostseen;	/* kernel said host connected */
	uint64_t		 a_nohost;	/* ms: bytes, then no host */
	int			 a_broken;	/* framing error: discard */
	uint64_t		 a_retry;	/* ms: port not polled until */
	struct ap_rbuf		 a_rb;
	struct obufq		 a_outq;
	size_t			 a_outlen;
	size_t			 a_inlen;	/* stdin queued, all jobs */
	struct jobq		 a_jobs;
	int			 a_njobs;
	struct xferq		 a_xfers;	/* transfers and sinks */
	uint64_t		 a_uptime_ms;	/* at agent start */
	char			 a_kernel[65];
};

extern struct agent	 ag;

/* agent.c */
void	 alog(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 afatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 agent_poweroff(void) __attribute__((noreturn));
void	*xcalloc(size_t, size_t);
char	*xstrdup(const char *);
uint64_t now_ms(void);

/* loop.c */
void	 loop_run(void) __attribute__((noreturn));
void	 out_frame(uint32_t, uint32_t, const void *, size_t);
void	 out_json(uint32_t, uint32_t, json_t *);
void	 out_ok(uint32_t);
void	 out_error(uint32_t, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 out_errno(uint32_t, int, const char *);
int	 out_high(void);
struct obuf *obuf_new(const void *, size_t);

/* exec.c */
void	 exec_start(const struct ap_frame *);
void	 exec_stdin(const struct ap_frame *);
void	 exec_signal(const struct ap_frame *);
void	 exec_reap(void);
void	 exec_tick(uint64_t);
int	 exec_timeout(uint64_t, int);
int	 exec_pollfds(struct pollfd *, struct job **, int *, int);
void	 exec_io(struct job *, int, short);
void	 exec_killall(void);

/* secretfile.c */
int	 secfiles_parse(json_t *, struct secfiles *);
int	 secfiles_write(struct secfiles *, uint32_t, const char **);
void	 secfiles_remove(struct secfiles *);
void	 secfiles_free(struct secfiles *);

/* file.c */
void	 file_put(const struct ap_frame *);
void	 file_get(const struct ap_frame *);
void	 file_data(const struct ap_frame *);
void	 file_end(const struct ap_frame *);
int	 file_pending(void);
void	 file_pump(void);
void	 file_abortall(void);

/* net.c */
void	 net_grants(const struct ap_frame *);
void	 net_frame(const struct ap_frame *);
int	 net_pollfds(struct pollfd *, int);
void	 net_io(const struct pollfd *, int);
void	 net_tick(uint64_t);
int	 net_timeout(uint64_t, int);
void	 net_reset(void);
int	 net_proxy(void);
/* share.c */
int	 share_dir_open(const char *, mode_t);
void	 share_put(const struct ap_frame *);
void	 share_get(const struct ap_frame *);
int	 share_data(const struct ap_frame *);
int	 share_end(const struct ap_frame *);
int	 share_pending(void);
void	 share_pump(void);
void	 share_abortall(void);

/* user.c */
void	 user_init(void);
int	 user_parse(json_t *, uint32_t *);
int	 user_drop(uint32_t);
gid_t	 user_gid(uint32_t);
const char *user_home(uint32_t);

/* cgroup.c */
void	 cg_init(void);
int	 cg_new(uint32_t *, int *);
int	 cg_enter(int);
void	 cg_kill(int);
int	 cg_populated(int);
void	 cg_release(int, uint32_t);
int	 cg_sweep(void);

/* json.c */
json_t	*j_parse(const struct ap_frame *);
int	 j_only(json_t *, const char *const *);
int	 j_uint(json_t *, const char *, uint64_t, uint64_t *, int);
int	 j_bool(json_t *, const char *, int *);
int	 j_str(json_t *, const char *, const char **, int);
const char *j_why(void);
void	 j_fail(const char *, ...) __attribute__((format(printf, 1, 2)));

#ifdef MVM_TEST_HOOKS
/* testhook.c */
int	 testhook_frame(const struct ap_frame *);
void	 testhook_out(uint32_t, uint32_t, json_t *);
void	 testhook_pump(void);
int	 testhook_timeout(int);
void	 testhook_reset(void);
#endif

#endif /* MVM_AGENT_H */
