/*
 * mvm-fuzzseed: seed inputs for the fuzz targets that no other tool of
 * ours writes, made with our own code (fuzz/mkcorpus.sh runs it):
 *
 *   mvm-fuzzseed imsg DIR	one real message of every type, as
 *				imsg_compose() puts it on the wire, and two
 *				whole sessions (fuzz/imsg.c input format)
 *   mvm-fuzzseed agentproto DIR	the frames both ends send, with the
 *				payloads agentproto.h documents, and a session
 *   mvm-fuzzseed share DIR	host-share streams from our writer
 *				(share_write_*), whole and cut, and one with a
 *				link out of the tree written by hand
 *   mvm-fuzzseed vmmagent DIR	sessions of a guest agent with the vmm
 *				(fuzz/vmmagent.c input format): exec, files,
 *				grants, flows, stop, a slow supervisor
 *   mvm-fuzzseed imagefiles DIR	the files of fuzz/manifest.c's image
 *				directories (fuzz_image_files()), for the
 *				SHA-256 in its seeds
 *   mvm-fuzzseed merkle DIR	fuzz/merkle.c inputs; one whose raw part
 *				is a real inclusion proof
 *   mvm-fuzzseed recovered FILE	a log with a crash region and the
 *				audit.recovered record that describes it
 *   mvm-fuzzseed proof FILE	an inclusion proof text with an "extra"
 *				line, its note signed
 *
 * Records and notes are signed by the RFC 8032 test 1 key ("mvm-rfc8032"),
 * the key the targets check with.  The output depends on nothing else.
 */
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "agentproto.h"
#include "crypto.h"
#include "fuzz.h"
#include "merkle.h"
#include "mvm.h"
#include "note.h"
#include "policy.h"
#include "record.h"
#include "share.h"
#include "sigmsg.h"

#define SEED_MAX	(256 * 1024)

struct out {
	uint8_t		 o_buf[SEED_MAX];
	size_t		 o_len;
};

static void	 usage(void) __attribute__((noreturn));
static void	 put(struct out *, const void *, size_t);
static void	 save(const char *, const char *, const struct out *);
static void	 wire(struct out *, uint32_t, int, const void *, size_t,
		    const void *, size_t);
static void	 seeds_imsg(const char *);
static void	 frame(struct out *, uint32_t, uint32_t, const char *, size_t);
static void	 seeds_agentproto(const char *);
static void	 seg(struct out *, int, int);
static void	 segf(struct out *, int, int, uint32_t, uint32_t,
		    const char *);
static void	 seeds_vmmagent(const char *);
static void	 put64(struct out *, uint64_t, size_t);
static void	 seeds_merkle(const char *);
static int	 share_put(void *, const void *, size_t);
static void	 share_seed(const char *, const char *, int, uint8_t);
static void	 seeds_share(const char *);
static char	*record(uint64_t, const uint8_t *, const char *, json_t *,
		    json_t *);
static void	 seed_recovered(const char *);
static void	 seed_proof(const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: mvm-fuzzseed "
	    "imsg|agentproto|vmmagent|imagefiles|merkle|share DIR\n"
	    "       mvm-fuzzseed recovered|proof FILE\n");
	exit(1);
}

static void
put(struct out *o, const void *p, size_t n)
{
	if (n > sizeof(o->o_buf) - o->o_len)
		errx(1, "seed too large");
	memcpy(o->o_buf + o->o_len, p, n);
	o->o_len += n;
}

static void
save(const char *dir, const char *name, const struct out *o)
{
	char	 path[1024];
	FILE	*f;

	if (dir != NULL)
		(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		(void)strlcpy(path, name, sizeof(path));
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	if (fwrite(o->o_buf, 1, o->o_len, f) != o->o_len || fclose(f) != 0)
		err(1, "%s", path);
}

/* ------------------------------------------------------------------ */
/* imsg: what imsg_composev2() writes, read back off a socketpair */

static void
wire(struct out *o, uint32_t type, int fd, const void *d1, size_t l1,
    const void *d2, size_t l2)
{
	struct imsgbuf	 ib;
	uint8_t		 buf[65536];
	ssize_t		 n;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    imsgbuf_init(&ib, sv[0], MVM_IMSG_MAX) == -1)
		err(1, "socketpair");
	ib.pid = 4242;			/* the seeds do not depend on ours */
	if (fd != -1 && (fd = dup(fd)) == -1)
		err(1, "dup");
	if (imsg_composev2(&ib, type, 7, fd, d1, l1, d2, l2) == -1 ||
	    imsgbuf_flush(&ib) == -1)
		err(1, "imsg_compose");
	close(sv[0]);
	/* read(2) takes the bytes; the passed fd is dropped */
	while ((n = read(sv[1], buf, sizeof(buf))) > 0)
		put(o, buf, n);
	if (n == -1)
		err(1, "read");
	close(sv[1]);
	imsgbuf_clear(&ib);
}

#define ONE(name, type, fd, p, n, p2, n2) do {				\
	struct out	*o_;						\
									\
	if ((o_ = calloc(1, sizeof(*o_))) == NULL)			\
		err(1, NULL);						\
	o_->o_buf[0] = (fd) == -1 ? 0 : 1;	/* flags: fds */	\
	o_->o_buf[1] = 0;			/* chunk: all */	\
	o_->o_len = 2;							\
	wire(o_, type, fd, p, n, p2, n2);				\
	wire(sess, type, fd, p, n, p2, n2);				\
	save(dir, "seed-" name, o_);					\
	free(o_);							\
} while (0)

