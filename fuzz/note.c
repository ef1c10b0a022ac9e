/*
 * note: C2SP signed notes (checkpoints) and proof texts
 * (libshared/note.c), as mvmctl reads them from files and from a
 * receipt, and as auditd's checkpoints file holds them.
 *
 * input: flags, then the text
 *	flags & 0x01	sign the note (or the proof's note) again with the
 *			test key first, so note_verify gets past the
 *			signature with mutated bodies
 *
 * Properties: note_verify accepts only what note_parse accepts, with
 * the same length; a parsed note, formatted (note_format) and parsed
 * again, gives the same checkpoint; a parsed proof, formatted
 * (proof_format) and parsed again, gives the same proof.
 */
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "note.h"

static void	 check_note(const char *, size_t);
static void	 check_proof(const char *, size_t, int);

static void
check_note(const char *text, size_t len)
{
	struct checkpoint	 ck, ck2;
	char			 out[NOTE_MAX];
	size_t			 used, used2;
	int			 parsed;

	parsed = note_parse(text, len, &ck, &used) == 0;
	if (parsed) {
		FUZZ_ASSERT(used <= len && used < NOTE_MAX);
		FUZZ_ASSERT(note_format(&ck, out, sizeof(out)) == 0);
		FUZZ_ASSERT(note_parse(out, strlen(out), &ck2, &used2) == 0);
		FUZZ_ASSERT(used2 == strlen(out));
		FUZZ_ASSERT(strcmp(ck.ck_origin, ck2.ck_origin) == 0 &&
		    ck.ck_size == ck2.ck_size &&
		    memcmp(ck.ck_root, ck2.ck_root, sizeof(ck.ck_root)) == 0 &&
		    strcmp(ck.ck_keyname, ck2.ck_keyname) == 0 &&
		    ck.ck_keyid == ck2.ck_keyid &&
		    memcmp(ck.ck_sig, ck2.ck_sig, sizeof(ck.ck_sig)) == 0);
	}
	if (note_verify(text, len, fuzz_rfc.k_pk, &ck2, &used2) == 0) {
		FUZZ_ASSERT(parsed && used2 == used);
		FUZZ_ASSERT(ck2.ck_keyid == key_id(ck2.ck_keyname,
		    fuzz_rfc.k_pk));
	}
}

static void
check_proof(const char *text, size_t len, int resign)
{
	struct proof	*pf, *pf2;
	char		*out, *note;
	size_t		 n;

	if ((pf = malloc(sizeof(*pf))) == NULL ||
	    (pf2 = malloc(sizeof(*pf2))) == NULL ||
	    (out = malloc(NOTE_PROOF_MAX)) == NULL)
		abort();
	if (proof_parse(text, len, pf) == -1)
		goto done;
	FUZZ_ASSERT(pf->pf_notelen < NOTE_MAX &&
	    strlen(pf->pf_note) == pf->pf_notelen);
	if (resign && (note = fuzz_resign_note(pf->pf_note, pf->pf_notelen,
	    &n)) != NULL) {
		if (n < NOTE_MAX) {
			memcpy(pf->pf_note, note, n + 1);
			pf->pf_notelen = n;
		}
		free(note);
	}
	(void)note_verify(pf->pf_note, pf->pf_notelen, fuzz_rfc.k_pk, NULL,
	    NULL);
	FUZZ_ASSERT(proof_format(pf, out, NOTE_PROOF_MAX) == 0);
	FUZZ_ASSERT(proof_parse(out, strlen(out), pf2) == 0);
	FUZZ_ASSERT(pf2->pf_kind == pf->pf_kind &&
	    pf2->pf_index == pf->pf_index &&
	    pf2->pf_old_size == pf->pf_old_size &&
	    pf2->pf_nhash == pf->pf_nhash &&
	    memcmp(pf2->pf_hash, pf->pf_hash,
	    pf->pf_nhash * MERKLE_HASH_LEN) == 0 &&
	    pf2->pf_notelen == pf->pf_notelen &&
	    memcmp(pf2->pf_note, pf->pf_note, pf->pf_notelen) == 0);
done:
	free(out);
	free(pf2);
	free(pf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text, *re;
	size_t	 len, n;
	int	 flags;

	fuzz_init();
	if (size < 1)
		return (0);
	flags = data[0];
	len = size - 1;
	/* the parsers take a length; a NUL-terminated copy is not needed */
	if ((text = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(text, data + 1, len);
	if ((flags & 1) && (re = fuzz_resign_note(text, len, &n)) != NULL) {
		free(text);
		text = re;
		len = n;
	}
	check_note(text, len);
	check_proof(text, len, flags & 1);
	free(text);
	return (0);
}
