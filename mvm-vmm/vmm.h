#ifndef MVM_VMM_H
#define MVM_VMM_H

#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <jansson.h>

#include "agentproto.h"
#include "mvm.h"
#include "proc.h"
#include "sandbox.h"

#define VMM_BINDS_MAX		32
#define VMM_SOCK_WAIT_MS	10000	/* QEMU creates its sockets by then */
#define VMM_SHUTDOWN_MS		3000	/* agent SHUTDOWN, then QMP quit */
#define VMM_QUIT_MS		2000	/* QMP quit, then SIGKILL */
#define VMM_OUT_HIGH		(4 * 1024 * 1024)	/* pause the agent */
#define VMM_CONSOLE_TAIL	4096	/* kept to recognise a panic */

/* jail paths (inside the jail, after pivot_root) */
#define VMM_KERNEL		"/kernel"
#define VMM_INITRD		"/initrd"
#define VMM_RUNDIR		"/run"
#define VMM_SOCK_QMP		"/run/qmp.sock"
#define VMM_SOCK_AGENT		"/run/agent.sock"
#define VMM_SOCK_CONSOLE	"/run/console.sock"

struct vmm {
	struct event_base	*base;
	struct peer		 parent;
	struct mvm_child_config	 conf;
	struct mvm_vmm_config	 vc;
	int			 have_conf;
	int			 have_vc;
	struct mvm_vmm_bind	 binds[VMM_BINDS_MAX];
	int			 nbinds;
	int			 consolefd;	/* the console log file */
	uint64_t		 console_written;
	int			 console_full;
	char			 console_tail[VMM_CONSOLE_TAIL];
	size_t			 console_tail_len;
	int			 configured;
	pid_t			 qemu_pid;
	int			 qemu_errfd;	/* QEMU's stderr */
	struct bufferevent	*qemu_err;
	struct bufferevent	*console;
	struct bufferevent	*agent;
	struct bufferevent	*qmp;
	struct event		*sock_timer;
	struct event		*boot_timer;
	struct event		*stop_timer;
	struct event		*ev_chld;
	uint64_t		 t_start;
	int			 got_console;
	int			 hello_sent;
	int			 ready;
	int			 stopping;	/* 1 shutdown sent, 2 quit sent */
	int			 done_reason;	/* why we are going down */
	char			 done_msg[128];
	struct ap_rbuf		 rbuf;
	int			 agent_paused;
	int			 parent_paused;	/* the agent is behind */
	char			 qemu_version[64];
	char			 agent_name[32];	/* from HELLO */
	char			 agent_kernel[64];
	uint64_t		 agent_uptime;
	struct mvm_vmm_net	 grants[MVM_NET_GRANTS_MAX];	/* egress */
	int			 ngrants;
	int			 grants_pending;	/* NET_GRANTS sent */
	int			 done;		/* QEMU gone, DONE queued */
	struct event		*linger_timer;	/* DONE on its way out */
	int			 test_nocap;	/* MVM_TEST_VMM_NOCAP (test
						   builds): gets unchecked */
};

extern struct vmm vm;

/* main.c */
void	 vmm_linger(void);

/* jail.c */
void	 jail_build(void);
void	 jail_demote(void);

/* qemu.c */
void	 qemu_start(void);
void	 qemu_stop(void);
void	 qemu_reaped(int);
void	 qemu_sockets_connect(void);
void	 qemu_fail(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
uint64_t mono_ns(void);
void	 phase_send(uint32_t, const char *, const char *, uint64_t,
	    uint32_t);

/* agent.c */
void	 agent_connected(struct bufferevent *);
void	 agent_exec(struct imsg *);
void	 agent_stdin(struct imsg *);
void	 agent_signal(struct imsg *);
void	 agent_file_put(struct imsg *);
void	 agent_file_data(struct imsg *);
void	 agent_file_end(struct imsg *);
void	 agent_file_get(struct imsg *);
void	 agent_dir_put(struct imsg *);
void	 agent_dir_get(struct imsg *);
void	 agent_shutdown(void);
void	 agent_frame_send(uint32_t, uint32_t, const void *, size_t);
void	 agent_json_send(uint32_t, uint32_t, json_t *);

/* net.c */
int	 net_open(const struct ap_frame *, json_t *);
int	 net_frame(const struct ap_frame *, json_t *);
void	 net_fd(struct imsg *);
void	 net_refused(struct imsg *);
void	 net_closeall(void);

/* policy.c */
extern const struct sandbox_rule	vmm_policy[];
extern const size_t			vmm_policy_len;
int	 qemu_seccomp(void);

#endif /* MVM_VMM_H */
