/*
 * phase.c: the vmm's clock and its boot phase messages to the
 * supervisor.  A file of its own so that fuzz/vmmagent.c links the same
 * code around mvm-vmm/agent.c without QEMU's half of the vmm.
 */
#include <string.h>
#include <time.h>

#include "log.h"
#include "vmm.h"

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
	vp.vp_ns = phase == MVM_PHASE_VMM ? vm.t_start : mono_ns();
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