static void
seeds_imsg(const char *dir)
{
	struct mvm_hello		 he;
	struct mvm_child_config		 cc;
	struct mvm_config_fd		 cf;
	struct mvm_ready		 rd;
	struct mvm_sign_req		 sr;
	struct mvm_sign_checkpoint	 sc;
	struct mvm_sign_res		 ss;
	struct mvm_test_syscall		 ts;
	struct mvm_audit_event		 ae;
	struct mvm_audit_ack		 aa;
	struct mvm_audit_stopped	 as;
	struct mvm_audit_req		 ar;
	struct mvm_audit_ckpt		 ac;
	struct mvm_audit_proof		 ap;
	struct mvm_vmm_config		 vc;
	struct mvm_vmm_bind		 vb;
	struct mvm_vmm_phase		 vp;
	struct mvm_vmm_exec		 ve;
	struct mvm_vmm_data		 vd;
	struct mvm_vmm_signal		 vs;
	struct mvm_vmm_started		 vt;
	struct mvm_vmm_exit		 vx;
	struct mvm_vmm_error		 vr;
	struct mvm_vmm_file		 vf;
	struct mvm_vmm_done		 vn;
	struct mvm_vmm_net		 nt;
	struct mvm_ctl_hello		 ch;
	struct mvm_ctl_error		 ce;
	struct mvm_ctl_proc		 cp;
	struct mvm_ctl_status		 cs;
	struct mvm_ctl_key		 ck;
	struct mvm_ctl_run		 cr;
	struct mvm_ctl_started		 ct;
	struct mvm_ctl_exit		 cx;
	struct mvm_ctl_guest		 cg;
	struct mvm_ctl_guest_info	 gi;
	struct mvm_ctl_metrics		 cm;
	struct mvm_ctl_policy_req	 pq;
	struct mvm_profile		 pr[MVM_PROFILES];
	struct mvm_ctl_test		 tt;
	struct mvm_ctl_secret		 se;
	struct mvm_vmm_share		 vh;
	struct mvm_ctl_share		 sh;
	struct out			*sess;
	static const char		 blob[] = "/bin/sh\0-c\0echo hi\0"
					    "HOME=/root";
	static const char		 rblob[] = "/bin/sh\0-c\0echo hi\0"
					    "HOME=/root\0token=TOKEN";
	static const char		 line[] = "{\"kid\":\"b7838ddc\"}";
	int				 fd;

	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		err(1, "/dev/null");
	if ((sess = calloc(1, sizeof(*sess))) == NULL)
		err(1, NULL);
	sess->o_buf[0] = 0x02;		/* two fds: CONFIG_FD, VMM_NET_FD */
	sess->o_buf[1] = 6;		/* 7 bytes a write */
	sess->o_len = 2;

	memset(&he, 0, sizeof(he));
	he.he_proto = MVM_PROTO_VERSION;
	he.he_role = MVM_ROLE_AUDITD;
	(void)strlcpy(he.he_version, "0.1.0", sizeof(he.he_version));
	ONE("hello", IMSG_HELLO, -1, &he, sizeof(he), NULL, 0);
	memset(&cc, 0, sizeof(cc));
	cc.cc_proto = MVM_PROTO_VERSION;
	cc.cc_uid = cc.cc_gid = 900001;
	(void)strlcpy(cc.cc_root, "/var/lib/mvm/empty", sizeof(cc.cc_root));
	(void)strlcpy(cc.cc_keyname, "host", sizeof(cc.cc_keyname));
	(void)strlcpy(cc.cc_hostname, "h1", sizeof(cc.cc_hostname));
	cc.cc_batch_max = 256;
	cc.cc_batch_us = 10000;
	ONE("config", IMSG_CONFIG, -1, &cc, sizeof(cc), NULL, 0);
	memset(&cf, 0, sizeof(cf));
	cf.cf_kind = MVM_FD_AUDIT_LOG;
	(void)strlcpy(cf.cf_name, "local", sizeof(cf.cf_name));
	ONE("config-fd", IMSG_CONFIG_FD, fd, &cf, sizeof(cf), NULL, 0);
	ONE("config-end", IMSG_CONFIG_END, -1, NULL, 0, NULL, 0);
	memset(&rd, 0, sizeof(rd));
	rd.rd_role = MVM_ROLE_SIGNER;
	rd.rd_flags = MVM_READY_KEY_CREATED;
	(void)strlcpy(rd.rd_keyname, "host", sizeof(rd.rd_keyname));
	ONE("ready", IMSG_READY, -1, &rd, sizeof(rd), NULL, 0);
	memset(&sc, 0, sizeof(sc));
	(void)strlcpy(sc.ck_origin, "h1/mvm-audit/local",
	    sizeof(sc.ck_origin));
	sc.ck_size = 3;
	memset(&sr, 0, sizeof(sr));
	sr.sr_id = 1;
	sr.sr_kind = MVM_SIGN_CHECKPOINT;
	sr.sr_len = sizeof(sc);
	ONE("sign-req", IMSG_SIGN_REQ, -1, &sr, sizeof(sr), &sc, sizeof(sc));
	memset(&ss, 0, sizeof(ss));
	ss.ss_id = 1;
	ss.ss_kind = MVM_SIGN_CHECKPOINT;
	ONE("sign-res", IMSG_SIGN_RES, -1, &ss, sizeof(ss), NULL, 0);
	memset(&ts, 0, sizeof(ts));
	ts.ts_which = MVM_TEST_SYS_SOCKET;
	ONE("test-syscall", IMSG_TEST_SYSCALL, -1, &ts, sizeof(ts), NULL, 0);
	memset(&ae, 0, sizeof(ae));
	ae.ae_id = 9;
	ae.ae_flags = MVM_AEV_LINE;
	(void)strlcpy(ae.ae_tenant, "local", sizeof(ae.ae_tenant));
	(void)strlcpy(ae.ae_type, "run.exited", sizeof(ae.ae_type));
	ae.ae_nsubject = 1;
	(void)strlcpy(ae.ae_subject[0].kv_key, "guest",
	    sizeof(ae.ae_subject[0].kv_key));
	(void)strlcpy(ae.ae_subject[0].kv_val, "g1",
	    sizeof(ae.ae_subject[0].kv_val));
	ae.ae_nlabels = 1;
	(void)strlcpy(ae.ae_labels[0].kv_key, "code",
	    sizeof(ae.ae_labels[0].kv_key));
	ae.ae_labels[0].kv_isint = 1;
	ONE("audit-event", IMSG_AUDIT_EVENT, -1, &ae, sizeof(ae), NULL, 0);
	memset(&aa, 0, sizeof(aa));
	aa.aa_id = 9;
	aa.aa_seq = 3;
	ONE("audit-ack", IMSG_AUDIT_ACK, -1, &aa, sizeof(aa), line,
	    sizeof(line) - 1);
	memset(&as, 0, sizeof(as));
	as.as_errno = ENOSPC;
	(void)strlcpy(as.as_tenant, "local", sizeof(as.as_tenant));
	ONE("audit-stopped", IMSG_AUDIT_STOPPED, -1, &as, sizeof(as), NULL,
	    0);
	memset(&ar, 0, sizeof(ar));
	ar.ar_id = 2;
	ar.ar_index = 1;
	(void)strlcpy(ar.ar_tenant, "local", sizeof(ar.ar_tenant));
	ONE("audit-ckpt-req", IMSG_AUDIT_CKPT_REQ, -1, &ar, sizeof(ar), NULL,
	    0);
	ONE("audit-proof-req", IMSG_AUDIT_PROOF_REQ, -1, &ar, sizeof(ar),
	    NULL, 0);
	ONE("ctl-audit-ckpt-req", IMSG_CTL_AUDIT_CKPT_REQ, -1, &ar,
	    sizeof(ar), NULL, 0);
	memset(&ac, 0, sizeof(ac));
	ac.ac_id = 2;
	ac.ac_size = 3;
	(void)strlcpy(ac.ac_note, "h1/mvm-audit/local\n3\n"
	    "7/3zCMSgWiOCTluiwxL5hfqLSR4YvA0rzY56SN3c2mo=\n\n",
	    sizeof(ac.ac_note));
	ONE("audit-ckpt-res", IMSG_AUDIT_CKPT_RES, -1, &ac, sizeof(ac), NULL,
	    0);
	ONE("ctl-audit-ckpt-res", IMSG_CTL_AUDIT_CKPT_RES, -1, &ac,
	    sizeof(ac), NULL, 0);
	memset(&ap, 0, sizeof(ap));
	ap.ap_index = 1;
	ap.ap_size = 3;
	ap.ap_nhash = 2;
	(void)strlcpy(ap.ap_note, ac.ac_note, sizeof(ap.ap_note));
	ONE("audit-proof-res", IMSG_AUDIT_PROOF_RES, -1, &ap, sizeof(ap),
	    NULL, 0);
	memset(&vc, 0, sizeof(vc));
	vc.vc_guest = 7;
	vc.vc_cpus = 1;
	vc.vc_memory_mib = 256;
	vc.vc_accel = MVM_ACCEL_KVM;
	vc.vc_boot_timeout_ms = 60000;
	(void)strlcpy(vc.vc_name, "g1", sizeof(vc.vc_name));
	(void)strlcpy(vc.vc_qemu, "/usr/bin/qemu-system-x86_64",
	    sizeof(vc.vc_qemu));
	(void)strlcpy(vc.vc_kernel, "/var/lib/mvm/images/default/vmlinux",
	    sizeof(vc.vc_kernel));
	(void)strlcpy(vc.vc_initrd,
	    "/var/lib/mvm/images/default/initramfs.cpio",
	    sizeof(vc.vc_initrd));
	ONE("vmm-config", IMSG_VMM_CONFIG, -1, &vc, sizeof(vc), NULL, 0);
	memset(&vb, 0, sizeof(vb));
	vb.vb_flags = MVM_BIND_DEV;
	(void)strlcpy(vb.vb_path, "/dev/kvm", sizeof(vb.vb_path));
	ONE("vmm-bind", IMSG_VMM_BIND, -1, &vb, sizeof(vb), NULL, 0);
	memset(&vp, 0, sizeof(vp));
	vp.vp_phase = MVM_PHASE_HELLO;
	vp.vp_agent_proto = AP_PROTO_VERSION;
	(void)strlcpy(vp.vp_agent, "mvm-agent 0.1.0", sizeof(vp.vp_agent));
	(void)strlcpy(vp.vp_kernel, "6.1.0-28-amd64", sizeof(vp.vp_kernel));
	(void)strlcpy(vp.vp_qemu, "7.2.22", sizeof(vp.vp_qemu));
	ONE("vmm-phase", IMSG_VMM_PHASE, -1, &vp, sizeof(vp), NULL, 0);
	memset(&ve, 0, sizeof(ve));
	ve.ve_id = 1;
	ve.ve_argc = 3;
	ve.ve_envc = 1;
	ve.ve_flags = MVM_EXEC_STDIN;
	ve.ve_uid = AP_UID_USER;
	ve.ve_seccomp = AP_TIER_STANDARD;
	(void)strlcpy(ve.ve_cwd, "/", sizeof(ve.ve_cwd));
	ONE("vmm-exec", IMSG_VMM_EXEC, -1, &ve, sizeof(ve), blob,
	    sizeof(blob));
	memset(&vd, 0, sizeof(vd));
	vd.vd_id = 1;
	ONE("vmm-stdin", IMSG_VMM_STDIN, -1, &vd, sizeof(vd), "hi\n", 3);
	ONE("vmm-ok", IMSG_VMM_OK, -1, &vd, sizeof(vd), NULL, 0);
	ONE("vmm-file-data", IMSG_VMM_FILE_DATA, -1, &vd, sizeof(vd),
	    "hello", 5);
	vd.vd_stream = MVM_STREAM_STDOUT;
	ONE("vmm-output", IMSG_VMM_OUTPUT, -1, &vd, sizeof(vd), "hi\n", 3);
	ONE("ctl-output", IMSG_CTL_OUTPUT, -1, &vd, sizeof(vd), "hi\n", 3);
	memset(&vs, 0, sizeof(vs));
	vs.vs_id = 1;
	vs.vs_signal = 15;
	ONE("vmm-signal", IMSG_VMM_SIGNAL, -1, &vs, sizeof(vs), NULL, 0);
	memset(&vt, 0, sizeof(vt));
	vt.vs_id = 1;
	vt.vs_pid = 42;
	ONE("vmm-started", IMSG_VMM_STARTED, -1, &vt, sizeof(vt), NULL, 0);
	memset(&vx, 0, sizeof(vx));
	vx.vx_id = 1;
	vx.vx_flags = MVM_EXIT_CODE;
	vx.vx_stdout_bytes = 3;
	ONE("vmm-exit", IMSG_VMM_EXIT, -1, &vx, sizeof(vx), NULL, 0);
	memset(&vr, 0, sizeof(vr));
	vr.ve_id = 1;
	vr.ve_code = MVM_AGENT_ENOTFOUND;
	(void)strlcpy(vr.ve_msg, "no such file", sizeof(vr.ve_msg));
	ONE("vmm-error", IMSG_VMM_ERROR, -1, &vr, sizeof(vr), NULL, 0);
	memset(&vf, 0, sizeof(vf));
	vf.vf_id = 2;
	vf.vf_mode = 0644;
	vf.vf_size = 5;
	(void)strlcpy(vf.vf_path, "/tmp/x", sizeof(vf.vf_path));
	ONE("vmm-file-put", IMSG_VMM_FILE_PUT, -1, &vf, sizeof(vf), NULL, 0);
	ONE("vmm-file-get", IMSG_VMM_FILE_GET, -1, &vf, sizeof(vf), NULL, 0);
	ONE("vmm-file-end", IMSG_VMM_FILE_END, -1, &vf, sizeof(vf), NULL, 0);
	ONE("ctl-file", IMSG_CTL_FILE, -1, &vf, sizeof(vf), NULL, 0);
	ONE("vmm-stop", IMSG_VMM_STOP, -1, NULL, 0, NULL, 0);
	memset(&vn, 0, sizeof(vn));
	vn.vd_reason = MVM_DONE_POWEROFF;
	ONE("vmm-done", IMSG_VMM_DONE, -1, &vn, sizeof(vn), NULL, 0);
	memset(&nt, 0, sizeof(nt));
	nt.vn_port = 5432;
	(void)strlcpy(nt.vn_host, "db.example", sizeof(nt.vn_host));
	ONE("vmm-net-grant", IMSG_VMM_NET_GRANT, -1, &nt, sizeof(nt), NULL,
	    0);
	nt.vn_id = AP_ID_GUEST + 1;
	ONE("vmm-net-open", IMSG_VMM_NET_OPEN, -1, &nt, sizeof(nt), NULL, 0);
	ONE("vmm-net-fd", IMSG_VMM_NET_FD, fd, &nt, sizeof(nt), NULL, 0);
	nt.vn_reason = MVM_NET_NOT_GRANTED;
	ONE("vmm-net-refused", IMSG_VMM_NET_REFUSED, -1, &nt, sizeof(nt),
	    NULL, 0);
	nt.vn_reason = MVM_NET_DONE;
	nt.vn_bytes_out = 18;
	nt.vn_bytes_in = 1024;
	ONE("vmm-net-closed", IMSG_VMM_NET_CLOSED, -1, &nt, sizeof(nt), NULL,
	    0);
	memset(&ch, 0, sizeof(ch));
	ch.ch_version = MVM_CTL_VERSION;
	(void)strlcpy(ch.ch_software, "mvmctl 0.1.0", sizeof(ch.ch_software));
	ONE("ctl-hello", IMSG_CTL_HELLO, -1, &ch, sizeof(ch), NULL, 0);
	memset(&ce, 0, sizeof(ce));
	ce.ce_code = MVM_EPOLICY;
	(void)strlcpy(ce.ce_msg, "denied by policy", sizeof(ce.ce_msg));
	ONE("ctl-error", IMSG_CTL_ERROR, -1, &ce, sizeof(ce), NULL, 0);
	ONE("ctl-status-req", IMSG_CTL_STATUS_REQ, -1, NULL, 0, NULL, 0);
	memset(&cp, 0, sizeof(cp));
	(void)strlcpy(cp.cp_name, "mvm-signer", sizeof(cp.cp_name));
	cp.cp_state = MVM_PROC_READY;
	ONE("ctl-status-proc", IMSG_CTL_STATUS_PROC, -1, &cp, sizeof(cp),
	    NULL, 0);
	memset(&cs, 0, sizeof(cs));
	(void)strlcpy(cs.cs_version, "0.1.0", sizeof(cs.cs_version));
	(void)strlcpy(cs.cs_tenant, "local", sizeof(cs.cs_tenant));
	(void)strlcpy(cs.cs_state_dir, "/var/lib/mvm",
	    sizeof(cs.cs_state_dir));
	ONE("ctl-status-end", IMSG_CTL_STATUS_END, -1, &cs, sizeof(cs), NULL,
	    0);
	ONE("ctl-key-req", IMSG_CTL_KEY_REQ, -1, NULL, 0, NULL, 0);
	memset(&ck, 0, sizeof(ck));
	(void)strlcpy(ck.ck_name, "host", sizeof(ck.ck_name));
	ONE("ctl-key-res", IMSG_CTL_KEY_RES, -1, &ck, sizeof(ck), NULL, 0);
	memset(&cr, 0, sizeof(cr));
	cr.cr_mode = MVM_RUN_RUN;
	cr.cr_flags = MVM_RUN_STDIN | MVM_RUN_RECEIPT;
	cr.cr_argc = 3;
	cr.cr_envc = 1;
	cr.cr_seccomp = AP_TIER_MINIMAL;
	cr.cr_secretc = 1;
	(void)strlcpy(cr.cr_profile, "standard", sizeof(cr.cr_profile));
	(void)strlcpy(cr.cr_image, "default", sizeof(cr.cr_image));
	ONE("ctl-run", IMSG_CTL_RUN, -1, &cr, sizeof(cr), rblob,
	    sizeof(rblob));
	ONE("ctl-stdin", IMSG_CTL_STDIN, -1, "hi\n", 3, NULL, 0);
	memset(&ct, 0, sizeof(ct));
	(void)strlcpy(ct.cs_run, "7844e7186098037f8fa3e921fe4cd5bd",
	    sizeof(ct.cs_run));
	(void)strlcpy(ct.cs_guest, "g1", sizeof(ct.cs_guest));
	(void)strlcpy(ct.cs_tenant, "local", sizeof(ct.cs_tenant));
	ONE("ctl-started", IMSG_CTL_STARTED, -1, &ct, sizeof(ct), NULL, 0);
	memset(&cx, 0, sizeof(cx));
	(void)strlcpy(cx.ce_run, ct.cs_run, sizeof(cx.ce_run));
	(void)strlcpy(cx.ce_guest, "g1", sizeof(cx.ce_guest));
	cx.ce_flags = MVM_EXIT_CODE;
	ONE("ctl-exit", IMSG_CTL_EXIT, -1, &cx, sizeof(cx), NULL, 0);
	memset(&cg, 0, sizeof(cg));
	cg.cg_op = MVM_GUEST_PUT;
	cg.cg_size = 5;
	cg.cg_mode = 0644;
	(void)strlcpy(cg.cg_name, "g1", sizeof(cg.cg_name));
	(void)strlcpy(cg.cg_path, "/tmp/x", sizeof(cg.cg_path));
	ONE("ctl-guest-req", IMSG_CTL_GUEST_REQ, -1, &cg, sizeof(cg), NULL,
	    0);
	memset(&gi, 0, sizeof(gi));
	(void)strlcpy(gi.gi_name, "g1", sizeof(gi.gi_name));
	(void)strlcpy(gi.gi_image, "default", sizeof(gi.gi_image));
	(void)strlcpy(gi.gi_state, "running", sizeof(gi.gi_state));
	(void)strlcpy(gi.gi_profile, "standard", sizeof(gi.gi_profile));
	ONE("ctl-guest-info", IMSG_CTL_GUEST_INFO, -1, &gi, sizeof(gi), NULL,
	    0);
	ONE("ctl-end", IMSG_CTL_END, -1, NULL, 0, NULL, 0);
	ONE("ctl-ok", IMSG_CTL_OK, -1, NULL, 0, NULL, 0);
	ONE("ctl-file-data", IMSG_CTL_FILE_DATA, -1, "hello", 5, NULL, 0);
	ONE("ctl-logs", IMSG_CTL_LOGS, -1, "[    0.0] Linux\n", 16, NULL, 0);
	ONE("ctl-receipt", IMSG_CTL_RECEIPT, -1, "{}", 2, NULL, 0);
	ONE("ctl-metrics-req", IMSG_CTL_METRICS_REQ, -1, NULL, 0, NULL, 0);
	memset(&cm, 0, sizeof(cm));
	cm.cm_uptime_ms = 1000;
	cm.cm_audit_ok = 1;
	ONE("ctl-metrics-res", IMSG_CTL_METRICS_RES, -1, &cm, sizeof(cm),
	    NULL, 0);
	memset(&pq, 0, sizeof(pq));
	(void)strlcpy(pq.pq_name, "standard", sizeof(pq.pq_name));
	ONE("ctl-policy-req", IMSG_CTL_POLICY_REQ, -1, &pq, sizeof(pq), NULL,
	    0);
	policy_defaults(pr);
	ONE("ctl-policy-info", IMSG_CTL_POLICY_INFO, -1, &pr[1],
	    sizeof(pr[1]), NULL, 0);
	memset(&se, 0, sizeof(se));
	se.sc_op = MVM_SECRET_PUT;
	(void)strlcpy(se.sc_name, "token", sizeof(se.sc_name));
	ONE("ctl-secret-req", IMSG_CTL_SECRET_REQ, -1, &se, sizeof(se),
	    "hunter2", 7);
	se.sc_op = MVM_SECRET_LS;
	se.sc_size = 7;
	ONE("ctl-secret-info", IMSG_CTL_SECRET_INFO, -1, &se, sizeof(se),
	    NULL, 0);
	memset(&tt, 0, sizeof(tt));
	(void)strlcpy(tt.ct_name, "g1", sizeof(tt.ct_name));
	tt.ct_which = MVM_TEST_VMM_GARBAGE;
	ONE("ctl-test", IMSG_CTL_TEST, -1, &tt, sizeof(tt), NULL, 0);
	memset(&vh, 0, sizeof(vh));
	vh.vh_id = 3;
	vh.vh_uid = AP_UID_EXEC;
	vh.vh_size = 24;
	(void)strlcpy(vh.vh_path, "/work/src", sizeof(vh.vh_path));
	ONE("vmm-dir-put", IMSG_VMM_DIR_PUT, -1, &vh, sizeof(vh), NULL, 0);
	vh.vh_uid = 0;
	vh.vh_size = SHARE_ARCHIVE_MAX;
	ONE("vmm-dir-get", IMSG_VMM_DIR_GET, -1, &vh, sizeof(vh), NULL, 0);
	vh.vh_path[0] = '\0';
	vh.vh_size = 24;
	vh.vh_skipped = 1;
	ONE("vmm-dir-end", IMSG_VMM_DIR_END, -1, &vh, sizeof(vh), NULL, 0);
	memset(&sh, 0, sizeof(sh));
	sh.sh_mode = MVM_ADD_DIR_RW;
	sha256("/home/u/src", 11, sh.sh_sha256);
	(void)strlcpy(sh.sh_path, "/work/src", sizeof(sh.sh_path));
	ONE("ctl-share", IMSG_CTL_SHARE, -1, &sh, sizeof(sh), NULL, 0);
	ONE("ctl-share-data", IMSG_CTL_SHARE_DATA, -1, SHARE_MAGIC,
	    SHARE_MAGIC_LEN, NULL, 0);
	sh.sh_size = 24;
	sh.sh_skipped = 1;
	ONE("ctl-share-end", IMSG_CTL_SHARE_END, -1, &sh, sizeof(sh), NULL,
	    0);
	/* every message above, one stream, 7 bytes a write */
	save(dir, "session-all", sess);
	/* a header claiming more than the maximum, after a good message */
	sess->o_len = 2;
	sess->o_buf[0] = 0x20;
	sess->o_buf[1] = 0;
	wire(sess, IMSG_CTL_HELLO, -1, &ch, sizeof(ch), NULL, 0);
	put(sess, "\x65\0\0\0\xff\xff\xff\x7f\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	save(dir, "session-oversize", sess);
	free(sess);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* agentproto: frames as both ends write them */

static void
frame(struct out *o, uint32_t type, uint32_t id, const char *p, size_t n)
{
	uint8_t	 hdr[AP_HDR_LEN];

	if (ap_header(hdr, type, id, n) == -1)
		errx(1, "ap_header");
	put(o, hdr, sizeof(hdr));
	put(o, p, n);
}

static void
seeds_agentproto(const char *dir)
{
	static const struct {
		const char	*f_name;
		uint32_t	 f_type;
		const char	*f_payload;
	} f[] = {
		{ "hello", AP_HELLO,
		    "{\"proto_min\":1,\"proto_max\":1,"
		    "\"host\":\"mvm 0.1.0\"}" },
		{ "exec", AP_EXEC,
		    "{\"argv\":[\"/bin/sh\",\"-c\",\"echo hi\"],"
		    "\"seccomp\":\"standard\",\"env\":{\"LANG\":\"C\"},"
		    "\"cwd\":\"/\",\"timeout_ms\":5000,\"stdin\":true,"
		    "\"stdout_max\":65536,\"stderr_max\":0}" },
		{ "stdin", AP_STDIN, "hello\n" },
		{ "stdin-eof", AP_STDIN, "" },
		{ "signal", AP_SIGNAL, "{\"signal\":15}" },
		{ "file-put", AP_FILE_PUT,
		    "{\"path\":\"/tmp/x\",\"mode\":420,\"size\":5}" },
		{ "file-data", AP_FILE_DATA, "hello" },
		{ "file-end", AP_FILE_END, "" },
		{ "file-get", AP_FILE_GET,
		    "{\"path\":\"/etc/hostname\",\"max\":4096}" },
		{ "ping", AP_PING, "{\"n\":1}" },
		{ "shutdown", AP_SHUTDOWN, "{}" },
		/* guest -> host */
		{ "hello-guest", AP_HELLO,
		    "{\"proto\":1,\"agent\":\"mvm-agent 0.1.0\",\"caps\":"
		    "[\"exec\",\"stdin\",\"signal\",\"file\",\"ping\","
		    "\"shutdown\",\"share\"],\"uptime_ms\":812,"
		    "\"kernel\":\"6.1.0-28-amd64\"}" },
		{ "started", AP_STARTED, "{\"pid\":42}" },
		{ "stdout", AP_STDOUT, "hi\n" },
		{ "stderr", AP_STDERR, "oops\n" },
		{ "exit", AP_EXIT,
		    "{\"code\":0,\"signal\":null,\"timed_out\":false,"
		    "\"stdout_bytes\":3,\"stderr_bytes\":0,"
		    "\"stdout_truncated\":false,\"stderr_truncated\":false}" },
		{ "ok", AP_OK, "" },
		{ "pong", AP_PONG, "{\"n\":1}" },
		{ "error", AP_ERROR,
		    "{\"code\":\"not_found\",\"message\":\"no such file\"}" },
		{ "file-end-guest", AP_FILE_END, "{\"size\":5,\"mode\":420}" },
		{ "dir-put", AP_DIR_PUT,
		    "{\"path\":\"/work/src\",\"size\":24}" },
		{ "dir-get", AP_DIR_GET,
		    "{\"path\":\"/work/src\",\"max\":1048576}" },
		{ "dir-end-guest", AP_FILE_END,
		    "{\"size\":24,\"files\":0,\"bytes\":0,\"skipped\":1}" },
	};
	struct out	*o, *sess;
	char		 name[64];
	size_t		 i;

	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (sess = calloc(1, sizeof(*sess))) == NULL)
		err(1, NULL);
	sess->o_buf[0] = 5;		/* 11 bytes a fill */
	sess->o_len = 1;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		o->o_len = 1;
		o->o_buf[0] = 0;	/* all at once */
		frame(o, f[i].f_type, i + 1, f[i].f_payload,
		    strlen(f[i].f_payload));
		frame(sess, f[i].f_type, i + 1, f[i].f_payload,
		    strlen(f[i].f_payload));
		(void)snprintf(name, sizeof(name), "seed-%s", f[i].f_name);
		save(dir, name, o);
	}
	save(dir, "session-all", sess);
	/* a frame whose length is below the minimum ends the stream */
	o->o_len = 1;
	frame(o, AP_PING, 1, "{}", 2);
	put(o, "\0\0\0\4\0\0\0\11", 8);
	save(dir, "session-badlen", o);
	free(sess);
	free(o);
}

