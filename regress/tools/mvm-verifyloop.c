/*
 * mvm-verifyloop: the baseline for bench/audit/verify.sh.  Reads an
 * audit log and checks every record's Ed25519 signature in one thread,
 * in the simplest way: find the signature with record_unsigned(),
 * rebuild the signed bytes, crypto_sign_verify_detached().  No JSON
 * parsing, no chain, no tree.
 *
 * usage: mvm-verifyloop PUBKEYFILE LOG	(any format pubkey_parse() reads)
 * Prints "<n> verified <bad> failed"; exits 0 iff none failed.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"
#include "mvm.h"
#include "record.h"
#include "sigmsg.h"

static uint8_t	*slurp(const char *, size_t *);
static int	 verify_line(const char *, size_t, const uint8_t *);

static uint8_t *
slurp(const char *path, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", path);
	if ((buf = malloc(st.st_size + 1)) == NULL)
		err(1, NULL);
	while (off < (size_t)st.st_size) {
		if ((n = read(fd, buf + off, st.st_size - off)) <= 0)
			err(1, "%s", path);
		off += n;
	}
	close(fd);
	*lenp = off;
	return (buf);
}

static int
verify_line(const char *s, size_t len, const uint8_t *pk)
{
	struct sigmsg	 m;
	uint8_t		 sig[64], *u;
	size_t		 a, b, n, ul;
	int		 ok;

	if (record_unsigned(s, len, &a, &b) == -1 ||
	    b64_decode(s + a + 8, b - a - 9, sig, sizeof(sig), &n) == -1 ||
	    n != sizeof(sig))
		return (0);
	ul = len - (b - a);
	if ((u = malloc(ul)) == NULL)
		err(1, NULL);
	memcpy(u, s, a);
	memcpy(u + a, s + b, len - b);
	if (sigmsg_audit(&m, u, ul) == -1)
		err(1, NULL);
	ok = crypto_sign_verify_detached(sig, m.sm_buf, m.sm_len, pk) == 0;
	sigmsg_free(&m);
	free(u);
	return (ok);
}

int
main(int argc, char *argv[])
{
	uint8_t		 pk[32], *buf;
	char		 name[MVM_KEYNAME_MAX];
	const char	*p, *end, *nl;
	size_t		 len, good = 0, bad = 0;

	if (argc != 3)
		errx(2, "usage: mvm-verifyloop PUBKEYFILE LOG");
	if (mvm_crypto_init() == -1)
		errx(1, "sodium_init");
	buf = slurp(argv[1], &len);
	if (pubkey_parse(buf, len, pk, name, sizeof(name)) == -1)
		errx(2, "%s: not a public key", argv[1]);
	free(buf);
	buf = slurp(argv[2], &len);
	end = (const char *)buf + len;
	for (p = (const char *)buf; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			break;
		if (verify_line(p, nl - p, pk))
			good++;
		else
			bad++;
	}
	printf("%zu verified %zu failed\n", good, bad);
	free(buf);
	return (bad == 0 ? 0 : 1);
}
