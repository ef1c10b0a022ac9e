/*
 * qemu.c: starting, watching and stopping QEMU.
 *
 * QEMU runs `-M microvm` with no default devices and no network device:
 * a serial console, one virtio-serial port for the agent, a virtio RNG,
 * and QMP, all on unix sockets in the jail's /run.  The accelerator is
 * kvm when the supervisor found /dev/kvm usable, else tcg.  QEMU's own
 * -sandbox is on, and it starts under the seccomp filter in policy.c.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "vmm.h"

static void	 sock_timer_cb(evutil_socket_t, short, void *);
static void	 boot_timer_cb(evutil_socket_t, short, void *);
static void	 stop_timer_cb(evutil_socket_t, short, void *);
static void	 console_read_cb(struct bufferevent *, void *);
static void	 qmp_read_cb(struct bufferevent *, void *);
static void	 qemu_err_cb(struct bufferevent *, void *);
static void	 sock_event_cb(struct bufferevent *, short, void *);

/* The kernel command line: quiet, fast and safe under TCG (QEMU-NOTES). */
static void
qemu_append(char *buf, size_t len)
{
	char	 tsc[48] = "";

	if (vm.vc.vc_tsc_khz > 0)
		(void)snprintf(tsc, sizeof(tsc), " tsc_early_khz=%u",
		    vm.vc.vc_tsc_khz);
	(void)snprintf(buf, len, "console=ttyS0 panic=-1 quiet loglevel=0 "
	    "reboot=t tsc=reliable no_timer_check cryptomgr.notests "
	    "random.trust_cpu=on i8042.noaux i8042.nomux i8042.nopnp "
	    "i8042.dumbkbd 8250.nr_uarts=1 rdinit=/init%s", tsc);
}

static void __attribute__((noreturn))
qemu_exec(int errfd)
{
	static char	*const envp[] = { NULL };
	char		 mem[32], smp[32], append[512], name[MVM_NAME_MAX + 8];
	char		*argv[64];
	int		 argc = 0, null;

#define A(s)	argv[argc++] = (char *)(s)
	(void)snprintf(mem, sizeof(mem), "%u", vm.vc.vc_memory_mib);
	(void)snprintf(smp, sizeof(smp), "%u", vm.vc.vc_cpus);
	(void)snprintf(name, sizeof(name), "mvm-%s", vm.vc.vc_name);
	qemu_append(append, sizeof(append));
	A(vm.vc.vc_qemu);
	A("-name"); A(name);
	A("-M"); A("microvm,x-option-roms=off,isa-serial=on,pit=off,pic=off");
	A("-accel"); A(vm.vc.vc_accel == MVM_ACCEL_KVM ? "kvm" : "tcg");
	A("-m"); A(mem);
	A("-smp"); A(smp);
	A("-nodefaults"); A("-no-user-config"); A("-nographic");
	A("-display"); A("none");
	A("-no-reboot");
	A("-kernel"); A(VMM_KERNEL);
	A("-initrd"); A(VMM_INITRD);
	A("-append"); A(append);
	A("-chardev");
	A("socket,id=con,path=" VMM_SOCK_CONSOLE ",server=on,wait=off");
	A("-serial"); A("chardev:con");
	A("-device"); A("virtio-serial-device");
	A("-chardev");
	A("socket,id=agent,path=" VMM_SOCK_AGENT ",server=on,wait=off");
	A("-device"); A("virtserialport,chardev=agent,name=" AP_PORT_NAME);
	A("-device"); A("virtio-rng-device");
	A("-qmp"); A("unix:" VMM_SOCK_QMP ",server=on,wait=off");
	A("-sandbox");
	A("on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
	    "resourcecontrol=deny");
	argv[argc] = NULL;
#undef A
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1 ||
	    dup2(errfd, STDERR_FILENO) == -1)
		_exit(126);
	closefrom(STDERR_FILENO + 1);
	if (qemu_seccomp() == -1)
		_exit(126);
	execve(vm.vc.vc_qemu, argv, envp);
	_exit(127);
}

