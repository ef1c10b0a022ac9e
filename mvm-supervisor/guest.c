/*
 * guest.c: guests and the commands run in them.
 *
 * Each guest has its own mvm-vmm, started in fresh namespaces and in
 * the guest's own cgroups (memory, pids, cpu), under a uid of its own
 * from the configured range.  The supervisor sees the guest only
 * through the vmm's typed messages; it hashes and forwards output but
 * never interprets it.  Every state change is audited.  A vmm that sends
 * something malformed or out of turn has its guest stopped as failed;
 * the supervisor and the other guests carry on.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/kvm.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"
#include "log.h"
#include "record.h"
#include "supervisor.h"

#define GUEST_HELLO_MS		10000	/* vmm HELLO after spawn */
#define GUEST_GRACE_S		10	/* past boot or command timeouts */
#define GUEST_MEM_OVERHEAD	256	/* MiB for QEMU itself */
#define GUEST_PIDS_MAX		256

static int	 guest_dispatch(struct peer *, struct imsg *);
static void	 guest_closed(struct peer *, int);
static void	 guest_timer_cb(evutil_socket_t, short, void *);
static void	 guest_failed(struct guest *, const char *);
static void	 guest_mark_failed(struct guest *, const char *);
static void	 guest_answer(struct guest *);
static void	 cgroup_cleanup(struct guest *);

static struct guests	 dead_guests = TAILQ_HEAD_INITIALIZER(dead_guests);

/* what QEMU needs inside the jail, bound read-only where it exists */
static const struct {
	const char	*path;
	uint32_t	 flags;
} qemu_binds[] = {
	{ "/usr/lib/x86_64-linux-gnu",	MVM_BIND_DIR },
	{ "/usr/lib64",			MVM_BIND_DIR },
	{ "/usr/share/qemu",		MVM_BIND_DIR },
	{ "/usr/share/seabios",		MVM_BIND_DIR },
	{ "/dev/null",			MVM_BIND_DEV },
	{ "/dev/zero",			MVM_BIND_DEV },
	{ "/dev/urandom",		MVM_BIND_DEV },
	{ "/dev/random",		MVM_BIND_DEV },
};

const char *
guest_state_name(int s)
{
	switch (s) {
	case GUEST_CREATED:	return ("created");
	case GUEST_BOOTING:	return ("booting");
	case GUEST_RUNNING:	return ("running");
	case GUEST_STOPPING:	return ("stopping");
	case GUEST_STOPPED:	return ("stopped");
	case GUEST_FAILED:	return ("failed");
	}
	return ("unknown");
}

/*
 * kvm if /dev/kvm speaks the stable API and a jailed uid may open it:
 * read-write for everyone, or for a group the vmm is then given (*gid).
 * A node only root may open (0600, as on some nested hosts) would fail
 * every guest, so it counts as no KVM.  mvm.conf "accel" overrides:
 * tcg never tries, kvm must work or the supervisor does not start.
 */
static int
accel_detect(gid_t *gid)
{
	struct stat	 st;
	const char	*why = NULL;
	int		 fd, v;

	*gid = 0;
	if (sv.conf.c_accel == MVM_ACCEL_TCG)
		return (MVM_ACCEL_TCG);
	if ((fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) == -1)
		why = "cannot open /dev/kvm";
	else {
		v = ioctl(fd, KVM_GET_API_VERSION, 0);
		if (fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode))
			why = "/dev/kvm is not a device";
		else if (v != KVM_API_VERSION)
			why = "/dev/kvm speaks another API";
		else if ((st.st_mode & 0006) == 0006)
			;
		else if ((st.st_mode & 0060) == 0060 && st.st_gid != 0)
			*gid = st.st_gid;
		else
			why = "/dev/kvm is for root only (mode 0600)";
		close(fd);
	}
	if (why == NULL)
		return (MVM_ACCEL_KVM);
	if (sv.conf.c_accel == MVM_ACCEL_KVM)
		fatalx("accel kvm: %s", why);
	log_info("guests: no kvm: %s", why);
	return (MVM_ACCEL_TCG);
}

/* the host TSC rate, for the guest's tsc_early_khz (QEMU-NOTES) */
static uint32_t
tsc_detect(void)
{
	FILE	*f;
	char	 line[256];
	double	 mhz = 0;

	if ((f = fopen("/proc/cpuinfo", "re")) == NULL)
		return (0);
	/* NOLINTBEGIN(cert-err34-c): the kernel formats this */
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1 ||
		    sscanf(line, "cpu MHz\t: %lf", &mhz) == 1)
			break;
	/* NOLINTEND(cert-err34-c) */
	(void)fclose(f);
	return ((uint32_t)(mhz * 1000));
}

void
guest_init(void)
{
	uint8_t	 h[32];
	char	 hex[65];

	TAILQ_INIT(&sv.guests);
	if (sv.conf.c_images_dir[0] != '\0')
		(void)strlcpy(sv.images_dir, sv.conf.c_images_dir,
		    sizeof(sv.images_dir));
	else
		xsnprintf(sv.images_dir, sizeof(sv.images_dir), "%s/images",
		    sv.conf.c_state_dir);
	sv.accel = accel_detect(&sv.kvm_gid);
	sv.tsc_khz = tsc_detect();
	sv.nslots = sv.conf.c_uid_count - MVM_UID_GUEST0;
	if ((sv.slots = calloc(sv.nslots, 1)) == NULL)
		fatal("calloc");
	sha256(sv.conf.c_state_dir, strlen(sv.conf.c_state_dir), h);
	hex_encode(h, 4, hex);
	xsnprintf(sv.cgroup_name, sizeof(sv.cgroup_name), "mvm-%.8s", hex);
	log_info("guests: accel %s, images %s",
	    sv.accel == MVM_ACCEL_KVM ? "kvm" : "tcg (software emulation)",
	    sv.images_dir);
}

