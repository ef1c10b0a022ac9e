/*
 * vmmstub: the rest of the vmm, as fuzz/vmmagent.c needs it around
 * mvm-vmm/agent.c and mvm-vmm/net.c: the vm global (mvm-vmm/main.c) and,
 * from mvm-vmm/qemu.c, mono_ns(), phase_send() (the same message) and
 * qemu_fail().  There is no QEMU: qemu_fail() remembers the first
 * reason, as the real one does, and the harness then feeds the guest
 * nothing more and plays QEMU's end (net_closeall(), as qemu_reaped()).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "../mvm-vmm/vmm.h"

struct vmm vm = { .consolefd = -1, .qemu_errfd = -1 };

uint64_t
mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
}

void
phase_send(uint32_t phase, const char *agent, const char *kernel,
    uint64_t uptime_ms, uint32_t proto)
{
	struct mvm_vmm_phase	 vp;

	memset(&vp, 0, sizeof(vp));
	vp.vp_phase = phase;
	vp.vp_ns = mono_ns();
	vp.vp_guest_uptime_ms = uptime_ms;
	vp.vp_agent_proto = proto;
	if (agent != NULL)
		(void)strlcpy(vp.vp_agent, agent, sizeof(vp.vp_agent));
	if (kernel != NULL)
		(void)strlcpy(vp.vp_kernel, kernel, sizeof(vp.vp_kernel));
	(void)strlcpy(vp.vp_qemu, vm.qemu_version, sizeof(vp.vp_qemu));
	if (peer_compose(&vm.parent, IMSG_VMM_PHASE, vm.vc.vc_guest, -1, &vp,
	    sizeof(vp)) == -1)
		fatal("compose");
}

/* The first reason wins; not logged: most inputs end a guest so. */
void
qemu_fail(int reason, const char *fmt, ...)
{
	va_list	 ap;

	if (vm.done_reason != 0)
		return;
	vm.done_reason = reason;
	va_start(ap, fmt);
	(void)vsnprintf(vm.done_msg, sizeof(vm.done_msg), fmt, ap);
	va_end(ap);
}
