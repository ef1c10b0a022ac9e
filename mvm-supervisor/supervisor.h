#ifndef MVM_SUPERVISOR_H
#define MVM_SUPERVISOR_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>
#include <sodium.h>

#include "config.h"
#include "mvm.h"
#include "proc.h"
#include "share.h"

#define MVM_CTL_CLIENTS_MAX	64	/* concurrent control connections */
#define MVM_CTL_HELLO_MS	5000	/* time to say HELLO */
#define MVM_CTL_ROOT_SLOTS	4	/* of those, kept for uid 0 */
#define MVM_CTL_STALL_MS	5000	/* a message begun must go on */
#define MVM_STOP_GRACE_MS	5000	/* children get this long to exit */
#define MVM_CTL_OUT_HIGH	(8 * 1024 * 1024)	/* queued to a client:
						   it is not read meanwhile */
#define MVM_CTL_OUT_MAX		(64 * 1024 * 1024)	/* past this, it is
						   dropped */

/*
 * Objects and who owns them.  Each has one owner, which alone frees it;
 * everybody else refers to it by id and looks it up each time (the
 * lookup fails once it is gone), or is its owner's child and dies first.
 *
 *	object		owned by		lives
 *	ctl_client	sv.clients		accept .. control_free
 *	guest		sv.guests		guest_create .. guest_destroy
 *	exec		its guest (g_execs)	exec_new .. exec_free
 *	share		its exec (x_shares); before the RUN, the client
 *			that declared it (cl_shares)
 *	copy (cp)	its guest (g_file_*), one at a time
 *	flow		its guest (g_flows)	net_open .. flow_free (net.c)
 *	image build	its client (cl_build*)	image.c
 *
 * The only pointers that cross objects point at the owner: x_guest and
 * f_guest (an exec or flow never outlives its guest: guest_destroy
 * frees them first).  Everything else is an id: a client by its cl_id
 * (x_client, g_up_client, g_file_client), a guest by its g_id (cl_put,
 * cl_stop, cl_pace, cl_follow), an exec or a flow by the (guest id, id)
 * key that callbacks from auditd, the signer, timers and evdns carry
 * (exec_key, flow_key).  Events whose argument is an object pointer
 * (g_timer, g_resume, cl_timer, cl_pace_ev, cl_rate_ev, cl_follow_ev)
 * belong to that object and are freed when it is torn down.
 *
 * Destroying takes two steps.  guest_destroy, exec_free and
 * control_free tear the object down at once (its events freed, fds
 * closed, records written, unlinked from every list so that no lookup
 * finds it), mark it dead and queue it; its memory is freed only by
 * the gc event (main.c), which runs from the top of the event loop.
 * A callback chain that still holds the pointer (a vmm's message that
 * failed a guest, which ended its command, which destroyed the guest)
 * finds a dead object, never freed memory, and must not act on it.
 * Dropping a client from deep inside a chain (control_send past
 * MVM_CTL_OUT_MAX) is itself deferred to the gc event.
 */

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

struct image {
	char		 im_name[MVM_NAME_MAX];
	char		 im_dir[MVM_ROOT_MAX];
	char		 im_kernel[MVM_ROOT_MAX + 64];
	char		 im_initrd[MVM_ROOT_MAX + 64];
	char		 im_kernel_sha256[65];
	char		 im_initrd_sha256[65];
	char		 im_kernel_version[64];
};

#define GUEST_CREATED		1
#define GUEST_BOOTING		2
#define GUEST_RUNNING		3
#define GUEST_STOPPING		4
#define GUEST_STOPPED		5
#define GUEST_FAILED		6

#define EXEC_OUT_HIGH		(4 * 1024 * 1024)	/* pause the vmm */
#define EXEC_STDIN_HOLD		(1024 * 1024)	/* then pause the client */
#define CTL_PACE_HIGH		(1024 * 1024)	/* client data queued to a
						   vmm: stop reading it */

struct guest;

/* one command run in a guest: mvmctl run, or exec in a named guest */
/* the secrets granted to one command (secret.c) */
struct grants {
	int			 gr_n;
	char			 gr_name[MVM_RUN_SECRETS_MAX][MVM_NAME_MAX];
	char			 gr_var[MVM_RUN_SECRETS_MAX][128];	/* or path */
	int			 gr_file[MVM_RUN_SECRETS_MAX];	/* a file */
	uint8_t			*gr_val[MVM_RUN_SECRETS_MAX];	/* sodium */
	size_t			 gr_len[MVM_RUN_SECRETS_MAX];
};

