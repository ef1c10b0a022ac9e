/*
 * mvm-signer: holds the Ed25519 host key and signs typed requests.
 *
 * Started by the supervisor with its socket on fd 3.  Sequence:
 *   -> HELLO;  <- CONFIG, CONFIG_FD (key file, socket to auditd),
 *   CONFIG_END;  load or create the key;  jail;  -> READY (public key)
 * then SIGN_REQ/SIGN_RES with the supervisor (receipts, snapshot
 * manifests) and with auditd (audit records, checkpoints).
 * After the jail it has no filesystem, no network, no exec.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "log.h"
#include "mvm.h"
#include "proc.h"
#include "sandbox.h"
#include "signer.h"

#define KEYFILE_MAX	512

static struct {
	struct event_base	*base;
	struct peer		 parent;
	struct peer		 auditd;
	struct mvm_child_config	 conf;
	int			 have_conf;
	int			 keyfd;
	int			 auditfd;
	int			 ready;
	int			 created;
	struct signer_key	 key;
} sg = { .keyfd = -1, .auditfd = -1 };

static int	 signer_dispatch_parent(struct peer *, struct imsg *);
static int	 signer_dispatch_auditd(struct peer *, struct imsg *);
static void	 signer_closed(struct peer *, int);
static void	 signer_key_load(void);
static void	 signer_demote(void);
static void	 signer_ready(void);

int
main(int argc, char *argv[])
{
	struct mvm_hello	 he;
	int			 fd;

	fd = proc_child_start(argc, argv, "signer");
	if ((sg.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (peer_init(&sg.parent, sg.base, fd, MVM_IMSG_MAX,
	    signer_dispatch_parent, signer_closed, NULL, "parent") == -1)
		fatal("peer_init");

	memset(&he, 0, sizeof(he));
	he.he_proto = MVM_PROTO_VERSION;
	he.he_role = MVM_ROLE_SIGNER;
	(void)strlcpy(he.he_version, MVM_VERSION, sizeof(he.he_version));
	if (peer_compose(&sg.parent, IMSG_HELLO, 0, -1, &he, sizeof(he)) == -1)
		fatal("compose");

	event_base_dispatch(sg.base);
	return (0);
}

/*
 * The key file is created empty by the supervisor (0600, root) and
 * passed as an O_RDWR fd.  Empty: make a key and write it.  Otherwise
 * it must parse; a damaged key is fatal, never silently replaced.
 */
static void
signer_key_load(void)
{
	char		 text[KEYFILE_MAX], name[MVM_KEYNAME_MAX];
	uint8_t		 seed[MVM_SEED_LEN];
	struct stat	 st;
	ssize_t		 n;

	if (sg.keyfd == -1)
		fatalx("no key file");
	if ((sg.key.sk = sodium_malloc(MVM_SK_LEN)) == NULL)
		fatal("sodium_malloc");
	if (fstat(sg.keyfd, &st) == -1)
		fatal("fstat key");
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0)
		fatalx("host key is not a 0600 regular file");
	if (st.st_size == 0) {
		if (!key_name_valid(sg.conf.cc_keyname))
			fatalx("invalid key name");
		(void)strlcpy(sg.key.name, sg.conf.cc_keyname,
		    sizeof(sg.key.name));
		crypto_sign_keypair(sg.key.pk, sg.key.sk);
		memcpy(seed, sg.key.sk, sizeof(seed));
		if (skey_format(sg.key.name, seed, sg.key.pk, text,
		    sizeof(text)) == -1)
			fatalx("skey_format");
		n = pwrite(sg.keyfd, text, strlen(text), 0);
		if (n != (ssize_t)strlen(text) || fsync(sg.keyfd) == -1)
			fatal("writing the host key");
		sg.created = 1;
	} else {
		if (st.st_size >= KEYFILE_MAX)
			fatalx("host key file too large");
		n = pread(sg.keyfd, text, sizeof(text) - 1, 0);
		if (n != st.st_size)
			fatal("reading the host key");
		if (skey_parse(text, n, name, sizeof(name), seed) == -1)
			fatalx("host key file is damaged; refusing to start");
		(void)strlcpy(sg.key.name, name, sizeof(sg.key.name));
		crypto_sign_seed_keypair(sg.key.pk, sg.key.sk, seed);
	}
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(text, sizeof(text));
	close(sg.keyfd);
	sg.keyfd = -1;
	sg.key.keyid = key_id(sg.key.name, sg.key.pk);
	if (sodium_mprotect_noaccess(sg.key.sk) == -1)
		fatal("sodium_mprotect_noaccess");
}

/*
 * Jail: empty read-only root, own uid, no capabilities, not dumpable
 * (it holds the key), no_new_privs, Landlock without any fs access,
 * then the seccomp allowlist in policy.c.
 */
