/*
 * The agent protocol, v1: mvm-vmm (host) <-> mvm-agent (guest, PID 1)
 * over one virtio-serial port named "mvm.agent.0" (/dev/vport*p*).
 *
 * Frame (all integers big-endian):
 *	u32 len		bytes that follow this field: 8 + payload length
 *	u32 type	AP_*
 *	u32 id		request id; replies and streams carry the id of the
 *			request they belong to; 0 for unsolicited frames
 *	payload		len - 8 bytes: JSON for control frames, raw bytes for
 *			data frames (AP_STDIN, AP_STDOUT, AP_STDERR,
 *			AP_FILE_DATA)
 * A whole frame (including len) is at most AP_FRAME_MAX bytes.  len < 8
 * or larger than the maximum is a framing error: the receiver cannot
 * find the next frame, answers AP_ERROR "malformed" once (agent) or
 * fails the guest (host), and reads nothing more on that connection.
 *
 * Session: the host sends AP_HELLO first; the agent answers AP_HELLO
 * (or AP_ERROR "version" when no protocol version is shared).  Any
 * other request before HELLO gets AP_ERROR "not_ready".  A session ends
 * when its host disconnects; each connection is a new session.  A HELLO
 * the agent accepts also ends a session still open, as if its host had
 * gone: the guest may not see a disconnect that the next connect follows
 * at once.  Nor can it tell where the old host's bytes end, so a host
 * that disconnects in the middle of a frame must leave the port without
 * a host for a moment (say 300 ms) before anyone connects again, or the
 * new HELLO is read as the rest of that frame.
 *
 * Control payloads (JSON objects; unknown members are refused):
 *   host HELLO	{"proto_min":1,"proto_max":1,"host":"mvm 0.1.0"}
 *   guest HELLO	{"proto":1,"agent":"mvm-agent 0.1.0","caps":[...],
 *			 "uptime_ms":N,	   boot to agent start (CLOCK_BOOTTIME)
 *			 "kernel":"6.1.0-..."}   uname -r
 *   EXEC		{"argv":["/bin/sh","-c","..."],	1..AP_ARGV_MAX strings
 *			 "seccomp":"standard",		required: the tier
 *			 "env":{"K":"V"},		0..AP_ENV_MAX, optional
 *			 "cwd":"/",			optional, absolute
 *			 "timeout_ms":N,		0: none
 *			 "stdin":true,			AP_STDIN frames follow
 *			 "stdout_max":N,"stderr_max":N,	bytes forwarded per
 *							stream; 0: no limit
 *			 "uid":1000,			the guest user, AP_UID_*
 *							below; default 1000
 *			 "files":[{"path":"/abs","data":"base64"}]}
 *			 secrets as files, optional, at most
 *			 AP_SECRET_FILES_MAX: written 0400 and the
 *			 user's (O_EXCL, no symlink followed in any
 *			 component, parents made 0711 and root's) before
 *			 the command starts, zeroed and removed once its
 *			 processes are gone; an errno code ("io",
 *			 "denied", ...) if one cannot be made
 *	answers: AP_STARTED {"pid":N}, then any number of AP_STDOUT and
 *	AP_STDERR, then exactly one AP_EXIT:
 *		{"code":N|null,"signal":N|null,"timed_out":bool,
 *		 "stdout_bytes":N,"stderr_bytes":N,	forwarded
 *		 "stdout_truncated":bool,"stderr_truncated":bool}
 *	or AP_ERROR (e.g. "not_found" when argv[0] cannot be run, "busy"
 *	when a live EXEC has the same per-exec uid).
 *	The process runs as "uid" with group AP_GID_USER (root: 0), no
 *	capability and no_new_privs (not as root), in a cgroup of its own;
 *	once it has exited and its output pipes are done (or GRACE_MS after
 *	its exit), whatever is left in the cgroup is killed, and AP_EXIT
 *	goes out when nothing is (mvm-agent.8, Processes).
 *	"seccomp" names the tier the process runs under (AP_TIER_*,
 *	below): "essential", "minimal", "standard", "network" or
 *	"unrestricted"; missing or unknown is "bad_request".  The agent
 *	loads the tier's filter in the child right before execve; a call
 *	outside it kills the process with SIGSYS (AP_EXIT "signal":31).
 *	If the filter cannot be built or loaded, nothing runs: AP_ERROR
 *	"denied".  Several EXECs may run at once; each is named by its id.
 *   STDIN		raw bytes for the EXEC with this id; an empty payload
 *			closes its stdin
 *   SIGNAL		{"signal":N} to the EXEC with this id (its process
 *			group); answer AP_OK
 *   FILE_PUT	{"path":"/abs","mode":N,"size":N} then AP_FILE_DATA
 *			frames with the same id totalling size bytes, then
 *			AP_FILE_END (empty); answer AP_OK once written
 *			(to path.tmp, fsync, rename), owned by uid and gid
 *			1000
 *   FILE_GET	{"path":"/abs","max":N}; answer AP_FILE_DATA frames then
 *			AP_FILE_END {"size":N,"mode":N}, or AP_ERROR
 *			("too_large" if the file exceeds max).  More than max
 *			bytes of data, or a "size" that is not what was sent,
 *			break the protocol
 *   DIR_PUT	(host shares; HELLO caps has "share")
 *			{"path":"/abs","size":N,"uid":N} then AP_FILE_DATA frames
 *			with the same id carrying a host-share stream
 *			(share.h) of size bytes in all, then AP_FILE_END
 *			(empty).  path and its missing parents are created
 *			(0755) and what path held is removed (links, not
 *			what they point to), so that it holds the stream's
 *			tree alone; then the agent reads the stream with the
 *			share reader as it comes and makes each entry under
 *			path.  No component of path, and nothing under it,
 *			is followed if it is a symlink (openat/mkdirat from
 *			the directory above, O_NOFOLLOW); a directory must
 *			come before what it holds; files and directories get
 *			the stream's modes, and path and all under it belong
 *			to "uid" (optional, default 1000: the user of the
 *			command the share is for).  Answer AP_OK once all is
 *			written, or one AP_ERROR (the rest of the request's
 *			frames are swallowed up to its FILE_END): a stream
 *			the reader refuses or of the wrong size is
 *			"bad_request"; what was made before stays.
 *   DIR_GET	{"path":"/abs","max":N}; answer AP_FILE_DATA frames
 *			carrying a host-share stream of the tree under path,
 *			in no particular order, directories before their
 *			contents, without following any symlink, then
 *			AP_FILE_END {"size":N,"files":N,"bytes":N,
 *			"skipped":N}: the stream's bytes, its entries, its
 *			bytes of file data and link targets, and what was
 *			left out: links that share_link_ok() refuses and
 *			anything but directories, regular files and links.
 *			Or AP_ERROR, also after some data: "not_found",
 *			"too_large" (more than max stream bytes, or over a
 *			bound of share.h), "io" (a file changed size while
 *			read).  The host reads the stream with the share
 *			reader too: a stream it refuses, one that exceeds
 *			max, or counts that do not match the stream break
 *			the protocol.
 *			One DIR_PUT and one DIR_GET at a time; another is
 *			"busy".
 *   PING		any JSON object; answer AP_PONG with the same payload
 *   SHUTDOWN	{}; the agent kills what runs, syncs, answers AP_OK and
 *			powers the guest off
 *   ERROR		{"code":"...","message":"..."}; codes: version,
 *			not_ready, malformed, unknown_type, bad_request,
 *			not_found, too_large, io, busy, denied
 * Paths for FILE_* and DIR_*: absolute, no "." or ".." components, no
 * NUL, at most AP_PATH_MAX bytes; the agent does not follow a symlink
 * in the last component (O_NOFOLLOW; DIR_*: in any component).
 *
 * Egress (HELLO caps has "net").  The guest has no network device; a
 * connection leaves it only as a flow over this channel, and the host
 * decides whether it may.  Flow ids are chosen by the agent: AP_ID_GUEST
 * set, increasing from AP_ID_GUEST + 1 over the agent's life (across
 * sessions), never above AP_ID_GUEST_LAST;
 * host request ids stay below AP_ID_GUEST (AP_ID_NETGRANTS and the
 * shutdown id 0xffffffff excepted).
 *   NET_GRANTS	host -> guest, once after HELLO and before any EXEC, only
 *		when the guest has grants; id AP_ID_NETGRANTS:
 *		{"grants":[{"host":"db.example","port":5432},...],
 *		 "proxy":3128}
 *		1..AP_NET_GRANTS_MAX grants; host is a DNS name (letters,
 *		digits, '-', '.', at most 253 bytes) or an IPv4 literal;
 *		port 1..65535; proxy 1..65535, or 0 for no proxy.  The
 *		agent brings lo up; gives each distinct name the loopback
 *		address 127.100.0.N (N = 1, 2, ... in order of first
 *		appearance) and writes "127.100.0.N name" lines to
 *		/etc/hosts; adds an IPv4 literal to lo as a /32; listens
 *		on (address, port) for every grant and on 127.0.0.1:proxy.
 *		Answer AP_OK, or AP_ERROR (then nothing listens).  Every
 *		later EXEC gets http_proxy, https_proxy, HTTP_PROXY and
 *		HTTPS_PROXY = "http://127.0.0.1:<proxy>" unless its env
 *		names them.
 *   NET_OPEN	guest -> host, a new flow id: a workload connected to a
 *		grant's listener, or asked the proxy for "CONNECT
 *		host:port" or sent it an absolute-form "http://host[:port]/"
 *		request (port 80 by default):
 *		{"host":"db.example","port":5432}
 *		The host checks it (it may name anything: the grant is
 *		checked on the host, never trusted from the guest) and
 *		answers NET_OPENED or NET_REFUSED.
 *   NET_OPENED	host -> guest, {}: connected; bytes may flow.  The proxy
 *		answers its client "HTTP/1.1 200 Connection established"
 *		(CONNECT) or forwards the request in origin form.
 *   NET_REFUSED host -> guest, {"reason":"..."}: no flow; the agent
 *		closes the connection (the proxy answers 403 for
 *		not_granted and denied_address, 502 for resolve and
 *		connect, 503 for limit).  The id is over.
 *   NET_DATA	both ways, raw bytes of the flow; an empty payload ends
 *		that direction (the receiver shuts down writing once what
 *		it holds is written).  At most AP_NET_WINDOW bytes of a
 *		flow may be sent and not yet acknowledged by NET_ACK.
 *   NET_ACK	both ways, {"bytes":N}: N more bytes of the flow were
 *		written to its socket.
 *   NET_CLOSE	both ways, {}: the flow is over (both directions ended,
 *		everything received written to the socket and everything
 *		sent acknowledged; or an error); the side that receives it
 *		closes its socket at once and does not answer.  Frames of
 *		a flow that crossed its NET_CLOSE on the wire are ignored.
 */