struct redact;			/* libshared/redact.h */

/* a host share of one command (share.c) */
struct share {
	uint32_t		 sh_mode;	/* MVM_ADD_DIR_RO, _RW */
	char			 sh_path[MVM_SHARE_PATH_MAX];	/* guest */
	char			 sh_host_tag[65];	/* host_path_tag */
	int			 sh_fd;		/* the stream, kept unnamed */
	struct share_reader	*sh_rd;		/* while it comes in */
	uint64_t		 sh_size;	/* stream bytes */
	uint64_t		 sh_files;	/* as the reader counted */
	uint64_t		 sh_bytes;
	int			 sh_back;	/* rw, after the command: */
#define SHARE_BACK_OK		1		/* came back whole */
#define SHARE_BACK_FAILED	2
	uint64_t		 sh_back_size;
	uint64_t		 sh_back_files;
	uint64_t		 sh_back_bytes;
	uint64_t		 sh_back_skipped;
	uint8_t			 sh_back_sha256[32];
};

struct exec {
	TAILQ_ENTRY(exec)	 x_entry;
	int			 x_dead;	/* freed at the next gc */
	struct guest		*x_guest;
	uint32_t		 x_id;		/* id towards the vmm */
	uint32_t		 x_client;	/* control client, 0: gone */
	int			 x_sent;	/* EXEC went to the vmm */
	int			 x_finished;
	int			 x_noout;	/* hash and count only */
	char			 x_run[40];	/* run id */
	struct mvm_vmm_exec	 x_ve;
	char			*x_blob;
	size_t			 x_bloblen;
	char			 x_argv_sha256[65];
	uint32_t		 x_timeout_s;
	uint8_t			*x_stdin;	/* stdin before the command */
	size_t			 x_stdinlen;	/* was sent: held here */
	int			 x_stdin_eof;
	struct event		*x_timer;	/* host-side hard timeout */
	int			 x_timedout;	/* host had to stop it */
	crypto_hash_sha256_state x_hstate[2];	/* stdout, stderr */
	uint8_t			 x_digest[2][32];
	uint64_t		 x_bytes[2];
	uint64_t		 x_dropped;	/* stopping: not delivered */
	uint64_t		 x_raw[2];	/* as the guest sent them */
	uint32_t		 x_claims;	/* MVM_EXIT_* the host did not
						   see: the guest's word */
	uint64_t		 x_t0;		/* ns: EXEC sent */
	uint64_t		 x_t1;		/* ns: EXIT seen */
	int64_t			 x_wall0;	/* wall ms: EXEC sent */
	int64_t			 x_wall1;	/* wall ms: EXIT seen */
	struct mvm_vmm_exit	 x_exit;
	uint32_t		 x_mode;	/* MVM_RUN_RUN, _EXEC */
	int			 x_want_receipt;
	/* once run.exited is on disk, with a receipt still to make */
	int			 x_exit_ready;
	struct mvm_ctl_exit	 x_ce;		/* what the client will get */
	char			*x_rec_line;	/* the run.exited record */
	char			*x_rec_stmt;	/* the statement to sign */
	size_t			 x_rec_stmtlen;
	uint8_t			 x_rec_leaf[32];
	struct grants		 x_grants;	/* secrets, for redaction */
	struct redact		*x_red[2];	/* stdout, stderr */
	uint64_t		 x_redactions;
	char			*x_vblob;	/* to the vmm: with secrets */
	size_t			 x_vbloblen;
	struct share		*x_shares;	/* --add-dir (share.c) */
	int			 x_nshares;
	int			 x_share_in;	/* the one the client sends */
	int			 x_share_want;	/* exec_send waits for them */
	int			 x_share_done;	/* all are in the guest */
	int			 x_share_phase;
#define SHARE_PHASE_PUT		1		/* into the guest */
#define SHARE_PHASE_GET		2		/* back, after the exit */
	int			 x_share_op;	/* the one put or got now */
	uint32_t		 x_share_id;	/* its request towards the vmm */
	uint64_t		 x_share_off;	/* put: stream bytes sent */
	uint64_t		 x_share_t0;	/* ms: the request went out */
	struct event		*x_share_ev;	/* pump, or the deadline */
	crypto_hash_sha256_state x_share_h;	/* get: the stream */
};
TAILQ_HEAD(execs, exec);

