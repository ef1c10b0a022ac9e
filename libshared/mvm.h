/*
 * mvm.h: the only IPC header.  Every message that crosses a socket
 * between mvm processes is listed here with its fixed payload struct.
 *
 * Rules (STYLE.md section 5): fixed-width integers and char arrays only;
 * one struct per type; one reader per struct in msg.c; append to the
 * enum, never renumber; retired numbers stay as comments.
 */
#ifndef MVM_H
#define MVM_H

#include <stddef.h>
#include <stdint.h>

#include "imsg.h"

#ifndef MVM_VERSION
#define MVM_VERSION		"0.0.0"
#endif

#define MVM_PROTO_VERSION	1	/* supervisor <-> children */
#define MVM_CTL_VERSION		6	/* mvmctl <-> supervisor */

/* limits */
#define MVM_IMSG_MAX		(256 * 1024 + 4096)	/* internal peers */
#define MVM_CTL_MAX		(136 * 1024)	/* control clients: a run request */
#define MVM_NAME_MAX		64	/* guest, image, secret names */
#define MVM_TENANT_MAX		64
#define MVM_PROFILE_NAME_MAX	16	/* policy profile names */
#define MVM_KEYNAME_MAX		64	/* C2SP key name */
#define MVM_ORIGIN_MAX		128	/* checkpoint origin line */
#define MVM_ROOT_MAX		256	/* jail root path */
#define MVM_ERRMSG_MAX		256
#define MVM_SHARE_PATH_MAX	129	/* a share's guest path, NUL included */
#define MVM_RUN_SHARES_MAX	8	/* --add-dir per command */
#define MVM_SIGN_BODY_MAX	(64 * 1024)
#define MVM_READY_TIMEOUT_MS	10000

/* default locations (DESIGN.md section 4) */
#define MVM_STATEDIR		"/var/lib/mvm"
#define MVM_SOCKET		"/run/mvm/control.sock"
#define MVM_CONFFILE		"/etc/mvm/mvm.conf"
#define MVM_TENANT_DEFAULT	"local"

/* uid/gid layout inside [uid_base, uid_base + uid_count) */
#define MVM_UID_SIGNER		0
#define MVM_UID_AUDITD		1
#define MVM_UID_GUEST0		16	/* one per guest slot from here */

/* roles of child processes */
#define MVM_ROLE_SIGNER		1
#define MVM_ROLE_AUDITD		2
#define MVM_ROLE_VMM		3

enum imsg_type {
	IMSG_NONE = 0,

	/* supervisor <-> any child */
	IMSG_HELLO,		/* child -> sv	mvm_hello */
	IMSG_CONFIG,		/* sv -> child	mvm_child_config */
	IMSG_CONFIG_FD,		/* sv -> child	mvm_config_fd + fd */
	IMSG_CONFIG_END,	/* sv -> child	(empty) */
	IMSG_READY,		/* child -> sv	mvm_ready */

	/* signer */
	IMSG_SIGN_REQ,		/* sv|auditd -> signer	mvm_sign_req + body */
	IMSG_SIGN_RES,		/* signer -> requester	mvm_sign_res */

	/* test builds only (MVM_TEST_HOOKS); release builds reject it */
	IMSG_TEST_SYSCALL,	/* sv -> child	mvm_test_syscall */

	/* auditd */
	IMSG_AUDIT_EVENT,	/* sv -> auditd	mvm_audit_event */
	IMSG_AUDIT_ACK,		/* auditd -> sv	mvm_audit_ack, after fsync */
	IMSG_AUDIT_STOPPED,	/* auditd -> sv	mvm_audit_stopped */
	IMSG_AUDIT_CKPT_REQ,	/* sv -> auditd	mvm_audit_req */
	IMSG_AUDIT_CKPT_RES,	/* auditd -> sv	mvm_audit_ckpt */
	IMSG_AUDIT_PROOF_REQ,	/* sv -> auditd	mvm_audit_req */
	IMSG_AUDIT_PROOF_RES,	/* auditd -> sv	mvm_audit_proof */
	IMSG_AUDIT_RESUME,	/* sv -> auditd	mvm_audit_req (tenant) */
	IMSG_AUDIT_RESUMED,	/* auditd -> sv	mvm_audit_stopped (errno 0) */

	/* vmm: one per guest; it alone parses what the guest sends */
	IMSG_VMM_CONFIG,	/* sv -> vmm	mvm_vmm_config */
	IMSG_VMM_BIND,		/* sv -> vmm	mvm_vmm_bind: a path for the jail */
	IMSG_VMM_PHASE,		/* vmm -> sv	mvm_vmm_phase */
	IMSG_VMM_EXEC,		/* sv -> vmm	mvm_vmm_exec + argv/env blob */
	IMSG_VMM_STDIN,		/* sv -> vmm	mvm_vmm_data + bytes (none: EOF) */
	IMSG_VMM_SIGNAL,	/* sv -> vmm	mvm_vmm_signal */
	IMSG_VMM_STARTED,	/* vmm -> sv	mvm_vmm_started */
	IMSG_VMM_OUTPUT,	/* vmm -> sv	mvm_vmm_data + bytes */
	IMSG_VMM_EXIT,		/* vmm -> sv	mvm_vmm_exit */
	IMSG_VMM_ERROR,		/* vmm -> sv	mvm_vmm_error (one request) */
	IMSG_VMM_FILE_PUT,	/* sv -> vmm	mvm_vmm_file */
	IMSG_VMM_FILE_GET,	/* sv -> vmm	mvm_vmm_file */
	IMSG_VMM_FILE_DATA,	/* both		mvm_vmm_data + bytes */
	IMSG_VMM_FILE_END,	/* both		mvm_vmm_file (size, mode) */
	IMSG_VMM_OK,		/* vmm -> sv	mvm_vmm_data (id only) */
	IMSG_VMM_STOP,		/* sv -> vmm	(empty): stop the guest */
	IMSG_VMM_DONE,		/* vmm -> sv	mvm_vmm_done: QEMU is gone */
	IMSG_VMM_NET_GRANT,	/* sv -> vmm	mvm_vmm_net: before CONFIG_END */
	IMSG_VMM_NET_OPEN,	/* vmm -> sv	mvm_vmm_net: the guest asks */
	IMSG_VMM_NET_FD,	/* sv -> vmm	mvm_vmm_net + connected fd */
	IMSG_VMM_NET_REFUSED,	/* sv -> vmm	mvm_vmm_net (reason) */
	IMSG_VMM_NET_CLOSED,	/* vmm -> sv	mvm_vmm_net (reason, bytes) */
	IMSG_VMM_DIR_PUT,	/* sv -> vmm	mvm_vmm_share; then FILE_DATA,
				   FILE_END with its id; OK or ERROR */
	IMSG_VMM_DIR_GET,	/* sv -> vmm	mvm_vmm_share (vh_size: max) */
	IMSG_VMM_DIR_END,	/* vmm -> sv	mvm_vmm_share: a DIR_GET's end,
				   after its FILE_DATA (or ERROR) */

