#ifndef MVM_AUDITD_H
#define MVM_AUDITD_H

#include "mvm.h"
#include "sandbox.h"

/* policy.c */
extern const struct sandbox_rule	auditd_policy[];
extern const size_t			auditd_policy_len;

#endif /* MVM_AUDITD_H */
