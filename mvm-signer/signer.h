#ifndef MVM_SIGNER_H
#define MVM_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "mvm.h"
#include "sandbox.h"

/* which kinds a peer may ask for (bit = 1 << kind) */
#define SIGN_ALLOW(k)		(1U << (k))
#define SIGN_FROM_PARENT	(SIGN_ALLOW(MVM_SIGN_RECEIPT) | \
				    SIGN_ALLOW(MVM_SIGN_SNAPSHOT))
#define SIGN_FROM_AUDITD	(SIGN_ALLOW(MVM_SIGN_AUDIT_RECORD) | \
				    SIGN_ALLOW(MVM_SIGN_CHECKPOINT))

struct signer_key {
	uint8_t		*sk;		/* sodium_malloc, noaccess at rest */
	uint8_t		 pk[32];
	uint32_t	 keyid;
	char		 name[MVM_KEYNAME_MAX];
};

/* sign.c */
void	 sign_request(const struct signer_key *, uint32_t,
	    const struct mvm_sign_req *, const uint8_t *,
	    struct mvm_sign_res *);
int	 sign_check_receipt(const uint8_t *, size_t);
int	 sign_check_snapshot(const uint8_t *, size_t);

/* policy.c */
extern const struct sandbox_rule	signer_policy[];
extern const size_t			signer_policy_len;

#endif /* MVM_SIGNER_H */
