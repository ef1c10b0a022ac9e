/*
 * C2SP signed notes carrying tlog checkpoints (c2sp.org/signed-note,
 * c2sp.org/tlog-checkpoint), Ed25519 only:
 *
 *	<origin>\n
 *	<size>\n
 *	<base64 root>\n
 *	\n
 *	— <key name> <base64(key id (4 bytes, big-endian) || signature)>\n
 *
 * The signature is over the body (the first three lines, with their
 * newlines) exactly as sigmsg_note() builds it.  "—" is U+2014 (UTF-8
 * e2 80 94) followed by a space.  A note may carry several signature
 * lines; we write one and, reading, use the first whose name and key
 * id match the key we are given (others are ignored, as the spec says).
 *
 * Also the proof texts (c2sp.org/tlog-proof@v1 for inclusion, and our
 * consistency analogue):
 *
 *	c2sp.org/tlog-proof@v1\n
 *	index <N>\n
 *	<base64 hash>\n ...
 *	\n
 *	<signed note>
 *
 *	mvm.audit/consistency-proof@v1\n
 *	old-size <M>\n
 *	<base64 hash>\n ...
 *	\n
 *	<signed note of the newer, larger tree>
 */
#ifndef MVM_NOTE_H
#define MVM_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "mvm.h"

/* a note as text: room for the 16 signature lines the signed-note spec
 * says a verifier must accept (we write one) */
#define NOTE_MAX		2560
/* a proof text: header, index, an "extra" line, hashes, the note */
#define NOTE_PROOF_MAX		(NOTE_MAX + 64 + 1024 + MERKLE_PROOF_MAX * 46)

struct checkpoint {
	char		 ck_origin[MVM_ORIGIN_MAX];
	uint64_t	 ck_size;
	uint8_t		 ck_root[MERKLE_HASH_LEN];
	char		 ck_keyname[MVM_KEYNAME_MAX];
	uint32_t	 ck_keyid;
	uint8_t		 ck_sig[64];
};

/* the whole signed note; -1 if the origin or name is invalid or len short */
int	 note_format(const struct checkpoint *, char *, size_t);
/*
 * Parse one signed note from the start of text (len bytes; it may be
 * followed by more data).  Strict: decimal size without leading zeros,
 * 32-byte root, origin_valid(), at least one well-formed Ed25519
 * signature line.  Fills ck from the body and the FIRST signature line;
 * *used gets the bytes consumed (through the last signature line's
 * newline).  -1 if malformed.
 */
int	 note_parse(const char *, size_t, struct checkpoint *, size_t *);
/*
 * Like note_parse, but picks the signature line whose key id matches
 * key_id(name, pk) for the name on that line; then checks that
 * signature over the body.  0 iff a matching line verifies.  The name
 * is bound only through the 4-byte key id: callers that know the name
 * they trust must compare ck_keyname with it.
 */
int	 note_verify(const char *, size_t, const uint8_t[32],
	    struct checkpoint *, size_t *);

struct proof {
	int		 pf_kind;
#define PROOF_INCLUSION		1
#define PROOF_CONSISTENCY	2
	uint64_t	 pf_index;	/* inclusion: leaf index */
	uint64_t	 pf_old_size;	/* consistency: the older size */
	uint8_t		 pf_hash[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	size_t		 pf_nhash;
	char		 pf_note[NOTE_MAX];	/* the note text, as found */
	size_t		 pf_notelen;
};

int	 proof_format(const struct proof *, char *, size_t);
int	 proof_parse(const char *, size_t, struct proof *);

#endif /* MVM_NOTE_H */