struct guest *
guest_find(const char *name)
{
	struct guest	*g;

	TAILQ_FOREACH(g, &sv.guests, g_entry)
		if (strcmp(g->g_name, name) == 0)
			return (g);
	return (NULL);
}

/*
 * A guest as a client sees it: its own guests, or every guest for root.
 * Another user's guest is not there (NULL, as for no guest at all).
 */
struct guest *
guest_find_for(const char *name, uid_t uid)
{
	struct guest	*g = guest_find(name);

	return (g != NULL && (uid == 0 || g->g_owner == uid) ? g : NULL);
}

struct guest *
guest_by_id(uint32_t id)
{
	struct guest	*g;

	TAILQ_FOREACH(g, &sv.guests, g_entry)
		if (g->g_id == id)
			return (g);
	return (NULL);
}

static struct guest *
guest_by_pid(pid_t pid)
{
	struct guest	*g;

	TAILQ_FOREACH(g, &sv.guests, g_entry)
		if (g->g_pid == pid)
			return (g);
	return (NULL);
}

int
guest_owns_pid(pid_t pid)
{
	return (guest_by_pid(pid) != NULL);
}

/* ------------------------------------------------------------------ */
/* audit */

static void
audit_guest(struct guest *g, const char *type, const char *k, const char *v)
{
	struct mvm_audit_event	 ev;
	char			 id[16];

	aev_init(&ev, type);
	aev_subject(&ev, "guest", g->g_name);
	(void)snprintf(id, sizeof(id), "%u", g->g_id);
	aev_label(&ev, "guest_id", id);
	aev_label(&ev, "state", guest_state_name(g->g_state));
	if (k != NULL && v != NULL)
		aev_label(&ev, k, v);
	if (strcmp(type, "guest.created") == 0) {
		aev_label(&ev, "image", g->g_image.im_name);
		aev_label(&ev, "kernel_sha256", g->g_image.im_kernel_sha256);
		aev_label(&ev, "initrd_sha256", g->g_image.im_initrd_sha256);
		aev_label_int(&ev, "cpus", g->g_cpus);
		aev_label_int(&ev, "memory_mib", g->g_memory_mib);
		aev_label_int(&ev, "uid", g->g_uid);
		aev_label_int(&ev, "owner", g->g_owner);
	}
	(void)audit_send(&ev, NULL, NULL);
}

/* failure reasons as audit tokens */
static const char *
reason_token(uint32_t r)
{
	switch (r) {
	case MVM_DONE_STOPPED:		return ("stopped");
	case MVM_DONE_POWEROFF:		return ("poweroff");
	case MVM_DONE_BOOT_TIMEOUT:	return ("boot_timeout");
	case MVM_DONE_QEMU_EXIT:	return ("qemu_exit");
	case MVM_DONE_PROTOCOL:		return ("protocol");
	case MVM_DONE_PANIC:		return ("panic");
	case MVM_DONE_QEMU_FAILED:	return ("qemu_failed");
	}
	return ("unknown");
}

/* ------------------------------------------------------------------ */
/* cgroups: memory, pids and cpu limits for vmm + QEMU */

static int
write_file(const char *dir, const char *file, const char *val)
{
	char	 path[MVM_ROOT_MAX + 64];
	int	 fd, rc = 0;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		rc = -1;
	close(fd);
	return (rc);
}

static int
cg_mkdir(const char *path)
{
	char	 buf[MVM_ROOT_MAX], *p;

	(void)strlcpy(buf, path, sizeof(buf));
	for (p = buf + strlen("/sys/fs/cgroup/"); (p = strchr(p, '/')) != NULL;
	    p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	return (mkdir(buf, 0755) == -1 && errno != EEXIST ? -1 : 0);
}

/* cgroup v2: one directory; the controllers enabled down the path */
static int
cgroup_v2(struct guest *g, const char *pid, const char *mem,
    const char *cpu)
{
	static const char	*const levels[] = { "/sys/fs/cgroup",
				    "/sys/fs/cgroup/mvm", NULL };
	char			 parent[MVM_ROOT_MAX];
	int			 i;

	(void)snprintf(parent, sizeof(parent), "/sys/fs/cgroup/mvm/%s",
	    sv.cgroup_name);
	if (cg_mkdir(parent) == -1)
		return (-1);
	for (i = 0; levels[i] != NULL; i++)
		(void)write_file(levels[i], "cgroup.subtree_control",
		    "+memory +pids +cpu");
	(void)write_file(parent, "cgroup.subtree_control",
	    "+memory +pids +cpu");
	xsnprintf(g->g_cgroup[0], sizeof(g->g_cgroup[0]), "%s/g%u", parent,
	    g->g_id);
	if (cg_mkdir(g->g_cgroup[0]) == -1)
		return (-1);
	g->g_ncgroup = 1;
	if (write_file(g->g_cgroup[0], "memory.max", mem) == -1 ||
	    write_file(g->g_cgroup[0], "pids.max", "256") == -1 ||
	    write_file(g->g_cgroup[0], "cpu.max", cpu) == -1 ||
	    write_file(g->g_cgroup[0], "cgroup.procs", pid) == -1)
		return (-1);
	return (0);
}

static int
cgroup_v1(struct guest *g, const char *pid, const char *mem,
    const char *quota)
{
	static const char	*const ctl[] = { "memory", "pids", "cpu" };
	int			 i;

	for (i = 0; i < 3; i++) {
		(void)snprintf(g->g_cgroup[i], sizeof(g->g_cgroup[i]),
		    "/sys/fs/cgroup/%s/mvm/%s/g%u", ctl[i], sv.cgroup_name,
		    g->g_id);
		if (cg_mkdir(g->g_cgroup[i]) == -1)
			return (-1);
		g->g_ncgroup = i + 1;
	}
	if (write_file(g->g_cgroup[0], "memory.limit_in_bytes", mem) == -1 ||
	    write_file(g->g_cgroup[1], "pids.max", "256") == -1 ||
	    write_file(g->g_cgroup[2], "cpu.cfs_period_us", "100000") == -1 ||
	    write_file(g->g_cgroup[2], "cpu.cfs_quota_us", quota) == -1)
		return (-1);
	for (i = 0; i < 3; i++)
		if (write_file(g->g_cgroup[i], "cgroup.procs", pid) == -1)
			return (-1);
	return (0);
}

/* Put the vmm (and so QEMU) in the guest's cgroups; -1 if we cannot. */
static int
cgroup_setup(struct guest *g)
{
	char	 pid[16], mem[32], cpu[48], quota[24];

	(void)snprintf(pid, sizeof(pid), "%d", (int)g->g_pid);
	(void)snprintf(mem, sizeof(mem), "%llu",
	    (unsigned long long)(g->g_memory_mib + GUEST_MEM_OVERHEAD) << 20);
	/* the vCPUs, plus one for QEMU's main loop and the vmm: with the
	 * quota at the vCPU count alone, boot was throttled (bench/boot) */
	(void)snprintf(quota, sizeof(quota), "%u", (g->g_cpus + 1) * 100000);
	(void)snprintf(cpu, sizeof(cpu), "%s 100000", quota);
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 &&
	    access("/sys/fs/cgroup/memory", F_OK) == -1)
		return (cgroup_v2(g, pid, mem, cpu));
	return (cgroup_v1(g, pid, mem, quota));
}