	/* control socket: mvmctl <-> supervisor */
	IMSG_CTL_HELLO = 100,	/* both ways	mvm_ctl_hello */
	IMSG_CTL_ERROR,		/* sv -> ctl	mvm_ctl_error */
	IMSG_CTL_STATUS_REQ,	/* ctl -> sv	(empty) */
	IMSG_CTL_STATUS_PROC,	/* sv -> ctl	mvm_ctl_proc, one per process */
	IMSG_CTL_STATUS_END,	/* sv -> ctl	mvm_ctl_status */
	IMSG_CTL_KEY_REQ,	/* ctl -> sv	(empty) */
	IMSG_CTL_KEY_RES,	/* sv -> ctl	mvm_ctl_key */
	IMSG_CTL_AUDIT_CKPT_REQ, /* ctl -> sv	mvm_audit_req (tenant only) */
	IMSG_CTL_AUDIT_CKPT_RES, /* sv -> ctl	mvm_audit_ckpt */
	IMSG_CTL_RUN,		/* ctl -> sv	mvm_ctl_run + argv/env blob */
	IMSG_CTL_STDIN,		/* ctl -> sv	bytes (none: EOF) */
	IMSG_CTL_STARTED,	/* sv -> ctl	mvm_ctl_started */
	IMSG_CTL_OUTPUT,	/* sv -> ctl	mvm_vmm_data + bytes */
	IMSG_CTL_EXIT,		/* sv -> ctl	mvm_ctl_exit */
	IMSG_CTL_GUEST_REQ,	/* ctl -> sv	mvm_ctl_guest: stop, rm, ... */
	IMSG_CTL_GUEST_INFO,	/* sv -> ctl	mvm_ctl_guest_info (ls, report) */
	IMSG_CTL_END,		/* sv -> ctl	(empty): end of a listing */
	IMSG_CTL_OK,		/* sv -> ctl	(empty) */
	IMSG_CTL_FILE,		/* both		mvm_vmm_file: cp header/end */
	IMSG_CTL_FILE_DATA,	/* both		bytes */
	IMSG_CTL_LOGS,		/* sv -> ctl	console bytes */
	IMSG_CTL_RECEIPT,	/* sv -> ctl	the receipt (DSSE JSON) */
	IMSG_CTL_METRICS_REQ,	/* ctl -> sv	(empty) */
	IMSG_CTL_METRICS_RES,	/* sv -> ctl	mvm_ctl_metrics */
	IMSG_CTL_POLICY_REQ,	/* ctl -> sv	mvm_ctl_policy_req */
	IMSG_CTL_POLICY_INFO,	/* sv -> ctl	mvm_profile, one each; END */
	IMSG_CTL_SECRET_REQ,	/* ctl -> sv	mvm_ctl_secret [+ value] */
	IMSG_CTL_SECRET_INFO,	/* sv -> ctl	mvm_ctl_secret, one each; END */
	IMSG_CTL_AUDIT_RESUME,	/* ctl -> sv	mvm_audit_req; CTL_OK (root) */
	/* test builds only (MVM_TEST_HOOKS); release builds reject it */
	IMSG_CTL_TEST,		/* ctl -> sv	mvm_ctl_test */
	/* host shares (--add-dir): declared before RUN, streams after */
	IMSG_CTL_SHARE,		/* ctl -> sv	mvm_ctl_share, one per share */
	IMSG_CTL_SHARE_DATA,	/* both		bytes of a share stream */
	IMSG_CTL_SHARE_END,	/* ctl -> sv (empty); sv -> ctl mvm_ctl_share */
};

/*
 * Typed error codes carried in replies.  Values below 1000 are errno
 * values.  Never reuse a retired number.
 */
#define MVM_EVERSION		1000	/* protocol version mismatch */
#define MVM_EPERM		1001	/* caller not allowed */
#define MVM_EINVAL		1002	/* malformed or out-of-range request */
#define MVM_ENOTREADY		1003	/* daemon still starting */
#define MVM_ESIGNKIND		1004	/* signing kind not allowed here */
#define MVM_ESIGNCONTENT	1005	/* content failed the signer's checks */
#define MVM_EAUDIT		1006	/* audit log stopped: fail closed */
#define MVM_ESHUTDOWN		1007	/* supervisor is stopping */
#define MVM_EBUSY		1008	/* too many clients or requests */
#define MVM_EPOLICY		1009	/* denied by policy */
#define MVM_ENOIMAGE		1010	/* no such image */
#define MVM_ETOOBIG		1011	/* argv, env or a file over the limit */
#define MVM_EEXIST		1012	/* a guest of that name exists */
#define MVM_ENOGUEST		1013	/* no such guest */
#define MVM_ENOQEMU		1014	/* QEMU is missing or unusable */
#define MVM_EIMAGE		1015	/* image damaged: file or hash */
#define MVM_EBOOT		1016	/* the guest failed to boot */
#define MVM_EGUEST		1017	/* the guest failed (protocol, died) */
#define MVM_ENOTFOUND		1018	/* command or file not in the guest */
#define MVM_ESTATE		1019	/* guest in the wrong state for that */
#define MVM_ECAPACITY		1020	/* no free guest slot */
#define MVM_ESIGN		1021	/* the signer refused or is gone */
#define MVM_ENOSECRET		1022	/* no such secret */
#define MVM_ESHARE		1023	/* a host share did not get across */
#define MVM_EQUOTA		1024	/* over an image quota of mvm.conf */
#define MVM_EINUSE		1025	/* image in use, or the default */