/* ------------------------------------------------------------------ */
/* vmmagent: flags, then segments (op, arg, the guest's frames) */

#define G_HELLO		"{\"proto\":1,\"agent\":\"mvm-agent 0.1.0\"," \
			"\"caps\":[\"exec\",\"stdin\",\"signal\",\"file\"," \
			"\"ping\",\"shutdown\",\"net\"],\"uptime_ms\":812," \
			"\"kernel\":\"6.1.0-28-amd64\"}"
#define G_EXIT(c, s)	"{\"code\":" c ",\"signal\":" s "," \
			"\"timed_out\":false,\"stdout_bytes\":3," \
			"\"stderr_bytes\":5,\"stdout_truncated\":false," \
			"\"stderr_truncated\":false}"
#define G_FLOW		0x80000001U
#define G_OPEN		"{\"host\":\"db.example\",\"port\":5432}"

/* a new segment: the separator (but before the first), op and arg */
static void
seg(struct out *o, int op, int arg)
{
	uint8_t	 b[2] = { op, arg };

	if (o->o_len > 1)
		put(o, FUZZ_SEP, FUZZ_SEP_LEN);
	put(o, b, 2);
}

/* flags & 0x80: a segment is op, arg and one frame without its length */
static void
segf(struct out *o, int op, int arg, uint32_t type, uint32_t id,
    const char *p)
{
	uint8_t	 b[8];
	int	 i;

	seg(o, op, arg);
	for (i = 0; i < 4; i++) {
		b[i] = type >> (24 - 8 * i);
		b[4 + i] = id >> (24 - 8 * i);
	}
	put(o, b, sizeof(b));
	put(o, p, strlen(p));
}