static void
cgroup_cleanup(struct guest *g)
{
	int	 i, tries;

	for (i = g->g_ncgroup - 1; i >= 0; i--)
		for (tries = 0; tries < 50; tries++) {
			if (rmdir(g->g_cgroup[i]) == 0 || errno == ENOENT)
				break;
			usleep(10000);	/* the last task is still leaving */
		}
	g->g_ncgroup = 0;
}

/* ------------------------------------------------------------------ */
/* life cycle */

static int
slot_take(void)
{
	int	 i;

	for (i = 0; i < sv.nslots; i++)
		if (!sv.slots[i]) {
			sv.slots[i] = 1;
			return (i);
		}
	return (-1);
}

/*
 * A new guest (not started).  Its directory holds the jail's mount
 * point and the console log.  Returns NULL with *err set.
 */
struct guest *
guest_create(const char *name, const struct image *im, uint32_t cpus,
    uint32_t mem, int transient, uid_t owner, uint32_t *err)
{
	struct guest	*g;
	char		 root[MVM_ROOT_MAX + 8];

	if (guest_find(name) != NULL) {
		*err = MVM_EEXIST;
		return (NULL);
	}
	if (sv.nguests >= (int)sv.conf.c_guests_max) {
		*err = MVM_ECAPACITY;
		return (NULL);
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		fatal("calloc");
	if ((g->g_slot = slot_take()) == -1) {
		free(g);
		*err = MVM_ECAPACITY;
		return (NULL);
	}
	g->g_id = ++sv.next_guest;
	(void)strlcpy(g->g_name, name, sizeof(g->g_name));
	g->g_uid = sv.conf.c_uid_base + MVM_UID_GUEST0 + g->g_slot;
	g->g_image = *im;
	g->g_cpus = cpus;
	g->g_memory_mib = mem;
	g->g_transient = transient;
	g->g_owner = owner;
	g->g_accel = sv.accel;
	g->g_state = GUEST_CREATED;
	g->g_created_ms = now_ms();
	TAILQ_INIT(&g->g_execs);
	TAILQ_INIT(&g->g_flows);
	xsnprintf(g->g_dir, sizeof(g->g_dir), "%s/guests/%s",
	    sv.conf.c_state_dir, name);
	(void)snprintf(root, sizeof(root), "%s/root", g->g_dir);
	if ((mkdir_mode(g->g_dir, 0711, 0, 0) == -1 ||
	    mkdir_mode(root, 0755, 0, 0) == -1)) {
		log_warn("%s", g->g_dir);
		sv.slots[g->g_slot] = 0;
		free(g);
		*err = MVM_EINVAL;
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&sv.guests, g, g_entry);
	sv.nguests++;
	audit_guest(g, "guest.created", NULL, NULL);
	return (g);
}

static void
vmm_config(struct guest *g)
{
	struct mvm_child_config	 cc;
	struct mvm_vmm_config	 vc;
	struct mvm_vmm_bind	 vb;
	struct mvm_config_fd	 cf;
	char			 path[MVM_ROOT_MAX + 32];
	size_t			 i;
	int			 fd;

	memset(&cc, 0, sizeof(cc));
	cc.cc_proto = MVM_PROTO_VERSION;
	cc.cc_uid = cc.cc_gid = g->g_uid;
	if (g->g_accel == MVM_ACCEL_KVM)
		cc.cc_group = sv.kvm_gid;	/* /dev/kvm's, if not 0666 */
	cc.cc_verbose = sv.verbose;
	xsnprintf(cc.cc_root, sizeof(cc.cc_root), "%s/root", g->g_dir);
	(void)strlcpy(cc.cc_hostname, g->g_name, sizeof(cc.cc_hostname));
	memset(&vc, 0, sizeof(vc));
	vc.vc_guest = g->g_id;
	vc.vc_cpus = g->g_cpus;
	vc.vc_memory_mib = g->g_memory_mib;
	vc.vc_accel = g->g_accel;
	vc.vc_boot_timeout_ms = sv.conf.c_boot_timeout_s * 1000;
	vc.vc_tsc_khz = sv.tsc_khz;
	vc.vc_console_max = sv.conf.c_console_max_kib * 1024;
	vc.vc_net_mib = sv.conf.c_net_mib;
	(void)strlcpy(vc.vc_name, g->g_name, sizeof(vc.vc_name));
	(void)strlcpy(vc.vc_qemu, sv.conf.c_qemu, sizeof(vc.vc_qemu));
	(void)strlcpy(vc.vc_kernel, g->g_image.im_kernel,
	    sizeof(vc.vc_kernel));
	(void)strlcpy(vc.vc_initrd, g->g_image.im_initrd,
	    sizeof(vc.vc_initrd));
	(void)peer_compose(&g->g_peer, IMSG_CONFIG, 0, -1, &cc, sizeof(cc));
	(void)peer_compose(&g->g_peer, IMSG_VMM_CONFIG, 0, -1, &vc,
	    sizeof(vc));
	memset(&vb, 0, sizeof(vb));
	(void)strlcpy(vb.vb_path, sv.conf.c_qemu, sizeof(vb.vb_path));
	(void)peer_compose(&g->g_peer, IMSG_VMM_BIND, 0, -1, &vb, sizeof(vb));
	for (i = 0; i < sizeof(qemu_binds) / sizeof(qemu_binds[0]); i++) {
		if (access(qemu_binds[i].path, F_OK) == -1)
			continue;
		memset(&vb, 0, sizeof(vb));
		vb.vb_flags = qemu_binds[i].flags;
		(void)strlcpy(vb.vb_path, qemu_binds[i].path,
		    sizeof(vb.vb_path));
		(void)peer_compose(&g->g_peer, IMSG_VMM_BIND, 0, -1, &vb,
		    sizeof(vb));
	}
	if (g->g_accel == MVM_ACCEL_KVM) {
		memset(&vb, 0, sizeof(vb));
		vb.vb_flags = MVM_BIND_DEV;
		(void)strlcpy(vb.vb_path, "/dev/kvm", sizeof(vb.vb_path));
		(void)peer_compose(&g->g_peer, IMSG_VMM_BIND, 0, -1, &vb,
		    sizeof(vb));
	}
	(void)snprintf(path, sizeof(path), "%s/console.log", g->g_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW, 0640);
	if (fd == -1)
		fatal("%s", path);
	memset(&cf, 0, sizeof(cf));
	cf.cf_kind = MVM_FD_CONSOLE;
	(void)peer_compose(&g->g_peer, IMSG_CONFIG_FD, 0, fd, &cf, sizeof(cf));
	net_send_grants(g);
	(void)peer_compose(&g->g_peer, IMSG_CONFIG_END, 0, -1, NULL, 0);
}

/* Spawn the guest's vmm; the rest happens as its messages arrive. */
int
guest_start(struct guest *g)
{
	struct proc_spawn	 ps;
	struct timeval		 tv;
	char			 path[MVM_ROOT_MAX + 32];
	char			*argv[3];
	int			 argc = 0;

	(void)snprintf(path, sizeof(path), "%s/mvm-vmm", sv.libexec);
	argv[argc++] = path;
	if (sv.verbose > 0)
		argv[argc++] = "-v";
	argv[argc] = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.ps_path = path;
	ps.ps_argv = argv;
	ps.ps_cloneflags = PROC_NS_JAIL;
	if (proc_spawn(&ps) == -1) {
		log_warn("spawn %s", path);
		return (-1);
	}
	g->g_pid = ps.ps_pid;
	g->g_t0 = now_ms() * 1000000ULL;
	if (peer_init(&g->g_peer, sv.base, ps.ps_sock, MVM_IMSG_MAX,
	    guest_dispatch, guest_closed, g, g->g_name) == -1)
		fatal("peer_init");
	if (audit_holding())
		peer_hold(&g->g_peer, PEER_HOLD_AUDIT, 1);
	if ((g->g_relay = logrelay_start(sv.base, ps.ps_log, "vmm",
	    ps.ps_pid)) == NULL)
		fatal("logrelay");
	g->g_state = GUEST_BOOTING;
	if (cgroup_setup(g) == -1) {
		log_warn("%s: cgroups", g->g_name);
		guest_failed(g, "cannot set up cgroups");
		return (0);
	}
	g->g_timer = evtimer_new(sv.base, guest_timer_cb, g);
	tv.tv_sec = GUEST_HELLO_MS / 1000 + sv.conf.c_boot_timeout_s +
	    GUEST_GRACE_S;
	tv.tv_usec = 0;
	evtimer_add(g->g_timer, &tv);
	return (0);
}

/* The vmm never got the guest ready, or stopped talking. */
static void
guest_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct guest	*g = arg;

	(void)fd;
	(void)ev;
	if (g->g_state == GUEST_BOOTING)
		guest_failed(g, "the vmm did not report the guest ready");
	else if (g->g_state == GUEST_STOPPING && g->g_pid > 0)
		kill(g->g_pid, SIGKILL);
}