/* IMSG_HELLO */
struct mvm_hello {
	uint32_t	 he_proto;		/* MVM_PROTO_VERSION */
	uint32_t	 he_role;		/* MVM_ROLE_* */
	char		 he_version[32];	/* MVM_VERSION */
};

/* IMSG_CONFIG */
struct mvm_child_config {
	uint32_t	 cc_proto;
	uint32_t	 cc_uid;
	uint32_t	 cc_gid;
	uint32_t	 cc_verbose;
	char		 cc_root[MVM_ROOT_MAX];	/* mount point for the jail */
	char		 cc_keyname[MVM_KEYNAME_MAX];	/* signer: for a new key;
						   auditd: the key in use */
	char		 cc_hostname[MVM_NAME_MAX];
	uint32_t	 cc_keyid;		/* auditd: key id in use */
	uint32_t	 cc_batch_max;		/* auditd: records per commit */
	uint32_t	 cc_batch_us;		/* auditd: commit delay bound */
	uint32_t	 cc_group;		/* vmm: one supplementary group
						   (/dev/kvm's), or 0 */
};

/* IMSG_CONFIG_FD */
struct mvm_config_fd {
	uint32_t	 cf_kind;
#define MVM_FD_SIGNER_KEY	1	/* signer: host key file, O_RDWR */
#define MVM_FD_PEER		2	/* signer/auditd: socket to the other */
#define MVM_FD_AUDIT_LOG	3	/* auditd: tenant log, O_APPEND */
#define MVM_FD_AUDIT_CKPT	4	/* auditd: tenant checkpoints, O_APPEND */
#define MVM_FD_CONSOLE		5	/* vmm: the guest's console log */
	char		 cf_name[MVM_TENANT_MAX];	/* tenant, if any */
};

/* IMSG_READY */
struct mvm_ready {
	uint32_t	 rd_role;
	uint32_t	 rd_flags;
#define MVM_READY_KEY_CREATED	0x1	/* signer made a new host key */
	uint32_t	 rd_keyid;		/* signer: C2SP key id */
	uint8_t		 rd_pubkey[32];		/* signer: Ed25519 public */
	char		 rd_keyname[MVM_KEYNAME_MAX];
};

/*
 * IMSG_SIGN_REQ: the fixed part, followed by sr_len bytes of body whose
 * form depends on the kind.  The signer parses and checks each kind
 * itself and signs a domain-separated message; it never signs raw bytes.
 */
struct mvm_sign_req {
	uint32_t	 sr_id;			/* echoed in the reply */
	uint32_t	 sr_kind;
#define MVM_SIGN_AUDIT_RECORD	1	/* body: record JSON without "sig" */
#define MVM_SIGN_CHECKPOINT	2	/* body: struct mvm_sign_checkpoint */
#define MVM_SIGN_RECEIPT	3	/* body: in-toto Statement JSON */
#define MVM_SIGN_SNAPSHOT	4	/* body: snapshot manifest JSON */
#define MVM_SIGN_KIND_MAX	4
	uint32_t	 sr_len;
	uint32_t	 sr_reserved;
};

struct mvm_sign_checkpoint {
	char		 ck_origin[MVM_ORIGIN_MAX];
	uint64_t	 ck_size;
	uint8_t		 ck_root[32];
};

/* IMSG_SIGN_RES */
struct mvm_sign_res {
	uint32_t	 ss_id;
	uint32_t	 ss_kind;
	uint32_t	 ss_error;		/* 0 or MVM_E* */
	uint32_t	 ss_keyid;
	uint8_t		 ss_sig[64];
};

/* IMSG_TEST_SYSCALL */
struct mvm_test_syscall {
	uint32_t	 ts_which;
#define MVM_TEST_SYS_SOCKET	1	/* socket(AF_INET, ...) */
#define MVM_TEST_SYS_OPEN	2	/* openat("/etc/passwd") */
#define MVM_TEST_SYS_FTRUNCATE	3	/* ftruncate on a received fd */
#define MVM_TEST_SYS_PWRITE	4	/* pwrite: rewrite in place */
#define MVM_TEST_SYS_FALLOCATE	5	/* fallocate: punch or collapse */
#define MVM_TEST_SYS_SETFL	6	/* fcntl(F_SETFL): clear O_APPEND */
/* mvm-vmm only: misbehave towards the supervisor */
#define MVM_TEST_VMM_GARBAGE	7	/* bytes that are no message */
#define MVM_TEST_VMM_LIE	8	/* EXIT for a command never started */
#define MVM_TEST_VMM_NOCAP	9	/* pass a file get's data unchecked */
};

/* IMSG_CTL_TEST: have a guest's vmm run IMSG_TEST_SYSCALL (test builds) */
struct mvm_ctl_test {
	char		 ct_name[MVM_NAME_MAX];
	uint32_t	 ct_which;
};

/* auditd: one key/value of an event's subject or labels */
struct mvm_audit_kv {
	char		 kv_key[32];
	char		 kv_val[136];		/* a token (record.h) */
	int64_t		 kv_int;
	uint32_t	 kv_isint;		/* value is kv_int */
	uint32_t	 kv_reserved;
};
#define MVM_AUDIT_SUBJECT_MAX	8
#define MVM_AUDIT_LABELS_MAX	24	/* run.admitted has up to 20 */
#define MVM_TYPE_MAX		64

/* IMSG_AUDIT_EVENT */
struct mvm_audit_event {
	uint32_t	 ae_id;			/* echoed in the ack */
	uint32_t	 ae_nsubject;
	uint32_t	 ae_nlabels;
	uint32_t	 ae_flags;
#define MVM_AEV_LINE		0x1	/* ack with the record line */
	char		 ae_tenant[MVM_TENANT_MAX];
	char		 ae_type[MVM_TYPE_MAX];	/* category.verb */
	struct mvm_audit_kv ae_subject[MVM_AUDIT_SUBJECT_MAX];
	struct mvm_audit_kv ae_labels[MVM_AUDIT_LABELS_MAX];
};