/* an egress grant (net.c) */
#define MVM_NET_GRANT_HOST_MAX	120	/* fits an audit token */
struct netgrant {
	char			 ng_host[MVM_NET_GRANT_HOST_MAX + 1];
	uint32_t		 ng_port;
};
struct flow;
TAILQ_HEAD(flows, flow);

struct guest {
	TAILQ_ENTRY(guest)	 g_entry;
	int			 g_dead;	/* freed at the next gc */
	uint32_t		 g_id;
	char			 g_name[MVM_NAME_MAX];
	int			 g_slot;
	uid_t			 g_uid;		/* its jail's (vmm, QEMU) */
	uid_t			 g_owner;	/* the client's that made it */
	int			 g_state;
	int			 g_transient;
	int			 g_accel;
	struct image		 g_image;
	uint32_t		 g_cpus;
	uint32_t		 g_memory_mib;
	struct mvm_profile	 g_profile;	/* as it was at run or up */
	uint32_t		 g_tier;	/* AP_TIER_*: the loosest here */
	int			 g_guest_root;	/* commands may run as root */
	pid_t			 g_pid;		/* vmm */
	struct peer		 g_peer;
	struct logrelay		*g_relay;
	struct event		*g_timer;	/* HELLO/READY watchdog */
	struct event		*g_resume;	/* backpressure check */
	uint64_t		 g_t0;		/* ns: vmm spawned */
	uint64_t		 g_phase[MVM_PHASE_MAX + 1];
	uint64_t		 g_created_ms;
	char			 g_agent[32];
	char			 g_kernel[64];
	char			 g_qemu[64];
	uint64_t		 g_guest_uptime_ms;
	char			 g_reason[128];
	uint32_t		 g_fail_err;	/* MVM_E* its waiters get */
	char			 g_dir[MVM_ROOT_MAX];
	char			 g_cgroup[3][MVM_ROOT_MAX];
	int			 g_ncgroup;
	struct execs		 g_execs;
	uint32_t		 g_next_id;
	uint32_t		 g_up_client;	/* mvmctl up waiting for ready */
	uint32_t		 g_file_client;	/* cp: its client, 0 if gone */
	uint32_t		 g_file_id;	/* cp in flight, or 0 */
	int			 g_file_put;	/* 1 to the guest, 0 from it */
	int			 g_file_ended;	/* put: FILE_END went out */
	uint64_t		 g_file_size;
	uint64_t		 g_file_bytes;
	char			 g_file_path_sha256[65];
	int			 g_done;	/* the vmm said VMM_DONE */
	struct netgrant		*g_net;		/* egress grants */
	int			 g_nnet;
	struct flows		 g_flows;
	int			 g_nflows;
	uint32_t		 g_net_idseen;	/* highest flow id asked */
	uint64_t		 g_net_bytes;	/* of flows that ended */
	uint32_t		 g_share_stale;	/* a share request given up on */
};
TAILQ_HEAD(guests, guest);

/* a client's token bucket (control.c, control_rate) */
struct ctl_bucket {
	int64_t			 b_tokens;	/* thousandths of a request */
	uint64_t		 b_ms;		/* last refill */
};
#define MVM_CTL_RATE		5000	/* requests a second, per client */
#define MVM_CTL_BURST		5000
#define MVM_CTL_ACT_RATE	50	/* of them, requests that change */
#define MVM_CTL_ACT_BURST	100	/* something (and are recorded) */

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 cl_entry;
	int			 cl_dead;	/* freed at the next gc */
	int			 cl_drop;	/* to be dropped at the next gc */
	struct peer		 cl_peer;
	struct event		*cl_timer;
	uid_t			 cl_uid;		/* SO_PEERCRED */
	gid_t			 cl_gid;
	uint32_t		 cl_groups[256];	/* SO_PEERGROUPS */
	int			 cl_ngroups;
	pid_t			 cl_pid;
	int			 cl_hello;
	int			 cl_closing;	/* flush, then close */
	uint32_t		 cl_id;
	uint32_t		 cl_put;	/* cp to this guest id: data */
	uint32_t		 cl_stop;	/* stop: waits for this guest */
	uint32_t		 cl_pace;	/* not read: this guest's vmm
						   is behind (control_pace) */
	struct event		*cl_pace_ev;
	struct ctl_bucket	 cl_rate[2];	/* all requests, changes */
	struct event		*cl_rate_ev;	/* held over its rate */
	int			 cl_build_fd;	/* image build: the layer */
	char			 cl_build[MVM_NAME_MAX];
	uint64_t		 cl_build_bytes;
	uint64_t		 cl_msgs;	/* messages dispatched */
	uint64_t		 cl_stall_msgs;	/* ... at the last check */
	size_t			 cl_stall_rlen;	/* partial bytes then */
	uint64_t		 cl_stall_since; /* ms; 0: not stalled */
	uint32_t		 cl_follow;	/* logs -f: guest id */
	off_t			 cl_follow_off;
	struct event		*cl_follow_ev;
	struct share		*cl_shares;	/* declared for the RUN */
	int			 cl_nshares;
	int			 cl_ran;	/* the RUN came */
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
	int			 children_stopping;
	int			 exit_code;
	struct event		*stop_timer;
	uint64_t		 start_ms;
	/* host key, as reported by the signer */
	uint8_t			 pubkey[32];
	uint32_t		 keyid;
	char			 keyname[MVM_KEYNAME_MAX];
	int			 key_created;
	int			 audit_ok;
	/* guests */
	struct guests		 guests;
	int			 nguests;
	uint32_t		 next_guest;
	uint8_t			*slots;		/* guest uid slots in use */
	int			 nslots;
	char			 images_dir[MVM_ROOT_MAX];
	int			 accel;		/* MVM_ACCEL_* */
	gid_t			 kvm_gid;	/* a vmm's group for it, or 0 */
	uint32_t		 tsc_khz;
	char			 cgroup_name[32];	/* mvm-<statedir hash> */
	struct mvm_ctl_metrics	 metrics;	/* counters; gauges at read */
};

