/*
 * Audit record syntax (man/mvm-audit.5).  A record is one line of
 * compact JSON with keys sorted bytewise and these members only:
 *
 *   kid      8 hex: C2SP key id of the signing key
 *   labels   object: key -> integer or token string
 *   prev     64 hex: SHA-256 of the previous line (64 zeros at seq 0)
 *   seq      integer >= 0: the record's leaf index
 *   sig      base64 Ed25519 signature (absent in what is signed)
 *   subject  object: key -> id token (guest, run, plan, ...)
 *   tenant   tenant name
 *   time     "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC)
 *   type     "category.verb"
 *
 * Tokens are 1-128 bytes of [A-Za-z0-9._:/@+=-]: ids, hashes, counts,
 * states and policy names fit; free text, argv and output do not, and
 * no string ever needs a JSON escape, so the canonical form is exactly
 * what jansson prints with JSON_COMPACT | JSON_SORT_KEYS.
 */
#ifndef MVM_RECORD_H
#define MVM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define REC_TOKEN_MAX		128
#define REC_TYPE_MAX		64
#define REC_LINE_MAX		(16 * 1024)
#define REC_TIME_LEN		24	/* 2026-11-23T10:11:12.123Z */
#define REC_WITH_SIG		0x1	/* the line carries "sig" */

struct record_fields {
	int64_t		 rf_seq;
	uint32_t	 rf_kid;
	uint8_t		 rf_prev[32];
	uint8_t		 rf_sig[64];
	char		 rf_type[REC_TYPE_MAX];
	char		 rf_tenant[64];
	char		 rf_time[REC_TIME_LEN + 1];
	/* type audit.recovered: the crash region it describes */
	int		 rf_recovered;
	int		 rf_rec_have;		/* parser: bits of labels seen */
	uint64_t	 rf_rec_off;
	uint64_t	 rf_rec_len;
	uint8_t		 rf_rec_hash[32];
};

int	 record_token_ok(const char *);
int	 record_key_ok(const char *);
int	 record_type_ok(const char *);
int	 record_time_ok(const char *);
int	 record_check(const char *, size_t, int, struct record_fields *,
	    char *, size_t);
int	 record_unsigned(const char *, size_t, size_t *, size_t *);
char	*record_insert_sig(const char *, const char *);

#define REC_TYPE_RECOVERED	"audit.recovered"

#endif /* MVM_RECORD_H */
