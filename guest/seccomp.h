/*
 * The workload's seccomp tiers (seccomp.c, mvm-agent.8).  The prefix is
 * tier_: seccomp_ belongs to libseccomp.  libseccomp's header has this
 * file's name and mktiers.c, in this directory, includes it: include
 * this one with quotes, and keep guest/ off the -I path, or <seccomp.h>
 * finds this one.
 */
#ifndef MVM_GUEST_SECCOMP_H
#define MVM_GUEST_SECCOMP_H

#include <linux/filter.h>

#include <stdint.h>

int	 tier_prog(uint32_t, const struct sock_fprog **);
int	 tier_load(const struct sock_fprog *);

#endif /* MVM_GUEST_SECCOMP_H */