/*
 * IMSG_AUDIT_ACK: sent once the record is on disk (fdatasync).  For an
 * event with MVM_AEV_LINE the record line (no newline) follows.
 */
struct mvm_audit_ack {
	uint32_t	 aa_id;
	uint32_t	 aa_error;		/* 0 or MVM_E* */
	uint64_t	 aa_seq;		/* = leaf index */
	uint8_t		 aa_leaf[32];		/* Merkle leaf hash */
};
#define MVM_AUDIT_LINE_MAX	(16 * 1024)	/* = REC_LINE_MAX */

/* IMSG_AUDIT_STOPPED: the log failed; nothing more is appended */
struct mvm_audit_stopped {
	uint32_t	 as_errno;
	uint32_t	 as_reserved;
	char		 as_tenant[MVM_TENANT_MAX];
};

/* IMSG_AUDIT_CKPT_REQ, IMSG_AUDIT_PROOF_REQ, IMSG_CTL_AUDIT_CKPT_REQ */
struct mvm_audit_req {
	uint32_t	 ar_id;
	uint32_t	 ar_reserved;
	uint64_t	 ar_index;		/* proof: leaf index */
	char		 ar_tenant[MVM_TENANT_MAX];
};

#define MVM_NOTE_MAX		1024
/* IMSG_AUDIT_CKPT_RES, IMSG_CTL_AUDIT_CKPT_RES */
struct mvm_audit_ckpt {
	uint32_t	 ac_id;
	uint32_t	 ac_error;
	uint64_t	 ac_size;
	char		 ac_note[MVM_NOTE_MAX];	/* signed note text */
};

#define MVM_AUDIT_PROOF_MAX	64
/* IMSG_AUDIT_PROOF_RES: inclusion of ap_index in the checkpoint */
struct mvm_audit_proof {
	uint32_t	 ap_id;
	uint32_t	 ap_error;
	uint64_t	 ap_index;
	uint64_t	 ap_size;
	uint32_t	 ap_nhash;
	uint32_t	 ap_reserved;
	uint8_t		 ap_leaf[32];
	uint8_t		 ap_hash[MVM_AUDIT_PROOF_MAX][32];
	char		 ap_note[MVM_NOTE_MAX];
};

/* IMSG_VMM_CONFIG */
struct mvm_vmm_config {
	uint32_t	 vc_guest;		/* guest id: peerid of every msg */
	uint32_t	 vc_cpus;
	uint32_t	 vc_memory_mib;
	uint32_t	 vc_accel;
#define MVM_ACCEL_TCG		1
#define MVM_ACCEL_KVM		2
	uint32_t	 vc_boot_timeout_ms;
	uint32_t	 vc_tsc_khz;		/* for tsc_early_khz=, 0: none */
	uint32_t	 vc_console_max;	/* console log bytes kept */
	uint32_t	 vc_net_mib;		/* egress bytes, all flows */
	char		 vc_name[MVM_NAME_MAX];
	char		 vc_qemu[MVM_ROOT_MAX];	/* qemu-system-x86_64 */
	char		 vc_kernel[MVM_ROOT_MAX];	/* host paths, bound */
	char		 vc_initrd[MVM_ROOT_MAX];	/* into the jail */
};

/* IMSG_VMM_BIND: bind this host path, read-only, at the same path */
struct mvm_vmm_bind {
	uint32_t	 vb_flags;
#define MVM_BIND_DIR		0x1
#define MVM_BIND_DEV		0x2	/* a device node: keep dev access */
	uint32_t	 vb_reserved;
	char		 vb_path[MVM_ROOT_MAX];
};

/* IMSG_VMM_PHASE: boot phases, CLOCK_MONOTONIC nanoseconds */
struct mvm_vmm_phase {
	uint32_t	 vp_phase;
#define MVM_PHASE_VMM		1	/* vmm started, jail built */
#define MVM_PHASE_QEMU		2	/* QEMU exec'd */
#define MVM_PHASE_CONSOLE	3	/* first console byte */
#define MVM_PHASE_HELLO		4	/* agent HELLO received */
#define MVM_PHASE_READY		5	/* ready for requests */
#define MVM_PHASE_MAX		5
	uint32_t	 vp_agent_proto;	/* HELLO: agent's protocol */
	uint64_t	 vp_ns;
	uint64_t	 vp_guest_uptime_ms;	/* HELLO: boot to agent start */
	char		 vp_agent[32];		/* HELLO: agent version */
	char		 vp_kernel[64];		/* HELLO: guest uname -r */
	char		 vp_qemu[64];		/* QEMU: its version */
};

/*
 * IMSG_VMM_EXEC: followed by argc, envc, then filec NUL-terminated
 * strings; the last are "PATH=BASE64", secrets granted as files.  The
 * command runs as the guest user ve_uid (AP_UID_*: root only with
 * MVM_EXEC_ROOT, and then 0).
 */
struct mvm_vmm_exec {
	uint32_t	 ve_id;
	uint32_t	 ve_argc;
	uint32_t	 ve_envc;
	uint32_t	 ve_filec;
	uint32_t	 ve_uid;		/* AP_UID_* */
	uint32_t	 ve_flags;
#define MVM_EXEC_STDIN		0x1	/* stdin frames follow */
#define MVM_EXEC_ROOT		0x2	/* as guest root (--guest-root) */
	uint32_t	 ve_timeout_ms;
	uint32_t	 ve_seccomp;		/* AP_TIER_* (agentproto.h) */
	uint64_t	 ve_stdout_max;
	uint64_t	 ve_stderr_max;
	char		 ve_cwd[MVM_ROOT_MAX];
};
#define MVM_EXEC_BLOB_MAX	(128 * 1024)	/* argv + env bytes */
#define MVM_EXEC_ARGC_MAX	1024
#define MVM_EXEC_ENVC_MAX	256

