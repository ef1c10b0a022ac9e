#ifndef MVM_SUPERVISOR_H
#define MVM_SUPERVISOR_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>

#include "config.h"
#include "mvm.h"
#include "proc.h"

#define MVM_CTL_CLIENTS_MAX	64	/* concurrent control connections */
#define MVM_CTL_HELLO_MS	5000	/* time to say HELLO */
#define MVM_STOP_GRACE_MS	5000	/* children get this long to exit */

struct child {
	const char		*c_name;	/* "signer", "auditd" */
	int			 c_role;
	pid_t			 c_pid;		/* 0 once reaped */
	uid_t			 c_uid;
	gid_t			 c_gid;
	int			 c_state;	/* MVM_PROC_* */
	struct peer		 c_peer;
	struct logrelay		*c_relay;
	struct event		*c_timer;	/* READY timeout */
	int			 c_status;	/* wait status once reaped */
};

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 cl_entry;
	struct peer		 cl_peer;
	struct event		*cl_timer;
	uid_t			 cl_uid;
	pid_t			 cl_pid;
	int			 cl_hello;
	int			 cl_closing;	/* flush, then close */
	uint32_t		 cl_id;
};
TAILQ_HEAD(ctl_clients, ctl_client);

struct supervisor {
	struct mvm_config	 conf;
	struct event_base	*base;
	int			 verbose;
	int			 foreground;
	char			 libexec[MVM_ROOT_MAX];
	char			 hostname[MVM_NAME_MAX];
	struct child		 signer;
	struct child		 auditd;
	int			 lockfd;
	int			 ctl_fd;
	struct event		*ctl_ev;
	struct ctl_clients	 clients;
	int			 nclients;
	uint32_t		 next_client;
	int			 stopping;
	int			 exit_code;
	struct event		*stop_timer;
	uint64_t		 start_ms;
	/* host key, as reported by the signer */
	uint8_t			 pubkey[32];
	uint32_t		 keyid;
	char			 keyname[MVM_KEYNAME_MAX];
	int			 key_created;
	int			 audit_ok;
};

extern struct supervisor sv;

/* main.c */
void	 supervisor_stop(int);
uint64_t now_ms(void);

/* child.c */
void	 child_start_all(void);
void	 child_reap(void);
void	 child_stop_all(void);
void	 child_stop_signer(void);
int	 child_all_ready(void);
int	 child_all_gone(void);
void	 child_kill_all(void);
int	 proc_status_read(pid_t, struct mvm_ctl_proc *);

/* audit.c */
typedef void	(*audit_cb)(void *, uint32_t, const void *);
void	 aev_init(struct mvm_audit_event *, const char *);
void	 aev_subject(struct mvm_audit_event *, const char *, const char *);
void	 aev_label(struct mvm_audit_event *, const char *, const char *);
void	 aev_label_int(struct mvm_audit_event *, const char *, int64_t);
int	 audit_send(struct mvm_audit_event *, audit_cb, void *);
int	 audit_request(uint32_t, uint64_t, audit_cb, void *);
void	 audit_ctl(const char *, const char *);
int	 audit_dispatch(struct imsg *);
void	 audit_fail_all(void);
int	 audit_pending(void);

/* control.c */
void	 control_listen(void);
void	 control_close(void);

/* state.c */
void	 state_prepare(void);
int	 state_open_key(void);
void	 state_write_pub(void);
int	 state_open_audit(const char *, const char *);
int	 mkdir_mode(const char *, mode_t, uid_t, gid_t);
int	 fsync_dir(const char *);
void	 mkdir_parents(const char *);

#endif /* MVM_SUPERVISOR_H */