#define F(t, id, p)	frame(o, AP_##t, (id), (p), strlen(p))
#define FF(op, arg, t, id, p)	segf(o, (op), (arg), AP_##t, (id), (p))
#define BEGIN(flags) do {						\
	o->o_buf[0] = (flags);						\
	o->o_len = 1;							\
} while (0)

static void
seeds_vmmagent(const char *dir)
{
	struct out	*o;
	char		 line[128];
	int		 i, j;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		err(1, NULL);

	/* boot: HELLO, or refusing it; grants answered or not */
	BEGIN(0x00);
	seg(o, VA_NOP, 0);
	F(HELLO, 0, G_HELLO);
	save(dir, "seed-hello", o);
	BEGIN(0x00);
	seg(o, VA_NOP, 0);
	F(ERROR, 0, "{\"code\":\"version\",\"message\":\"no shared "
	    "version\"}");
	save(dir, "seed-hello-refused", o);
	BEGIN(0x02);
	seg(o, VA_NOP, 0);
	F(HELLO, 0, G_HELLO);
	F(OK, AP_ID_NETGRANTS, "");
	save(dir, "seed-grants", o);
	BEGIN(0x01 | 0x50);
	seg(o, VA_NOP, 0);
	F(HELLO, 0, G_HELLO);
	F(ERROR, AP_ID_NETGRANTS, "{\"code\":\"io\",\"message\":\"cannot "
	    "listen on 127.100.0.1:5432\"}");
	save(dir, "seed-grants-refused", o);

	/* EXEC: started, output, exit; in pieces; refused; crossing */
	for (i = 0; i < 3; i++) {
		BEGIN(0x08 | (i == 0 ? 0 : i == 1 ? 0x10 : 0x40));
		seg(o, VA_EXEC, 0x05);
		F(STARTED, 1, "{\"pid\":42}");
		F(STDOUT, 1, "hi\n");
		F(STDERR, 1, "oops\n");
		F(EXIT, 1, G_EXIT("0", "null"));
		save(dir, i == 0 ? "seed-exec" : i == 1 ? "seed-exec-3" :
		    "seed-exec-13", o);
	}
	BEGIN(0x08);
	seg(o, VA_EXEC, 0x00);
	F(ERROR, 1, "{\"code\":\"not_found\",\"message\":\"/bin/sh: no "
	    "such file\"}");
	save(dir, "seed-exec-error", o);
	BEGIN(0x08);
	seg(o, VA_EXEC, 0x04);
	F(STARTED, 1, "{\"pid\":42}");
	seg(o, VA_STDIN, 0x30);
	seg(o, VA_SIGNAL, 0xe0);
	F(OK, 1, "");
	F(EXIT, 1, G_EXIT("null", "15"));
	seg(o, VA_STDIN, 0x00);
	F(ERROR, 1, "{\"code\":\"not_found\",\"message\":\"no such "
	    "command\"}");
	F(OK, 1, "");
	save(dir, "seed-exec-signal", o);
	BEGIN(0x08);
	for (i = 0; i < 66; i++)
		seg(o, VA_EXEC, i);
	F(STARTED, 64, "{\"pid\":7}");
	save(dir, "seed-exec-many", o);
	BEGIN(0x08);
	for (i = 0; i < 64; i++) {
		seg(o, VA_EXEC, i);
		F(ERROR, i + 1, "{\"code\":\"busy\"}");
	}
	seg(o, VA_EXEC, 0);
	seg(o, VA_EXEC, 0);
	F(STARTED, 65, "{\"pid\":7}");
	save(dir, "seed-exec-reuse", o);
	BEGIN(0x08);
	seg(o, VA_EXEC, 0x07);
	F(STARTED, 1, "{\"pid\":42}");
	seg(o, VA_SLOW, 0);
	for (i = 0; i < 40; i++) {
		(void)snprintf(line, sizeof(line), "line %02d of the output, "
		    "while the supervisor does not read\n", i);
		F(STDOUT, 1, line);
	}
	seg(o, VA_SLOW, 0);
	F(EXIT, 1, G_EXIT("0", "null"));
	save(dir, "seed-slow", o);

	/* files */
	BEGIN(0x08);
	seg(o, VA_GET, 0x40);
	F(FILE_DATA, 1, "hello");
	F(FILE_DATA, 1, "");
	F(FILE_END, 1, "{\"size\":5,\"mode\":420}");
	save(dir, "seed-get", o);
	BEGIN(0x08);
	seg(o, VA_GET, 0x01);
	F(ERROR, 1, "{\"code\":\"too_large\",\"message\":\"larger than "
	    "64\"}");
	save(dir, "seed-get-error", o);
	BEGIN(0x08 | 0x20);
	seg(o, VA_PUT, 5);
	F(OK, 1, "");
	seg(o, VA_GET, 0x10);
	F(FILE_END, 2, "{\"size\":0,\"mode\":384}");
	save(dir, "seed-put", o);

	/* flows: opened, data both ways, ends; refused; cancelled; gone */
	BEGIN(0x09);
	seg(o, VA_NOP, 0);
	F(NET_OPEN, G_FLOW, G_OPEN);
	seg(o, VA_NET, 5);
	F(NET_DATA, G_FLOW, "GET / HTTP/1.0\r\n\r\n");
	seg(o, VA_REMOTE, 0x00);
	F(NET_ACK, G_FLOW, "{\"bytes\":1024}");
	seg(o, VA_REMOTE, 0x01);
	F(NET_DATA, G_FLOW, "");
	save(dir, "seed-net", o);
	BEGIN(0x0a | 0x40);
	seg(o, VA_NOP, 0);
	F(NET_OPEN, G_FLOW, "{\"host\":\"10.1.2.3\",\"port\":443}");
	F(NET_OPEN, G_FLOW + 1, G_OPEN);
	seg(o, VA_NET, 0);
	F(NET_DATA, G_FLOW, "crossed");
	seg(o, VA_NET, 6);
	F(NET_CLOSE, G_FLOW + 1, "{}");
	save(dir, "seed-net-refused", o);
	BEGIN(0x09);
	seg(o, VA_NOP, 0);
	F(NET_OPEN, G_FLOW, G_OPEN);
	F(NET_OPEN, G_FLOW + 1, G_OPEN);
	F(NET_CLOSE, G_FLOW, "{}");
	F(NET_CLOSE, G_FLOW + 1, "{}");
	F(NET_DATA, G_FLOW, "crossed");
	seg(o, VA_NET, 7);
	seg(o, VA_NET, 4);
	save(dir, "seed-net-cancel", o);
	/* still open when QEMU goes; a remote that does not read */
	BEGIN(0x09 | 0x70);
	seg(o, VA_NOP, 0);
	F(NET_OPEN, G_FLOW, G_OPEN);
	seg(o, VA_NET, 5);
	seg(o, VA_REMOTE, 0x03);
	F(NET_DATA, G_FLOW, "unread");
	seg(o, VA_REMOTE, 0x30);
	F(NET_ACK, G_FLOW, "{\"bytes\":1000}");
	save(dir, "seed-net-open", o);
	BEGIN(0x09);
	seg(o, VA_NOP, 0);
	F(NET_OPEN, G_FLOW, G_OPEN);
	seg(o, VA_NET, 5);
	seg(o, VA_REMOTE, 0x02);
	F(NET_DATA, G_FLOW, "to nobody");
	save(dir, "seed-net-gone", o);
	BEGIN(0x0d);
	seg(o, VA_NOP, 0);
	F(NET_OPEN, G_FLOW, G_OPEN);
	seg(o, VA_NET, 5);
	seg(o, VA_REMOTE, 0x70);
	F(NET_ACK, G_FLOW, "{\"bytes\":1024}");
	save(dir, "seed-net-budget", o);

	BEGIN(0x09 | 0x50);
	seg(o, VA_NOP, 0);
	for (i = 0; i < AP_NET_FLOWS_MAX + 1; i++)
		F(NET_OPEN, G_FLOW + i, G_OPEN);
	save(dir, "seed-net-many", o);
	/* a full window both ways: the remote's bytes wait for NET_ACK */
	BEGIN(0x09);
	seg(o, VA_NOP, 0);
	F(NET_OPEN, G_FLOW, G_OPEN);
	seg(o, VA_NET, 5);
	seg(o, VA_REMOTE, 0xf0);
	for (i = 0; i < 8; i++) {
		memset(line, 'w', 100);
		line[100] = '\0';
		F(NET_DATA, G_FLOW, line);
	}
	F(NET_ACK, G_FLOW, "{\"bytes\":2048}");
	F(NET_ACK, G_FLOW, "{\"bytes\":2048}");
	save(dir, "seed-net-window", o);

	/* the guest past its window (the remote reads nothing), its budget */
	memset(line, 'o', 127);
	line[127] = '\0';
	for (i = 0; i < 2; i++) {
		BEGIN(i == 0 ? 0x09 : 0x0d);
		seg(o, VA_NOP, 0);
		F(NET_OPEN, G_FLOW, G_OPEN);
		seg(o, VA_NET, 5);
		seg(o, VA_REMOTE, 0x03);
		for (j = 0; j < 17; j++)
			F(NET_DATA, G_FLOW, line);
		save(dir, i == 0 ? "seed-net-overwindow" : "seed-net-spent", o);
	}

	/* the same, the harness writing each frame's length */
	BEGIN(0x80 | 0x01);
	FF(VA_NOP, 0, HELLO, 0, G_HELLO);
	FF(VA_NOP, 0, OK, AP_ID_NETGRANTS, "");
	save(dir, "seed-fix-grants", o);
	BEGIN(0x80 | 0x08);
	FF(VA_EXEC, 0x04, STARTED, 1, "{\"pid\":42}");
	FF(VA_NOP, 0, STDOUT, 1, "hi\n");
	FF(VA_SIGNAL, 0xe0, OK, 1, "");
	FF(VA_NOP, 0, EXIT, 1, G_EXIT("null", "15"));
	FF(VA_EXEC, 0x00, ERROR, 2, "{\"code\":\"not_found\",\"message\":"
	    "\"no such file\"}");
	FF(VA_EXEC, 0x40, STARTED, 3, "{\"pid\":43}");
	FF(VA_NOP, 0, EXIT, 3, "{\"code\":null,\"signal\":9,"
	    "\"timed_out\":true,\"stdout_bytes\":65536,\"stderr_bytes\":0,"
	    "\"stdout_truncated\":true,\"stderr_truncated\":true}");
	FF(VA_EXEC, 0x00, ERROR, 4, "{\"code\":\"io\",\"message\":"
	    "\"\\u001b[2J\"}");
	FF(VA_EXEC, 0x00, ERROR, 5, "{\"code\":\"denied\",\"message\":42}");
	save(dir, "seed-fix-exec", o);
	BEGIN(0x80 | 0x08);
	FF(VA_GET, 0x40, FILE_DATA, 1, "hello");
	FF(VA_NOP, 0, FILE_END, 1, "{\"size\":5,\"mode\":420}");
	FF(VA_PUT, 3, OK, 2, "");
	FF(VA_STOP, 0, OK, 0xffffffffU, "");
	save(dir, "seed-fix-files", o);
	BEGIN(0x80 | 0x09);
	FF(VA_NOP, 0, NET_OPEN, G_FLOW, G_OPEN);
	FF(VA_NET, 5, NET_DATA, G_FLOW, "GET / HTTP/1.0\r\n\r\n");
	FF(VA_REMOTE, 0x00, NET_ACK, G_FLOW, "{\"bytes\":1024}");
	FF(VA_REMOTE, 0x01, NET_DATA, G_FLOW, "");
	FF(VA_NOP, 0, NET_OPEN, G_FLOW + 1, "{\"host\":\"10.1.2.3\","
	    "\"port\":443}");
	FF(VA_NET, 1, NET_CLOSE, G_FLOW + 1, "{}");
	save(dir, "seed-fix-net", o);

	/* stop; and a frame that breaks the framing */
	BEGIN(0x08);
	seg(o, VA_STOP, 0);
	F(OK, 0xffffffffU, "");
	save(dir, "seed-stop", o);
	BEGIN(0x08);
	seg(o, VA_NOP, 0);
	F(PONG, 0, "{}");
	put(o, "\0\0\0\4\0\0\0\x65", 8);
	save(dir, "session-badlen", o);
	free(o);
}