/* Ask the vmm to stop the guest (SHUTDOWN, quit, kill). */
void
guest_stop(struct guest *g)
{
	struct timeval	 tv = { GUEST_GRACE_S, 0 };

	if (g->g_state != GUEST_BOOTING && g->g_state != GUEST_RUNNING)
		return;
	g->g_state = GUEST_STOPPING;
	audit_guest(g, "guest.stopping", NULL, NULL);
	/*
	 * A slow client may have paused this vmm (exec_throttle): read it
	 * again, or its DONE would sit unread; output of a stopping guest
	 * is not throttled (deliver drops what a slow client cannot take).
	 */
	peer_pause(&g->g_peer, 0);
	if (g->g_peer.p_open)
		(void)peer_compose(&g->g_peer, IMSG_VMM_STOP, g->g_id, -1,
		    NULL, 0);
	else if (g->g_pid > 0)
		kill(g->g_pid, SIGKILL);
	if (g->g_timer != NULL) {
		evtimer_del(g->g_timer);
		evtimer_add(g->g_timer, &tv);
	}
}

/* The first reason, the state and its record; what waiters will get. */
static void
guest_mark_failed(struct guest *g, const char *why)
{
	if (g->g_reason[0] == '\0')
		(void)strlcpy(g->g_reason, why, sizeof(g->g_reason));
	if (g->g_fail_err == 0)
		g->g_fail_err = g->g_state == GUEST_BOOTING ? MVM_EBOOT :
		    MVM_EGUEST;
	log_warnx("%s: failed: %s", g->g_name, g->g_reason);
	if (g->g_state == GUEST_BOOTING)
		sv.metrics.cm_boot_failures++;
	if (g->g_state != GUEST_FAILED) {
		g->g_state = GUEST_FAILED;
		audit_guest(g, "guest.failed", "reason", "see_log");
	}
}