/* Start QEMU in this jail; the parent goes on to watch it. */
void
qemu_start(void)
{
	struct timeval	 tv;
	int		 pfd[2];
	pid_t		 pid;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		close(pfd[0]);
		qemu_exec(pfd[1]);
	}
	close(pfd[1]);
	vm.qemu_pid = pid;
	vm.qemu_errfd = pfd[0];
	phase_send(MVM_PHASE_QEMU, NULL, NULL, 0, 0);
	if (fd_nonblock(pfd[0]) == -1 ||
	    (vm.qemu_err = bufferevent_socket_new(vm.base, pfd[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("bufferevent");
	bufferevent_setcb(vm.qemu_err, qemu_err_cb, NULL, sock_event_cb, NULL);
	bufferevent_enable(vm.qemu_err, EV_READ);

	vm.sock_timer = evtimer_new(vm.base, sock_timer_cb, NULL);
	tv.tv_sec = 0;
	tv.tv_usec = 5000;
	evtimer_add(vm.sock_timer, &tv);
	vm.boot_timer = evtimer_new(vm.base, boot_timer_cb, NULL);
	tv.tv_sec = vm.vc.vc_boot_timeout_ms / 1000;
	tv.tv_usec = (vm.vc.vc_boot_timeout_ms % 1000) * 1000;
	evtimer_add(vm.boot_timer, &tv);
}

static struct bufferevent *
sock_connect(const char *path)
{
	struct sockaddr_un	 sun;
	struct bufferevent	*bev;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return (NULL);
	}
	if (fd_nonblock(fd) == -1 || (bev = bufferevent_socket_new(vm.base,
	    fd, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("bufferevent");
	return (bev);
}

/*
 * QEMU makes its sockets shortly after it starts: try every few ms.
 * The console goes first so no early byte is lost.
 */
static void
sock_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { 0, 5000 };

	(void)fd;
	(void)ev;
	(void)arg;
	if (vm.console == NULL &&
	    (vm.console = sock_connect(VMM_SOCK_CONSOLE)) != NULL) {
		bufferevent_setcb(vm.console, console_read_cb, NULL,
		    sock_event_cb, NULL);
		bufferevent_enable(vm.console, EV_READ);
	}
	if (vm.qmp == NULL && (vm.qmp = sock_connect(VMM_SOCK_QMP)) != NULL) {
		bufferevent_setcb(vm.qmp, qmp_read_cb, NULL, sock_event_cb,
		    NULL);
		bufferevent_enable(vm.qmp, EV_READ | EV_WRITE);
		evbuffer_add_printf(bufferevent_get_output(vm.qmp),
		    "{\"execute\":\"qmp_capabilities\"}\n"
		    "{\"execute\":\"query-version\"}\n");
	}
	if (vm.agent == NULL &&
	    (vm.agent = sock_connect(VMM_SOCK_AGENT)) != NULL)
		agent_connected(vm.agent);
	if (vm.console == NULL || vm.qmp == NULL || vm.agent == NULL) {
		if (mono_ns() - vm.t_start > VMM_SOCK_WAIT_MS * 1000000ULL) {
			qemu_fail(MVM_DONE_QEMU_FAILED, "QEMU did not create "
			    "its sockets");
			return;
		}
		evtimer_add(vm.sock_timer, &tv);
	}
}

static void
boot_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (!vm.ready)
		qemu_fail(MVM_DONE_BOOT_TIMEOUT, "no agent after %u ms",
		    vm.vc.vc_boot_timeout_ms);
}

/* Keep a bounded copy of the console; remember the tail for panics. */
static void
console_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		 buf[4096];
	size_t		 n, keep;
	ssize_t		 w;

	(void)arg;
	while ((n = evbuffer_remove(in, buf, sizeof(buf))) > 0) {
		/* a boot phase: only before the agent is ready */
		if (!vm.got_console && !vm.ready) {
			vm.got_console = 1;
			phase_send(MVM_PHASE_CONSOLE, NULL, NULL, 0, 0);
		}
		keep = n;
		if (vm.console_written + keep > vm.vc.vc_console_max)
			keep = vm.vc.vc_console_max - vm.console_written;
		if (keep > 0 && vm.consolefd != -1) {
			w = write(vm.consolefd, buf, keep);
			if (w > 0)
				vm.console_written += w;
		}
		if (keep < n && !vm.console_full && vm.consolefd != -1) {
			vm.console_full = 1;
			if (write(vm.consolefd, "\n[mvm: console log full]\n",
			    26) == -1)
				log_debug("console log: %s", strerror(errno));
		}
		/* a sliding tail to spot "Kernel panic" */
		if (n >= sizeof(vm.console_tail) - 1) {
			memcpy(vm.console_tail, buf + n -
			    (sizeof(vm.console_tail) - 1),
			    sizeof(vm.console_tail) - 1);
			vm.console_tail_len = sizeof(vm.console_tail) - 1;
		} else {
			if (vm.console_tail_len + n > sizeof(vm.console_tail) -
			    1) {
				size_t	 drop = vm.console_tail_len + n -
				    (sizeof(vm.console_tail) - 1);

				memmove(vm.console_tail, vm.console_tail + drop,
				    vm.console_tail_len - drop);
				vm.console_tail_len -= drop;
			}
			memcpy(vm.console_tail + vm.console_tail_len, buf, n);
			vm.console_tail_len += n;
		}
		vm.console_tail[vm.console_tail_len] = '\0';
	}
}

/*
 * QMP: we only need QEMU's version (for the boot report and receipts)
 * and, later, "quit".  Other answers and events are dropped.
 */
static void
qmp_read_cb(struct bufferevent *bev, void *arg)
{
	json_t		*o, *q;
	char		*line;
	size_t		 len;

	(void)arg;
	while ((line = evbuffer_readln(bufferevent_get_input(bev), &len,
	    EVBUFFER_EOL_CRLF)) != NULL) {
		o = len < 4096 ? json_loadb(line, len, 0, NULL) : NULL;
		q = json_object_get(json_object_get(o, "return"), "qemu");
		if (json_is_object(q))
			(void)snprintf(vm.qemu_version,
			    sizeof(vm.qemu_version), "%lld.%lld.%lld",
			    json_integer_value(json_object_get(q, "major")),
			    json_integer_value(json_object_get(q, "minor")),
			    json_integer_value(json_object_get(q, "micro")));
		json_decref(o);
		free(line);
	}
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 65536)
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
}

/* QEMU's stderr: log it (it is QEMU's, not the guest's). */
static void
qemu_err_cb(struct bufferevent *bev, void *arg)
{
	char	*line;
	size_t	 len;

	(void)arg;
	while ((line = evbuffer_readln(bufferevent_get_input(bev), &len,
	    EVBUFFER_EOL_LF)) != NULL) {
		log_warnx("qemu: %.200s", line);
		free(line);
	}
}

/* EOF or error on a QEMU socket: QEMU is going away; SIGCHLD says how. */
static void
sock_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	if (bev == vm.agent && !vm.stopping && vm.ready)
		log_warnx("agent channel closed");
}

