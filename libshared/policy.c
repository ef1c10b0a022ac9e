/*
 * Policy profiles: the built-in table (policy.h has it as a table) and
 * the one comparison mvm.conf needs: is a profile no looser than the
 * built-in one of that name.
 */
#include <string.h>

#include "agentproto.h"
#include "policy.h"

static const struct mvm_profile builtin[MVM_PROFILES] = {
	{ "restrictive", 0, 0, MVM_ADD_DIR_NONE, 0, AP_TIER_MINIMAL,
	    1, 512, 600, 0 },
	{ "standard", 1, 1, MVM_ADD_DIR_RO, 0, AP_TIER_STANDARD,
	    2, 2048, 3600, 0 },
	{ "dev", 1, 1, MVM_ADD_DIR_RW, 1, AP_TIER_NETWORK,
	    4, 8192, 0, 0 },
	{ "permissive", 1, 1, MVM_ADD_DIR_RW, 1, AP_TIER_UNRESTRICTED,
	    16, 16384, 0, 1 },
};

void
policy_defaults(struct mvm_profile p[MVM_PROFILES])
{
	memcpy(p, builtin, sizeof(builtin));
}

struct mvm_profile *
policy_find(struct mvm_profile *p, const char *name)
{
	int	 i;

	for (i = 0; i < MVM_PROFILES; i++)
		if (strcmp(p[i].pr_name, name) == 0)
			return (&p[i]);
	return (NULL);
}

const char *
policy_add_dir_name(uint32_t a)
{
	switch (a) {
	case MVM_ADD_DIR_NONE:	return ("none");
	case MVM_ADD_DIR_RO:	return ("ro");
	case MVM_ADD_DIR_RW:	return ("rw");
	}
	return ("?");
}

/* a ceiling of 0 means none: the loosest of all */
static int
ceiling_looser(uint32_t a, uint32_t b)
{
	if (b == 0)
		return (a != 0);
	return (a != 0 && b > a);
}

int
policy_tighter(const struct mvm_profile *a, const struct mvm_profile *b,
    const char **field)
{
	if (b->pr_env > a->pr_env)
		*field = "env";
	else if (b->pr_secrets > a->pr_secrets)
		*field = "secrets";
	else if (b->pr_add_dir > a->pr_add_dir)
		*field = "add_dir";
	else if (b->pr_network > a->pr_network)
		*field = "network";
	else if (b->pr_seccomp > a->pr_seccomp)
		*field = "seccomp";
	else if (b->pr_cpus_max > a->pr_cpus_max)
		*field = "cpus_max";
	else if (b->pr_memory_max_mib > a->pr_memory_max_mib)
		*field = "memory_max_mib";
	else if (ceiling_looser(a->pr_timeout_max_s, b->pr_timeout_max_s))
		*field = "timeout_max_s";
	else if (b->pr_ack < a->pr_ack)
		*field = "ack";
	else
		return (0);
	return (-1);
}