/* ------------------------------------------------------------------ */
/* merkle: fuzz/merkle.c's input, big-endian fields */

static void
put64(struct out *o, uint64_t v, size_t n)
{
	uint8_t	 b[8];
	size_t	 i;

	for (i = 0; i < n; i++)
		b[i] = v >> (8 * (n - 1 - i));
	put(o, b, n);
}

static void
seeds_merkle(const char *dir)
{
	static const uint64_t	 v[][7] = {
		/* k, cut, k2, size, index, m, bit */
		{ 0, 0, 1, 1, 0, 1, 0 },
		{ 7, 3, 16, 7, 6, 3, 100 },
		{ 100, 37, 200, 777, 500, 300, 4000 },
		{ 1024, 1023, 1024, 1024, 1023, 512, 65535 },
	};
	struct merkle_tree	 t;
	struct out		*o;
	uint8_t			 h[MERKLE_HASH_LEN], pf[MERKLE_PROOF_MAX][32];
	uint64_t		 i;
	size_t			 j, np;
	char			 name[32];

	if ((o = calloc(1, sizeof(*o))) == NULL)
		err(1, NULL);
	for (j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
		o->o_len = 0;
		put64(o, v[j][0], 2);
		put64(o, v[j][1], 2);
		put64(o, v[j][2], 2);
		put64(o, v[j][3] - 1, 8);	/* size = 1 + x % 1024 */
		put64(o, v[j][4], 8);
		put64(o, v[j][5] - 1, 8);	/* m = 1 + x % size */
		put64(o, v[j][6], 2);
		(void)snprintf(name, sizeof(name), "seed-%zu", j);
		save(dir, name, o);
	}
	/* raw: leaf 5's inclusion proof in a tree of 8, as it verifies */
	merkle_init(&t);
	for (i = 0; i < 8; i++) {
		merkle_leaf_hash(&i, sizeof(i), h);
		if (merkle_append(&t, h) == -1)
			err(1, "merkle_append");
	}
	if (merkle_inclusion(&t, 5, 8, pf, &np) == -1)
		errx(1, "merkle_inclusion");
	o->o_len = 0;
	for (j = 0; j < 2 * 3 + 8 * 3 + 2; j++)	/* the parts above: 0 */
		put64(o, 0, 1);
	put64(o, 5, 8);				/* index */
	put64(o, 8, 8);				/* size */
	put64(o, 4, 8);				/* m */
	put64(o, 8, 8);				/* n */
	put64(o, np, 1);
	(void)merkle_leaf(&t, 5, h);
	put(o, h, sizeof(h));
	(void)merkle_root(&t, 4, h);
	put(o, h, sizeof(h));
	(void)merkle_root(&t, 8, h);
	put(o, h, sizeof(h));
	put(o, pf, np * MERKLE_HASH_LEN);
	save(dir, "seed-raw-inclusion", o);
	merkle_free(&t);
	free(o);
}

