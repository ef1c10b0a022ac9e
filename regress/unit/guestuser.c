/*
 * Guest users on the host side: which uids ap_uid_ok takes, and the
 * readers of IMSG_VMM_EXEC and IMSG_VMM_DIR_PUT, which refuse a uid that
 * is no guest user's and root without MVM_EXEC_ROOT (or the flag
 * without root), so a vmm never asks the agent for what the supervisor
 * did not decide.
 */
#include <stdio.h>
#include <string.h>

#include "agentproto.h"
#include "mvm.h"
#include "tap.h"

static int	 exec_ok(uint32_t, uint32_t);
static int	 share_ok(uint32_t);
static void	 test_uids(void);
static void	 test_exec(void);
static void	 test_share(void);

/* Does a VMM_EXEC with this uid and these flags read? */
static int
exec_ok(uint32_t uid, uint32_t flags)
{
	struct mvm_vmm_exec	 ve;
	struct imsg		 m;
	uint8_t			 buf[sizeof(ve) + 5];
	const char		*blob;
	size_t			 len;

	memset(&ve, 0, sizeof(ve));
	ve.ve_id = 1;
	ve.ve_argc = 1;
	ve.ve_uid = uid;
	ve.ve_flags = flags;
	ve.ve_seccomp = AP_TIER_STANDARD;
	memcpy(buf, &ve, sizeof(ve));
	memcpy(buf + sizeof(ve), "true", 5);
	memset(&m, 0, sizeof(m));
	m.data = buf;
	m.datalen = sizeof(buf);
	m.fd = -1;
	return (msg_get_vmm_exec(&m, &ve, &blob, &len) == 0);
}

static int
share_ok(uint32_t uid)
{
	struct mvm_vmm_share	 vh;
	struct imsg		 m;
	uint8_t			 buf[sizeof(vh)];

	memset(&vh, 0, sizeof(vh));
	vh.vh_id = 2;
	vh.vh_uid = uid;
	vh.vh_size = 24;
	(void)strlcpy(vh.vh_path, "/work", sizeof(vh.vh_path));
	memcpy(buf, &vh, sizeof(vh));
	memset(&m, 0, sizeof(m));
	m.data = buf;
	m.datalen = sizeof(buf);
	m.fd = -1;
	return (msg_get_vmm_share(&m, &vh) == 0);
}

static void
test_uids(void)
{
	static const uint64_t	 yes[] = { 0, 1000, 2000, 2999 };
	static const uint64_t	 no[] = { 1, 999, 1001, 1999, 3000, 65534,
	    0x100000000ULL + 1000 };
	size_t			 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		TAP_OK(ap_uid_ok(yes[i]), "uid %llu is a guest user's",
		    (unsigned long long)yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		TAP_OK(!ap_uid_ok(no[i]), "uid %llu is not",
		    (unsigned long long)no[i]);
}

static void
test_exec(void)
{
	TAP_OK(exec_ok(AP_UID_USER, 0), "VMM_EXEC as the default user");
	TAP_OK(exec_ok(AP_UID_EXEC + 7, MVM_EXEC_STDIN),
	    "VMM_EXEC with a uid of its own");
	TAP_OK(exec_ok(AP_UID_ROOT, MVM_EXEC_ROOT), "VMM_EXEC as root, flagged");
	TAP_OK(!exec_ok(AP_UID_ROOT, 0), "VMM_EXEC uid 0 without MVM_EXEC_ROOT: "
	    "malformed (a zeroed ve_uid is no request for root)");
	TAP_OK(!exec_ok(AP_UID_USER, MVM_EXEC_ROOT),
	    "VMM_EXEC MVM_EXEC_ROOT with uid 1000: malformed");
	TAP_OK(!exec_ok(5, 0), "VMM_EXEC uid 5: malformed");
}

static void
test_share(void)
{
	TAP_OK(share_ok(AP_UID_USER), "VMM_DIR_PUT for the default user");
	TAP_OK(share_ok(AP_UID_ROOT), "VMM_DIR_PUT for root");
	TAP_OK(!share_ok(3000), "VMM_DIR_PUT for uid 3000: malformed");
}

int
main(void)
{
	test_uids();
	test_exec();
	test_share();
	TAP_DONE();
}
