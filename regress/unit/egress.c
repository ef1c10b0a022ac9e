/*
 * Egress checks that need no guest: host names as the agent protocol
 * carries them (ap_net_host) and the address ranges no grant opens
 * (policy_addr_denied).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "agentproto.h"
#include "policy.h"
#include "tap.h"

static const char *
denied(const char *addr)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		return (policy_addr_denied((struct sockaddr *)&sin));
	}
	if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		return (policy_addr_denied((struct sockaddr *)&sin6));
	}
	return ("(not an address)");
}

int
main(void)
{
	static const struct {
		const char	*host;
		int		 want;
	} hosts[] = {
		{ "example.com", AP_HOST_NAME },
		{ "a", AP_HOST_NAME },
		{ "x-1.y2.Example", AP_HOST_NAME },
		{ "10.0.0.2", AP_HOST_IPV4 },
		{ "255.255.255.255", AP_HOST_IPV4 },
		{ "0.0.0.0", AP_HOST_IPV4 },
		{ "1.2.3", 0 },			/* digits only: a quad or nothing */
		{ "256.1.1.1", 0 },
		{ "01.2.3.4", 0 },
		{ "1.2.3.4.5", 0 },
		{ "", 0 },
		{ ".", 0 },
		{ "a..b", 0 },
		{ "a.", 0 },
		{ ".a", 0 },
		{ "-a.b", 0 },
		{ "a-.b", 0 },
		{ "a_b.c", 0 },
		{ "a b", 0 },
		{ "a:80", 0 },
		{ "a/b", 0 },
		{ "[::1]", 0 },
		{ "::1", 0 },
		{ "caf\xc3\xa9.example", 0 },
	};
	static const struct {
		const char	*addr;
		const char	*range;		/* NULL: may be granted */
	} addrs[] = {
		{ "169.254.169.254", "metadata" },
		{ "169.254.0.1", "link-local" },
		{ "127.0.0.1", "loopback" },
		{ "127.255.255.254", "loopback" },
		{ "0.0.0.0", "this-network" },
		{ "100.64.0.1", "shared" },
		{ "100.127.255.255", "shared" },
		{ "224.0.0.1", "multicast" },
		{ "255.255.255.255", "reserved" },
		{ "::", "unspecified" },
		{ "::1", "loopback" },
		{ "fe80::1", "link-local" },
		{ "febf::1", "link-local" },
		{ "ff02::1", "multicast" },
		{ "fd00:ec2::254", "metadata" },
		{ "::ffff:169.254.169.254", "metadata" },
		{ "::ffff:127.0.0.1", "loopback" },
		{ "64:ff9b::a9fe:a9fe", "metadata" },
		{ "10.0.0.1", NULL },
		{ "192.168.1.1", NULL },
		{ "172.16.0.1", NULL },
		{ "100.63.255.255", NULL },
		{ "100.128.0.0", NULL },
		{ "169.253.255.255", NULL },
		{ "93.184.216.34", NULL },
		{ "2001:db8::1", NULL },
		{ "fd12:3456::1", NULL },
		{ "fec0::1", NULL },
		{ "::ffff:10.0.0.1", NULL },
	};
	char		 big[300];
	const char	*r;
	size_t		 i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		TAP_OK(ap_net_host(hosts[i].host) == hosts[i].want,
		    "ap_net_host(\"%s\") = %d", hosts[i].host, hosts[i].want);
	memset(big, 'a', 63);
	big[63] = '\0';
	TAP_OK(ap_net_host(big) == AP_HOST_NAME, "a 63-byte label");
	memset(big, 'a', 64);
	big[64] = '\0';
	TAP_OK(ap_net_host(big) == 0, "a 64-byte label is refused");
	for (i = 0; i < 252; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[252] = '\0';
	TAP_OK(ap_net_host(big) == 0, "a name ending in a dot is refused");
	big[252] = 'b';
	big[253] = '\0';
	TAP_OK(ap_net_host(big) == AP_HOST_NAME, "a 253-byte name");
	big[253] = '.';
	big[254] = 'c';
	big[255] = '\0';
	TAP_OK(ap_net_host(big) == 0, "a 255-byte name is refused");

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		r = denied(addrs[i].addr);
		if (addrs[i].range == NULL)
			TAP_OK(r == NULL, "%s may be granted (got %s)",
			    addrs[i].addr, r != NULL ? r : "-");
		else
			TAP_OK(r != NULL && strcmp(r, addrs[i].range) == 0,
			    "%s is denied as %s (got %s)", addrs[i].addr,
			    addrs[i].range, r != NULL ? r : "-");
	}
	TAP_OK(policy_preset("registries") != NULL &&
	    policy_preset("nosuch") == NULL, "presets: registries, no other");
	TAP_DONE();
}
