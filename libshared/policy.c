/*
 * Policy profiles: the built-in table (policy.h has it as a table) and
 * the one comparison mvm.conf needs: is a profile no looser than the
 * built-in one of that name.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "agentproto.h"
#include "policy.h"

static const struct mvm_profile builtin[MVM_PROFILES] = {
	{ "restrictive", 0, 0, MVM_ADD_DIR_NONE, 0, AP_TIER_MINIMAL,
	    1, 512, 600, 0, 0 },
	{ "standard", 1, 1, MVM_ADD_DIR_RO, 0, AP_TIER_STANDARD,
	    2, 2048, 3600, 0, 0 },
	{ "dev", 1, 1, MVM_ADD_DIR_RW, 1, AP_TIER_NETWORK,
	    4, 8192, 0, 0, 1 },
	{ "permissive", 1, 1, MVM_ADD_DIR_RW, 1, AP_TIER_UNRESTRICTED,
	    16, 16384, 0, 1, 1 },
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
	else if (b->pr_guest_root > a->pr_guest_root)
		*field = "guest_root";
	else
		return (0);
	return (-1);
}

/*
 * Egress presets: a grant that names no port ("--allow registries") is
 * one of these.  Each is a fixed list of HOST:PORT grants; the host
 * checks every flow against the expanded list, like any other grant.
 */
static const char *const preset_registries[] = {
	"registry.npmjs.org:443", "pypi.org:443", "files.pythonhosted.org:443",
	"crates.io:443", "static.crates.io:443", "index.crates.io:443",
	"proxy.golang.org:443", "deb.debian.org:443", "deb.debian.org:80",
	NULL
};
static const char *const preset_github[] = {
	"github.com:443", "api.github.com:443", "codeload.github.com:443",
	"objects.githubusercontent.com:443", NULL
};
static const struct {
	const char		 *name;
	const char *const	 *grants;
} presets[] = {
	{ "registries", preset_registries },
	{ "github", preset_github },
};

const char *const *
policy_preset(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return (presets[i].grants);
	return (NULL);
}

const char *
policy_preset_name(size_t i)
{
	return (i < sizeof(presets) / sizeof(presets[0]) ? presets[i].name :
	    NULL);
}

/*
 * Destinations no grant can open: a name that resolves into one of
 * these is refused as if it had no grant.  IPv4: "this network"
 * 0.0.0.0/8, loopback 127.0.0.0/8, link-local 169.254.0.0/16 (which
 * holds the cloud metadata address 169.254.169.254), shared/CGNAT
 * 100.64.0.0/10, multicast 224.0.0.0/4 and reserved 240.0.0.0/4 (with
 * broadcast).  IPv6: unspecified ::, loopback ::1, link-local fe80::/10,
 * multicast ff00::/8, the AWS metadata address fd00:ec2::254, and the
 * IPv4-mapped ::ffff:0:0/96 and NAT64 64:ff9b::/96 forms, judged by the
 * IPv4 address they hold.  Private ranges (RFC 1918, ULA) are allowed:
 * a grant for a host there is the operator's decision.  Returns the
 * range's name, or NULL if the address may be granted.
 */
static const char *
v4_denied(uint32_t a)
{
	if ((a >> 24) == 0)
		return ("this-network");
	if ((a >> 24) == 127)
		return ("loopback");
	if (a == 0xa9fea9feU)
		return ("metadata");
	if ((a >> 16) == 0xa9fe)
		return ("link-local");
	if ((a >> 22) == (0x64400000U >> 22))
		return ("shared");
	if ((a >> 28) == 0xe)
		return ("multicast");
	if ((a >> 28) == 0xf)
		return ("reserved");
	return (NULL);
}

const char *
policy_addr_denied(const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t aws[16] = { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0x02, 0x54 };
	static const uint8_t zero[16];
	const uint8_t	*b;
	uint32_t	 a;

	if (sa->sa_family == AF_INET) {
		a = ntohl(((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr.s_addr);
		return (v4_denied(a));
	}
	if (sa->sa_family != AF_INET6)
		return ("family");
	b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) {
		a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		    (uint32_t)b[14] << 8 | b[15];
		return (v4_denied(a));
	}
	if (memcmp(b, zero, 16) == 0)
		return ("unspecified");
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return ("loopback");
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return ("link-local");
	if (b[0] == 0xff)
		return ("multicast");
	if (memcmp(b, aws, 16) == 0)
		return ("metadata");
	return (NULL);
}