/* IMSG_VMM_STDIN, IMSG_VMM_OUTPUT, IMSG_VMM_FILE_DATA, IMSG_VMM_OK */
struct mvm_vmm_data {
	uint32_t	 vd_id;
	uint32_t	 vd_stream;
#define MVM_STREAM_STDOUT	1
#define MVM_STREAM_STDERR	2
};
#define MVM_DATA_MAX		(64 * 1024)	/* bytes per data message */
#define MVM_IMAGE_LAYER_MAX	(2ULL * 1024 * 1024 * 1024)

/* IMSG_VMM_SIGNAL */
struct mvm_vmm_signal {
	uint32_t	 vs_id;
	uint32_t	 vs_signal;
};

/* IMSG_VMM_STARTED */
struct mvm_vmm_started {
	uint32_t	 vs_id;
	uint32_t	 vs_pid;
};

/* IMSG_VMM_EXIT */
struct mvm_vmm_exit {
	uint32_t	 vx_id;
	uint32_t	 vx_flags;
#define MVM_EXIT_CODE		0x01	/* vx_code is valid */
#define MVM_EXIT_SIGNAL		0x02	/* vx_signal is valid */
#define MVM_EXIT_TIMEDOUT	0x04
#define MVM_EXIT_OUT_TRUNC	0x08
#define MVM_EXIT_ERR_TRUNC	0x10
	int32_t		 vx_code;
	int32_t		 vx_signal;
	uint64_t	 vx_stdout_bytes;
	uint64_t	 vx_stderr_bytes;
};

/* IMSG_VMM_ERROR: the agent refused one request */
struct mvm_vmm_error {
	uint32_t	 ve_id;
	uint32_t	 ve_code;
#define MVM_AGENT_EVERSION	1
#define MVM_AGENT_ENOTREADY	2
#define MVM_AGENT_EMALFORMED	3
#define MVM_AGENT_EUNKNOWN	4
#define MVM_AGENT_EBADREQ	5
#define MVM_AGENT_ENOTFOUND	6
#define MVM_AGENT_ETOOLARGE	7
#define MVM_AGENT_EIO		8
#define MVM_AGENT_EBUSY		9
#define MVM_AGENT_EDENIED	10
#define MVM_AGENT_EPROTO	11	/* the vmm's verdict: the agent broke
					   the protocol (sent more than max,
					   or not what it announced) */
	char		 ve_msg[128];
};

/* IMSG_VMM_FILE_PUT, IMSG_VMM_FILE_GET, IMSG_VMM_FILE_END */
struct mvm_vmm_file {
	uint32_t	 vf_id;
	uint32_t	 vf_mode;
	uint64_t	 vf_size;		/* PUT: size; GET: max; END: size */
	char		 vf_path[MVM_ROOT_MAX];
};
/*
 * mvmctl cp, each way.  A get carries its max (this, or less if the
 * client asked for less); the vmm, the supervisor and mvmctl each hold
 * the guest to it, and to the size it announces at the end.
 */
#define MVM_CP_MAX		(256ULL * 1024 * 1024)

/*
 * Egress (agentproto.h): a grant (NET_GRANT), a flow the guest asks for
 * (NET_OPEN: vn_host, vn_port), the host's answer (NET_FD with the
 * connected socket, or NET_REFUSED with vn_reason), and its end
 * (NET_CLOSED: vn_reason, the byte counts).  vn_id is the agent's flow
 * id (AP_ID_GUEST set).
 */
struct mvm_vmm_net {
	uint32_t	 vn_id;
	uint32_t	 vn_port;
	uint32_t	 vn_reason;
#define MVM_NET_NOT_GRANTED	1	/* refused: no grant names it */
#define MVM_NET_DENIED_ADDRESS	2	/* refused: an always-denied range */
#define MVM_NET_RESOLVE		3	/* refused: the name did not resolve */
#define MVM_NET_CONNECT		4	/* refused: the connection failed */
#define MVM_NET_LIMIT		5	/* refused or closed: a limit */
#define MVM_NET_DONE		6	/* closed: both ends finished */
#define MVM_NET_GUEST		7	/* closed: by the guest */
#define MVM_NET_ERROR		8	/* closed: the remote socket failed */
#define MVM_NET_STOPPED		9	/* closed: the guest stopped */
#define MVM_NET_REASON_MAX	9
	uint32_t	 vn_reserved;
	uint64_t	 vn_bytes_out;		/* guest -> remote */
	uint64_t	 vn_bytes_in;		/* remote -> guest */
	char		 vn_host[256];		/* ap_net_host() */
};
#define MVM_NET_GRANTS_MAX	64		/* = AP_NET_GRANTS_MAX */
const char *mvm_net_reason(uint32_t);

/*
 * Host shares (libshared/share.h): IMSG_VMM_DIR_PUT (vh_size: the
 * stream's bytes), IMSG_VMM_DIR_GET (vh_size: the most the stream may
 * have), IMSG_VMM_DIR_END (the stream's bytes and the counts the vmm's
 * reader made; vh_skipped as the agent reports it).  vh_path is the
 * guest directory (share_guest_path_ok), empty in DIR_END.  What a
 * DIR_PUT makes belongs to the guest user vh_uid (AP_UID_*), its
 * command's; 0 in the others.
 */
struct mvm_vmm_share {
	uint32_t	 vh_id;
	uint32_t	 vh_uid;
	uint64_t	 vh_size;
	uint64_t	 vh_files;		/* entries */
	uint64_t	 vh_bytes;		/* file data and link targets */
	uint64_t	 vh_skipped;		/* left out by the agent */
	char		 vh_path[MVM_SHARE_PATH_MAX];
};

/* IMSG_VMM_DONE: QEMU is gone; the vmm exits after this */
struct mvm_vmm_done {
	uint32_t	 vd_reason;
#define MVM_DONE_STOPPED	1	/* asked to stop, it stopped */
#define MVM_DONE_POWEROFF	2	/* the guest powered off */
#define MVM_DONE_BOOT_TIMEOUT	3	/* no agent HELLO in time */
#define MVM_DONE_QEMU_EXIT	4	/* QEMU exited before ready */
#define MVM_DONE_PROTOCOL	5	/* the guest broke the protocol */
#define MVM_DONE_PANIC		6	/* the kernel panicked */
#define MVM_DONE_QEMU_FAILED	7	/* QEMU could not start */
	int32_t		 vd_status;		/* QEMU wait status */
	char		 vd_msg[128];
};

