/*
 * run.c: control requests about guests: run, up, exec, and the
 * management verbs (ls, stop, rm, boot report, logs, cp, image ls).
 * Everything a client sends is checked here against the documented
 * limits before any guest is touched; refusals are typed errors.
 */
#include <sys/param.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"
#include "agentproto.h"
#include "log.h"
#include "policy.h"
#include "supervisor.h"

#define RUN_CPUS_MAX		16
#define RUN_MEMORY_MAX		16384
#define RUN_TIMEOUT_MAX		86400
#define LOGS_CHUNK		16384
#define FOLLOW_MS		200

/* K=V with K in [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes of key */
static int
env_ok(const char *kv)
{
	const char	*eq = strchr(kv, '=');
	const char	*p;

	if (eq == NULL || eq == kv || eq - kv > 128 ||
	    isdigit((unsigned char)kv[0]))
		return (0);
	for (p = kv; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return (0);
	return (1);
}

static int
cwd_ok(const char *cwd)
{
	return (cwd[0] == '\0' || (cwd[0] == '/' && strlen(cwd) < 256));
}

/* Check a run/up/exec request; returns 0 or an MVM_E* code. */
static uint32_t
run_check(const struct mvm_ctl_run *cr, const char *blob, size_t len)
{
	const char	*s[MVM_EXEC_ARGC_MAX + MVM_EXEC_ENVC_MAX];
	uint32_t	 i;

	if (!sv.audit_ok)
		return (MVM_EAUDIT);
	if (audit_busy())
		return (MVM_EBUSY);
	if (cr->cr_mode == MVM_RUN_UP ? cr->cr_argc != 0 : cr->cr_argc == 0)
		return (MVM_EINVAL);
	if (blob_split(blob, len, cr->cr_argc + cr->cr_envc + cr->cr_secretc,
	    s) == -1)
		return (MVM_EINVAL);
	for (i = 0; i < cr->cr_envc; i++)
		if (!env_ok(s[cr->cr_argc + i]))
			return (MVM_EINVAL);
	if (cr->cr_mode == MVM_RUN_UP &&
	    (cr->cr_secretc != 0 || cr->cr_sharec != 0))
		return (MVM_EINVAL);	/* secrets and shares go to commands */
	if (cr->cr_cpus > RUN_CPUS_MAX || cr->cr_memory_mib > RUN_MEMORY_MAX ||
	    (cr->cr_memory_mib != 0 && cr->cr_memory_mib < 64) ||
	    cr->cr_timeout_s > RUN_TIMEOUT_MAX || !cwd_ok(cr->cr_cwd))
		return (MVM_ETOOBIG);
	if (cr->cr_name[0] != '\0' && !name_valid(cr->cr_name))
		return (MVM_EINVAL);
	if (access(sv.conf.c_qemu, X_OK) == -1)
		return (MVM_ENOQEMU);
	return (0);
}

/*
 * The request against its profile (for exec: its guest's, with the
 * guest's tier as the loosest, and guest root only if the guest was
 * started with it); add_dir is the loosest mode its host shares ask
 * for.  Returns NULL and fills in what the profile decides (cpus,
 * memory, timeout, tier), or the rule that denies it, with a message
 * in msg.  An exec was acknowledged with its guest's up.
 */
static const char *
policy_check(struct mvm_ctl_run *cr, const struct mvm_profile *p,
    uint32_t tier_max, int root_ok, uint32_t add_dir, char *msg, size_t len)
{
	const char	*tier = ap_tier_name(tier_max);

	if (p->pr_ack && cr->cr_mode != MVM_RUN_EXEC &&
	    (cr->cr_pflags & MVM_POLICY_ACK) == 0) {
		(void)snprintf(msg, len, "profile %s needs --ack-permissive",
		    p->pr_name);
		return (POLICY_RULE_ACK);
	}
	if (cr->cr_envc > 0 && !p->pr_env) {
		(void)snprintf(msg, len, "profile %s allows no --env",
		    p->pr_name);
		return (POLICY_RULE_ENV);
	}
	if (cr->cr_secretc > 0 && !p->pr_secrets) {
		(void)snprintf(msg, len, "profile %s allows no --secret",
		    p->pr_name);
		return (POLICY_RULE_SECRET);
	}
	if (add_dir > p->pr_add_dir) {
		(void)snprintf(msg, len, "--add-dir ...:%s: profile %s allows "
		    "%s", share_mode_name(add_dir), p->pr_name,
		    p->pr_add_dir == MVM_ADD_DIR_NONE ? "no --add-dir" :
		    "read-only shares only (ro)");
		return (POLICY_RULE_ADD_DIR);
	}
	if (cr->cr_mode != MVM_RUN_EXEC) {
		if (cr->cr_cpus > p->pr_cpus_max) {
			(void)snprintf(msg, len, "--cpus %u: profile %s "
			    "allows at most %u", cr->cr_cpus, p->pr_name,
			    p->pr_cpus_max);
			return (POLICY_RULE_CPUS);
		}
		if (cr->cr_memory_mib > p->pr_memory_max_mib) {
			(void)snprintf(msg, len, "--memory %u: profile %s "
			    "allows at most %u MiB", cr->cr_memory_mib,
			    p->pr_name, p->pr_memory_max_mib);
			return (POLICY_RULE_MEMORY);
		}
		if (cr->cr_cpus == 0)
			cr->cr_cpus = MIN(sv.conf.c_guest_cpus, p->pr_cpus_max);
		if (cr->cr_memory_mib == 0)
			cr->cr_memory_mib = MIN(sv.conf.c_guest_memory_mib,
			    p->pr_memory_max_mib);
	}
	if (cr->cr_mode != MVM_RUN_UP && p->pr_timeout_max_s != 0) {
		if (cr->cr_timeout_s > p->pr_timeout_max_s) {
			(void)snprintf(msg, len, "--timeout %u: profile %s "
			    "allows at most %u s", cr->cr_timeout_s,
			    p->pr_name, p->pr_timeout_max_s);
			return (POLICY_RULE_TIMEOUT);
		}
		if (cr->cr_timeout_s == 0)
			cr->cr_timeout_s = p->pr_timeout_max_s;
	}
	if (cr->cr_seccomp > tier_max) {
		(void)snprintf(msg, len, "--seccomp %s: profile %s allows "
		    "at most %s here", ap_tier_name(cr->cr_seccomp),
		    p->pr_name, tier);
		return (POLICY_RULE_SECCOMP);
	}
	if (cr->cr_seccomp == 0)
		cr->cr_seccomp = tier_max;
	if ((cr->cr_flags & MVM_RUN_GUEST_ROOT) && !root_ok) {
		if (!p->pr_guest_root)
			(void)snprintf(msg, len, "--guest-root: profile %s "
			    "allows no root in the guest", p->pr_name);
		else
			(void)snprintf(msg, len, "--guest-root: the guest was "
			    "started without it (up --guest-root)");
		return (POLICY_RULE_GUEST_ROOT);
	}
	return (NULL);
}

/*
 * The secrets a command is granted, loaded; their variables must not
 * be --env keys too, and all must fit in one command to the guest.
 * 0, or an MVM_E* code with msg.
 */
static uint32_t
run_grants(const struct mvm_ctl_run *cr, uid_t owner, const char *blob,
    size_t len, struct grants *gr, char *msg, size_t msglen)
{
	const char	*s[MVM_EXEC_ARGC_MAX + MVM_EXEC_ENVC_MAX];
	size_t		 total = len, kl;
	uint32_t	 err, i;
	int		 j;

	memset(gr, 0, sizeof(*gr));
	if (cr->cr_secretc == 0)
		return (0);
	(void)blob_split(blob, len, cr->cr_argc + cr->cr_envc +
	    cr->cr_secretc, s);
	if ((err = grants_load(gr, owner, s + cr->cr_argc + cr->cr_envc,
	    cr->cr_secretc, msg, msglen)) != 0)
		return (err);
	for (j = 0; j < gr->gr_n; j++) {
		kl = strlen(gr->gr_var[j]);
		for (i = 0; i < (uint32_t)j; i++)
			if (strcmp(gr->gr_var[i], gr->gr_var[j]) == 0) {
				(void)snprintf(msg, msglen, "--secret %s: %s is "
				    "granted twice", gr->gr_name[j],
				    gr->gr_var[j]);
				grants_free(gr);
				return (MVM_EINVAL);
			}
		if (gr->gr_file[j]) {
			total += kl + 2 + (gr->gr_len[j] + 2) / 3 * 4;
			continue;
		}
		for (i = 0; i < cr->cr_envc; i++)
			if (strncmp(s[cr->cr_argc + i], gr->gr_var[j], kl) ==
			    0 && s[cr->cr_argc + i][kl] == '=')
				break;
		if (i < cr->cr_envc) {
			(void)snprintf(msg, msglen, "--secret %s: %s is "
			    "also an --env key", gr->gr_name[j],
			    gr->gr_var[j]);
			grants_free(gr);
			return (MVM_EINVAL);
		}
		total += kl + 2 + gr->gr_len[j];
	}
	if (total > MVM_EXEC_BLOB_MAX) {
		(void)snprintf(msg, msglen, "the secrets, arguments and "
		    "environment take %zu bytes; at most %d", total,
		    MVM_EXEC_BLOB_MAX);
		grants_free(gr);
		return (MVM_ETOOBIG);
	}
	return (0);
}

static const char *
run_verb(uint32_t mode)
{
	return (mode == MVM_RUN_UP ? "up" : mode == MVM_RUN_EXEC ? "exec" :
	    "run");
}

/*
 * A refusal: on record (ctl.<verb> "refused", its code and who asked),
 * then the typed error.  Every refusal of a request goes through here,
 * or through policy_deny.
 */
static int
refuse_guest(struct ctl_client *cl, const char *verb, const char *guest,
    uint32_t err, const char *msg)
{
	audit_ctl_guest(verb, guest, "refused", cl->cl_uid, -1, err);
	if (err == MVM_EBUSY && audit_busy())
		msg = "the audit log is behind; nothing was done: try again";
	(void)control_error(cl->cl_id, err, msg != NULL && msg[0] != '\0' ?
	    msg : NULL);
	return (PEER_OK);
}

static int
refuse(struct ctl_client *cl, const char *verb, uint32_t err,
    const char *msg)
{
	return (refuse_guest(cl, verb, NULL, err, msg));
}

/* A denial: audited (policy.denied, its rule), then the typed error. */
static int
policy_deny(struct ctl_client *cl, const struct mvm_ctl_run *cr,
    const char *profile, const char *rule, const char *msg)
{
	struct mvm_audit_event	 ev;

	log_info("client %u: denied by policy: %s", cl->cl_id, msg);
	aev_init(&ev, "policy.denied");
	if (cr->cr_mode != MVM_RUN_RUN && name_valid(cr->cr_name))
		aev_subject(&ev, "guest", cr->cr_name);
	aev_label(&ev, "mode", run_verb(cr->cr_mode));
	aev_label(&ev, "profile", profile);
	aev_label(&ev, "rule", rule);
	aev_label_int(&ev, "uid", cl->cl_uid);
	(void)audit_send(&ev, NULL, NULL);
	(void)control_error(cl->cl_id, MVM_EPOLICY, msg);
	return (PEER_OK);
}

static void
run_name(char *out, size_t len)
{
	uint8_t	 r[4];
	char	 hex[9];

	randombytes_buf(r, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	(void)snprintf(out, len, "run-%s", hex);
}

/*
 * The egress grants at the end of the request's strings, parsed into
 * *net; the rest of the code sees a request without them (cr_allowc 0,
 * *lenp shortened).  0, or an MVM_E* code with msg (and *rule for a
 * policy denial).
 */
static uint32_t
run_net(struct mvm_ctl_run *cr, const char *blob, size_t *lenp,
    struct netgrant **net, int *nnet, const char **rule, char *msg,
    size_t msglen)
{
	const char	*s[MVM_EXEC_ARGC_MAX + MVM_EXEC_ENVC_MAX +
			    MVM_NET_GRANTS_MAX];
	uint32_t	 first = cr->cr_argc + cr->cr_envc + cr->cr_secretc;
	uint32_t	 err;

	*net = NULL;
	*nnet = 0;
	*rule = NULL;
	if (cr->cr_allowc == 0)
		return (0);
	if (cr->cr_mode == MVM_RUN_EXEC) {
		(void)snprintf(msg, msglen, "--allow: a guest's grants are "
		    "fixed when it starts (up)");
		return (MVM_EINVAL);
	}
	if (first + cr->cr_allowc > sizeof(s) / sizeof(s[0]) ||
	    blob_split(blob, *lenp, first + cr->cr_allowc, s) == -1)
		return (MVM_EINVAL);
	if ((err = net_grants_parse(s + first, cr->cr_allowc, net, nnet, rule,
	    msg, msglen)) != 0)
		return (err);
	*lenp = s[first] - blob;
	cr->cr_allowc = 0;
	return (0);
}

/* exec in a named guest: its own, under the profile fixed at up */
static int
run_exec(struct ctl_client *cl, struct mvm_ctl_run *cr, const char *blob,
    size_t len)
{
	struct guest	*g;
	struct grants	 gr;
	const char	*rule;
	char		 msg[MVM_ERRMSG_MAX];
	uint32_t	 err;

	if (cr->cr_profile[0] != '\0' || cr->cr_pflags != 0)
		return (refuse(cl, "exec", MVM_EINVAL, "a guest's profile is "
		    "fixed when it starts (up)"));
	if ((g = guest_find_for(cr->cr_name, cl->cl_uid)) == NULL)
		return (refuse_guest(cl, "exec", cr->cr_name, MVM_ENOGUEST,
		    NULL));
	if (g->g_state != GUEST_RUNNING || g->g_transient)
		return (refuse_guest(cl, "exec", g->g_name, MVM_ESTATE, NULL));
	if ((rule = policy_check(cr, &g->g_profile, g->g_tier, g->g_guest_root,
	    share_mode_max(cl->cl_shares, cl->cl_nshares), msg,
	    sizeof(msg))) != NULL)
		return (policy_deny(cl, cr, g->g_profile.pr_name, rule, msg));
	msg[0] = '\0';
	if ((err = run_grants(cr, cl->cl_uid, blob, len, &gr, msg,
	    sizeof(msg))) != 0)
		return (refuse(cl, "exec", err, msg));
	/* the command has the shares now; exec_new answers a failure */
	(void)exec_new(g, cl->cl_id, cr, blob, len,
	    (cr->cr_flags & MVM_RUN_NOOUTPUT) != 0, &gr, &cl->cl_shares,
	    cl->cl_nshares);
	cl->cl_nshares = 0;
	return (PEER_OK);
}

/*
 * run or up: a new guest of the client's under profile p; takes *net
 * once a guest has it.
 */
static int
run_new(struct ctl_client *cl, struct mvm_ctl_run *cr, const char *blob,
    size_t len, const struct mvm_profile *p, struct netgrant **net,
    int nnet)
{
	const char	*verb = run_verb(cr->cr_mode);
	struct image	 im;
	struct guest	*g;
	struct grants	 gr;
	char		 name[MVM_NAME_MAX], msg[MVM_ERRMSG_MAX];
	uint32_t	 err;

	if (cr->cr_name[0] != '\0')
		(void)strlcpy(name, cr->cr_name, sizeof(name));
	else if (cr->cr_mode == MVM_RUN_RUN)
		run_name(name, sizeof(name));
	else
		return (refuse(cl, verb, MVM_EINVAL, "a name is needed"));
	/* a missing secret fails here, before any guest exists */
	msg[0] = '\0';
	if ((err = run_grants(cr, cl->cl_uid, blob, len, &gr, msg,
	    sizeof(msg))) != 0)
		return (refuse(cl, verb, err, msg));
	if (image_get(cr->cr_image[0] != '\0' ? cr->cr_image : "default", &im,
	    &err) == -1 || (g = guest_create(name, &im, cr->cr_cpus,
	    cr->cr_memory_mib, cr->cr_mode == MVM_RUN_RUN, cl->cl_uid,
	    &err)) == NULL) {
		grants_free(&gr);
		return (refuse(cl, verb, err, NULL));
	}
	g->g_profile = *p;
	g->g_tier = cr->cr_seccomp;
	g->g_guest_root = (cr->cr_flags & MVM_RUN_GUEST_ROOT) != 0;
	g->g_net = *net;
	g->g_nnet = nnet;
	*net = NULL;
	if (cr->cr_mode == MVM_RUN_UP) {
		audit_ctl("up", "ok", cl->cl_uid, -1, 0);
		g->g_up_client = cl->cl_id;
		if (guest_start(g) == -1) {
			g->g_up_client = 0;
			guest_destroy(g);
			(void)control_error(cl->cl_id, MVM_ENOQEMU, NULL);
		}
		return (PEER_OK);
	}
	(void)exec_new(g, cl->cl_id, cr, blob, len,
	    (cr->cr_flags & MVM_RUN_NOOUTPUT) != 0, &gr, &cl->cl_shares,
	    cl->cl_nshares);
	cl->cl_nshares = 0;		/* the command has them */
	return (PEER_OK);
}

/* run and up: the profile, and whether this client may use it */
static const struct mvm_profile *
run_profile(struct ctl_client *cl, const struct mvm_ctl_run *cr,
    const char **rule, char *msg, size_t len)
{
	const struct mvm_profile	*p;

	*rule = NULL;
	if ((p = policy_find(sv.conf.c_profiles, cr->cr_profile[0] != '\0' ?
	    cr->cr_profile : MVM_PROFILE_DEFAULT)) == NULL) {
		(void)snprintf(msg, len, "no such profile (mvmctl policy ls)");
		return (NULL);
	}
	if (!config_acl_allows(&sv.conf.c_acl[p - sv.conf.c_profiles],
	    cl->cl_uid, cl->cl_gid, cl->cl_groups, cl->cl_ngroups)) {
		(void)snprintf(msg, len, "profile %s is not for uid %u "
		    "(mvm.conf: users, groups)", p->pr_name,
		    (unsigned int)cl->cl_uid);
		*rule = POLICY_RULE_USER;
	}
	return (p);
}

int
control_run(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_ctl_run		 cr;
	const struct mvm_profile	*p = NULL;
	struct netgrant			*net = NULL;
	const char			*blob, *rule, *verb;
	char				 msg[MVM_ERRMSG_MAX];
	size_t				 len;
	uint32_t			 err;
	int				 nnet = 0, rc;

	if (msg_get_ctl_run(imsg, &cr, &blob, &len) == -1 ||
	    cr.cr_sharec != (uint32_t)cl->cl_nshares)
		return (PEER_BAD);		/* its shares came first */
	if (exec_by_client(cl->cl_id) != NULL)
		return (PEER_BAD);		/* one command per connection */
	cl->cl_ran = 1;
	verb = run_verb(cr.cr_mode);
	msg[0] = '\0';
	if (cr.cr_mode != MVM_RUN_EXEC) {
		if ((p = run_profile(cl, &cr, &rule, msg, sizeof(msg))) ==
		    NULL)
			return (refuse(cl, verb, MVM_EINVAL, msg));
		if (rule != NULL)
			return (policy_deny(cl, &cr, p->pr_name, rule, msg));
	}
	if ((err = run_net(&cr, blob, &len, &net, &nnet, &rule, msg,
	    sizeof(msg))) != 0) {
		if (rule != NULL && p != NULL)
			return (policy_deny(cl, &cr, p->pr_name, rule, msg));
		return (refuse(cl, verb, err, msg));
	}
	if ((err = run_check(&cr, blob, len)) != 0)
		rc = refuse(cl, verb, err, NULL);
	else if (cr.cr_mode == MVM_RUN_EXEC)
		rc = run_exec(cl, &cr, blob, len);
	else if ((rule = policy_check(&cr, p, p->pr_seccomp, p->pr_guest_root,
	    share_mode_max(cl->cl_shares, cl->cl_nshares), msg,
	    sizeof(msg))) != NULL)
		rc = policy_deny(cl, &cr, p->pr_name, rule, msg);
	else if (nnet > 0 && !p->pr_network) {
		(void)snprintf(msg, sizeof(msg), "profile %s allows no "
		    "--allow (egress)", p->pr_name);
		rc = policy_deny(cl, &cr, p->pr_name, POLICY_RULE_NETWORK,
		    msg);
	} else
		rc = run_new(cl, &cr, blob, len, p, &net, nnet);
	free(net);		/* NULL once a guest has them */
	return (rc);
}

/* stdin for the client's command; an empty message closes it */
int
control_stdin(struct ctl_client *cl, struct imsg *imsg)
{
	struct exec	*x = exec_by_client(cl->cl_id);

	if (imsg->fd != -1 || imsg->datalen > MVM_DATA_MAX)
		return (PEER_BAD);
	if (x != NULL)
		exec_stdin(x, imsg->data, imsg->datalen);
	return (PEER_OK);
}

static int
guest_ls(struct ctl_client *cl, const char *name)
{
	struct mvm_ctl_guest_info	 gi;
	struct guest			*g;

	TAILQ_FOREACH(g, &sv.guests, g_entry) {
		if ((name != NULL && strcmp(g->g_name, name) != 0) ||
		    (cl->cl_uid != 0 && g->g_owner != cl->cl_uid))
			continue;
		guest_info(g, &gi);
		(void)control_send(cl->cl_id, IMSG_CTL_GUEST_INFO, &gi,
		    sizeof(gi), NULL, 0);
	}
	return (control_send(cl->cl_id, IMSG_CTL_END, NULL, 0, NULL, 0));
}

static void
image_ls(struct ctl_client *cl)
{
	struct mvm_ctl_guest_info	 gi;
	struct image			 im;
	char				 names[64][MVM_NAME_MAX];
	uint32_t			 err;
	int				 i, n;

	n = image_list(names, 64);
	for (i = 0; i < n; i++) {
		memset(&gi, 0, sizeof(gi));
		(void)strlcpy(gi.gi_name, names[i], sizeof(gi.gi_name));
		if (image_get(names[i], &im, &err) == 0) {
			(void)strlcpy(gi.gi_state, "ok", sizeof(gi.gi_state));
			(void)strlcpy(gi.gi_kernel, im.im_kernel_version,
			    sizeof(gi.gi_kernel));
			(void)strlcpy(gi.gi_kernel_sha256, im.im_kernel_sha256,
			    sizeof(gi.gi_kernel_sha256));
			(void)strlcpy(gi.gi_initrd_sha256, im.im_initrd_sha256,
			    sizeof(gi.gi_initrd_sha256));
		} else
			(void)strlcpy(gi.gi_state, "damaged",
			    sizeof(gi.gi_state));
		(void)control_send(cl->cl_id, IMSG_CTL_GUEST_INFO, &gi,
		    sizeof(gi), NULL, 0);
	}
	(void)control_send(cl->cl_id, IMSG_CTL_END, NULL, 0, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* logs: the console log, and with -f what comes after */

static int
logs_send(struct ctl_client *cl, struct guest *g)
{
	char	 path[MVM_ROOT_MAX + 32], buf[LOGS_CHUNK];
	ssize_t	 n;
	int	 fd;

	(void)snprintf(path, sizeof(path), "%s/console.log", g->g_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (0);
	while ((n = pread(fd, buf, sizeof(buf), cl->cl_follow_off)) > 0) {
		(void)control_send(cl->cl_id, IMSG_CTL_LOGS, buf, n, NULL, 0);
		cl->cl_follow_off += n;
		if (control_queued(cl->cl_id) > EXEC_OUT_HIGH)
			break;
	}
	close(fd);
	return (0);
}

static void
follow_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client	*cl = arg;
	struct guest		*g = guest_by_id(cl->cl_follow);
	struct timeval		 tv = { 0, FOLLOW_MS * 1000 };

	(void)fd;
	(void)ev;
	if (g != NULL)
		(void)logs_send(cl, g);
	if (g == NULL || g->g_state == GUEST_STOPPED ||
	    g->g_state == GUEST_FAILED) {
		(void)control_send(cl->cl_id, IMSG_CTL_END, NULL, 0, NULL, 0);
		control_follow_stop(cl);
		return;
	}
	evtimer_add(cl->cl_follow_ev, &tv);
}

void
control_follow_stop(struct ctl_client *cl)
{
	if (cl->cl_follow_ev != NULL)
		event_free(cl->cl_follow_ev);
	cl->cl_follow_ev = NULL;
	cl->cl_follow = 0;
}

static void
guest_logs(struct ctl_client *cl, struct guest *g, int follow)
{
	struct timeval	 tv = { 0, FOLLOW_MS * 1000 };

	cl->cl_follow_off = 0;
	(void)logs_send(cl, g);
	if (!follow) {
		(void)control_send(cl->cl_id, IMSG_CTL_END, NULL, 0, NULL, 0);
		return;
	}
	cl->cl_follow = g->g_id;
	if ((cl->cl_follow_ev = evtimer_new(sv.base, follow_cb, cl)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(cl->cl_follow_ev, &tv);
}

/* ------------------------------------------------------------------ */

static const char *
op_verb(uint32_t op)
{
	switch (op) {
	case MVM_GUEST_LS:	return ("ls");
	case MVM_GUEST_STOP:	return ("stop");
	case MVM_GUEST_RM:	return ("rm");
	case MVM_GUEST_REPORT:	return ("boot_report");
	case MVM_GUEST_LOGS:	return ("logs");
	case MVM_GUEST_PUT:	return ("cp_put");
	case MVM_GUEST_GET:	return ("cp_get");
	case MVM_GUEST_IMAGES:	return ("image_ls");
	case MVM_GUEST_IMAGE_BUILD: return ("image_build");
	case MVM_GUEST_IMAGE_RM: return ("image_rm");
	}
	return ("unknown");
}

/* stop, rm, logs, cp of a guest the client may see; 0 or MVM_E* */
static uint32_t
guest_op(struct ctl_client *cl, struct guest *g,
    const struct mvm_ctl_guest *cg)
{
	uint32_t	 err;

	switch (cg->cg_op) {
	case MVM_GUEST_STOP:
		if (g->g_pid == 0) {
			(void)control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0,
			    NULL, 0);
			return (0);
		}
		/* answered when its vmm is gone (control_stop_done) */
		cl->cl_stop = g->g_id;
		guest_stop(g);
		return (0);
	case MVM_GUEST_RM:
		if (g->g_pid != 0)
			return (MVM_ESTATE);
		if (!TAILQ_EMPTY(&g->g_execs))
			return (MVM_EBUSY);	/* a receipt is being made */
		guest_destroy(g);
		(void)control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0, NULL, 0);
		return (0);
	case MVM_GUEST_LOGS:
		guest_logs(cl, g, (cg->cg_flags & MVM_GUEST_FOLLOW) != 0);
		return (0);
	case MVM_GUEST_PUT:
		/* accepted: the client sends the file after this answer */
		if ((err = guest_file_put(g, cl->cl_id, cg)) != 0)
			return (err);
		cl->cl_put = g->g_id;
		(void)control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0, NULL, 0);
		return (0);
	case MVM_GUEST_GET:
		return (guest_file_get(g, cl->cl_id, cg));
	}
	return (MVM_EINVAL);
}

/*
 * Requests about guests and images.  Those that only read (ls, boot
 * report, image ls) make no record; the others are recorded with who
 * asked and their outcome, refusals included.  A client sees only its
 * own guests (root sees all): another user's is "no such guest".
 */
int
control_guest(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_ctl_guest	 cg;
	struct guest		*g;
	const char		*verb;
	char			 msg[MVM_ERRMSG_MAX];
	uint32_t		 err;
	uid_t			 owner;

	if (msg_get_ctl_guest(imsg, &cg) == -1 || cl->cl_put != 0 ||
	    cl->cl_stop != 0 || cl->cl_follow != 0 || cl->cl_build_fd != -1)
		return (PEER_BAD);
	verb = op_verb(cg.cg_op);
	if (cg.cg_op == MVM_GUEST_LS)
		return (guest_ls(cl, NULL), PEER_OK);
	if (cg.cg_op == MVM_GUEST_IMAGES)
		return (image_ls(cl), PEER_OK);
	if (cg.cg_op == MVM_GUEST_IMAGE_BUILD ||
	    cg.cg_op == MVM_GUEST_IMAGE_RM) {
		/* answered there once done (a build: ready for the layer) */
		msg[0] = '\0';
		if (audit_busy())
			err = MVM_EBUSY;
		else if (cg.cg_op == MVM_GUEST_IMAGE_BUILD)
			err = image_build_begin(cl, &cg, msg, sizeof(msg));
		else
			err = image_rm(cl, cg.cg_name, msg, sizeof(msg));
		if (err != 0)
			return (refuse(cl, verb, err, msg));
		audit_ctl(verb, "ok", cl->cl_uid, -1, 0);
		return (PEER_OK);
	}
	if ((g = guest_find_for(cg.cg_name, cl->cl_uid)) == NULL)
		return (refuse_guest(cl, verb, cg.cg_name, MVM_ENOGUEST, NULL));
	if (cg.cg_op == MVM_GUEST_REPORT)
		return (guest_ls(cl, g->g_name), PEER_OK);
	owner = g->g_owner;
	if ((err = audit_busy() ? MVM_EBUSY : guest_op(cl, g, &cg)) != 0)
		return (refuse_guest(cl, verb, cg.cg_name, err, NULL));
	/* g may be gone now (rm) */
	audit_ctl_guest(verb, cg.cg_name, "ok", cl->cl_uid, owner, 0);
	return (PEER_OK);
}

/*
 * cp to a guest: data, then an empty CTL_FILE to end.  The guest is
 * looked up by id each time: the copy may have ended under the client
 * (its guest stopped or was removed, and the client was told), in
 * which case what is still on its way is dropped until the end.
 */
int
control_file(struct ctl_client *cl, struct imsg *imsg)
{
	struct guest	*g;

	if (cl->cl_build_fd != -1)		/* image build layer */
		return (image_build_file(cl, imsg));
	if (cl->cl_put == 0 || imsg->fd != -1 || imsg->datalen > MVM_DATA_MAX)
		return (PEER_BAD);
	if ((g = guest_by_id(cl->cl_put)) == NULL ||
	    g->g_file_client != cl->cl_id) {
		if (imsg_type(imsg) == IMSG_CTL_FILE)
			cl->cl_put = 0;
		return (PEER_OK);
	}
	if (imsg_type(imsg) == IMSG_CTL_FILE_DATA) {
		if (imsg->datalen > MVM_DATA_MAX ||
		    g->g_file_bytes + imsg->datalen > g->g_file_size)
			return (PEER_BAD);
		guest_file_data(g, imsg->data, imsg->datalen);
		control_pace(cl->cl_id, g->g_id);
		return (PEER_OK);
	}
	if (imsg->datalen != 0 || g->g_file_bytes != g->g_file_size)
		return (PEER_BAD);
	guest_file_end(g);
	cl->cl_put = 0;
	return (PEER_OK);
}
