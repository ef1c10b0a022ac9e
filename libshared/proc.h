/*
 * Process plumbing: spawning jailed children, the imsg <-> libevent glue
 * every daemon uses, and the relay of children's log lines.
 */
#ifndef MVM_PROC_H
#define MVM_PROC_H

#include <sys/types.h>

#include <sched.h>

#include <event2/event.h>

#include "imsg.h"
#include "log.h"

#define MVM_CHILD_FD		3	/* a child's socket to its parent */
#define MVM_IMSG_MAX_INTERNAL	(256 * 1024)	/* peers this big read big */

/* namespaces every jailed child starts in (the vmm adds cgroups) */
#define PROC_NS_JAIL	(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | \
			    CLONE_NEWIPC | CLONE_NEWUTS)

struct proc_spawn {
	const char	*ps_path;	/* absolute path of the binary */
	char *const	*ps_argv;
	int		 ps_cloneflags;	/* CLONE_NEW* or 0 */
	pid_t		 ps_pid;	/* out */
	int		 ps_sock;	/* out: parent's end of the socket */
	int		 ps_log;	/* out: read end of the child's stderr */
};

int	 proc_spawn(struct proc_spawn *);
int	 proc_child_socket(void);
int	 proc_child_start(int, char *[], const char *);
void	 proc_wait_status(int, char *, size_t);

/* return values of a peer's dispatch function */
#define PEER_OK		0	/* message handled, go on */
#define PEER_BAD	(-1)	/* malformed: drop the peer */
#define PEER_GONE	1	/* dispatch freed the peer: stop touching it */

/* why a peer is not being read (p_paused); each is lifted on its own */
#define PEER_HOLD_FLOW	0x01	/* peer_pause: its data has nowhere to go */
#define PEER_HOLD_PACE	0x02	/* what it sends piles up elsewhere */
#define PEER_HOLD_RATE	0x04	/* over its request rate */
#define PEER_HOLD_AUDIT	0x08	/* the audit log is behind */
#define PEER_HOLD_DROP	0x10	/* being dropped */

/* reasons passed to a peer's closed callback */
#define PEER_EOF	0	/* orderly close */
#define PEER_IOERR	1	/* read or write failed */
#define PEER_MALFORMED	2	/* framing, size, type or content error */

struct peer;
typedef int	(*peer_dispatch_t)(struct peer *, struct imsg *);
typedef void	(*peer_closed_t)(struct peer *, int);

struct peer {
	struct imsgbuf		 p_ibuf;
	struct event_base	*p_base;
	struct event		*p_ev;
	short			 p_events;
	peer_dispatch_t		 p_dispatch;
	peer_closed_t		 p_closed;
	void			*p_arg;
	char			 p_name[32];
	int			 p_open;
	int			 p_paused;	/* not reading: PEER_HOLD_* bits */
	size_t			 p_out_high;	/* and not while more than this
						   waits to be written (0: no
						   such limit) */
};

int	 peer_init(struct peer *, struct event_base *, int, size_t,
	    peer_dispatch_t, peer_closed_t, void *, const char *);
int	 peer_compose(struct peer *, uint32_t, uint32_t, int, const void *,
	    size_t);
int	 peer_composev2(struct peer *, uint32_t, uint32_t, int, const void *,
	    size_t, const void *, size_t);
void	 peer_update(struct peer *);
void	 peer_shutdown(struct peer *);
int	 peer_flush(struct peer *);
void	 peer_pause(struct peer *, int);
void	 peer_hold(struct peer *, int, int);
void	 peer_out_high(struct peer *, size_t);
int	 peer_reading(const struct peer *);
size_t	 peer_queued(const struct peer *);

/* log relay: the supervisor reads each child's stderr pipe */
struct logrelay;
struct logrelay *logrelay_start(struct event_base *, int, const char *,
	    pid_t);
void	 logrelay_stop(struct logrelay *);

int	 fd_nonblock(int);

#endif /* MVM_PROC_H */