/* ------------------------------------------------------------------ */
/* a record, signed, as auditd's journal builds them */

static char *
record(uint64_t seq, const uint8_t *prev, const char *type, json_t *labels,
    json_t *subject)
{
	struct record_fields	 rf;
	struct sigmsg		 m;
	uint8_t			 sig[64], kid[4];
	char			 hex[MVM_SHA256_HEX], kidhex[9], when[32];
	char			 b64[MVM_B64_LEN(64)], *u, *line;
	json_t			*o;

	hex_encode(prev, 32, hex);
	key_id_bytes(fuzz_rfc.k_id, kid);
	hex_encode(kid, 4, kidhex);
	time_rfc3339(1795305600000LL + (int64_t)seq * 13, when, sizeof(when));
	o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "kid", kidhex,
	    "prev", hex, "seq", (json_int_t)seq, "tenant", "local", "time",
	    when, "type", type);
	if (o == NULL)
		errx(1, "json_pack");
	if (labels != NULL)
		json_object_set_new(o, "labels", labels);
	if (subject != NULL)
		json_object_set_new(o, "subject", subject);
	u = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (u == NULL)
		errx(1, "json_dumps");
	if (record_check(u, strlen(u), 0, &rf, NULL, 0) == -1)
		errx(1, "record %s is not canonical", u);
	if (sigmsg_audit(&m, (uint8_t *)u, strlen(u)) == -1)
		err(1, "sigmsg_audit");
	crypto_sign_detached(sig, NULL, m.sm_buf, m.sm_len, fuzz_rfc.k_sk);
	sigmsg_free(&m);
	b64_encode(sig, sizeof(sig), b64, sizeof(b64));
	if ((line = record_insert_sig(u, b64)) == NULL)
		errx(1, "record_insert_sig");
	free(u);
	return (line);
}