/* IMSG_CTL_RUN: run (a throwaway guest), up (a named one), exec (in
 * a running one); followed by argc then envc ("K=V") strings */
struct mvm_ctl_run {
	uint32_t	 cr_mode;
#define MVM_RUN_RUN		1
#define MVM_RUN_UP		2
#define MVM_RUN_EXEC		3
	uint32_t	 cr_flags;
#define MVM_RUN_STDIN		0x1	/* STDIN messages follow */
#define MVM_RUN_NOOUTPUT	0x2	/* hash, count, do not stream */
#define MVM_RUN_RECEIPT		0x4	/* a signed receipt before EXIT */
#define MVM_RUN_GUEST_ROOT	0x8	/* run: as guest root; up: allow it */
	uint32_t	 cr_cpus;		/* 0: default */
	uint32_t	 cr_memory_mib;		/* 0: default */
	uint32_t	 cr_timeout_s;		/* 0: none */
	uint32_t	 cr_argc;
	uint32_t	 cr_envc;
	uint32_t	 cr_seccomp;		/* AP_TIER_*; 0: the profile's */
	uint32_t	 cr_secretc;		/* "NAME=VAR" after the env */
	uint32_t	 cr_pflags;
#define MVM_POLICY_ACK		0x1	/* --ack-permissive */
	uint32_t	 cr_allowc;		/* "HOST:PORT" after secrets */
	uint32_t	 cr_sharec;		/* IMSG_CTL_SHARE sent before */
	char		 cr_profile[MVM_PROFILE_NAME_MAX];	/* "": default */
	char		 cr_image[MVM_NAME_MAX];	/* "": default */
	char		 cr_name[MVM_NAME_MAX];		/* "": generated */
	char		 cr_cwd[MVM_ROOT_MAX];		/* "": / */
};

/*
 * A policy profile (policy.c): what a run or guest under it may ask
 * for.  Also IMSG_CTL_POLICY_INFO, as the supervisor applies it (the
 * built-in table, tightened by mvm.conf).
 */
struct mvm_profile {
	char		 pr_name[MVM_PROFILE_NAME_MAX];
	uint32_t	 pr_env;		/* --env allowed */
	uint32_t	 pr_secrets;		/* --secret allowed */
	uint32_t	 pr_add_dir;		/* MVM_ADD_DIR_* at most */
#define MVM_ADD_DIR_NONE	0
#define MVM_ADD_DIR_RO		1
#define MVM_ADD_DIR_RW		2
	uint32_t	 pr_network;		/* egress grants allowed */
	uint32_t	 pr_seccomp;		/* AP_TIER_*: default, loosest */
	uint32_t	 pr_cpus_max;
	uint32_t	 pr_memory_max_mib;
	uint32_t	 pr_timeout_max_s;	/* 0: no ceiling */
	uint32_t	 pr_ack;		/* needs --ack-permissive */
	uint32_t	 pr_guest_root;		/* --guest-root allowed */
};

/*
 * IMSG_CTL_SECRET_REQ: put (the value follows, never echoed), ls, rm.
 * IMSG_CTL_SECRET_INFO: one per secret, never with its value.
 */
struct mvm_ctl_secret {
	uint32_t	 sc_op;
#define MVM_SECRET_PUT		1
#define MVM_SECRET_LS		2
#define MVM_SECRET_RM		3
	uint32_t	 sc_size;		/* INFO: value bytes */
	int64_t		 sc_mtime;		/* INFO: wall seconds */
	char		 sc_name[MVM_NAME_MAX];
	int64_t		 sc_owner;		/* INFO: its owner's uid; RM by
						   root: whose (-1: root's) */
};
#define MVM_SECRET_MAX		(64 * 1024)	/* a value, bytes */
#define MVM_RUN_SECRETS_MAX	8		/* secrets per run */

/*
 * IMSG_CTL_SHARE, one per --add-dir, before IMSG_CTL_RUN (cr_sharec of
 * them): the guest path, ro or rw, and the SHA-256 of the host path
 * (mvmctl's; the host path itself never leaves mvmctl).  The streams
 * follow once the run is admitted (IMSG_CTL_STARTED): SHARE_DATA then
 * an empty SHARE_END, share by share in the order declared.
 * IMSG_CTL_SHARE_END from the supervisor, after a clean exit, ends what
 * came back of an rw share (SHARE_DATA before it): the stream's bytes,
 * its SHA-256 and counts, or sh_error and sh_msg if it did not come.
 */
struct mvm_ctl_share {
	uint32_t	 sh_mode;		/* MVM_ADD_DIR_RO, _RW */
	uint32_t	 sh_error;		/* END: 0, or MVM_E* */
	uint64_t	 sh_size;		/* END: stream bytes */
	uint64_t	 sh_files;		/* END: entries */
	uint64_t	 sh_bytes;		/* END: file data, link targets */
	uint64_t	 sh_skipped;		/* END: left out in the guest */
	uint8_t		 sh_sha256[32];		/* SHARE: host path; END: stream */
	char		 sh_path[MVM_SHARE_PATH_MAX];	/* guest path */
	char		 sh_msg[128];		/* END: why nothing came */
};

/* IMSG_CTL_POLICY_REQ */
struct mvm_ctl_policy_req {
	char		 pq_name[MVM_PROFILE_NAME_MAX];	/* "": all */
};

/* IMSG_CTL_STARTED */
struct mvm_ctl_started {
	char		 cs_run[40];		/* run id */
	char		 cs_guest[MVM_NAME_MAX];
	char		 cs_tenant[MVM_TENANT_MAX];	/* whose log */
};

