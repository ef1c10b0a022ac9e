/*
 * imsg-style framing over AF_UNIX stream sockets, written for mvm.
 *
 * A message is a fixed header followed by its payload:
 *
 *	type	uint32	message type (enum imsg_type in mvm.h)
 *	len	uint32	header + payload, in bytes
 *	peerid	uint32	sender-defined: a guest id, a request id
 *	pid	uint32	sender's pid (informational; never trusted)
 *	flags	uint32	IMSGF_HASFD: one fd travels with this message
 *
 * At most one fd per message, passed with SCM_RIGHTS on the sendmsg(2)
 * that carries the first byte of the header, so it is always queued on
 * the receiving side by the time the header is parsed.  Received fds
 * get FD_CLOEXEC at once (MSG_CMSG_CLOEXEC).  Every buffer has a hard
 * maximum message size; a header claiming more is a protocol error.
 */
#ifndef MVM_IMSG_H
#define MVM_IMSG_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
#define IMSGF_HASFD		0x1
#define IMSG_MAXFDS		8	/* fds queued but not yet consumed */
#define IMSG_SCM_MAXFDS		253	/* one sendmsg(2) carries at most that
					   (SCM_MAX_FD): each is received */
#define IMSG_RBUF_MIN		4096

struct imsg_hdr {
	uint32_t	 type;
	uint32_t	 len;
	uint32_t	 peerid;
	uint32_t	 pid;
	uint32_t	 flags;
};

struct ibuf {
	TAILQ_ENTRY(ibuf)	 entry;
	uint8_t			*buf;
	size_t			 size;		/* bytes in buf */
	size_t			 sent;		/* bytes already written */
	int			 fd;		/* -1 or fd to pass */
};

struct msgbuf {
	TAILQ_HEAD(, ibuf)	 bufs;
	uint32_t		 queued;	/* messages */
	size_t			 bytes;		/* bytes not yet written */
};

struct imsgbuf {
	int			 fd;
	pid_t			 pid;
	size_t			 maxsize;	/* largest message accepted */
	size_t			 rmin;		/* read buffer kept at least */
	uint8_t			*rbuf;
	size_t			 rsize;		/* allocated */
	size_t			 rlen;		/* bytes held */
	int			 rfds[IMSG_MAXFDS];
	int			 nrfds;
	void			(*fdsink)(int);	/* imsgbuf_nofds */
	struct msgbuf		 w;
};

struct imsg {
	struct imsg_hdr		 hdr;
	void			*data;		/* payload, NULL if none */
	size_t			 datalen;
	int			 fd;		/* -1 unless IMSGF_HASFD */
};

int	 imsgbuf_init(struct imsgbuf *, int, size_t);
void	 imsgbuf_readsize(struct imsgbuf *, size_t);
void	 imsgbuf_nofds(struct imsgbuf *, void (*)(int));
void	 imsgbuf_clear(struct imsgbuf *);
ssize_t	 imsgbuf_read(struct imsgbuf *);
ssize_t	 imsg_get(struct imsgbuf *, struct imsg *);
int	 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 imsg_composev2(struct imsgbuf *, uint32_t, uint32_t, int,
	    const void *, size_t, const void *, size_t);
int	 imsgbuf_write(struct imsgbuf *);
int	 imsgbuf_flush(struct imsgbuf *);
int	 imsgbuf_queued(const struct imsgbuf *);
void	 imsg_free(struct imsg *);
int	 imsg_get_fd(struct imsg *);
int	 imsg_get_data(struct imsg *, void *, size_t);
uint32_t imsg_type(const struct imsg *);

#endif /* MVM_IMSG_H */