extern struct supervisor sv;

/* main.c */
void	 supervisor_gc(void);
void	 supervisor_stop(int);
void	 supervisor_stop_children(void);
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
/* what an ack callback gets as its reply (NULL on error) */
struct audit_ackline {
	struct mvm_audit_ack	 al_ack;
	const char		*al_line;	/* MVM_AEV_LINE, else NULL */
	size_t			 al_linelen;
};
void	 aev_init(struct mvm_audit_event *, const char *);
void	 aev_subject(struct mvm_audit_event *, const char *, const char *);
void	 aev_label(struct mvm_audit_event *, const char *, const char *);
void	 aev_label_int(struct mvm_audit_event *, const char *, int64_t);
int	 audit_send(struct mvm_audit_event *, audit_cb, void *);
int	 audit_request(uint32_t, uint64_t, audit_cb, void *);
void	 audit_ctl(const char *, const char *, int64_t, int64_t,
	    uint32_t);
void	 audit_ctl_guest(const char *, const char *, const char *, int64_t,
	    int64_t, uint32_t);
int	 audit_dispatch(struct imsg *);
void	 audit_fail_all(void);
int	 audit_pending(void);
int	 audit_busy(void);
int	 audit_holding(void);
int	 audit_resume(uint32_t);

/* image.c */
int	 image_get(const char *, struct image *, uint32_t *);
int	 image_list(char [][MVM_NAME_MAX], int);
void	 image_init(void);
struct ctl_client;
uint32_t image_build_begin(struct ctl_client *, const struct mvm_ctl_guest *,
	    char *, size_t);
int	 image_build_file(struct ctl_client *, struct imsg *);
void	 image_build_abort(struct ctl_client *);
uint32_t image_rm(struct ctl_client *, const char *, char *, size_t);

/* guest.c */
void	 guest_init(void);
struct guest *guest_find(const char *);
struct guest *guest_create(const char *, const struct image *, uint32_t,
	    uint32_t, int, uid_t, uint32_t *);
struct guest *guest_find_for(const char *, uid_t);
int	 guest_start(struct guest *);
void	 guest_stop(struct guest *);
void	 guest_destroy(struct guest *);
void	 guest_gc(void);
struct guest *guest_by_id(uint32_t);
void	 guest_recover(void);
void	 guest_reap(pid_t, int);
int	 guest_owns_pid(pid_t);
void	 guest_stop_all(void);
void	 guest_kill_all(void);
void	 guest_cgroup_cleanup(void);
int	 guest_all_gone(void);
const char *guest_state_name(int);
void	 guest_info(const struct guest *, struct mvm_ctl_guest_info *);
struct exec *exec_new(struct guest *, uint32_t, const struct mvm_ctl_run *,
	    const char *, size_t, int, struct grants *, struct share **, int);