/* IMSG_CTL_EXIT */
struct mvm_ctl_exit {
	char		 ce_run[40];
	char		 ce_guest[MVM_NAME_MAX];
	uint32_t	 ce_flags;		/* MVM_EXIT_* */
	int32_t		 ce_code;
	int32_t		 ce_signal;
	uint32_t	 ce_accel;		/* MVM_ACCEL_* */
	uint64_t	 ce_stdout_bytes;
	uint64_t	 ce_stderr_bytes;
	uint8_t		 ce_stdout_sha256[32];
	uint8_t		 ce_stderr_sha256[32];
	uint64_t	 ce_boot_ms;
	uint64_t	 ce_run_ms;
	uint64_t	 ce_audit_seq;		/* run.exited */
	uint32_t	 ce_receipt_error;	/* asked, none made: MVM_E* */
	uint32_t	 ce_reserved;
	int64_t		 ce_started_ms;		/* wall clock, ms since epoch */
	int64_t		 ce_ended_ms;
};

/* IMSG_CTL_GUEST_REQ */
struct mvm_ctl_guest {
	uint32_t	 cg_op;
#define MVM_GUEST_LS		1
#define MVM_GUEST_STOP		2
#define MVM_GUEST_RM		3
#define MVM_GUEST_REPORT	4	/* boot report */
#define MVM_GUEST_LOGS		5	/* console log; -f: follow */
#define MVM_GUEST_PUT		6	/* cp to the guest */
#define MVM_GUEST_GET		7	/* cp from the guest */
#define MVM_GUEST_IMAGES	8	/* image ls */
#define MVM_GUEST_IMAGE_BUILD	9	/* image build: a layer follows */
#define MVM_GUEST_IMAGE_RM	10	/* image rm */
/* IMAGE_BUILD: cg_size is the layer's size; the stream may not pass it */
	uint32_t	 cg_flags;
#define MVM_GUEST_FOLLOW	0x1
	uint64_t	 cg_size;		/* PUT: size; GET: max */
	uint32_t	 cg_mode;		/* PUT: mode */
	uint32_t	 cg_reserved;
	char		 cg_name[MVM_NAME_MAX];
	char		 cg_path[MVM_ROOT_MAX];	/* PUT/GET: guest path */
};

/* IMSG_CTL_GUEST_INFO: ls, boot report, image ls */
struct mvm_ctl_guest_info {
	char		 gi_name[MVM_NAME_MAX];
	char		 gi_image[MVM_NAME_MAX];
	char		 gi_state[16];
	char		 gi_reason[128];	/* failed: why */
	char		 gi_agent[32];
	char		 gi_kernel[64];
	char		 gi_qemu[64];
	char		 gi_kernel_sha256[65];
	char		 gi_initrd_sha256[65];
	uint32_t	 gi_cpus;
	uint32_t	 gi_memory_mib;
	uint32_t	 gi_accel;
	uint32_t	 gi_uid;
	uint32_t	 gi_pid;		/* vmm */
	uint32_t	 gi_transient;
	uint32_t	 gi_seccomp;		/* AP_TIER_*: loosest allowed */
	char		 gi_profile[MVM_PROFILE_NAME_MAX];
	uint64_t	 gi_phase_ms[MVM_PHASE_MAX + 1];	/* since spawn */
	uint64_t	 gi_guest_uptime_ms;
	uint64_t	 gi_age_ms;
	uint32_t	 gi_owner;		/* uid of the client that made it */
	uint32_t	 gi_reserved;
};

/* IMSG_CTL_HELLO */
struct mvm_ctl_hello {
	uint32_t	 ch_version;		/* MVM_CTL_VERSION */
	char		 ch_software[32];
};

/* IMSG_CTL_ERROR */
struct mvm_ctl_error {
	uint32_t	 ce_code;		/* MVM_E* or errno */
	char		 ce_msg[MVM_ERRMSG_MAX];
};

/* IMSG_CTL_STATUS_PROC */
struct mvm_ctl_proc {
	char		 cp_name[32];
	uint32_t	 cp_pid;
	uint32_t	 cp_uid;
	uint32_t	 cp_gid;
	int32_t		 cp_seccomp;		/* Seccomp: from /proc, -1 unknown */
	int32_t		 cp_nnp;		/* NoNewPrivs: */
	uint32_t	 cp_state;
#define MVM_PROC_STARTING	1
#define MVM_PROC_READY		2
#define MVM_PROC_STOPPING	3
#define MVM_PROC_CONFIGURED	4	/* got its config, not ready */
	uint64_t	 cp_capeff;		/* CapEff: */
	uint32_t	 cp_jailed;		/* root differs from the host's */
	uint32_t	 cp_reserved;
};

/* IMSG_CTL_STATUS_END */
struct mvm_ctl_status {
	char		 cs_version[32];
	uint64_t	 cs_uptime_ms;
	uint32_t	 cs_nprocs;
	uint32_t	 cs_nguests;
	uint32_t	 cs_audit_ok;		/* 0: log stopped (fail closed) */
	uint32_t	 cs_reserved;
	char		 cs_tenant[MVM_TENANT_MAX];
	char		 cs_state_dir[MVM_ROOT_MAX];
};

/*
 * IMSG_CTL_METRICS_RES: counters since the supervisor started, and
 * gauges now.  mvmctl metrics prints them (Prometheus text or JSON).
 */