#ifndef MVM_AGENTPROTO_H
#define MVM_AGENTPROTO_H

#include <stddef.h>
#include <stdint.h>

#define AP_PROTO_VERSION	1
#define AP_PORT_NAME		"mvm.agent.0"
#define AP_FRAME_MAX		(256 * 1024)
#define AP_HDR_LEN		12	/* len, type, id */
#define AP_PAYLOAD_MAX		(AP_FRAME_MAX - AP_HDR_LEN)
#define AP_ARGV_MAX		4096
#define AP_ENV_MAX		1024
#define AP_PATH_MAX		4096
#define AP_FILE_MAX		(1024ULL * 1024 * 1024)	/* FILE_PUT/GET */
#define AP_SECRET_FILES_MAX	8	/* EXEC "files" */

/* host -> guest */
#define AP_HELLO		1
#define AP_EXEC			2
#define AP_STDIN		3
#define AP_SIGNAL		4
#define AP_FILE_PUT		5
#define AP_FILE_GET		6
#define AP_FILE_DATA		7	/* both ways */
#define AP_FILE_END		8	/* both ways */
#define AP_PING			9
#define AP_SHUTDOWN		10
#define AP_NET_GRANTS		11
#define AP_NET_OPENED		12
#define AP_NET_REFUSED		13
#define AP_NET_DATA		14	/* both ways */
#define AP_NET_ACK		15	/* both ways */
#define AP_NET_CLOSE		16	/* both ways */
#define AP_DIR_PUT		17
#define AP_DIR_GET		18
/* guest -> host (AP_HELLO, AP_FILE_DATA and AP_FILE_END too) */
#define AP_STARTED		101
#define AP_STDOUT		102
#define AP_STDERR		103
#define AP_EXIT			104
#define AP_OK			105
#define AP_PONG			106
#define AP_ERROR		107
#define AP_NET_OPEN		108

