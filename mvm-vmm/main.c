/*
 * mvm-vmm: one per guest.  Started by the supervisor in fresh
 * namespaces and the guest's cgroups; builds the guest's jail, drops to
 * the guest's uid, starts QEMU in the same jail, and bridges the agent
 * channel.  It exits once QEMU is gone, after saying why (VMM_DONE).
 *
 *   -> HELLO;  <- CONFIG, VMM_CONFIG, VMM_BIND..., CONFIG_FD (console
 *   log), CONFIG_END;  jail, QEMU;  -> PHASE (vmm, qemu, console,
 *   hello, ready);  then EXEC, STDIN, SIGNAL, FILE_*, DIR_*, STOP.
 */
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "log.h"
#include "vmm.h"

struct vmm vm = { .consolefd = -1, .qemu_errfd = -1 };

static int	 vmm_dispatch(struct peer *, struct imsg *);
static void	 vmm_closed(struct peer *, int);
static void	 sigchld_cb(evutil_socket_t, short, void *);

int
main(int argc, char *argv[])
{
	struct mvm_hello	 he;
	int			 fd;

	fd = proc_child_start(argc, argv, "vmm");
	vm.t_start = mono_ns();
	(void)signal(SIGPIPE, SIG_IGN);
	if ((vm.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (peer_init(&vm.parent, vm.base, fd, MVM_IMSG_MAX, vmm_dispatch,
	    vmm_closed, NULL, "parent") == -1)
		fatal("peer_init");
	memset(&he, 0, sizeof(he));
	he.he_proto = MVM_PROTO_VERSION;
	he.he_role = MVM_ROLE_VMM;
	(void)strlcpy(he.he_version, MVM_VERSION, sizeof(he.he_version));
	if (peer_compose(&vm.parent, IMSG_HELLO, 0, -1, &he, sizeof(he)) == -1)
		fatal("compose");
	event_base_dispatch(vm.base);
	return (0);
}

/*
 * Configuration complete: build the jail, drop privileges, start QEMU,
 * then narrow ourselves to what bridging needs.
 */
static void
vmm_start(void)
{
	int	 abi;

	if (!vm.have_vc)
		fatalx("no VMM_CONFIG");
	if ((vm.ev_chld = evsignal_new(vm.base, SIGCHLD, sigchld_cb,
	    NULL)) == NULL || evsignal_add(vm.ev_chld, NULL) == -1)
		fatalx("evsignal");
	jail_build();
	jail_demote();
	vm.configured = 1;
	phase_send(MVM_PHASE_VMM, NULL, NULL, 0, 0);
	qemu_start();
	if ((abi = sandbox_landlock_nofs()) == -1)
		fatal("landlock");
	if (sandbox_seccomp(vmm_policy, vmm_policy_len) == -1)
		fatal("seccomp");
	log_debug("%s: jailed as uid %u, landlock abi %d, QEMU pid %d",
	    vm.vc.vc_name, vm.conf.cc_uid, abi, (int)vm.qemu_pid);
}

static void
sigchld_cb(evutil_socket_t sig, short ev, void *arg)
{
	pid_t	 pid;
	int	 status;

	(void)sig;
	(void)ev;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == vm.qemu_pid) {
			vm.qemu_pid = 0;
			qemu_reaped(status);
		}
}

static void
vmm_config_msg(struct imsg *imsg)
{
	struct mvm_config_fd	 cf;
	int			 fd;

	switch (imsg_type(imsg)) {
	case IMSG_CONFIG:
		if (vm.have_conf || msg_get_child_config(imsg, &vm.conf) == -1 ||
		    vm.conf.cc_proto != MVM_PROTO_VERSION)
			fatalx("malformed CONFIG");
		vm.have_conf = 1;
		log_setverbose(vm.conf.cc_verbose);
		break;
	case IMSG_VMM_CONFIG:
		if (!vm.have_conf || vm.have_vc ||
		    msg_get_vmm_config(imsg, &vm.vc) == -1 ||
		    vm.vc.vc_qemu[0] != '/' || vm.vc.vc_kernel[0] != '/' ||
		    vm.vc.vc_initrd[0] != '/')
			fatalx("malformed VMM_CONFIG");
		vm.have_vc = 1;
		break;
	case IMSG_VMM_BIND:
		if (!vm.have_vc || vm.nbinds == VMM_BINDS_MAX ||
		    msg_get_vmm_bind(imsg, &vm.binds[vm.nbinds]) == -1)
			fatalx("malformed VMM_BIND");
		vm.nbinds++;
		break;
	case IMSG_VMM_NET_GRANT:
		if (!vm.have_vc || vm.ngrants == MVM_NET_GRANTS_MAX ||
		    msg_get_vmm_net(imsg, &vm.grants[vm.ngrants], NULL) == -1 ||
		    ap_net_host(vm.grants[vm.ngrants].vn_host) == 0 ||
		    vm.grants[vm.ngrants].vn_port == 0)
			fatalx("malformed VMM_NET_GRANT");
		vm.ngrants++;
		break;
	case IMSG_CONFIG_FD:
		if (!vm.have_vc || msg_get_config_fd(imsg, &cf, &fd) == -1 ||
		    cf.cf_kind != MVM_FD_CONSOLE || vm.consolefd != -1)
			fatalx("malformed CONFIG_FD");
		vm.consolefd = fd;
		break;
	case IMSG_CONFIG_END:
		if (msg_get_empty(imsg) == -1)
			fatalx("malformed CONFIG_END");
		vmm_start();
		break;
	default:
		fatalx("unexpected message type %u before the guest started",
		    imsg_type(imsg));
	}
}

#ifdef MVM_TEST_HOOKS
#include "testhook.h"

/*
 * Test builds: a forbidden system call (the jail must kill us), or a
 * vmm gone bad, as a guest that took over the vmm would be: bytes that
 * are no message, a well-formed EXIT for a command never started, or a
 * file get's data passed on unchecked (more than its max, or another
 * size at its end than came).  The supervisor must stop this guest as
 * failed and carry on.
 */
static void
vmm_testhook(struct imsg *imsg)
{
	struct mvm_test_syscall	 ts;
	struct mvm_vmm_exit	 vx;
	uint8_t			 junk[64];

	if (msg_get_test_syscall(imsg, &ts) == -1)
		fatalx("malformed TEST_SYSCALL");
	switch (ts.ts_which) {
	case MVM_TEST_VMM_GARBAGE:
		log_warnx("test hook: garbage to the supervisor");
		memset(junk, 0xa5, sizeof(junk));
		if (write(vm.parent.p_ibuf.fd, junk, sizeof(junk)) == -1)
			log_warn("test hook: write");
		return;
	case MVM_TEST_VMM_LIE:
		log_warnx("test hook: EXIT for a command never started");
		memset(&vx, 0, sizeof(vx));
		vx.vx_id = 0x7fffffff;
		(void)peer_compose(&vm.parent, IMSG_VMM_EXIT, vm.vc.vc_guest,
		    -1, &vx, sizeof(vx));
		return;
	case MVM_TEST_VMM_NOCAP:
		log_warnx("test hook: file gets pass unchecked");
		vm.test_nocap = 1;
		return;
	}
	testhook_syscall(imsg);
}
#endif

#define VMM_LINGER_MS	10

static void
vmm_linger_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { 0, VMM_LINGER_MS * 1000 };

	(void)fd;
	(void)ev;
	(void)arg;
	if (!vm.parent.p_open || peer_queued(&vm.parent) == 0)
		exit(0);
	evtimer_add(vm.linger_timer, &tv);
}

