/*
 * vmmstub: the rest of the vmm, as fuzz/vmmagent.c needs it around
 * mvm-vmm/agent.c and mvm-vmm/net.c: the vm global (mvm-vmm/main.c) and,
 * from mvm-vmm/qemu.c, qemu_fail() (mono_ns() and phase_send() are
 * mvm-vmm/phase.c itself).  There is no QEMU: qemu_fail() remembers the
 * first reason, as the real one does, and the harness then feeds the
 * guest nothing more and plays QEMU's end (net_closeall(), as
 * qemu_reaped()).
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "../mvm-vmm/vmm.h"

struct vmm vm = { .consolefd = -1, .qemu_errfd = -1 };

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