/*
 * Fail: remember the first reason, stop the vmm hard.  Whoever waits on
 * the guest hears it once the vmm is reaped (guest_reap), so that this
 * never ends a command or destroys a guest under its caller.
 */
static void
guest_failed(struct guest *g, const char *why)
{
	guest_mark_failed(g, why);
	if (g->g_peer.p_open)
		peer_shutdown(&g->g_peer);
	if (g->g_pid > 0)
		kill(g->g_pid, SIGKILL);
}

/*
 * The vmm process has exited: free what it held, record the stop, and
 * give every request still waiting on the guest its one answer.  The
 * steps are in this order so that nothing here runs on a guest that an
 * answer destroyed: only the last step may destroy it.
 */
void
guest_reap(pid_t pid, int status)
{
	struct guest	*g = guest_by_pid(pid);
	char		 how[64], why[96];

	if (g == NULL)
		return;
	proc_wait_status(status, how, sizeof(how));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warnx("%s: vmm %s", g->g_name, how);
	g->g_pid = 0;
	net_guest_gone(g);
	logrelay_stop(g->g_relay);
	g->g_relay = NULL;
	if (g->g_peer.p_open)
		peer_shutdown(&g->g_peer);
	if (!g->g_done && g->g_state != GUEST_FAILED) {
		(void)snprintf(why, sizeof(why), "vmm %s", how);
		guest_mark_failed(g, why);
	}
	cgroup_cleanup(g);
	if (g->g_timer != NULL)
		evtimer_del(g->g_timer);
	if (g->g_resume != NULL)
		evtimer_del(g->g_resume);
	if (g->g_state != GUEST_FAILED)
		g->g_state = GUEST_STOPPED;
	audit_guest(g, "guest.stopped", "vmm", strcmp(how, "exited 0") == 0 ?
	    "exited" : "killed");
	guest_answer(g);
	/* a receipt still being made keeps a throwaway guest's record */
	if (g->g_transient && TAILQ_EMPTY(&g->g_execs))
		guest_destroy(g);
	if (sv.stopping && guest_all_gone())
		supervisor_stop_children();
}

/*
 * The guest is gone: every request that waits on it hears so, once.
 * Commands whose end is on record go on to their receipt.
 */
static void
guest_answer(struct guest *g)
{
	struct exec	*x, *next;
	uint32_t	 err = g->g_fail_err != 0 ? g->g_fail_err : MVM_EGUEST;
	const char	*why = g->g_reason[0] != '\0' ? g->g_reason :
			    "the guest stopped";

	control_stop_done(g->g_id);
	if (g->g_up_client != 0) {
		(void)control_error(g->g_up_client, err, why);
		g->g_up_client = 0;
	}
	if (g->g_file_id != 0)
		guest_file_abort(g, why);
	TAILQ_FOREACH_SAFE(x, &g->g_execs, x_entry, next)
		if (!x->x_exit_ready)
			exec_drop(x, err, why);
}

/*
 * Remove a stopped guest: its directory, slot and record.  Its memory
 * goes at the next gc (supervisor.h); callers check that no command of
 * it is still being recorded (control_guest, guest_reap, exec_finish).
 */