/* egress (above) */
#define AP_ID_GUEST		0x80000000U	/* flow ids: the agent's */
#define AP_ID_GUEST_LAST	0xfffffff0U
#define AP_ID_NETGRANTS		0xfffffffeU
#define AP_NET_GRANTS_MAX	64
#define AP_NET_HOST_MAX		253
#define AP_NET_WINDOW		(256 * 1024)	/* unacknowledged, per flow */
#define AP_NET_FLOWS_MAX	64	/* flows at once, per guest */
#define AP_NET_PROXY_PORT	3128	/* the host's default */

struct ap_frame {
	uint32_t	 f_type;
	uint32_t	 f_id;
	uint8_t		*f_data;	/* payload (points into the buffer) */
	size_t		 f_len;
};

/*
 * A receive buffer: feed it bytes, take whole frames out.  ap_take()
 * returns 1 and a frame (valid until the next ap_take/ap_feed), 0 when
 * more bytes are needed, -1 on a framing error (then nothing more can be
 * taken from this buffer).
 */
struct ap_rbuf {
	uint8_t		*r_buf;		/* AP_FRAME_MAX bytes */
	size_t		 r_len;
	size_t		 r_off;		/* start of unconsumed data */
	int		 r_broken;
};

int	 ap_rbuf_init(struct ap_rbuf *);
void	 ap_rbuf_free(struct ap_rbuf *);
uint8_t	*ap_rbuf_space(struct ap_rbuf *, size_t *);
void	 ap_rbuf_fill(struct ap_rbuf *, size_t);
int	 ap_take(struct ap_rbuf *, struct ap_frame *);

