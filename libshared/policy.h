/*
 * Policy profiles: what a run or a guest may ask for.  The built-in
 * table is below (policy.c); mvm.conf may tighten a profile, never
 * loosen it (config.c refuses a looser value, naming the key).  The
 * supervisor checks every request against its profile before a guest
 * is touched; a denial is MVM_EPOLICY with the rule that denied it and
 * a policy.denied audit record.
 *
 *		env	secret	add-dir	network	seccomp	 cpus	MiB	timeout
 * restrictive	no	no	none	no	minimal	 1	512	600 s
 * standard	yes	yes	ro	no	standard 2	2048	3600 s
 * dev		yes	yes	rw	yes	network	 4	8192	none
 * permissive	yes	yes	rw	yes	unrestr. 16	16384	none, and
 *							--ack-permissive
 * and guest root (--guest-root) in dev and permissive only.
 *
 * The seccomp tier is the profile's default and its loosest: a request
 * may name a stricter tier, never a looser one.  A request without a
 * timeout gets the profile's ceiling as its timeout.  Commands run as
 * an unprivileged guest user unless the request asks for root and the
 * profile allows it.
 */
#ifndef MVM_POLICY_H
#define MVM_POLICY_H

#include <stddef.h>

#include "mvm.h"

#define MVM_PROFILES		4
#define MVM_PROFILE_DEFAULT	"standard"

/* policy rules: what a denial names (policy.denied "rule") */
#define POLICY_RULE_ACK		"ack"
#define POLICY_RULE_ENV		"env"
#define POLICY_RULE_CPUS	"cpus"
#define POLICY_RULE_MEMORY	"memory"
#define POLICY_RULE_TIMEOUT	"timeout"
#define POLICY_RULE_SECCOMP	"seccomp"
#define POLICY_RULE_SECRET	"secret"
#define POLICY_RULE_NETWORK	"network"
#define POLICY_RULE_ADD_DIR	"add-dir"
#define POLICY_RULE_GUEST_ROOT	"guest-root"
#define POLICY_RULE_USER	"user"		/* mvm.conf: not for this uid */

void	 policy_defaults(struct mvm_profile[MVM_PROFILES]);
struct mvm_profile *policy_find(struct mvm_profile *, const char *);
const char *policy_add_dir_name(uint32_t);
/*
 * Is b no looser than a (the built-in) in every field?  0 if so, else
 * -1 with the first looser field's config key in *field.
 */
int	 policy_tighter(const struct mvm_profile *, const struct mvm_profile *,
	    const char **);

/* egress: presets of grants, and the ranges no grant opens */
struct sockaddr;
const char *const *policy_preset(const char *);	/* NULL-terminated */
const char *policy_preset_name(size_t);		/* NULL past the end */
const char *policy_addr_denied(const struct sockaddr *);

#endif /* MVM_POLICY_H */