void
guest_destroy(struct guest *g)
{
	char		 path[MVM_ROOT_MAX + 32];
	struct exec	*x;

	if (g->g_dead || g->g_pid > 0)
		return;
	g->g_dead = 1;
	TAILQ_REMOVE(&sv.guests, g, g_entry);
	TAILQ_INSERT_TAIL(&dead_guests, g, g_entry);
	sv.nguests--;
	while ((x = TAILQ_FIRST(&g->g_execs)) != NULL) {
		log_warnx("%s: run %s still open as its guest goes", g->g_name,
		    x->x_run);
		exec_free(x);
	}
	(void)snprintf(path, sizeof(path), "%s/console.log", g->g_dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/root", g->g_dir);
	if (rmdir(path) == -1 && errno != ENOENT)
		log_warn("rmdir %s", path);
	if (rmdir(g->g_dir) == -1 && errno != ENOENT)
		log_warn("rmdir %s", g->g_dir);
	audit_guest(g, "guest.destroyed", NULL, NULL);
	net_guest_gone(g);
	free(g->g_net);
	g->g_net = NULL;
	if (g->g_timer != NULL)
		event_free(g->g_timer);
	g->g_timer = NULL;
	if (g->g_resume != NULL)
		event_free(g->g_resume);
	g->g_resume = NULL;
	sv.slots[g->g_slot] = 0;
	supervisor_gc();
}

/* From the top of the loop: free destroyed guests. */
void
guest_gc(void)
{
	struct guest	*g;

	while ((g = TAILQ_FIRST(&dead_guests)) != NULL) {
		TAILQ_REMOVE(&dead_guests, g, g_entry);
		free(g);
	}
}

void
guest_stop_all(void)
{
	struct guest	*g;

	TAILQ_FOREACH(g, &sv.guests, g_entry) {
		g->g_transient = 1;	/* nothing outlives the supervisor */
		if (g->g_state == GUEST_BOOTING || g->g_state == GUEST_RUNNING)
			guest_stop(g);
		else if (g->g_pid > 0)
			kill(g->g_pid, SIGKILL);
	}
}

/* At exit: the instance's cgroup directories (and "mvm" if empty). */
void
guest_cgroup_cleanup(void)
{
	static const char	*const ctl[] = { "memory/", "pids/", "cpu/",
				    "" };
	char			 p[MVM_ROOT_MAX];
	size_t			 i;

	for (i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		xsnprintf(p, sizeof(p), "/sys/fs/cgroup/%smvm/%s", ctl[i],
		    sv.cgroup_name);
		(void)rmdir(p);
		xsnprintf(p, sizeof(p), "/sys/fs/cgroup/%smvm", ctl[i]);
		(void)rmdir(p);		/* fails while others use it */
	}
}

/*
 * Kill what is left in the stale guest cgroups under dir (g<id>) and
 * remove them.  Returns how many were found.
 */
static int
cgroup_reap_stale(const char *dir)
{
	struct dirent	*de;
	char		 p[MVM_ROOT_MAX * 2 + 64], buf[4096], *l, *save;
	ssize_t		 n;
	int		 fd, found = 0, i;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != 'g' || de->d_type != DT_DIR)
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s/cgroup.procs", dir,
		    de->d_name) >= sizeof(p))
			continue;
		found++;
		/* a vmm that outlived us: its QEMU dies with it */
		for (i = 0; i < 50; i++) {
			if ((fd = open(p, O_RDONLY | O_CLOEXEC)) == -1 ||
			    (n = read(fd, buf, sizeof(buf) - 1)) <= 0) {
				if (fd != -1)
					close(fd);
				break;
			}
			close(fd);
			buf[n] = '\0';
			for (l = strtok_r(buf, "\n", &save); l != NULL;
			    l = strtok_r(NULL, "\n", &save))
				(void)kill((pid_t)strtol(l, NULL, 10), SIGKILL);
			usleep(20000);
		}
		*strrchr(p, '/') = '\0';
		if (rmdir(p) == -1 && errno != ENOENT)
			log_warn("rmdir %s", p);
	}
	closedir(d);
	return (found);
}

/*
 * At start, once the audit log is up: what a supervisor that did not
 * stop (killed, crashed) left behind.  Its guests are gone (a vmm stops
 * its guest when its socket to us closes, and QEMU dies with the vmm's
 * pid namespace), but their directories and cgroups remain, and a vmm
 * that did not notice is killed here through its cgroup.  Each guest
 * directory is removed and recorded as guest.lost.
 */
void
guest_recover(void)
{
	static const char	*const ctl[] = { "", "memory/", "pids/",
				    "cpu/" };
	struct mvm_audit_event	 ev;
	struct dirent		*de;
	char			 dir[MVM_ROOT_MAX + 16];
	char			 p[MVM_ROOT_MAX * 2 + 64];
	size_t			 i;
	int			 n = 0;
	DIR			*d;

	for (i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		xsnprintf(p, sizeof(p), "/sys/fs/cgroup/%smvm/%s", ctl[i],
		    sv.cgroup_name);
		n += cgroup_reap_stale(p);
	}
	if (n > 0)
		log_warnx("removed %d stale guest cgroups", n);
	xsnprintf(dir, sizeof(dir), "%s/guests", sv.conf.c_state_dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!name_valid(de->d_name) || de->d_type != DT_DIR)
			continue;
		(void)snprintf(p, sizeof(p), "%s/%s/console.log", dir,
		    de->d_name);
		(void)unlink(p);
		(void)snprintf(p, sizeof(p), "%s/%s/root", dir, de->d_name);
		(void)rmdir(p);
		(void)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (rmdir(p) == -1) {
			log_warn("stale guest directory %s", p);
			continue;
		}
		log_warnx("%s: left by a supervisor that did not stop; "
		    "removed", de->d_name);
		aev_init(&ev, "guest.lost");
		aev_subject(&ev, "guest", de->d_name);
		aev_label(&ev, "reason", "supervisor_restart");
		(void)audit_send(&ev, NULL, NULL);
	}
	closedir(d);
}

void
guest_kill_all(void)
{
	struct guest	*g;

	TAILQ_FOREACH(g, &sv.guests, g_entry)
		if (g->g_pid > 0)
			kill(g->g_pid, SIGKILL);
}

int
guest_all_gone(void)
{
	struct guest	*g;

	TAILQ_FOREACH(g, &sv.guests, g_entry)
		if (g->g_pid > 0)
			return (0);
	return (1);
}