/* r0, debris (a torn record), the audit.recovered naming it, r2 */
static void
seed_recovered(const char *path)
{
	struct out	*o;
	uint8_t		 prev[32], h[32];
	char		*r0, *r1, *r2, hex[MVM_SHA256_HEX];
	static const char debris[] = "{\"kid\":\"b7838ddc\",\"labels\":{\"n\"";
	size_t		 off;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		err(1, NULL);
	memset(prev, 0, sizeof(prev));
	r0 = record(0, prev, "guest.created", NULL,
	    json_pack("{s:s}", "guest", "g1"));
	put(o, r0, strlen(r0));
	put(o, "\n", 1);
	sha256(r0, strlen(r0), prev);
	off = o->o_len;
	put(o, debris, sizeof(debris) - 1);
	put(o, "\n", 1);
	sha256(debris, sizeof(debris) - 1, h);
	hex_encode(h, sizeof(h), hex);
	r1 = record(1, prev, REC_TYPE_RECOVERED, json_pack("{s:I, s:I, s:s}",
	    "offset", (json_int_t)off, "length",
	    (json_int_t)(sizeof(debris) - 1), "sha256", hex), NULL);
	put(o, r1, strlen(r1));
	put(o, "\n", 1);
	sha256(r1, strlen(r1), prev);
	r2 = record(2, prev, "run.exited", json_pack("{s:i, s:s}", "code", 0,
	    "outcome", "exited"), json_pack("{s:s, s:s}", "guest", "g1",
	    "run", "7844e7186098037f8fa3e921fe4cd5bd"));
	put(o, r2, strlen(r2));
	put(o, "\n", 1);
	save(NULL, path, o);
	free(r0);
	free(r1);
	free(r2);
	free(o);
}

