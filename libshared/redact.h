/*
 * Redaction: secret values cut out of a stream of output (redact.c).
 *
 * One struct redact per stream.  redact_feed() takes the stream in
 * chunks of any size and passes on, through out(arg, bytes, len),
 * whatever can no longer be part of a value; redact_end() passes on
 * the rest.  Every maximal run of bytes that lie in an occurrence of a
 * value comes out as one REDACT_MARK, whatever the chunking.
 */
#ifndef MVM_REDACT_H
#define MVM_REDACT_H

#include <stddef.h>
#include <stdint.h>

#define REDACT_MARK		"[mvm:redacted]"
#define REDACT_VALUES_MAX	(1024 * 1024)	/* bytes, all values together */

struct redact;

/* NULL with errno set: EINVAL (values too large), ENOMEM */
struct redact	*redact_new(const uint8_t *const *, const size_t *, int);
/* returns the number of occurrences whose last byte was in this chunk */
uint64_t	 redact_feed(struct redact *, const uint8_t *, size_t,
		    void (*)(void *, const uint8_t *, size_t), void *);
void		 redact_end(struct redact *,
		    void (*)(void *, const uint8_t *, size_t), void *);
void		 redact_free(struct redact *);

#endif /* MVM_REDACT_H */