void
guest_info(const struct guest *g, struct mvm_ctl_guest_info *gi)
{
	int	 i;

	memset(gi, 0, sizeof(*gi));
	(void)strlcpy(gi->gi_name, g->g_name, sizeof(gi->gi_name));
	(void)strlcpy(gi->gi_image, g->g_image.im_name, sizeof(gi->gi_image));
	(void)strlcpy(gi->gi_state, guest_state_name(g->g_state),
	    sizeof(gi->gi_state));
	(void)strlcpy(gi->gi_reason, g->g_reason, sizeof(gi->gi_reason));
	(void)strlcpy(gi->gi_agent, g->g_agent, sizeof(gi->gi_agent));
	(void)strlcpy(gi->gi_kernel, g->g_kernel, sizeof(gi->gi_kernel));
	(void)strlcpy(gi->gi_qemu, g->g_qemu, sizeof(gi->gi_qemu));
	(void)strlcpy(gi->gi_kernel_sha256, g->g_image.im_kernel_sha256,
	    sizeof(gi->gi_kernel_sha256));
	(void)strlcpy(gi->gi_initrd_sha256, g->g_image.im_initrd_sha256,
	    sizeof(gi->gi_initrd_sha256));
	gi->gi_cpus = g->g_cpus;
	gi->gi_memory_mib = g->g_memory_mib;
	gi->gi_accel = g->g_accel;
	gi->gi_uid = g->g_uid;
	gi->gi_owner = g->g_owner;
	gi->gi_pid = g->g_pid;
	gi->gi_transient = g->g_transient;
	gi->gi_seccomp = g->g_tier;
	(void)strlcpy(gi->gi_profile, g->g_profile.pr_name,
	    sizeof(gi->gi_profile));
	for (i = 1; i <= MVM_PHASE_MAX; i++)
		if (g->g_phase[i] >= g->g_t0 && g->g_phase[i] != 0)
			gi->gi_phase_ms[i] = (g->g_phase[i] - g->g_t0) /
			    1000000;
	gi->gi_guest_uptime_ms = g->g_guest_uptime_ms;
	gi->gi_age_ms = now_ms() - g->g_created_ms;
}

/* ------------------------------------------------------------------ */
/* messages from a vmm */

/* boot time into the histogram of its accelerator */
static void
metrics_boot(const struct guest *g)
{
	struct mvm_ctl_metrics	*m = &sv.metrics;
	uint64_t		 ms = (g->g_phase[MVM_PHASE_READY] - g->g_t0) /
				    1000000;
	int			 a = g->g_accel == MVM_ACCEL_KVM, i;

	for (i = 0; i < MVM_BOOT_BUCKETS; i++)
		if (ms <= mvm_boot_bucket_ms[i])
			m->cm_boot_le[a][i]++;
	m->cm_boot_count[a]++;
	m->cm_boot_sum_ms[a] += ms;
}

static void
guest_ready(struct guest *g)
{
	struct exec	*x;
	char		 ms[24];

	g->g_state = GUEST_RUNNING;
	evtimer_del(g->g_timer);
	metrics_boot(g);
	(void)snprintf(ms, sizeof(ms), "%" PRIu64,
	    (g->g_phase[MVM_PHASE_READY] - g->g_t0) / 1000000);
	audit_guest(g, "guest.running", "boot_ms", ms);
	log_info("%s: ready in %s ms (%s)", g->g_name, ms,
	    g->g_accel == MVM_ACCEL_KVM ? "kvm" : "tcg");
	if (g->g_up_client != 0) {
		(void)control_send(g->g_up_client, IMSG_CTL_OK, NULL, 0, NULL,
		    0);
		g->g_up_client = 0;
	}
	TAILQ_FOREACH(x, &g->g_execs, x_entry)
		if (!x->x_sent)
			exec_send(x);
}

static int
guest_phase(struct guest *g, struct imsg *imsg)
{
	struct mvm_vmm_phase	 vp;

	if (msg_get_vmm_phase(imsg, &vp) == -1 || g->g_state != GUEST_BOOTING)
		return (PEER_BAD);
	/* phases come once each, in order */
	if (g->g_phase[vp.vp_phase] != 0 ||
	    (vp.vp_phase > 1 && g->g_phase[vp.vp_phase - 1] == 0 &&
	    vp.vp_phase != MVM_PHASE_HELLO))
		return (PEER_BAD);
	g->g_phase[vp.vp_phase] = vp.vp_ns;
	if (vp.vp_qemu[0] != '\0')
		(void)strlcpy(g->g_qemu, vp.vp_qemu, sizeof(g->g_qemu));
	if (vp.vp_phase == MVM_PHASE_HELLO) {
		(void)strlcpy(g->g_agent, vp.vp_agent, sizeof(g->g_agent));
		(void)strlcpy(g->g_kernel, vp.vp_kernel, sizeof(g->g_kernel));
		g->g_guest_uptime_ms = vp.vp_guest_uptime_ms;
	}
	if (vp.vp_phase == MVM_PHASE_READY)
		guest_ready(g);
	return (PEER_OK);
}

static struct exec *
exec_by_id(struct guest *g, uint32_t id)
{
	struct exec	*x;

	TAILQ_FOREACH(x, &g->g_execs, x_entry)
		if (x->x_id == id && x->x_sent && !x->x_finished)
			return (x);
	return (NULL);
}

static int
guest_done(struct guest *g, struct imsg *imsg)
{
	struct mvm_vmm_done	 vd;

	if (msg_get_vmm_done(imsg, &vd) == -1 || g->g_done)
		return (PEER_BAD);
	g->g_done = 1;
	if (vd.vd_reason == MVM_DONE_STOPPED && g->g_state == GUEST_STOPPING)
		return (PEER_OK);
	if (vd.vd_reason == MVM_DONE_POWEROFF && g->g_state == GUEST_RUNNING) {
		g->g_state = GUEST_STOPPING;
		(void)strlcpy(g->g_reason, "the guest powered off",
		    sizeof(g->g_reason));
		return (PEER_OK);
	}
	(void)snprintf(g->g_reason, sizeof(g->g_reason), "%s", vd.vd_msg);
	audit_guest(g, "guest.failed", "reason", reason_token(vd.vd_reason));
	if (g->g_fail_err == 0)
		g->g_fail_err = g->g_state == GUEST_BOOTING ? MVM_EBOOT :
		    MVM_EGUEST;
	g->g_state = GUEST_FAILED;
	guest_failed(g, vd.vd_msg);
	return (PEER_OK);
}