#define MVM_OUTCOME_EXITED	0	/* the command exited */
#define MVM_OUTCOME_SIGNALED	1	/* killed by a signal */
#define MVM_OUTCOME_TIMEOUT	2
#define MVM_OUTCOME_FAILED	3	/* never ran or never finished */
#define MVM_OUTCOME_CANCELLED	4	/* the client went away */
#define MVM_OUTCOME_MAX		5
#define MVM_GUEST_STATES	6	/* GUEST_CREATED .. GUEST_FAILED */
#define MVM_BOOT_BUCKETS	8	/* upper bounds: mvm_boot_bucket_ms */
#define MVM_ACCELS		2	/* 0 tcg, 1 kvm */
struct mvm_ctl_metrics {
	uint64_t	 cm_uptime_ms;
	uint32_t	 cm_audit_ok;
	uint32_t	 cm_reserved;
	uint64_t	 cm_runs[MVM_OUTCOME_MAX];
	uint64_t	 cm_guests[MVM_GUEST_STATES];	/* gauge, by state */
	/* boot: spawn of the vmm to the agent's READY, by accel */
	uint64_t	 cm_boot_le[MVM_ACCELS][MVM_BOOT_BUCKETS];
	uint64_t	 cm_boot_count[MVM_ACCELS];
	uint64_t	 cm_boot_sum_ms[MVM_ACCELS];
	uint64_t	 cm_boot_failures;
	uint64_t	 cm_audit_records;	/* acknowledged on disk */
	uint64_t	 cm_audit_errors;	/* refused or lost */
	uint64_t	 cm_sign_requests;	/* the supervisor's own */
	uint64_t	 cm_sign_errors;
	uint64_t	 cm_policy_denials;
	uint64_t	 cm_receipts;		/* issued */
	uint64_t	 cm_receipt_errors;	/* asked for, not made */
	uint64_t	 cm_clients;		/* control connections taken */
	uint64_t	 cm_client_errors;	/* closed for a bad request */
	uint64_t	 cm_net_opened;		/* egress flows */
	uint64_t	 cm_net_refused;	/* denied or failed */
	uint64_t	 cm_net_bytes_out;	/* guest -> remote, ended flows */
	uint64_t	 cm_net_bytes_in;
};
extern const uint32_t mvm_boot_bucket_ms[MVM_BOOT_BUCKETS];

/* IMSG_CTL_KEY_RES */
struct mvm_ctl_key {
	uint8_t		 ck_pubkey[32];
	uint32_t	 ck_keyid;
	uint32_t	 ck_reserved;
	char		 ck_name[MVM_KEYNAME_MAX];
};

/* msg.c: one reader per struct; -1 (errno EBADMSG) if malformed */
int	 msg_get_hello(struct imsg *, struct mvm_hello *);
int	 msg_get_child_config(struct imsg *, struct mvm_child_config *);
int	 msg_get_config_fd(struct imsg *, struct mvm_config_fd *, int *);
int	 msg_get_ready(struct imsg *, struct mvm_ready *);
int	 msg_get_sign_req(struct imsg *, struct mvm_sign_req *,
	    const uint8_t **);
int	 msg_get_sign_res(struct imsg *, struct mvm_sign_res *);
int	 msg_get_test_syscall(struct imsg *, struct mvm_test_syscall *);
int	 msg_get_ctl_test(struct imsg *, struct mvm_ctl_test *);
int	 msg_get_profile(struct imsg *, struct mvm_profile *);
int	 msg_get_ctl_secret(struct imsg *, struct mvm_ctl_secret *,
	    const uint8_t **, size_t *);
int	 msg_get_ctl_policy_req(struct imsg *, struct mvm_ctl_policy_req *);
int	 msg_get_ctl_hello(struct imsg *, struct mvm_ctl_hello *);
int	 msg_get_ctl_error(struct imsg *, struct mvm_ctl_error *);
int	 msg_get_ctl_proc(struct imsg *, struct mvm_ctl_proc *);
int	 msg_get_ctl_status(struct imsg *, struct mvm_ctl_status *);
int	 msg_get_ctl_key(struct imsg *, struct mvm_ctl_key *);
int	 msg_get_audit_event(struct imsg *, struct mvm_audit_event *);
int	 msg_get_audit_ack(struct imsg *, struct mvm_audit_ack *,
	    const char **, size_t *);
int	 msg_get_audit_stopped(struct imsg *, struct mvm_audit_stopped *);
int	 msg_get_audit_req(struct imsg *, struct mvm_audit_req *);
int	 msg_get_audit_ckpt(struct imsg *, struct mvm_audit_ckpt *);
int	 msg_get_audit_proof(struct imsg *, struct mvm_audit_proof *);
int	 msg_get_vmm_config(struct imsg *, struct mvm_vmm_config *);
int	 msg_get_vmm_bind(struct imsg *, struct mvm_vmm_bind *);
int	 msg_get_vmm_phase(struct imsg *, struct mvm_vmm_phase *);
int	 msg_get_vmm_exec(struct imsg *, struct mvm_vmm_exec *,
	    const char **, size_t *);
int	 msg_get_vmm_data(struct imsg *, struct mvm_vmm_data *,
	    const uint8_t **, size_t *);
int	 msg_get_vmm_signal(struct imsg *, struct mvm_vmm_signal *);
int	 msg_get_vmm_started(struct imsg *, struct mvm_vmm_started *);
int	 msg_get_vmm_exit(struct imsg *, struct mvm_vmm_exit *);
int	 msg_get_vmm_error(struct imsg *, struct mvm_vmm_error *);
int	 msg_get_vmm_file(struct imsg *, struct mvm_vmm_file *);
int	 msg_get_vmm_done(struct imsg *, struct mvm_vmm_done *);
int	 msg_get_vmm_net(struct imsg *, struct mvm_vmm_net *, int *);
int	 msg_get_vmm_share(struct imsg *, struct mvm_vmm_share *);
int	 msg_get_ctl_share(struct imsg *, struct mvm_ctl_share *);
int	 blob_split(const char *, size_t, uint32_t, const char **);
int64_t	 wall_ms(void);
void	 time_rfc3339(int64_t, char *, size_t);
int	 msg_get_ctl_run(struct imsg *, struct mvm_ctl_run *,
	    const char **, size_t *);
int	 msg_get_ctl_started(struct imsg *, struct mvm_ctl_started *);
int	 msg_get_ctl_exit(struct imsg *, struct mvm_ctl_exit *);
int	 msg_get_ctl_guest(struct imsg *, struct mvm_ctl_guest *);
int	 msg_get_ctl_metrics(struct imsg *, struct mvm_ctl_metrics *);
int	 msg_get_ctl_guest_info(struct imsg *, struct mvm_ctl_guest_info *);
int	 name_valid(const char *);
int	 msg_get_empty(struct imsg *);
const char *mvm_strerror(uint32_t);

/* util.c */
int	 tenant_valid(const char *);
void	 xsnprintf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
const char *imsg_type_name(uint32_t);

#endif /* MVM_H */
