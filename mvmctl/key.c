/*
 * mvmctl key: the host's public signing key, as the signer reported it
 * to the supervisor.  Formats: C2SP verifier key ("note"), PEM
 * SubjectPublicKeyInfo (for openssl pkeyutl -verify), raw 32 bytes.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "crypto.h"
#include "mvmctl.h"

static const struct cmd key_cmd = { "key", NULL,
    "key show [--json]\n       key export --format raw|pem|note" };

static void
key_fetch(struct mvm_ctl_key *ck)
{
	struct imsg	 imsg;

	ctl_connect();
	ctl_send(IMSG_CTL_KEY_REQ, NULL, 0);
	ctl_expect(&imsg, IMSG_CTL_KEY_RES);
	if (msg_get_ctl_key(&imsg, ck) == -1 || !key_name_valid(ck->ck_name) ||
	    key_id(ck->ck_name, ck->ck_pubkey) != ck->ck_keyid)
		errx(EXIT_ERR, "malformed key reply");
	imsg_free(&imsg);
	ctl_close();
}

static int
key_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct mvm_ctl_key	 ck;
	uint8_t			 fp[MVM_SHA256_LEN];
	char			 vkey[MVM_VKEY_MAX], fphex[MVM_SHA256_HEX];
	char			 id[9], b64[MVM_B64_LEN(32)];
	json_t			*root;
	int			 ch, json = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			cmd_usage(&key_cmd);
		json = 1;
	}
	if (optind != argc)
		cmd_usage(&key_cmd);
	key_fetch(&ck);
	if (vkey_format(ck.ck_name, ck.ck_pubkey, vkey, sizeof(vkey)) == -1)
		errx(EXIT_ERR, "cannot format key");
	sha256(ck.ck_pubkey, sizeof(ck.ck_pubkey), fp);
	hex_encode(fp, sizeof(fp), fphex);
	key_id_hex(ck.ck_keyid, id);
	b64_encode(ck.ck_pubkey, sizeof(ck.ck_pubkey), b64, sizeof(b64));
	if (json) {
		root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
		    "name", ck.ck_name, "key_id", id, "verifier_key", vkey,
		    "public_key_base64", b64, "sha256", fphex,
		    "algorithm", "ed25519");
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(root);
		return (EXIT_OK);
	}
	printf("name:      %s\n", ck.ck_name);
	printf("key id:    %s\n", id);
	printf("algorithm: ed25519\n");
	printf("public:    %s\n", b64);
	printf("sha256:    %s\n", fphex);
	printf("verifier:  %s\n", vkey);
	return (EXIT_OK);
}

static int
key_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	struct mvm_ctl_key	 ck;
	const char		*fmt = NULL;
	char			 buf[MVM_PEM_MAX + MVM_VKEY_MAX];
	int			 ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'f')
			cmd_usage(&key_cmd);
		fmt = optarg;
	}
	if (optind != argc || fmt == NULL)
		cmd_usage(&key_cmd);
	if (strcmp(fmt, "raw") != 0 && strcmp(fmt, "pem") != 0 &&
	    strcmp(fmt, "note") != 0) {
		warnx("unknown format %s: want raw, pem or note", fmt);
		cmd_usage(&key_cmd);
	}
	key_fetch(&ck);
	if (strcmp(fmt, "raw") == 0) {
		if (fwrite(ck.ck_pubkey, 1, sizeof(ck.ck_pubkey), stdout) !=
		    sizeof(ck.ck_pubkey))
			err(EXIT_ERR, "stdout");
	} else if (strcmp(fmt, "pem") == 0) {
		if (pem_format(ck.ck_pubkey, buf, sizeof(buf)) == -1)
			errx(EXIT_ERR, "cannot format key");
		if (fputs(buf, stdout) == EOF)
			err(EXIT_ERR, "stdout");
	} else {
		if (vkey_format(ck.ck_name, ck.ck_pubkey, buf,
		    sizeof(buf)) == -1)
			errx(EXIT_ERR, "cannot format key");
		printf("%s\n", buf);
	}
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
	return (EXIT_OK);
}

int
cmd_key(int argc, char **argv)
{
	if (argc < 2)
		cmd_usage(&key_cmd);
	argc--;
	argv++;
	if (strcmp(argv[0], "show") == 0)
		return (key_show(argc, argv));
	if (strcmp(argv[0], "export") == 0)
		return (key_export(argc, argv));
	warnx("unknown key command: %s", argv[0]);
	cmd_usage(&key_cmd);
}