/* Encode a frame header into out[AP_HDR_LEN]; -1 if len is too big. */
int	 ap_header(uint8_t *, uint32_t, uint32_t, size_t);
const char *ap_type_name(uint32_t);

/*
 * Guest seccomp tiers, each a superset of the one before (mvm-agent.8):
 * the agent loads the tier's filter in the workload's process before
 * execve.  Carried as the EXEC member "seccomp" (the tier's name).
 */
#define AP_TIER_ESSENTIAL	1
#define AP_TIER_MINIMAL		2
#define AP_TIER_STANDARD	3
#define AP_TIER_NETWORK		4
#define AP_TIER_UNRESTRICTED	5
const char *ap_tier_name(uint32_t);	/* NULL if not a tier */
/* egress host names (agentproto.c) */
#define AP_HOST_NAME		1
#define AP_HOST_IPV4		2
int	 ap_net_host(const char *);
int	 ap_path_clean(const char *, size_t);
uint32_t ap_tier_parse(const char *);	/* 0 if not a tier */

/*
 * Guest users (mvm-agent.8, Users): whom a command runs as, carried as
 * the EXEC member "uid" and the DIR_PUT member "uid".  Root only if
 * the host allows it (mvmctl --guest-root); otherwise the default user
 * "mvm", or a uid of the command's own for one granted secrets, so that
 * no other command's process can read its environment or secret files.
 * All but root have group "mvm" and nothing else.
 */
#define AP_UID_ROOT		0
#define AP_UID_USER		1000	/* "mvm": the default */
#define AP_GID_USER		1000	/* group "mvm" */
#define AP_UID_EXEC		2000	/* the first per-exec uid */
#define AP_UID_EXEC_N		1000	/* 2000-2999 */
int	 ap_uid_ok(uint64_t);		/* 1 if one of the above */

#endif /* MVM_AGENTPROTO_H */