static void
signer_demote(void)
{
	int	 abi;

	if (sandbox_sethostname("mvm-signer") == -1)
		fatal("sethostname");
	if (sandbox_empty_root(sg.conf.cc_root) == -1)
		fatal("jail root %s", sg.conf.cc_root);
	if (sandbox_caps_drop() == -1)
		fatal("dropping capabilities");
	if (sandbox_setids(sg.conf.cc_uid, sg.conf.cc_gid, 0) == -1)
		fatal("cannot drop privileges");
	if (sandbox_nodump() == -1)
		fatal("PR_SET_DUMPABLE");
	if (sandbox_nnp() == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	if ((abi = sandbox_landlock_nofs()) == -1)
		fatal("landlock");
	log_debug("jailed: uid %u, landlock abi %d", sg.conf.cc_uid, abi);
	if (sandbox_seccomp(signer_policy, signer_policy_len) == -1)
		fatal("seccomp");
}

static void
signer_ready(void)
{
	struct mvm_ready	 rd;

	signer_key_load();
	if (sg.auditfd != -1) {
		if (fd_nonblock(sg.auditfd) == -1 ||
		    peer_init(&sg.auditd, sg.base, sg.auditfd, MVM_IMSG_MAX,
		    signer_dispatch_auditd, signer_closed, NULL,
		    "auditd") == -1)
			fatal("auditd peer");
		sg.auditfd = -1;
	}
	signer_demote();
	memset(&rd, 0, sizeof(rd));
	rd.rd_role = MVM_ROLE_SIGNER;
	rd.rd_flags = sg.created ? MVM_READY_KEY_CREATED : 0;
	rd.rd_keyid = sg.key.keyid;
	memcpy(rd.rd_pubkey, sg.key.pk, sizeof(rd.rd_pubkey));
	(void)strlcpy(rd.rd_keyname, sg.key.name, sizeof(rd.rd_keyname));
	if (peer_compose(&sg.parent, IMSG_READY, 0, -1, &rd, sizeof(rd)) == -1)
		fatal("compose");
	sg.ready = 1;
	log_debug("ready, key id %08x", sg.key.keyid);
}

static void
signer_config_fd(struct imsg *imsg)
{
	struct mvm_config_fd	 cf;
	int			 fd;

	if (msg_get_config_fd(imsg, &cf, &fd) == -1)
		fatalx("malformed CONFIG_FD");
	switch (cf.cf_kind) {
	case MVM_FD_SIGNER_KEY:
		if (sg.keyfd != -1)
			fatalx("duplicate key fd");
		sg.keyfd = fd;
		break;
	case MVM_FD_PEER:
		if (sg.auditfd != -1)
			fatalx("duplicate peer fd");
		sg.auditfd = fd;
		break;
	default:
		fatalx("unexpected fd kind %u", cf.cf_kind);
	}
}

#ifdef MVM_TEST_HOOKS
#include "testhook.h"
#endif

/* Serve a SIGN_REQ from a peer with the given allowed mask. */
static void
signer_sign(struct peer *p, struct imsg *imsg, uint32_t allowed)
{
	struct mvm_sign_req	 sr;
	struct mvm_sign_res	 res;
	const uint8_t		*body;

	if (msg_get_sign_req(imsg, &sr, &body) == -1)
		fatalx("%s: malformed SIGN_REQ", p->p_name);
	if (sr.sr_kind == 0 || sr.sr_kind > MVM_SIGN_KIND_MAX)
		fatalx("%s: unknown signing kind %u", p->p_name, sr.sr_kind);
	sign_request(&sg.key, allowed, &sr, body, &res);
	if (peer_compose(p, IMSG_SIGN_RES, imsg->hdr.peerid, -1, &res,
	    sizeof(res)) == -1)
		fatal("compose");
}

static int
signer_dispatch_parent(struct peer *p, struct imsg *imsg)
{
	switch (imsg_type(imsg)) {
	case IMSG_CONFIG:
		if (sg.have_conf || sg.ready)
			fatalx("CONFIG out of turn");
		if (msg_get_child_config(imsg, &sg.conf) == -1 ||
		    sg.conf.cc_proto != MVM_PROTO_VERSION)
			fatalx("malformed CONFIG");
		sg.have_conf = 1;
		log_setverbose(sg.conf.cc_verbose);
		break;
	case IMSG_CONFIG_FD:
		if (!sg.have_conf || sg.ready)
			fatalx("CONFIG_FD out of turn");
		signer_config_fd(imsg);
		break;
	case IMSG_CONFIG_END:
		if (!sg.have_conf || sg.ready || msg_get_empty(imsg) == -1)
			fatalx("CONFIG_END out of turn");
		signer_ready();
		break;
	case IMSG_SIGN_REQ:
		if (!sg.ready)
			fatalx("SIGN_REQ before READY");
		signer_sign(p, imsg, SIGN_FROM_PARENT);
		break;
#ifdef MVM_TEST_HOOKS
	case IMSG_TEST_SYSCALL:
		testhook_syscall(imsg);
		break;
#endif
	default:
		fatalx("%s: unexpected message type %u", p->p_name,
		    imsg_type(imsg));
	}
	return (PEER_OK);
}

static int
signer_dispatch_auditd(struct peer *p, struct imsg *imsg)
{
	switch (imsg_type(imsg)) {
	case IMSG_SIGN_REQ:
		signer_sign(p, imsg, SIGN_FROM_AUDITD);
		break;
	default:
		fatalx("%s: unexpected message type %u", p->p_name,
		    imsg_type(imsg));
	}
	return (PEER_OK);
}

/*
 * EOF from the supervisor is the signal to stop.  auditd going away
 * first is normal on shutdown.  Anything malformed is fatal.
 */
static void
signer_closed(struct peer *p, int why)
{
	if (why == PEER_MALFORMED)
		fatalx("%s: malformed message", p->p_name);
	if (p == &sg.auditd) {
		peer_shutdown(p);
		return;
	}
	if (why == PEER_IOERR)
		fatal("%s", p->p_name);
	exit(0);
}
