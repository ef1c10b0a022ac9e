/*
 * copy.c: mvmctl cp, host to guest and back, one transfer per guest at
 * a time.  The supervisor relays bytes and counts them; the agent does
 * the path checks in the guest.  Guest paths reach the audit log only
 * as a SHA-256.
 *
 * From the guest, the bytes are the guest's: a get carries its max
 * (MVM_CP_MAX, or less if the client asked), which the vmm holds the
 * agent to, and so does this file to the vmm: data beyond the max, or
 * an end whose size is not what came, is a vmm gone bad (PEER_BAD: the
 * guest fails), after the client has its error.  While the client is
 * slow to read, the guest's vmm is not read (guest_throttle), as for a
 * command's output.  A client that goes away leaves a get to run out
 * here, its bytes dropped, up to its end or error, and a put is ended
 * short (guest_file_client_gone); another copy with that guest waits
 * until then (EBUSY).  A guest that goes away ends the copy with an
 * error to its client (guest_file_abort).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "supervisor.h"

static void	 copy_audit(struct guest *, const char *);
static int	 copy_begin(struct guest *, uint32_t,
		    const struct mvm_ctl_guest *, int);
static void	 copy_end(struct guest *);
static int	 copy_broken(struct guest *, const char *);

static void
copy_audit(struct guest *g, const char *outcome)
{
	struct mvm_audit_event	 ev;

	aev_init(&ev, g->g_file_put ? "guest.file_put" : "guest.file_get");
	aev_subject(&ev, "guest", g->g_name);
	aev_label(&ev, "path_sha256", g->g_file_path_sha256);
	aev_label_int(&ev, "bytes", g->g_file_bytes);
	aev_label(&ev, "outcome", outcome);
	(void)audit_send(&ev, NULL, NULL);
}

static int
copy_begin(struct guest *g, uint32_t client, const struct mvm_ctl_guest *cg,
    int put)
{
	uint8_t	 h[32];

	if (g->g_state != GUEST_RUNNING)
		return (MVM_ESTATE);
	/* a get whose client went runs out first (top of the file) */
	if (g->g_file_client != 0 || (g->g_file_id != 0 && !g->g_file_put))
		return (MVM_EBUSY);
	if (cg->cg_path[0] != '/' || cg->cg_size > MVM_CP_MAX)
		return (cg->cg_size > MVM_CP_MAX ? MVM_ETOOBIG : MVM_EINVAL);
	g->g_file_client = client;
	g->g_file_id = ++g->g_next_id;
	g->g_file_put = put;
	g->g_file_size = cg->cg_size;
	if (!put && cg->cg_size == 0)
		g->g_file_size = MVM_CP_MAX;
	g->g_file_bytes = 0;
	g->g_file_ended = 0;
	sha256(cg->cg_path, strlen(cg->cg_path), h);
	hex_encode(h, 32, g->g_file_path_sha256);
	return (0);
}

static void
copy_end(struct guest *g)
{
	g->g_file_client = 0;
	g->g_file_id = 0;
}

/*
 * The vmm passed on what the agent may not send: the client learns it
 * first, then the caller returns PEER_BAD and the guest fails.
 */
static int
copy_broken(struct guest *g, const char *why)
{
	log_warnx("%s: cp from the guest: the vmm %s", g->g_name, why);
	copy_audit(g, "protocol");
	if (g->g_file_client != 0)
		(void)control_error(g->g_file_client, MVM_EGUEST,
		    "the guest broke the protocol");
	copy_end(g);
	return (PEER_BAD);
}

/* Returns 0 or an MVM_E* code for the client. */
int
guest_file_put(struct guest *g, uint32_t client, const struct mvm_ctl_guest *cg)
{
	struct mvm_vmm_file	 vf;
	int			 err;

	if ((err = copy_begin(g, client, cg, 1)) != 0)
		return (err);
	memset(&vf, 0, sizeof(vf));
	vf.vf_id = g->g_file_id;
	vf.vf_mode = cg->cg_mode & 07777;
	vf.vf_size = cg->cg_size;
	(void)strlcpy(vf.vf_path, cg->cg_path, sizeof(vf.vf_path));
	(void)peer_compose(&g->g_peer, IMSG_VMM_FILE_PUT, g->g_id, -1, &vf,
	    sizeof(vf));
	return (0);
}

void
guest_file_data(struct guest *g, const uint8_t *p, size_t len)
{
	struct mvm_vmm_data	 vd;

	g->g_file_bytes += len;
	memset(&vd, 0, sizeof(vd));
	vd.vd_id = g->g_file_id;
	(void)peer_composev2(&g->g_peer, IMSG_VMM_FILE_DATA, g->g_id, -1, &vd,
	    sizeof(vd), p, len);
}

