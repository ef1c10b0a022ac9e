/*
 * The exact bytes the signer signs for each kind of request.  The signer
 * and every verifier build them with these functions, so the two can
 * never disagree.  Each kind is domain-separated from the others:
 *
 *   audit record  "mvm-audit-record-v1\n" || record JSON without "sig"
 *   checkpoint    the C2SP note body "<origin>\n<size>\n<b64 root>\n";
 *                 origins are printable ASCII without spaces and
 *                 contain a '/', so a note never starts like the others
 *   receipt       DSSE v1 PAE: "DSSEv1" SP len(type) SP type SP
 *                 len(body) SP body (note the spaces: no origin has one)
 *   snapshot      "mvm-snapshot-manifest-v1\n" || manifest JSON
 */
#ifndef MVM_SIGMSG_H
#define MVM_SIGMSG_H

#include <stddef.h>
#include <stdint.h>

#define MVM_CTX_AUDIT		"mvm-audit-record-v1\n"
#define MVM_CTX_SNAPSHOT	"mvm-snapshot-manifest-v1\n"
#define MVM_DSSE_TYPE		"application/vnd.in-toto+json"
#define MVM_INTOTO_STATEMENT	"https://in-toto.io/Statement/v1"
#define MVM_PREDICATE_RUN	"urn:mvm:predicate:run-receipt:v1"
#define MVM_SNAPSHOT_TYPE	"urn:mvm:snapshot-manifest:v1"

struct sigmsg {
	uint8_t		*sm_buf;
	size_t		 sm_len;
};

int	 sigmsg_audit(struct sigmsg *, const uint8_t *, size_t);
int	 sigmsg_snapshot(struct sigmsg *, const uint8_t *, size_t);
int	 sigmsg_pae(struct sigmsg *, const char *, const uint8_t *, size_t);
int	 sigmsg_note(struct sigmsg *, const char *, uint64_t,
	    const uint8_t[32]);
int	 origin_valid(const char *);
void	 sigmsg_free(struct sigmsg *);

#endif /* MVM_SIGMSG_H */
