/*
 * secret.c: the secret store and the grants of a run.
 *
 * Values live under <statedir>/secrets/<tenant>/, one file per secret,
 * encrypted with crypto_secretbox under a store key (store.key, 32
 * random bytes, 0600, made on first use; the directory is 0700).  A
 * file is "MVMSEC01", a nonce, then the box of "name\0value", so a file
 * renamed to another secret's name does not open as that secret.
 * There is no way to read a value back out through mvmctl: a value
 * leaves the store only towards the guest of a run that was granted
 * it, as an environment variable of that one command.
 *
 * Redaction: whatever the command writes is scanned for the values it
 * was granted before the host hashes, counts, sends or stores a byte of
 * it (exec.c, with libshared/redact.c, which says what it guarantees).
 *
 * Audit records name a secret only by a keyed hash of its name
 * (secret_name_tag), never by the name or the value.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "agentproto.h"
#include "crypto.h"
#include "log.h"
#include "supervisor.h"

#define SECRET_MAGIC	"MVMSEC01"
#define SECRET_SUFFIX	".secret"

static int	 store_dir(char *, size_t);
static int	 owner_dir(uid_t, char *, size_t);
static int	 store_key(uint8_t[crypto_secretbox_KEYBYTES], int);
static int	 secret_path(uid_t, const char *, char *, size_t);

/* <statedir>/secrets/<tenant>, made 0700 if missing */
static int
store_dir(char *buf, size_t len)
{
	char	 top[MVM_ROOT_MAX + 16];

	(void)snprintf(top, sizeof(top), "%s/secrets", sv.conf.c_state_dir);
	if ((size_t)snprintf(buf, len, "%s/%s", top, sv.conf.c_tenant) >= len)
		return (-1);
	if ((mkdir(top, 0700) == -1 && errno != EEXIST) ||
	    (mkdir(buf, 0700) == -1 && errno != EEXIST)) {
		log_warn("%s", buf);
		return (-1);
	}
	return (0);
}

/*
 * Where an owner's secrets are: root's in the tenant's store itself (as
 * before secrets had owners), another uid's in u<uid> under it, 0700.
 * The store key is the tenant's, for every owner.
 */
static int
owner_dir(uid_t owner, char *buf, size_t len)
{
	char	 dir[MVM_ROOT_MAX + 96];

	if (store_dir(dir, sizeof(dir)) == -1)
		return (-1);
	if (owner == 0)
		return (strlcpy(buf, dir, len) >= len ? -1 : 0);
	if ((size_t)snprintf(buf, len, "%s/u%u", dir, (unsigned int)owner) >=
	    len)
		return (-1);
	if (mkdir(buf, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", buf);
		return (-1);
	}
	return (0);
}

/* The store key; made (0600, synced) if create and there is none. */
static int
store_key(uint8_t key[crypto_secretbox_KEYBYTES], int create)
{
	char		 dir[MVM_ROOT_MAX + 96], path[MVM_ROOT_MAX + 128];
	struct stat	 st;
	int		 fd;

	if (store_dir(dir, sizeof(dir)) == -1)
		return (-1);
	(void)snprintf(path, sizeof(path), "%s/store.key", dir);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    (st.st_mode & 077) != 0 || st.st_uid != 0 ||
		    read(fd, key, crypto_secretbox_KEYBYTES) !=
		    crypto_secretbox_KEYBYTES) {
			log_warnx("%s: not a 32-byte key, 0600, root's", path);
			close(fd);
			return (-1);
		}
		close(fd);
		return (0);
	}
	if (errno != ENOENT || !create) {
		if (errno != ENOENT)
			log_warn("%s", path);
		return (-1);
	}
	crypto_secretbox_keygen(key);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 ||
	    write(fd, key, crypto_secretbox_KEYBYTES) !=
	    crypto_secretbox_KEYBYTES || fsync(fd) == -1) {
		log_warn("%s", path);
		if (fd != -1)
			close(fd);
		(void)unlink(path);
		return (-1);
	}
	close(fd);
	fsync_dir(dir);
	log_info("secret store key made for tenant %s", sv.conf.c_tenant);
	return (0);
}

static int
secret_path(uid_t owner, const char *name, char *buf, size_t len)
{
	char	 dir[MVM_ROOT_MAX + 128];

	if (!name_valid(name) || owner_dir(owner, dir, sizeof(dir)) == -1)
		return (-1);
	if ((size_t)snprintf(buf, len, "%s/%s" SECRET_SUFFIX, dir, name) >=
	    len)
		return (-1);
	return (0);
}