static int	 guest_dispatch_msg(struct guest *, struct imsg *);

/* Log what a vmm sent out of turn before its guest is failed. */
static int
guest_dispatch(struct peer *p, struct imsg *imsg)
{
	struct guest	*g = p->p_arg;
	int		 rc;

	rc = guest_dispatch_msg(g, imsg);
	if (rc == PEER_BAD)
		log_warnx("%s: the vmm sent %s (%u bytes) out of turn or "
		    "malformed", g->g_name, imsg_type_name(imsg_type(imsg)),
		    (unsigned int)imsg->datalen);
	return (rc);
}

static int
guest_dispatch_msg(struct guest *g, struct imsg *imsg)
{
	struct mvm_hello	 he;
	struct exec		*x;
	struct mvm_vmm_data	 vd;
	struct mvm_vmm_started	 vs;
	struct mvm_vmm_exit	 vx;
	struct mvm_vmm_error	 ve;
	struct mvm_vmm_file	 vf;
	struct mvm_vmm_share	 vh;
	const uint8_t		*data;
	size_t			 len;

	if (imsg_type(imsg) == IMSG_HELLO) {
		if (g->g_phase[0] != 0 || msg_get_hello(imsg, &he) == -1 ||
		    he.he_role != MVM_ROLE_VMM ||
		    he.he_proto != MVM_PROTO_VERSION)
			return (PEER_BAD);
		g->g_phase[0] = 1;
		vmm_config(g);
		return (PEER_OK);
	}
	/* after HELLO a vmm speaks only about its own guest */
	if (g->g_phase[0] == 0 || imsg->hdr.peerid != g->g_id)
		return (PEER_BAD);
	switch (imsg_type(imsg)) {
	case IMSG_VMM_PHASE:
		return (guest_phase(g, imsg));
	case IMSG_VMM_STARTED:
		if (msg_get_vmm_started(imsg, &vs) == -1 ||
		    exec_by_id(g, vs.vs_id) == NULL)
			return (PEER_BAD);
		return (PEER_OK);
	case IMSG_VMM_OUTPUT:
		if (msg_get_vmm_data(imsg, &vd, &data, &len) == -1 ||
		    vd.vd_stream == 0 || (x = exec_by_id(g, vd.vd_id)) == NULL)
			return (PEER_BAD);
		exec_output(x, vd.vd_stream, data, len);
		return (PEER_OK);
	case IMSG_VMM_EXIT:
		if (msg_get_vmm_exit(imsg, &vx) == -1 ||
		    (x = exec_by_id(g, vx.vx_id)) == NULL)
			return (PEER_BAD);
		exec_exited(x, &vx);
		return (PEER_OK);
	case IMSG_VMM_ERROR:
		if (msg_get_vmm_error(imsg, &ve) == -1)
			return (PEER_BAD);
		if ((x = exec_by_id(g, ve.ve_id)) != NULL)
			exec_fail(x, ve.ve_code == MVM_AGENT_ENOTFOUND ?
			    MVM_ENOTFOUND : MVM_EGUEST, ve.ve_msg);
		else if (share_vmm_error(g, &ve))
			;
		else if (g->g_file_id != 0 && ve.ve_id == g->g_file_id)
			guest_file_error(g, &ve);
		else
			return (PEER_BAD);
		return (PEER_OK);
	case IMSG_VMM_FILE_DATA:
		if (msg_get_vmm_data(imsg, &vd, &data, &len) == -1)
			return (PEER_BAD);
		if (g->g_file_id == 0 || vd.vd_id != g->g_file_id)
			return (share_vmm_data(g, vd.vd_id, data, len));
		return (guest_file_got(g, data, len));
	case IMSG_VMM_FILE_END:
		if (msg_get_vmm_file(imsg, &vf) == -1 ||
		    g->g_file_id == 0 || vf.vf_id != g->g_file_id)
			return (PEER_BAD);
		return (guest_file_got_end(g, &vf));
	case IMSG_VMM_OK:
		if (msg_get_vmm_data(imsg, &vd, &data, &len) == -1 || len != 0)
			return (PEER_BAD);
		if (share_vmm_ok(g, vd.vd_id))
			return (PEER_OK);
		if (g->g_file_id == 0 || vd.vd_id != g->g_file_id ||
		    !g->g_file_put)
			return (PEER_BAD);
		guest_file_put_done(g);
		return (PEER_OK);
	case IMSG_VMM_DIR_END:
		if (msg_get_vmm_share(imsg, &vh) == -1)
			return (PEER_BAD);
		return (share_vmm_end(g, &vh));
	case IMSG_VMM_DONE:
		return (guest_done(g, imsg));
	case IMSG_VMM_NET_OPEN:
		return (net_open(g, imsg));
	case IMSG_VMM_NET_CLOSED:
		return (net_closed(g, imsg));
	}
	return (PEER_BAD);
}

/* A broken or lying vmm: stop its guest as failed, carry on. */
static void
guest_closed(struct peer *p, int why)
{
	struct guest	*g = p->p_arg;

	if (why == PEER_MALFORMED) {
		log_warnx("%s: the vmm sent a malformed message", g->g_name);
		guest_failed(g, "the vmm broke the protocol");
		return;
	}
	peer_shutdown(p);
	if (!g->g_done && g->g_state != GUEST_STOPPED)
		guest_failed(g, "lost the vmm");
}