/*
 * QEMU is gone and DONE is queued: exit once the supervisor has it.
 * Not a blocking flush (the filter has no poll, and a supervisor that
 * is not reading this guest would hold us in it): the loop writes it
 * out, reading the supervisor again so that its EOF is seen; what it
 * still sends is not answered.  A vmm that lingers is killed by the
 * supervisor's stop timer.
 */
void
vmm_linger(void)
{
	peer_pause(&vm.parent, 0);
	if ((vm.linger_timer = evtimer_new(vm.base, vmm_linger_cb,
	    NULL)) == NULL)
		fatalx("evtimer_new");
	vmm_linger_cb(-1, 0, NULL);
}

/*
 * Only what the supervisor may send, and only about our guest (peerid);
 * anything else means it is confused: exit without answering.
 */
static int
vmm_dispatch(struct peer *p, struct imsg *imsg)
{
	(void)p;
	if (!vm.configured) {
		vmm_config_msg(imsg);
		return (PEER_OK);
	}
	if (imsg->hdr.peerid != vm.vc.vc_guest)
		fatalx("message about guest %u, we run %u", imsg->hdr.peerid,
		    vm.vc.vc_guest);
	if (vm.done)
		return (PEER_OK);	/* crossed our DONE: nothing to do */
	switch (imsg_type(imsg)) {
	case IMSG_VMM_EXEC:
		agent_exec(imsg);
		break;
	case IMSG_VMM_STDIN:
		agent_stdin(imsg);
		break;
	case IMSG_VMM_SIGNAL:
		agent_signal(imsg);
		break;
	case IMSG_VMM_FILE_PUT:
		agent_file_put(imsg);
		break;
	case IMSG_VMM_FILE_DATA:
		agent_file_data(imsg);
		break;
	case IMSG_VMM_FILE_END:
		agent_file_end(imsg);
		break;
	case IMSG_VMM_FILE_GET:
		agent_file_get(imsg);
		break;
	case IMSG_VMM_DIR_PUT:
		agent_dir_put(imsg);
		break;
	case IMSG_VMM_DIR_GET:
		agent_dir_get(imsg);
		break;
	case IMSG_VMM_NET_FD:
		net_fd(imsg);
		break;
	case IMSG_VMM_NET_REFUSED:
		net_refused(imsg);
		break;
	case IMSG_VMM_STOP:
		if (msg_get_empty(imsg) == -1)
			fatalx("malformed VMM_STOP");
		qemu_stop();
		break;
#ifdef MVM_TEST_HOOKS
	case IMSG_TEST_SYSCALL:
		vmm_testhook(imsg);
		break;
#endif
	default:
		fatalx("unexpected message type %u", imsg_type(imsg));
	}
	return (PEER_OK);
}

/* The supervisor went away: stop the guest and exit. */
static void
vmm_closed(struct peer *p, int why)
{
	if (why == PEER_MALFORMED)
		fatalx("%s: malformed message", p->p_name);
	peer_shutdown(p);
	if (vm.qemu_pid > 0) {
		kill(vm.qemu_pid, SIGKILL);
		vm.qemu_pid = 0;
	}
	exit(why == PEER_EOF ? 0 : 1);
}