/*
 * A keyed hash of a name, 16 hex digits: what audit records carry.
 * Keyed with the store key, so names cannot be confirmed by hashing
 * guesses without it.
 */
void
secret_name_tag(const char *name, char out[17])
{
	uint8_t	 key[crypto_secretbox_KEYBYTES], h[8];

	if (store_key(key, 1) == -1)
		memset(key, 0, sizeof(key));
	crypto_generichash(h, sizeof(h), (const uint8_t *)name, strlen(name),
	    key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	hex_encode(h, sizeof(h), out);
}

/*
 * The tag of a host share's path in evidence: a keyed hash (32 bytes,
 * 64 hex digits) of the SHA-256 mvmctl sent of the host directory's
 * real path, keyed like secret names (the tenant's store key) and in a
 * domain of its own.  A plain hash of a path in a log any local user
 * may read would confirm a guess of it (/home/alice/project).
 */
void
host_path_tag(const uint8_t sha256[32], char out[65])
{
	static const char	 dom[] = "mvm host path tag v1";
	crypto_generichash_state st;
	uint8_t			 key[crypto_secretbox_KEYBYTES], h[32];

	if (store_key(key, 1) == -1)
		randombytes_buf(key, sizeof(key));	/* unlinkable */
	crypto_generichash_init(&st, key, sizeof(key), sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)dom, sizeof(dom));
	crypto_generichash_update(&st, sha256, 32);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_memzero(key, sizeof(key));
	hex_encode(h, sizeof(h), out);
}

/* Valid as an environment value: UTF-8 (the agent's JSON), no NUL. */
static int
value_ok(const uint8_t *v, size_t len)
{
	json_t	*s;

	if (len == 0 || len > MVM_SECRET_MAX || memchr(v, '\0', len) != NULL)
		return (0);
	if ((s = json_stringn((const char *)v, len)) == NULL)
		return (0);
	json_decref(s);
	return (1);
}

/* Store owner's value under name (replacing one); 0 or an MVM_E* code. */
uint32_t
secret_put(uid_t owner, const char *name, const uint8_t *val, size_t len)
{
	uint8_t		 key[crypto_secretbox_KEYBYTES];
	uint8_t		 nonce[crypto_secretbox_NONCEBYTES];
	uint8_t		*plain, *box;
	char		 path[MVM_ROOT_MAX + 160], tmp[MVM_ROOT_MAX + 176];
	size_t		 nlen = strlen(name) + 1, plen, blen;
	int		 fd, rc = MVM_EINVAL;

	if (!name_valid(name) || !value_ok(val, len) ||
	    secret_path(owner, name, path, sizeof(path)) == -1)
		return (MVM_EINVAL);
	if (store_key(key, 1) == -1)
		return (MVM_EINVAL);
	plen = nlen + len;
	blen = crypto_secretbox_MACBYTES + plen;
	if ((plain = sodium_malloc(plen)) == NULL ||
	    (box = malloc(blen)) == NULL)
		fatal("secret_put");
	memcpy(plain, name, nlen);
	memcpy(plain + nlen, val, len);
	randombytes_buf(nonce, sizeof(nonce));
	crypto_secretbox_easy(box, plain, plen, nonce, key);
	sodium_free(plain);
	sodium_memzero(key, sizeof(key));
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 ||
	    write(fd, SECRET_MAGIC, 8) != 8 ||
	    write(fd, nonce, sizeof(nonce)) != sizeof(nonce) ||
	    write(fd, box, blen) != (ssize_t)blen || fsync(fd) == -1 ||
	    rename(tmp, path) == -1) {
		log_warn("%s", tmp);
		(void)unlink(tmp);
	} else
		rc = 0;
	if (fd != -1)
		close(fd);
	free(box);
	if (rc == 0) {
		*strrchr(path, '/') = '\0';
		fsync_dir(path);
	}
	return (rc);
}

/*
 * The value of name in a new sodium_malloc() buffer (free it with
 * sodium_free), or NULL: no such secret, or it does not open.
 */