/* leaf 3 of a tree of 6, with an "extra" line, the note signed */
static void
seed_proof(const char *path)
{
	struct merkle_tree	 t;
	struct checkpoint	 ck;
	struct sigmsg		 m;
	struct proof		*pf;
	struct out		*o;
	uint8_t			 h[32];
	uint64_t		 i;
	char			*text, *p;

	merkle_init(&t);
	for (i = 0; i < 6; i++) {
		merkle_leaf_hash(&i, sizeof(i), h);
		if (merkle_append(&t, h) == -1)
			err(1, "merkle_append");
	}
	memset(&ck, 0, sizeof(ck));
	(void)strlcpy(ck.ck_origin, "fuzzseed.test/mvm-audit/local",
	    sizeof(ck.ck_origin));
	ck.ck_size = 6;
	(void)merkle_root(&t, 6, ck.ck_root);
	(void)strlcpy(ck.ck_keyname, fuzz_rfc.k_name, sizeof(ck.ck_keyname));
	ck.ck_keyid = fuzz_rfc.k_id;
	if (sigmsg_note(&m, ck.ck_origin, ck.ck_size, ck.ck_root) == -1)
		errx(1, "sigmsg_note");
	crypto_sign_detached(ck.ck_sig, NULL, m.sm_buf, m.sm_len,
	    fuzz_rfc.k_sk);
	sigmsg_free(&m);
	if ((pf = calloc(1, sizeof(*pf))) == NULL ||
	    (text = malloc(NOTE_PROOF_MAX)) == NULL ||
	    (o = calloc(1, sizeof(*o))) == NULL)
		err(1, NULL);
	pf->pf_kind = PROOF_INCLUSION;
	pf->pf_index = 3;
	if (merkle_inclusion(&t, 3, 6, pf->pf_hash, &pf->pf_nhash) == -1 ||
	    note_format(&ck, pf->pf_note, sizeof(pf->pf_note)) == -1)
		errx(1, "proof");
	pf->pf_notelen = strlen(pf->pf_note);
	if (proof_format(pf, text, NOTE_PROOF_MAX) == -1)
		errx(1, "proof_format");
	/* the optional "extra" line tlog-proof allows, after the header */
	p = strchr(text, '\n') + 1;
	put(o, text, p - text);
	put(o, "extra AAAA\n", 11);
	put(o, p, strlen(p));
	save(NULL, path, o);
	merkle_free(&t);
	free(o);
	free(text);
	free(pf);
}

/* ------------------------------------------------------------------ */
/* share: what mvmctl and the agent write (fuzz/share.c input format) */

static int
share_put(void *arg, const void *p, size_t n)
{
	put(arg, p, n);
	return (0);
}

/*
 * One seed: the chunk byte, then a stream of kind: 0 a small tree,
 * 1 an empty tree, 2 a deep path, 3 many entries, 4 one larger file.
 */
static void
share_seed(const char *dir, const char *name, int kind, uint8_t chunk)
{
	struct share_writer	 w;
	struct out		*o;
	char			 p[SHARE_PATH_MAX], data[4096];
	int			 i;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		err(1, NULL);
	put(o, &chunk, 1);
	if (share_write_start(&w, share_put, o) == -1)
		err(1, "share");
	switch (kind) {
	case 0:
		if (share_write_entry(&w, SHARE_DIR, 0755, "src", 0,
		    NULL) == -1 ||
		    share_write_entry(&w, SHARE_FILE, 0644, "src/main.c", 14,
		    NULL) == -1 ||
		    share_write_data(&w, "int main;\n", 10) == -1 ||
		    share_write_data(&w, "/**/", 4) == -1 ||
		    share_write_entry(&w, SHARE_FILE, 0600, "src/empty", 0,
		    NULL) == -1 ||
		    share_write_entry(&w, SHARE_DIR, 0700, "src/sub", 0,
		    NULL) == -1 ||
		    share_write_entry(&w, SHARE_LINK, 0, "src/sub/up", 0,
		    "../main.c") == -1 ||
		    share_write_entry(&w, SHARE_LINK, 0, "link", 0,
		    "./src//sub/") == -1 ||
		    share_write_entry(&w, SHARE_FILE, 0755, "run.sh", 5,
		    NULL) == -1 ||
		    share_write_data(&w, "true\n", 5) == -1)
			err(1, "share");
		break;
	case 2:
		p[0] = '\0';
		for (i = 0; i < SHARE_DEPTH_MAX; i++) {
			(void)strlcat(p, i == 0 ? "d" : "/d", sizeof(p));
			if (share_write_entry(&w, SHARE_DIR, 0755, p, 0,
			    NULL) == -1)
				err(1, "share");
		}
		break;
	case 3:
		for (i = 0; i < 300; i++) {
			(void)snprintf(p, sizeof(p), "f%03d", i);
			if (share_write_entry(&w, SHARE_FILE, 0644, p, 1,
			    NULL) == -1 || share_write_data(&w, "x", 1) == -1)
				err(1, "share");
		}
		break;
	case 4:
		memset(data, 'z', sizeof(data));
		if (share_write_entry(&w, SHARE_FILE, 0644, "big", 16 *
		    sizeof(data), NULL) == -1)
			err(1, "share");
		for (i = 0; i < 16; i++)
			if (share_write_data(&w, data, sizeof(data)) == -1)
				err(1, "share");
		break;
	}
	if (share_write_end(&w) == -1)
		err(1, "share");
	save(dir, name, o);
	free(o);
}

static void
seeds_share(const char *dir)
{
	struct out	*o;
	uint8_t		 h[SHARE_HDR_LEN];

	share_seed(dir, "seed-tree", 0, 0);
	share_seed(dir, "seed-tree-bytewise", 0, 1);
	share_seed(dir, "seed-tree-16", 0, 7);
	share_seed(dir, "seed-empty", 1, 0);
	share_seed(dir, "seed-deep", 2, 0);
	share_seed(dir, "seed-many", 3, 9);
	share_seed(dir, "seed-big", 4, 10);
	/* what the writer refuses to write: a link out of the tree */
	if ((o = calloc(1, sizeof(*o))) == NULL)
		err(1, NULL);
	put(o, "\0", 1);
	put(o, SHARE_MAGIC, SHARE_MAGIC_LEN);
	share_header(h, SHARE_LINK, 0, 3, 11);
	put(o, h, sizeof(h));
	put(o, "out/etc/passwd", 14);
	share_header(h, SHARE_END, 0, 0, 1);
	put(o, h, sizeof(h));
	save(dir, "seed-link-out", o);
	free(o);
}

int
main(int argc, char *argv[])
{
	if (argc != 3)
		usage();
	fuzz_init();
	if (strcmp(argv[1], "imsg") == 0)
		seeds_imsg(argv[2]);
	else if (strcmp(argv[1], "agentproto") == 0)
		seeds_agentproto(argv[2]);
	else if (strcmp(argv[1], "vmmagent") == 0)
		seeds_vmmagent(argv[2]);
	else if (strcmp(argv[1], "imagefiles") == 0) {
		if (fuzz_image_files(argv[2]) == -1)
			err(1, "%s", argv[2]);
	} else if (strcmp(argv[1], "merkle") == 0)
		seeds_merkle(argv[2]);
	else if (strcmp(argv[1], "share") == 0)
		seeds_share(argv[2]);
	else if (strcmp(argv[1], "recovered") == 0)
		seed_recovered(argv[2]);
	else if (strcmp(argv[1], "proof") == 0)
		seed_proof(argv[2]);
	else
		usage();
	return (0);
}
