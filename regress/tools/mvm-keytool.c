/*
 * mvm-keytool: key format conversions and signature checks, for tests.
 *
 *   mvm-keytool pem VKEY			PEM for a C2SP verifier key
 *   mvm-keytool verify VKEY MSGFILE SIGFILE	exit 0 iff the 64-byte
 *						signature verifies
 *   mvm-keytool gen NAME			new secret key line (test key)
 *   mvm-keytool pub KEYFILE			verifier key of a secret key file
 *   mvm-keytool seed NAME HEXSEED		secret key line for a given
 *						seed (a fixed test key, such
 *						as RFC 8032's)
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"

static uint8_t *
slurp(const char *path, size_t *len)
{
	struct stat	 st;
	uint8_t		*buf;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(2, "%s", path);
	if ((buf = malloc(st.st_size + 1)) == NULL)
		err(2, NULL);
	if (read(fd, buf, st.st_size) != st.st_size)
		err(2, "%s", path);
	close(fd);
	*len = st.st_size;
	return (buf);
}

int
main(int argc, char *argv[])
{
	uint8_t		 pk[32], sk[64], *msg, *sig;
	char		 name[64], out[512];
	size_t		 mlen, slen;
	int		 rc;

	if (mvm_crypto_init() == -1)
		errx(2, "sodium_init");
	if (argc == 3 && strcmp(argv[1], "pem") == 0) {
		if (vkey_parse(argv[2], name, sizeof(name), pk, NULL) == -1)
			errx(2, "bad verifier key");
		if (pem_format(pk, out, sizeof(out)) == -1)
			errx(2, "pem_format");
		fputs(out, stdout);
		return (0);
	}
	if (argc == 5 && strcmp(argv[1], "verify") == 0) {
		if (vkey_parse(argv[2], name, sizeof(name), pk, NULL) == -1)
			errx(2, "bad verifier key");
		msg = slurp(argv[3], &mlen);
		sig = slurp(argv[4], &slen);
		rc = slen == 64 &&
		    crypto_sign_verify_detached(sig, msg, mlen, pk) == 0 ? 0 : 1;
		free(msg);
		free(sig);
		return (rc);
	}
	if (argc == 3 && strcmp(argv[1], "gen") == 0) {
		crypto_sign_keypair(pk, sk);
		if (skey_format(argv[2], sk, pk, out, sizeof(out)) == -1)
			errx(2, "skey_format");
		fputs(out, stdout);
		return (0);
	}
	if (argc == 4 && strcmp(argv[1], "seed") == 0) {
		uint8_t	 seed[32];

		if (hex_decode(argv[3], seed, sizeof(seed)) == -1)
			errx(2, "want 64 hex digits");
		crypto_sign_seed_keypair(pk, sk, seed);
		if (skey_format(argv[2], seed, pk, out, sizeof(out)) == -1)
			errx(2, "skey_format");
		fputs(out, stdout);
		return (0);
	}
	if (argc == 3 && strcmp(argv[1], "pub") == 0) {
		uint8_t	 seed[32];

		msg = slurp(argv[2], &mlen);
		if (skey_parse((char *)msg, mlen, name, sizeof(name),
		    seed) == -1)
			errx(2, "bad secret key file");
		free(msg);
		crypto_sign_seed_keypair(pk, sk, seed);
		if (vkey_format(name, pk, out, sizeof(out)) == -1)
			errx(2, "vkey_format");
		printf("%s\n", out);
		return (0);
	}
	errx(2, "usage: mvm-keytool pem VKEY | verify VKEY MSG SIG | "
	    "gen NAME | pub KEYFILE | seed NAME HEXSEED");
}