uint8_t *
secret_get(uid_t owner, const char *name, size_t *lenp)
{
	uint8_t		 key[crypto_secretbox_KEYBYTES], *file, *plain, *v;
	char		 path[MVM_ROOT_MAX + 160];
	struct stat	 st;
	size_t		 nlen = strlen(name) + 1, hdr, plen;
	int		 fd;

	hdr = 8 + crypto_secretbox_NONCEBYTES;
	if (secret_path(owner, name, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (NULL);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < hdr + crypto_secretbox_MACBYTES + nlen ||
	    (size_t)st.st_size > hdr + crypto_secretbox_MACBYTES + nlen +
	    MVM_SECRET_MAX || store_key(key, 0) == -1) {
		close(fd);
		return (NULL);
	}
	if ((file = malloc(st.st_size)) == NULL)
		fatal("secret_get");
	if (read(fd, file, st.st_size) != st.st_size ||
	    memcmp(file, SECRET_MAGIC, 8) != 0) {
		close(fd);
		free(file);
		sodium_memzero(key, sizeof(key));
		return (NULL);
	}
	close(fd);
	plen = st.st_size - hdr - crypto_secretbox_MACBYTES;
	if ((plain = sodium_malloc(plen)) == NULL)
		fatal("secret_get");
	v = NULL;
	/* an empty value is never stored (secret_put): one is damage, and
	 * redaction could not look for it */
	if (crypto_secretbox_open_easy(plain, file + hdr, st.st_size - hdr,
	    file + 8, key) == 0 && plen > nlen &&
	    memcmp(plain, name, nlen) == 0 &&
	    (v = sodium_malloc(plen - nlen)) != NULL) {
		memcpy(v, plain + nlen, plen - nlen);
		*lenp = plen - nlen;
	} else
		log_warnx("secret %s: does not open with the store key",
		    name);
	sodium_free(plain);
	sodium_memzero(key, sizeof(key));
	free(file);
	return (v);
}

/* ------------------------------------------------------------------ */
/* control: secret put, ls, rm */

/* secret.put, secret.removed: by a keyed hash, who did it, whose */
static void
secret_audit(const char *type, const char *name, uid_t uid, uid_t owner)
{
	struct mvm_audit_event	 ev;
	char			 tag[17];

	secret_name_tag(name, tag);
	aev_init(&ev, type);
	aev_label(&ev, "secret", tag);
	aev_label_int(&ev, "uid", uid);
	if (owner != uid)
		aev_label_int(&ev, "owner", owner);
	(void)audit_send(&ev, NULL, NULL);
}

/* The secrets of one owner, as INFO messages: names, never values. */
static void
secret_ls_dir(struct ctl_client *cl, uid_t owner)
{
	struct mvm_ctl_secret	 sc;
	struct dirent		*de;
	struct stat		 st;
	char			 dir[MVM_ROOT_MAX + 128];
	size_t			 n, sl = strlen(SECRET_SUFFIX);
	DIR			*d;

	if (owner_dir(owner, dir, sizeof(dir)) == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n <= sl || strcmp(de->d_name + n - sl, SECRET_SUFFIX) !=
		    0 || n - sl >= sizeof(sc.sc_name))
			continue;
		memset(&sc, 0, sizeof(sc));
		sc.sc_op = MVM_SECRET_LS;
		memcpy(sc.sc_name, de->d_name, n - sl);
		if (!name_valid(sc.sc_name) || fstatat(dirfd(d), de->d_name,
		    &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		sc.sc_size = st.st_size - 8 - crypto_secretbox_NONCEBYTES -
		    crypto_secretbox_MACBYTES - (n - sl) - 1;
		sc.sc_mtime = st.st_mtime;
		sc.sc_owner = owner;
		(void)control_send(cl->cl_id, IMSG_CTL_SECRET_INFO, &sc,
		    sizeof(sc), NULL, 0);
	}
	closedir(d);
}

/* A client's own secrets; root's, and every other owner's, for root. */
static void
secret_ls(struct ctl_client *cl)
{
	struct dirent	*de;
	char		 dir[MVM_ROOT_MAX + 96], *end;
	unsigned long	 u;
	DIR		*d;

	secret_ls_dir(cl, cl->cl_uid);
	if (cl->cl_uid == 0 && store_dir(dir, sizeof(dir)) == 0 &&
	    (d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] != 'u' || de->d_type != DT_DIR)
				continue;
			errno = 0;
			u = strtoul(de->d_name + 1, &end, 10);
			if (*end == '\0' && errno == 0 && u > 0 &&
			    u < UINT32_MAX)
				secret_ls_dir(cl, (uid_t)u);
		}
		closedir(d);
	}
	(void)control_send(cl->cl_id, IMSG_CTL_END, NULL, 0, NULL, 0);
}