void	 exec_stdin(struct exec *, const uint8_t *, size_t);
void	 exec_send(struct exec *);
void	 exec_output(struct exec *, uint32_t, const uint8_t *, size_t);
void	 exec_exited(struct exec *, const struct mvm_vmm_exit *);
void	 exec_record(struct exec *);
void	 exec_throttle(struct exec *);
void	 exec_claims_token(const struct exec *, char *, size_t);
void	 guest_throttle(struct guest *, uint32_t);
void	 exec_fail(struct exec *, uint32_t, const char *);
void	 exec_exit_send(struct exec *, uint32_t);
void	*exec_key(const struct exec *);
struct exec *exec_from_key(void *);
int	 env_key_cmp(const void *, const void *);
void	 exec_drop(struct exec *, uint32_t, const char *);
void	 exec_free(struct exec *);
void	 exec_gc(void);
void	 guest_client_gone(uint32_t);
struct exec *exec_by_client(uint32_t);
int	 guest_file_put(struct guest *, uint32_t, const struct mvm_ctl_guest *);
void	 guest_file_data(struct guest *, const uint8_t *, size_t);
void	 guest_file_end(struct guest *);
int	 guest_file_get(struct guest *, uint32_t, const struct mvm_ctl_guest *);
void	 guest_file_error(struct guest *, const struct mvm_vmm_error *);
int	 guest_file_got(struct guest *, const uint8_t *, size_t);
int	 guest_file_got_end(struct guest *, const struct mvm_vmm_file *);
void	 guest_file_put_done(struct guest *);
void	 guest_file_abort(struct guest *, const char *);
void	 guest_file_client_gone(struct guest *);

/* run.c */
int	 control_run(struct ctl_client *, struct imsg *);
int	 control_stdin(struct ctl_client *, struct imsg *);
int	 control_guest(struct ctl_client *, struct imsg *);
int	 control_file(struct ctl_client *, struct imsg *);
void	 control_follow_stop(struct ctl_client *);

/* net.c */
uint32_t net_grants_parse(const char *const *, uint32_t, struct netgrant **,
	    int *, const char **, char *, size_t);
void	 net_send_grants(struct guest *);
int	 net_open(struct guest *, struct imsg *);
int	 net_closed(struct guest *, struct imsg *);
void	 net_guest_gone(struct guest *);

/* share.c */
int	 control_share(struct ctl_client *, struct imsg *);
int	 control_share_data(struct ctl_client *, struct imsg *);
const char *share_mode_name(uint32_t);
uint32_t share_mode_max(const struct share *, int);
void	 share_free(struct share *, int);
int	 share_ready(struct exec *);
int	 share_vmm_ok(struct guest *, uint32_t);
int	 share_back_start(struct exec *);
int	 share_vmm_data(struct guest *, uint32_t, const uint8_t *, size_t);
int	 share_vmm_end(struct guest *, const struct mvm_vmm_share *);
int	 share_vmm_error(struct guest *, const struct mvm_vmm_error *);
void	 share_back_abort(struct exec *, const char *);
void	 share_drop(struct exec *);
int	 share_returned(const struct exec *);

/* receipt.c */
void	 receipt_make(struct exec *, const struct audit_ackline *);
int	 signer_dispatch(struct imsg *);
void	 signer_fail_all(void);

/* control.c */
struct ctl_client *control_by_id(uint32_t);
void	 control_gc(void);
void	 control_stop_done(uint32_t);
int	 control_send(uint32_t, uint32_t, const void *, size_t, const void *,
	    size_t);
int	 control_error(uint32_t, uint32_t, const char *);
size_t	 control_queued(uint32_t);
void	 control_pause(uint32_t, int);
void	 control_pace(uint32_t, uint32_t);
void	 control_listen(void);
void	 control_closer_start(void);
void	 control_close(void);

/* state.c */
void	 state_prepare(void);
int	 state_open_key(void);
void	 state_write_pub(void);
int	 state_open_audit(const char *, const char *);
int	 mkdir_mode(const char *, mode_t, uid_t, gid_t);
int	 fsync_dir(const char *);

/* secret.c */
int	 control_secret(struct ctl_client *, struct imsg *);
void	 secret_name_tag(const char *, char[17]);
void	 host_path_tag(const uint8_t[32], char[65]);
uint32_t secret_put(uid_t, const char *, const uint8_t *, size_t);
uint8_t	*secret_get(uid_t, const char *, size_t *);
uint32_t grants_load(struct grants *, uid_t, const char *const *, uint32_t,
	    char *, size_t);
void	 grants_free(struct grants *);
void	 mkdir_parents(const char *);

#endif /* MVM_SUPERVISOR_H */