/*
 * Something went wrong: remember why (the first reason wins) and stop
 * the guest.  The vmm reports once QEMU is gone.
 */
void
qemu_fail(int reason, const char *fmt, ...)
{
	va_list	 ap;

	if (vm.done_reason == 0) {
		vm.done_reason = reason;
		va_start(ap, fmt);
		(void)vsnprintf(vm.done_msg, sizeof(vm.done_msg), fmt, ap);
		va_end(ap);
		log_warnx("%s: %s", vm.vc.vc_name, vm.done_msg);
	}
	qemu_stop();
}

/*
 * Stop: the agent's SHUTDOWN (a clean power-off), then QMP quit, then
 * SIGKILL, each after a grace period.
 */
void
qemu_stop(void)
{
	struct timeval	 tv;

	if (vm.qemu_pid <= 0) {
		qemu_reaped(0);
		return;
	}
	if (vm.stopping == 0 && vm.ready && vm.done_reason != MVM_DONE_PROTOCOL) {
		vm.stopping = 1;
		agent_shutdown();
		tv.tv_sec = VMM_SHUTDOWN_MS / 1000;
		tv.tv_usec = (VMM_SHUTDOWN_MS % 1000) * 1000;
	} else if (vm.stopping < 2 && vm.qmp != NULL) {
		vm.stopping = 2;
		evbuffer_add_printf(bufferevent_get_output(vm.qmp),
		    "{\"execute\":\"quit\"}\n");
		tv.tv_sec = VMM_QUIT_MS / 1000;
		tv.tv_usec = (VMM_QUIT_MS % 1000) * 1000;
	} else {
		vm.stopping = 3;
		kill(vm.qemu_pid, SIGKILL);
		return;
	}
	if (vm.stop_timer == NULL)
		vm.stop_timer = evtimer_new(vm.base, stop_timer_cb, NULL);
	evtimer_add(vm.stop_timer, &tv);
}

static void
stop_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	qemu_stop();
}

/* QEMU is gone: tell the supervisor why, and exit. */
void
qemu_reaped(int status)
{
	struct mvm_vmm_done	 vd;
	char			 how[64];

	if (vm.done)
		return;			/* DONE went out already */
	vm.done = 1;
	memset(&vd, 0, sizeof(vd));
	vd.vd_status = status;
	proc_wait_status(status, how, sizeof(how));
	if (vm.done_reason != 0) {
		vd.vd_reason = vm.done_reason;
		(void)strlcpy(vd.vd_msg, vm.done_msg, sizeof(vd.vd_msg));
	} else if (vm.stopping) {
		vd.vd_reason = MVM_DONE_STOPPED;
		(void)snprintf(vd.vd_msg, sizeof(vd.vd_msg), "stopped");
	} else if (strstr(vm.console_tail, "Kernel panic") != NULL) {
		vd.vd_reason = MVM_DONE_PANIC;
		(void)snprintf(vd.vd_msg, sizeof(vd.vd_msg),
		    "the guest kernel panicked");
	} else if (vm.ready && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) {
		/* -no-reboot: QEMU exits 0 when the guest powers off */
		vd.vd_reason = MVM_DONE_POWEROFF;
		(void)snprintf(vd.vd_msg, sizeof(vd.vd_msg),
		    "the guest powered off");
	} else {
		/* killed, or failed: the guest did not end by itself */
		vd.vd_reason = MVM_DONE_QEMU_EXIT;
		(void)snprintf(vd.vd_msg, sizeof(vd.vd_msg), "QEMU %s%s",
		    how, vm.ready ? "" : " before the guest was ready");
	}
	if (vm.consolefd != -1)
		(void)fdatasync(vm.consolefd);
	net_closeall();
	(void)peer_compose(&vm.parent, IMSG_VMM_DONE, vm.vc.vc_guest, -1, &vd,
	    sizeof(vd));
	log_debug("%s: done: %s (QEMU %s)", vm.vc.vc_name, vd.vd_msg, how);
	vmm_linger();
}