/* rm: the owner's secret (root may name another owner) */
static uint32_t
secret_rm(struct ctl_client *cl, const struct mvm_ctl_secret *sc,
    uid_t *owner)
{
	char	 path[MVM_ROOT_MAX + 160];

	*owner = cl->cl_uid;
	if (sc->sc_owner >= 0 && sc->sc_owner < UINT32_MAX) {
		if (cl->cl_uid != 0 && sc->sc_owner != cl->cl_uid)
			return (MVM_ENOSECRET);	/* another's: not there */
		*owner = (uid_t)sc->sc_owner;
	}
	if (secret_path(*owner, sc->sc_name, path, sizeof(path)) == -1)
		return (MVM_EINVAL);
	if (unlink(path) == -1)
		return (errno == ENOENT ? MVM_ENOSECRET : MVM_EINVAL);
	return (0);
}

/*
 * secret put, ls, rm.  A secret belongs to the uid that put it; a
 * client sees and grants only its own (another's is "no such secret"),
 * root may list and remove all.  Changes and refusals are recorded.
 */
int
control_secret(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_ctl_secret	 sc;
	const uint8_t		*val;
	size_t			 len;
	uint32_t		 err = 0;
	uid_t			 owner = cl->cl_uid;

	if (msg_get_ctl_secret(imsg, &sc, &val, &len) == -1)
		return (PEER_BAD);
	if (sc.sc_op == MVM_SECRET_LS) {
		secret_ls(cl);
		return (PEER_OK);
	}
	if (!sv.audit_ok)
		err = MVM_EAUDIT;
	else if (audit_busy())
		err = MVM_EBUSY;
	else if (sc.sc_op == MVM_SECRET_PUT)
		err = secret_put(owner, sc.sc_name, val, len);
	else
		err = secret_rm(cl, &sc, &owner);
	if (sc.sc_op == MVM_SECRET_PUT)
		sodium_memzero(imsg->data, imsg->datalen);
	if (err != 0) {
		audit_ctl(sc.sc_op == MVM_SECRET_PUT ? "secret_put" :
		    "secret_rm", "refused", cl->cl_uid, -1, err);
		(void)control_error(cl->cl_id, err, NULL);
		return (PEER_OK);
	}
	secret_audit(sc.sc_op == MVM_SECRET_PUT ? "secret.put" :
	    "secret.removed", sc.sc_name, cl->cl_uid, owner);
	(void)control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0, NULL, 0);
	return (PEER_OK);
}

/* ------------------------------------------------------------------ */
/* grants of one run */

/* [A-Za-z_][A-Za-z0-9_]* */
static int
env_key_ok(const char *k)
{
	const char	*p;

	if (k[0] == '\0' || (k[0] >= '0' && k[0] <= '9'))
		return (0);
	for (p = k; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return (0);
	return (1);
}

void
grants_free(struct grants *gr)
{
	int	 i;

	for (i = 0; i < gr->gr_n; i++)
		if (gr->gr_val[i] != NULL)
			sodium_free(gr->gr_val[i]);
	memset(gr, 0, sizeof(*gr));
}

/*
 * The "NAME=VAR" grants of a request, values loaded.  0, or an MVM_E*
 * code with what went wrong in msg (naming the secret, never its value).
 */
uint32_t
grants_load(struct grants *gr, uid_t owner, const char *const *s, uint32_t n,
    char *msg, size_t len)
{
	const char	*eq;
	uint32_t	 i;
	size_t		 nl;

	memset(gr, 0, sizeof(*gr));
	for (i = 0; i < n; i++) {
		if ((eq = strchr(s[i], '=')) == NULL ||
		    (nl = eq - s[i]) >= sizeof(gr->gr_name[0]) ||
		    strlen(eq + 1) >= sizeof(gr->gr_var[0])) {
			grants_free(gr);
			return (MVM_EINVAL);
		}
		memcpy(gr->gr_name[i], s[i], nl);
		gr->gr_name[i][nl] = '\0';
		(void)strlcpy(gr->gr_var[i], eq + 1, sizeof(gr->gr_var[i]));
		gr->gr_n = i + 1;
		/* "NAME=/path": a secret file (--secret-file) */
		gr->gr_file[i] = gr->gr_var[i][0] == '/';
		if (!name_valid(gr->gr_name[i]) || (gr->gr_file[i] ?
		    !ap_path_clean(gr->gr_var[i], 127) :
		    !env_key_ok(gr->gr_var[i]))) {
			grants_free(gr);
			return (MVM_EINVAL);
		}
		if ((gr->gr_val[i] = secret_get(owner, gr->gr_name[i],
		    &gr->gr_len[i])) == NULL) {
			(void)snprintf(msg, len, "secret %s: no such secret "
			    "(mvmctl secret ls)", gr->gr_name[i]);
			grants_free(gr);
			return (MVM_ENOSECRET);
		}
	}
	return (0);
}