void
guest_file_end(struct guest *g)
{
	struct mvm_vmm_file	 vf;

	g->g_file_ended = 1;
	memset(&vf, 0, sizeof(vf));
	vf.vf_id = g->g_file_id;
	(void)peer_compose(&g->g_peer, IMSG_VMM_FILE_END, g->g_id, -1, &vf,
	    sizeof(vf));
}

void
guest_file_put_done(struct guest *g)
{
	copy_audit(g, "ok");
	if (g->g_file_client != 0)
		(void)control_send(g->g_file_client, IMSG_CTL_OK, NULL, 0,
		    NULL, 0);
	copy_end(g);
}

int
guest_file_get(struct guest *g, uint32_t client, const struct mvm_ctl_guest *cg)
{
	struct mvm_vmm_file	 vf;
	int			 err;

	if ((err = copy_begin(g, client, cg, 0)) != 0)
		return (err);
	memset(&vf, 0, sizeof(vf));
	vf.vf_id = g->g_file_id;
	vf.vf_size = g->g_file_size;
	(void)strlcpy(vf.vf_path, cg->cg_path, sizeof(vf.vf_path));
	(void)peer_compose(&g->g_peer, IMSG_VMM_FILE_GET, g->g_id, -1, &vf,
	    sizeof(vf));
	return (0);
}

/* Data of the get under way, within its max; PEER_BAD if beyond. */
int
guest_file_got(struct guest *g, const uint8_t *p, size_t len)
{
	if (g->g_file_put)
		return (PEER_BAD);
	if (len > g->g_file_size - g->g_file_bytes)
		return (copy_broken(g, "passed more than the max"));
	g->g_file_bytes += len;
	if (g->g_file_client == 0)
		return (PEER_OK);		/* gone: dropped */
	(void)control_send(g->g_file_client, IMSG_CTL_FILE_DATA, p, len, NULL,
	    0);
	guest_throttle(g, g->g_file_client);
	return (PEER_OK);
}

/* The get's end: the size announced must be what came. */
int
guest_file_got_end(struct guest *g, const struct mvm_vmm_file *vf)
{
	struct mvm_vmm_file	 out;

	if (g->g_file_put)
		return (PEER_BAD);
	if (vf->vf_size != g->g_file_bytes)
		return (copy_broken(g, "announced another size than came"));
	memset(&out, 0, sizeof(out));
	out.vf_size = g->g_file_bytes;
	out.vf_mode = vf->vf_mode & 07777;
	copy_audit(g, g->g_file_client != 0 ? "ok" : "cancelled");
	if (g->g_file_client != 0)
		(void)control_send(g->g_file_client, IMSG_CTL_FILE, &out,
		    sizeof(out), NULL, 0);
	copy_end(g);
	return (PEER_OK);
}

/*
 * The agent refused or failed the transfer, or (MVM_AGENT_EPROTO) the
 * vmm caught it breaking the protocol: the guest fails next.
 */
void
guest_file_error(struct guest *g, const struct mvm_vmm_error *ve)
{
	uint32_t	 code;

	switch (ve->ve_code) {
	case MVM_AGENT_ENOTFOUND:
		code = MVM_ENOTFOUND;
		break;
	case MVM_AGENT_ETOOLARGE:
		code = MVM_ETOOBIG;
		break;
	default:
		code = MVM_EGUEST;
		break;
	}
	copy_audit(g, ve->ve_code == MVM_AGENT_EPROTO ? "protocol" :
	    g->g_file_client == 0 && !g->g_file_put ? "cancelled" : "error");
	if (g->g_file_client != 0)
		(void)control_error(g->g_file_client, code, ve->ve_msg);
	copy_end(g);
}

/* The guest is gone with a copy under way: its client hears so. */
void
guest_file_abort(struct guest *g, const char *why)
{
	copy_audit(g, "error");
	(void)control_error(g->g_file_client, MVM_EGUEST, why);
	copy_end(g);
}

/*
 * The client of the copy went away.  The copy stays in flight (its id)
 * until the guest ends it, so that what the guest still sends for it is
 * expected and dropped; a put is ended now (FILE_END short of its size:
 * the agent refuses it and answers).
 */
void
guest_file_client_gone(struct guest *g)
{
	struct mvm_vmm_file	 vf;

	g->g_file_client = 0;
	if (!g->g_file_put || g->g_file_ended)
		return;
	g->g_file_ended = 1;
	memset(&vf, 0, sizeof(vf));
	vf.vf_id = g->g_file_id;
	(void)peer_compose(&g->g_peer, IMSG_VMM_FILE_END, g->g_id, -1, &vf,
	    sizeof(vf));
}
