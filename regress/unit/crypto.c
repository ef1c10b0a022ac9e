/* Key formats, encodings, signed-message builders, config locations,
 * audit record syntax. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "crypto.h"
#include "record.h"
#include "sigmsg.h"
#include "tap.h"

/* RFC 8032 section 7.1, test 1 */
static const char rfc_sk[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char rfc_pk[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char rfc_sig[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

int
main(void)
{
	uint8_t		 seed[32], seed2[32], pk[32], pk2[32], sk[64], sig[64];
	uint8_t		 want[64], raw[64];
	char		 vkey[MVM_VKEY_MAX], skey[MVM_SKEY_MAX], name[64];
	char		 pem[MVM_PEM_MAX], hex[65], err[256];
	struct sigmsg	 m;
	struct mvm_config c;
	struct record_fields rf;
	uint32_t	 id;
	size_t		 n;
	int		 line, col;
	const char	*path[2];

	mvm_crypto_init();

	/* Ed25519 as libsodium does it matches RFC 8032 */
	hex_decode(rfc_sk, seed, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
	hex_encode(pk, 32, hex);
	TAP_OK(strcmp(hex, rfc_pk) == 0, "RFC 8032 test 1: public key");
	crypto_sign_detached(sig, NULL, (const uint8_t *)"", 0, sk);
	hex_decode(rfc_sig, want, 64);
	TAP_OK(memcmp(sig, want, 64) == 0, "RFC 8032 test 1: signature");

	/* verifier key round trip, key id checked */
	TAP_OK(vkey_format("mvm-test", pk, vkey, sizeof(vkey)) == 0,
	    "vkey_format");
	TAP_OK(vkey_parse(vkey, name, sizeof(name), pk2, &id) == 0 &&
	    memcmp(pk, pk2, 32) == 0 && strcmp(name, "mvm-test") == 0 &&
	    id == key_id("mvm-test", pk), "vkey round trip: %s", vkey);
	vkey[9] = vkey[9] == '0' ? '1' : '0';	/* a key id digit */
	TAP_OK(vkey_parse(vkey, name, sizeof(name), pk2, NULL) == -1,
	    "vkey with a wrong key id is refused");
	TAP_OK(vkey_format("bad name", pk, vkey, sizeof(vkey)) == -1 &&
	    vkey_format("a+b", pk, vkey, sizeof(vkey)) == -1 &&
	    vkey_format("", pk, vkey, sizeof(vkey)) == -1,
	    "key names with spaces, '+' or empty are refused");

	/* secret key round trip */
	TAP_OK(skey_format("mvm-test", seed, pk, skey, sizeof(skey)) == 0,
	    "skey_format");
	TAP_OK(skey_parse(skey, strlen(skey), name, sizeof(name), seed2) == 0
	    && memcmp(seed, seed2, 32) == 0, "skey round trip");
	skey[strlen(skey) - 5] ^= 1;
	TAP_OK(skey_parse(skey, strlen(skey), name, sizeof(name), seed2) == -1,
	    "damaged secret key is refused");

	/* PEM: SPKI DER prefix and back */
	TAP_OK(pem_format(pk, pem, sizeof(pem)) == 0 &&
	    strncmp(pem, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA", 42) == 0,
	    "PEM is an Ed25519 SubjectPublicKeyInfo");
	TAP_OK(pubkey_parse((uint8_t *)pem, strlen(pem), pk2, name,
	    sizeof(name)) == 0 && memcmp(pk, pk2, 32) == 0,
	    "pubkey_parse reads PEM");
	vkey_format("mvm-test", pk, vkey, sizeof(vkey));
	TAP_OK(pubkey_parse((uint8_t *)vkey, strlen(vkey), pk2, name,
	    sizeof(name)) == 0 && memcmp(pk, pk2, 32) == 0 &&
	    strcmp(name, "mvm-test") == 0, "pubkey_parse reads a verifier key");
	TAP_OK(pubkey_parse(pk, 32, pk2, name, sizeof(name)) == 0 &&
	    memcmp(pk, pk2, 32) == 0, "pubkey_parse reads 32 raw bytes");
	TAP_OK(pubkey_parse((const uint8_t *)"garbage", 7, pk2, name,
	    sizeof(name)) == -1, "pubkey_parse refuses garbage");

	/* strict encodings */
	TAP_OK(b64_decode("aGVsbG8=", 8, raw, sizeof(raw), &n) == 0 && n == 5,
	    "base64 decodes");
	TAP_OK(b64_decode("aGVsbG8", 7, raw, sizeof(raw), &n) == -1,
	    "base64 without padding is refused");
	TAP_OK(b64_decode("aGVs bG8=", 9, raw, sizeof(raw), &n) == -1,
	    "base64 with a space is refused");
	TAP_OK(b64_decode("aGVsbG9=", 8, raw, sizeof(raw), &n) == -1,
	    "base64 with non-zero padding bits is refused");
	TAP_OK(b64_decode("aGVs\xabG8=", 8, raw, sizeof(raw), &n) == -1,
	    "base64 with a byte outside the alphabet is refused");
	TAP_OK(hex_decode("ABCD", raw, 2) == -1, "upper-case hex is refused");
	TAP_OK(hex_decode("abc", raw, 2) == -1, "odd-length hex is refused");

	/* DSSE PAE: the specification's example */
	sigmsg_pae(&m, "http://example.com/HelloWorld",
	    (const uint8_t *)"hello world", 11);
	TAP_OK(m.sm_len == 54 && memcmp(m.sm_buf,
	    "DSSEv1 29 http://example.com/HelloWorld 11 hello world", 54) == 0,
	    "PAE matches the DSSE specification example");
	sigmsg_free(&m);
	sigmsg_pae(&m, "", (const uint8_t *)"", 0);
	TAP_OK(m.sm_len == 12 && memcmp(m.sm_buf, "DSSEv1 0  0 ", 12) == 0,
	    "PAE of empty type and body");
	sigmsg_free(&m);

	/* C2SP note body */
	memset(raw, 0, 32);
	TAP_OK(sigmsg_note(&m, "example.com/log", 7, raw) == 0 &&
	    m.sm_len == strlen("example.com/log\n7\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n") &&
	    memcmp(m.sm_buf, "example.com/log\n7\nAAAA", 22) == 0,
	    "note body: origin, size, base64 root, newlines");
	sigmsg_free(&m);
	TAP_OK(sigmsg_note(&m, "no-slash", 1, raw) == -1 &&
	    sigmsg_note(&m, "has space/x", 1, raw) == -1 &&
	    sigmsg_note(&m, "bad\nline/x", 1, raw) == -1,
	    "origins without '/', with spaces or newlines are refused");

	/* json_locate */
	{
		static const char txt[] =
		    "{\n  \"a\": 1,\n  \"b\": { \"c\": [1, {\"d\": 2}] },\n"
		    "  \"e\": \"x\\\"y\",\n  \"f\": 3\n}";

		path[0] = "f";
		TAP_OK(json_locate(txt, strlen(txt), path, 1, &line, &col) ==
		    0 && line == 5 && col == 3, "json_locate top-level key "
		    "after an escaped quote (%d:%d)", line, col);
		path[0] = "b";
		path[1] = "c";
		TAP_OK(json_locate(txt, strlen(txt), path, 2, &line, &col) ==
		    0 && line == 3 && col == 10, "json_locate nested key "
		    "(%d:%d)", line, col);
		path[0] = "d";
		TAP_OK(json_locate(txt, strlen(txt), path, 1, &line, &col) ==
		    -1, "json_locate does not find a key at the wrong depth");
	}

	/* config: a value's line and column */
	config_defaults(&c);
	TAP_OK(config_parse("t.json", "{\n\n   \"tenant\": 5}", 18, &c, err,
	    sizeof(err)) == -1 && strcmp(err,
	    "t.json:3:4: \"tenant\": expected a string") == 0,
	    "config error names file:line:col (%s)", err);

	/* audit record syntax */
	{
		static const char good[] =
		    "{\"kid\":\"0a0b0c0d\",\"labels\":{\"n\":3,\"state\":\"ok\"},"
		    "\"prev\":\"0000000000000000000000000000000000000000000000"
		    "000000000000000000\",\"seq\":0,\"subject\":{\"guest\":\"g1\"},"
		    "\"tenant\":\"local\",\"time\":\"2026-11-23T10:11:12.345Z\","
		    "\"type\":\"host.started\"}";
		char	 bad[sizeof(good) + 16];

		TAP_OK(record_check(good, strlen(good), 0, &rf, err,
		    sizeof(err)) == 0 && rf.rf_kid == 0x0a0b0c0d &&
		    rf.rf_seq == 0, "a canonical record passes (%s)", err);
		TAP_OK(record_check(good, strlen(good), REC_WITH_SIG, &rf, err,
		    sizeof(err)) == -1, "a record without sig fails when one "
		    "is required");
		memcpy(bad, good, sizeof(good));
		bad[strlen(bad) - 2] = 'X';	/* host.starteX */
		TAP_OK(record_check(bad, strlen(bad), 0, &rf, err,
		    sizeof(err)) == -1, "upper case in the type fails");
		TAP_OK(record_check(good + 1, strlen(good) - 1, 0, &rf, err,
		    sizeof(err)) == -1, "a truncated record fails");
		TAP_OK(!record_type_ok("host") && !record_type_ok(".a") &&
		    !record_type_ok("a.") && record_type_ok("net.flow_opened") &&
		    record_type_ok("ctl.status"), "record types");
		TAP_OK(record_token_ok("sha256:abc") && !record_token_ok("a b") &&
		    !record_token_ok("a\"b") && !record_token_ok(""),
		    "tokens");
		TAP_OK(record_time_ok("2026-11-23T10:11:12.345Z") &&
		    !record_time_ok("2026-11-23T10:11:12Z") &&
		    !record_time_ok("2026-13-23T10:11:12.345Z"), "times");
	}
	TAP_DONE();
}
