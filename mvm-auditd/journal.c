/*
 * journal.c: auditd's log writer.
 *
 * An event becomes a record: seq and prev (the SHA-256 of the line
 * before) are assigned, the signer signs it, and the line joins the
 * current batch.  prev covers the previous line's signature, so records
 * are signed one at a time, in order.  A batch is committed with one
 * write(2) and one fdatasync(2) when it holds batch_max records, when no
 * event is waiting, or when batch_us has passed since it started (group
 * commit).  Only then is each sender acknowledged, with its seq and leaf
 * hash, and a checkpoint for the new tree size is signed and appended to
 * the checkpoints file.  A failed write or fsync stops the tenant's log
 * for good (fail closed): nothing is acknowledged or appended after it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "auditd.h"
#include "auditscan.h"
#include "crypto.h"
#include "log.h"
#include "record.h"
#include "sigmsg.h"

static void	 journal_next(void);
static void	 journal_commit(struct tenant *);
static void	 journal_commit_all(void);
static void	 journal_stop(struct tenant *, int);
static void	 journal_ckpt_sign(struct tenant *, uint32_t, int, uint64_t);
static void	 ack_send(uint32_t, uint32_t, uint64_t, const uint8_t *,
		    const char *, size_t);
static void	 batch_timer_cb(evutil_socket_t, short, void *);

struct tenant *
tenant_find(const char *name)
{
	int	 i;

	for (i = 0; i < ad.ntenants; i++)
		if (strcmp(ad.tenants[i].t_name, name) == 0)
			return (&ad.tenants[i]);
	return (NULL);
}

struct tenant *
tenant_add(const char *name, int logfd, int ckptfd)
{
	struct tenant	*t;

	if (ad.ntenants == AUDITD_TENANTS_MAX)
		fatalx("too many tenants");
	t = &ad.tenants[ad.ntenants++];
	memset(t, 0, sizeof(*t));
	(void)strlcpy(t->t_name, name, sizeof(t->t_name));
	if ((size_t)snprintf(t->t_origin, sizeof(t->t_origin),
	    "%s/mvm-audit/%s", ad.conf.cc_hostname, name) >=
	    sizeof(t->t_origin) || !origin_valid(t->t_origin))
		fatalx("bad origin for tenant %s", name);
	t->t_logfd = logfd;
	t->t_ckptfd = ckptfd;
	merkle_init(&t->t_tree);
	return (t);
}

void
journal_init(void)
{
	TAILQ_INIT(&ad.queue);
	TAILQ_INIT(&ad.inflight);
	ad.batch_timer = evtimer_new(ad.base, batch_timer_cb, NULL);
	if (ad.batch_timer == NULL)
		fatalx("evtimer_new");
	if (ad.conf.cc_batch_max == 0)
		ad.conf.cc_batch_max = AUDITD_BATCH_MAX;
	if (ad.conf.cc_batch_us == 0)
		ad.conf.cc_batch_us = AUDITD_BATCH_US;
}

/* ------------------------------------------------------------------ */
/* start: read what is there, check it, find a torn tail */

/*
 * The whole file, as the disk has it.  Its size comes from
 * lseek(SEEK_END), not fstat: this also runs in the jail (audit resume),
 * whose filter allows lseek and not glibc's newfstatat.
 *
 * The page cache is dropped first.  After a failed fdatasync, Linux
 * marks the pages that could not be written clean and keeps them: a
 * read shows the batch whose sync failed as if it were there, while the
 * disk holds zeros or old bytes (ext4: unwritten extents).  Built on
 * that, a resumed log would verify now and be unreadable after the next
 * reboot, with every record appended since behind the hole (measured:
 * regress/audit/fsync.t).  Dropping the clean pages makes the read come
 * from the disk, so recovery sees what a crash would leave and treats it
 * the same way.  Dirty pages are not dropped (at start, those of an
 * auditd that died before its sync): they hold what was written last,
 * and a read shows it, as it did before.
 */
static uint8_t *
read_all(int fd, size_t *lenp)
{
	uint8_t		*buf;
	size_t		 off = 0;
	off_t		 size;
	ssize_t		 n;
	int		 error;

	if ((error = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) != 0) {
		errno = error;
		fatal("posix_fadvise");
	}
	if ((size = lseek(fd, 0, SEEK_END)) == -1)
		fatal("lseek");
	if ((buf = malloc(size + 1)) == NULL)
		fatal("malloc");
	while (off < (size_t)size) {
		n = pread(fd, buf + off, size - off, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			fatal("reading the audit log");
		off += n;
	}
	*lenp = off;
	return (buf);
}

/* Is origin "<host>/mvm-audit/<tenant>" for this tenant? */
static int
origin_tenant_is(const char *origin, const char *tenant)
{
	const char	*tail = strstr(origin, "/mvm-audit/");

	return (tail != NULL && strcmp(tail + strlen("/mvm-audit/"), tenant) ==
	    0);
}

/*
 * The checkpoints file: one JSON line {"note": "..."} each.  Signatures
 * are not checked here (that is mvmctl audit verify's job), but no
 * checkpoint may claim more records than the log holds, and the newest
 * must match the log's root: otherwise the log was cut or rewritten
 * while we were down, and we refuse to write after it.
 */
static void
recover_ckpts(struct tenant *t)
{
	struct checkpoint	 ck;
	json_t			*o;
	uint8_t			*buf, root[32];
	const char		*note, *p, *nl;
	size_t			 len, used;

	buf = read_all(t->t_ckptfd, &len);
	t->t_ckpt_need_nl = len > 0 && buf[len - 1] != '\n';
	for (p = (const char *)buf; p < (const char *)buf + len; p = nl + 1) {
		nl = memchr(p, '\n', (const char *)buf + len - p);
		if (nl == NULL)
			break;			/* torn: ignored */
		o = json_loadb(p, nl - p, JSON_REJECT_DUPLICATES, NULL);
		note = json_string_value(json_object_get(o, "note"));
		/* any host name: a renamed host must not lose the check */
		if (note != NULL && note_parse(note, strlen(note), &ck,
		    &used) == 0 && origin_tenant_is(ck.ck_origin, t->t_name)) {
			if (ck.ck_size > t->t_committed)
				fatalx("%s: a checkpoint covers %" PRIu64
				    " records, the log has %" PRIu64 ": it was "
				    "cut; refusing to append", t->t_name,
				    ck.ck_size, t->t_committed);
			t->t_ckpt_size = ck.ck_size;
			(void)strlcpy(t->t_ckpt_note, note,
			    sizeof(t->t_ckpt_note));
			memcpy(root, ck.ck_root, 32);
		}
		json_decref(o);
	}
	free(buf);
	if (t->t_ckpt_size > 0) {
		uint8_t	 have[32];

		if (merkle_root(&t->t_tree, t->t_ckpt_size, have) == -1 ||
		    sodium_memcmp(have, root, 32) != 0)
			fatalx("%s: the log does not match its newest "
			    "checkpoint: it was rewritten; refusing to append",
			    t->t_name);
	}
}

static void
kv_int(struct mvm_audit_kv *kv, const char *k, int64_t v)
{
	memset(kv, 0, sizeof(*kv));
	(void)strlcpy(kv->kv_key, k, sizeof(kv->kv_key));
	kv->kv_isint = 1;
	kv->kv_int = v;
}

/*
 * Scan the log.  A torn tail (a crash during a write) stays in place:
 * the next commit terminates it with a newline and an audit.recovered
 * record names its offset, length and hash, so a verifier can tell a
 * crash from an edit.  Anything else wrong is fatal.
 */
void
journal_recover(struct tenant *t)
{
	struct audit_scan	 as;
	struct mvm_audit_kv	 kv[3];
	uint8_t			*buf, h[32];
	size_t			 len;
	char			 hex[65];

	buf = read_all(t->t_logfd, &len);
	memset(&as, 0, sizeof(as));
	as.as_tenant = t->t_name;
	if (audit_scan(buf, len, &as) == -1) {
		if (as.as_class == AV_OK)
			fatal("scanning the audit log");
		fatalx("%s: audit log %s at seq %" PRId64 ": %s; refusing to "
		    "append (see mvmctl audit verify)", t->t_name,
		    audit_class_name(as.as_class), as.as_bad_seq, as.as_why);
	}
	t->t_tree = as.as_tree;
	merkle_init(&as.as_tree);
	t->t_committed = t->t_next = as.as_nrec;
	memcpy(t->t_last, as.as_last, 32);
	memcpy(t->t_last_committed, as.as_last, 32);
	/* first: was the log cut or rewritten while we were down? */
	recover_ckpts(t);
	if (as.as_tail_len > 0) {
		/* audit_scan(): the tail runs to the end of the log */
		if (as.as_tail_off > len ||
		    as.as_tail_len != len - as.as_tail_off)
			fatalx("%s: torn tail is not the end of the log",
			    __func__);
		sha256(buf + as.as_tail_off, as.as_tail_len, h);
		hex_encode(h, 32, hex);
		t->t_need_nl = buf[len - 1] != '\n';
		log_warnx("%s: torn tail of %" PRIu64 " bytes at offset %"
		    PRIu64 " (a crash); recording its recovery", t->t_name,
		    as.as_tail_len, as.as_tail_off);
		kv_int(&kv[0], "offset", as.as_tail_off);
		kv_int(&kv[1], "length", as.as_tail_len);
		memset(&kv[2], 0, sizeof(kv[2]));
		(void)strlcpy(kv[2].kv_key, "sha256", sizeof(kv[2].kv_key));
		(void)strlcpy(kv[2].kv_val, hex, sizeof(kv[2].kv_val));
		journal_internal(t, REC_TYPE_RECOVERED, kv, 3);
	}
	audit_scan_free(&as);
	free(buf);
	log_debug("%s: %" PRIu64 " records, newest checkpoint %" PRIu64,
	    t->t_name, t->t_committed, t->t_ckpt_size);
}

/* ------------------------------------------------------------------ */
/* events to records */

static int
kv_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct mvm_audit_kv *)a)->kv_key,
	    ((const struct mvm_audit_kv *)b)->kv_key));
}

/*
 * Append ,"name":{"k":v,...} with keys sorted: tokens as strings, and
 * (labels only) integers.  Keys and tokens need no escaping by their
 * syntax (record.h), so this is the canonical form.  -1 if invalid.
 */
static int
kv_append(char *buf, size_t len, size_t *off, const char *name,
    const struct mvm_audit_kv *in, uint32_t n, int ids)
{
	struct mvm_audit_kv	 kv[MVM_AUDIT_LABELS_MAX];
	uint32_t		 i;
	int			 w;

	if (n == 0)
		return (0);
	memcpy(kv, in, n * sizeof(*kv));
	qsort(kv, n, sizeof(*kv), kv_cmp);
	w = snprintf(buf + *off, len - *off, ",\"%s\":{", name);
	if (w < 0 || (size_t)w >= len - *off)
		return (-1);
	*off += w;
	for (i = 0; i < n; i++) {
		if (!record_key_ok(kv[i].kv_key) ||
		    (i > 0 && strcmp(kv[i - 1].kv_key, kv[i].kv_key) == 0))
			return (-1);
		if (kv[i].kv_isint && !ids)
			w = snprintf(buf + *off, len - *off, "%s\"%s\":%lld",
			    i > 0 ? "," : "", kv[i].kv_key,
			    (long long)kv[i].kv_int);
		else if (!kv[i].kv_isint && record_token_ok(kv[i].kv_val))
			w = snprintf(buf + *off, len - *off, "%s\"%s\":\"%s\"",
			    i > 0 ? "," : "", kv[i].kv_key, kv[i].kv_val);
		else
			return (-1);
		if (w < 0 || (size_t)w >= len - *off)
			return (-1);
		*off += w;
	}
	if (*off + 1 >= len)
		return (-1);
	buf[(*off)++] = '}';
	buf[*off] = '\0';
	return (0);
}

/*
 * The unsigned record text for an event, in canonical form (members
 * sorted: kid, labels, prev, seq, subject, tenant, time, type), or NULL
 * if it is not valid.  The signer parses it again before it signs.
 */
static char *
record_build(struct tenant *t, const struct mvm_audit_event *ev)
{
	char	 buf[REC_LINE_MAX], prev[65], kid[9], when[32];
	size_t	 off;
	int	 w;

	if (!record_type_ok(ev->ae_type))
		return (NULL);
	hex_encode(t->t_last, 32, prev);
	key_id_hex(ad.conf.cc_keyid, kid);
	time_rfc3339(wall_ms(), when, sizeof(when));
	w = snprintf(buf, sizeof(buf), "{\"kid\":\"%s\"", kid);
	off = w;
	if (kv_append(buf, sizeof(buf), &off, "labels", ev->ae_labels,
	    ev->ae_nlabels, 0) == -1)
		return (NULL);
	w = snprintf(buf + off, sizeof(buf) - off, ",\"prev\":\"%s\","
	    "\"seq\":%" PRIu64, prev, t->t_next);
	if (w < 0 || (size_t)w >= sizeof(buf) - off)
		return (NULL);
	off += w;
	if (kv_append(buf, sizeof(buf), &off, "subject", ev->ae_subject,
	    ev->ae_nsubject, 1) == -1)
		return (NULL);
	w = snprintf(buf + off, sizeof(buf) - off, ",\"tenant\":\"%s\","
	    "\"time\":\"%s\",\"type\":\"%s\"}", t->t_name, when,
	    ev->ae_type);
	if (w < 0 || (size_t)w >= sizeof(buf) - off)
		return (NULL);
	return (strdup(buf));
}

static struct inflight *
inflight_new(int kind, struct tenant *t)
{
	struct inflight	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("calloc");
	f->f_id = ++ad.next_sign_id;
	f->f_kind = kind;
	f->f_tenant = t;
	f->f_gen = t->t_gen;
	TAILQ_INSERT_TAIL(&ad.inflight, f, f_entry);
	return (f);
}

static void
sign_send(struct inflight *f, const void *body, size_t len)
{
	struct mvm_sign_req	 sr;

	memset(&sr, 0, sizeof(sr));
	sr.sr_id = f->f_id;
	sr.sr_kind = f->f_kind;
	sr.sr_len = len;
	if (peer_composev2(&ad.signer, IMSG_SIGN_REQ, 0, -1, &sr, sizeof(sr),
	    body, len) == -1)
		fatal("compose");
}

static void
event_fail(struct qevent *q, uint32_t error)
{
	if (q->q_ack)
		ack_send(q->q_ev.ae_id, error, 0, NULL, NULL, 0);
	free(q);
	ad.nqueue--;
}

/* Send the next waiting event to the signer, if none is there. */
static void
journal_next(void)
{
	struct qevent	*q;
	struct tenant	*t;
	struct inflight	*f;
	char		*text;

	while (!ad.signing && (q = TAILQ_FIRST(&ad.queue)) != NULL) {
		TAILQ_REMOVE(&ad.queue, q, q_entry);
		if ((t = tenant_find(q->q_ev.ae_tenant)) == NULL) {
			log_warnx("event for unknown tenant");
			event_fail(q, MVM_EINVAL);
			continue;
		}
		if (t->t_stopped) {
			event_fail(q, MVM_EAUDIT);
			continue;
		}
		if ((text = record_build(t, &q->q_ev)) == NULL) {
			log_warnx("%s: event %s refused: not a valid record",
			    t->t_name, q->q_ev.ae_type);
			event_fail(q, MVM_EINVAL);
			continue;
		}
		f = inflight_new(MVM_SIGN_AUDIT_RECORD, t);
		f->f_ev = q;
		f->f_unsigned = text;
		sign_send(f, text, strlen(text));
		ad.signing = 1;
	}
	journal_drain_check();
}

static void
enqueue(const struct mvm_audit_event *ev, int ack)
{
	struct qevent	*q;

	if (ad.nqueue >= AUDITD_QUEUE_MAX) {
		log_warnx("event queue full");
		if (ack)
			ack_send(ev->ae_id, MVM_EBUSY, 0, NULL, NULL, 0);
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("calloc");
	q->q_ev = *ev;
	q->q_ack = ack;
	TAILQ_INSERT_TAIL(&ad.queue, q, q_entry);
	ad.nqueue++;
	journal_next();
}

/* An event from the supervisor: acknowledged once durable. */
void
journal_event(const struct mvm_audit_event *ev, int ack)
{
	enqueue(ev, ack);
}

/* An event of our own (audit.recovered). */
void
journal_internal(struct tenant *t, const char *type,
    const struct mvm_audit_kv *labels, int n)
{
	struct mvm_audit_event	 ev;

	memset(&ev, 0, sizeof(ev));
	(void)strlcpy(ev.ae_tenant, t->t_name, sizeof(ev.ae_tenant));
	(void)strlcpy(ev.ae_type, type, sizeof(ev.ae_type));
	memcpy(ev.ae_labels, labels, n * sizeof(*labels));
	ev.ae_nlabels = n;
	enqueue(&ev, 0);
}

/* line (the record, for an event that asked) may be NULL */
static void
ack_send(uint32_t id, uint32_t error, uint64_t seq, const uint8_t *leaf,
    const char *line, size_t linelen)
{
	struct mvm_audit_ack	 aa;

	memset(&aa, 0, sizeof(aa));
	aa.aa_id = id;
	aa.aa_error = error;
	aa.aa_seq = seq;
	if (leaf != NULL)
		memcpy(aa.aa_leaf, leaf, 32);
	if (ad.parent.p_open &&
	    peer_composev2(&ad.parent, IMSG_AUDIT_ACK, 0, -1, &aa,
	    sizeof(aa), line, line == NULL ? 0 : linelen) == -1)
		fatal("compose");
}

/* ------------------------------------------------------------------ */
/* signatures back: records join the batch, checkpoints get written */

static void
batch_add(struct tenant *t, const char *line, struct qevent *q)
{
	struct pending	*p;
	size_t		 len = strlen(line);

	while (t->t_buflen + len + 2 > t->t_bufcap) {
		t->t_bufcap = t->t_bufcap == 0 ? 65536 : t->t_bufcap * 2;
		if ((t->t_buf = realloc(t->t_buf, t->t_bufcap)) == NULL)
			fatal("realloc");
	}
	if (t->t_npend == t->t_pendcap) {
		t->t_pendcap = t->t_pendcap == 0 ? 64 : t->t_pendcap * 2;
		t->t_pend = reallocarray(t->t_pend, t->t_pendcap,
		    sizeof(*t->t_pend));
		if (t->t_pend == NULL)
			fatal("reallocarray");
	}
	memcpy(t->t_buf + t->t_buflen, line, len);
	t->t_buf[t->t_buflen + len] = '\n';
	t->t_buflen += len + 1;

	p = &t->t_pend[t->t_npend++];
	p->p_id = q->q_ev.ae_id;
	p->p_ack = q->q_ack;
	p->p_line = (q->q_ev.ae_flags & MVM_AEV_LINE) != 0;
	p->p_off = t->t_buflen - len - 1;
	p->p_len = len;
	p->p_seq = t->t_next;
	merkle_leaf_hash(line, len, p->p_leaf);
	if (merkle_append(&t->t_tree, p->p_leaf) == -1)
		fatal("merkle_append");
	sha256(line, len, t->t_last);
	t->t_next++;
}

/* Put the signature into the record, where canonical order puts it. */
static char *
record_sign(const char *text, const uint8_t sig[64])
{
	char	 b64[MVM_B64_LEN(64)], *line;

	b64_encode(sig, 64, b64, sizeof(b64));
	if ((line = record_insert_sig(text, b64)) == NULL)
		fatalx("cannot place the signature in our own record");
	return (line);
}

/* Has the supervisor sent more that we have not read yet? */
static int
parent_readable(void)
{
	struct pollfd	 pfd;

	if (!ad.parent.p_open)
		return (0);
	if (ad.parent.p_ibuf.rlen > 0)
		return (1);
	pfd.fd = ad.parent.p_ibuf.fd;
	pfd.events = POLLIN;
	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN));
}

static void
batch_arm(void)
{
	struct timeval	 tv;

	if (ad.batch_armed)
		return;
	tv.tv_sec = ad.conf.cc_batch_us / 1000000;
	tv.tv_usec = ad.conf.cc_batch_us % 1000000;
	evtimer_add(ad.batch_timer, &tv);
	ad.batch_armed = 1;
}

static void
batch_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	ad.batch_armed = 0;
	journal_commit_all();
	journal_next();
}

static void
record_signed(struct inflight *f, const struct mvm_sign_res *res)
{
	struct tenant	*t = f->f_tenant;
	char		*line;

	ad.signing = 0;
	/* built before a stop: its seq and prev are not the log's now */
	if (res->ss_error != 0 || t->t_stopped || f->f_gen != t->t_gen) {
		log_warnx("%s: record not signed (error %u)", t->t_name,
		    res->ss_error);
		event_fail(f->f_ev, res->ss_error != 0 ? res->ss_error :
		    MVM_EAUDIT);
		return;
	}
	line = record_sign(f->f_unsigned, res->ss_sig);
	batch_add(t, line, f->f_ev);
	free(line);
	free(f->f_ev);
	ad.nqueue--;
	/*
	 * Group commit: a full batch goes now; so does a batch with nothing
	 * behind it (no waiting for a lone event), unless the supervisor
	 * has already sent more, which then joins this batch.  batch_us
	 * bounds the wait either way.
	 */
	if (t->t_npend >= ad.conf.cc_batch_max ||
	    (TAILQ_EMPTY(&ad.queue) && !parent_readable()))
		journal_commit(t);
	else
		batch_arm();
}

/* Append one checkpoint line; fsync it if someone is waiting for it. */
static void
ckpt_write(struct tenant *t, const char *note, int sync)
{
	json_t	*o;
	char	*line;
	size_t	 len;
	ssize_t	 n;

	o = json_pack("{s:s}", "note", note);
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (line == NULL)
		fatalx("json_dumps");
	len = strlen(line);
	if (t->t_ckpt_need_nl) {
		if (write(t->t_ckptfd, "\n", 1) != 1) {
			journal_stop(t, errno);
			free(line);
			return;
		}
		t->t_ckpt_need_nl = 0;
	}
	line[len] = '\n';			/* over the NUL */
	n = write(t->t_ckptfd, line, len + 1);
	free(line);
	if (n != (ssize_t)len + 1 || (sync && fdatasync(t->t_ckptfd) == -1)) {
		journal_stop(t, n == -1 || sync ? errno : EIO);
		return;
	}
}

static void
proof_reply(struct tenant *t, uint32_t id, uint64_t index)
{
	struct mvm_audit_proof	 ap;
	uint8_t			 hashes[MERKLE_PROOF_MAX][32];
	size_t			 n = 0;

	if (!ad.parent.p_open)
		return;
	memset(&ap, 0, sizeof(ap));
	ap.ap_id = id;
	ap.ap_index = index;
	ap.ap_size = t->t_ckpt_size;
	if (index >= t->t_ckpt_size ||
	    merkle_inclusion(&t->t_tree, index, t->t_ckpt_size, hashes,
	    &n) == -1 || n > MVM_AUDIT_PROOF_MAX ||
	    merkle_leaf(&t->t_tree, index, ap.ap_leaf) == -1)
		ap.ap_error = MVM_EINVAL;
	else {
		memcpy(ap.ap_hash, hashes, n * 32);
		ap.ap_nhash = n;
		(void)strlcpy(ap.ap_note, t->t_ckpt_note, sizeof(ap.ap_note));
	}
	if (peer_compose(&ad.parent, IMSG_AUDIT_PROOF_RES, 0, -1, &ap,
	    sizeof(ap)) == -1)
		fatal("compose");
}

static void
ckpt_reply(struct tenant *t, uint32_t id, uint32_t error)
{
	struct mvm_audit_ckpt	 ac;

	if (!ad.parent.p_open)
		return;
	memset(&ac, 0, sizeof(ac));
	ac.ac_id = id;
	ac.ac_error = error;
	ac.ac_size = t->t_ckpt_size;
	if (error == 0)
		(void)strlcpy(ac.ac_note, t->t_ckpt_note, sizeof(ac.ac_note));
	if (peer_compose(&ad.parent, IMSG_AUDIT_CKPT_RES, 0, -1, &ac,
	    sizeof(ac)) == -1)
		fatal("compose");
}

static void
ckpt_signed(struct inflight *f, const struct mvm_sign_res *res)
{
	struct tenant		*t = f->f_tenant;
	struct checkpoint	 ck;
	char			 note[MVM_NOTE_MAX];

	if (res->ss_error != 0 || t->t_stopped) {
		log_warnx("%s: checkpoint not signed", t->t_name);
		if (f->f_reqtype == IMSG_AUDIT_CKPT_RES)
			ckpt_reply(t, f->f_reqid, MVM_EAUDIT);
		else if (f->f_reqtype == IMSG_AUDIT_PROOF_RES)
			proof_reply(t, f->f_reqid, UINT64_MAX);
		return;
	}
	memset(&ck, 0, sizeof(ck));
	(void)strlcpy(ck.ck_origin, t->t_origin, sizeof(ck.ck_origin));
	ck.ck_size = f->f_size;
	memcpy(ck.ck_root, f->f_root, 32);
	(void)strlcpy(ck.ck_keyname, ad.conf.cc_keyname,
	    sizeof(ck.ck_keyname));
	ck.ck_keyid = res->ss_keyid;
	memcpy(ck.ck_sig, res->ss_sig, 64);
	if (note_format(&ck, note, sizeof(note)) == -1)
		fatalx("note_format");
	ckpt_write(t, note, f->f_reqtype != 0 || ad.draining);
	if (t->t_stopped)
		return;
	if (f->f_size >= t->t_ckpt_size) {
		t->t_ckpt_size = f->f_size;
		(void)strlcpy(t->t_ckpt_note, note, sizeof(t->t_ckpt_note));
	}
	if (f->f_reqtype == IMSG_AUDIT_CKPT_RES)
		ckpt_reply(t, f->f_reqid, 0);
	else if (f->f_reqtype == IMSG_AUDIT_PROOF_RES)
		proof_reply(t, f->f_reqid, f->f_index);
}

void
journal_sign_res(const struct mvm_sign_res *res)
{
	struct inflight	*f = TAILQ_FIRST(&ad.inflight);

	/* the signer answers in order; anything else is a broken peer */
	if (f == NULL || res->ss_id != f->f_id || res->ss_kind !=
	    (uint32_t)f->f_kind)
		fatalx("signer answered out of turn");
	if (res->ss_error == 0 && res->ss_keyid != ad.conf.cc_keyid)
		fatalx("signer used key %08x, not %08x", res->ss_keyid,
		    ad.conf.cc_keyid);
	TAILQ_REMOVE(&ad.inflight, f, f_entry);
	if (f->f_kind == MVM_SIGN_AUDIT_RECORD)
		record_signed(f, res);
	else
		ckpt_signed(f, res);
	free(f->f_unsigned);
	free(f);
	journal_next();
}

/* ------------------------------------------------------------------ */
/* commits */

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		buf += n;
		len -= n;
	}
	return (0);
}

static void
journal_commit(struct tenant *t)
{
	size_t	 i;

	if (t->t_npend == 0 || t->t_stopped)
		return;
	if (t->t_need_nl) {
		if (write_all(t->t_logfd, "\n", 1) == -1) {
			journal_stop(t, errno);
			return;
		}
		t->t_need_nl = 0;
	}
	if (write_all(t->t_logfd, t->t_buf, t->t_buflen) == -1 ||
	    fdatasync(t->t_logfd) == -1) {
		journal_stop(t, errno);
		return;
	}
	t->t_committed = t->t_next;
	memcpy(t->t_last_committed, t->t_last, 32);
	for (i = 0; i < t->t_npend; i++)
		if (t->t_pend[i].p_ack)
			ack_send(t->t_pend[i].p_id, 0, t->t_pend[i].p_seq,
			    t->t_pend[i].p_leaf, t->t_pend[i].p_line ?
			    t->t_buf + t->t_pend[i].p_off : NULL,
			    t->t_pend[i].p_len);
	t->t_npend = 0;
	t->t_buflen = 0;
	journal_ckpt_sign(t, 0, 0, 0);
}

static void
journal_commit_all(void)
{
	int	 i;

	for (i = 0; i < ad.ntenants; i++)
		journal_commit(&ad.tenants[i]);
}

/*
 * Fail closed: the log may now end in a partial batch.  Nothing more is
 * written to this tenant; the waiting senders hear MVM_EAUDIT, and the
 * supervisor is told so it refuses new work.  A restart (after the
 * operator fixed the disk) recovers the torn tail.
 */
static void
journal_stop(struct tenant *t, int err)
{
	struct mvm_audit_stopped	 st;
	size_t				 i;

	if (t->t_stopped)
		return;
	t->t_stopped = 1;
	t->t_gen++;
	log_warnx("%s: audit log stopped: %s", t->t_name, strerror(err));
	for (i = 0; i < t->t_npend; i++)
		if (t->t_pend[i].p_ack)
			ack_send(t->t_pend[i].p_id, MVM_EAUDIT, 0, NULL,
			    NULL, 0);
	t->t_npend = 0;
	t->t_buflen = 0;
	(void)merkle_truncate(&t->t_tree, t->t_committed);
	t->t_next = t->t_committed;
	memcpy(t->t_last, t->t_last_committed, 32);
	memset(&st, 0, sizeof(st));
	st.as_errno = err;
	(void)strlcpy(st.as_tenant, t->t_name, sizeof(st.as_tenant));
	if (ad.parent.p_open && peer_compose(&ad.parent, IMSG_AUDIT_STOPPED,
	    0, -1, &st, sizeof(st)) == -1)
		fatal("compose");
}

/*
 * The operator made room (mvmctl audit resume): read the log again as
 * at start (journal_recover: the checks against the checkpoints, and an
 * audit.recovered record for a batch the stop left half-written), then
 * take events again.  Anything wrong with the log now is fatal, as at
 * start.  RESUMED says so; if the disk is still full, the next commit
 * stops the log again and STOPPED follows.
 */
void
journal_resume(const struct mvm_audit_req *ar)
{
	struct mvm_audit_stopped	 st;
	struct tenant			*t;

	memset(&st, 0, sizeof(st));
	(void)strlcpy(st.as_tenant, ar->ar_tenant, sizeof(st.as_tenant));
	if ((t = tenant_find(ar->ar_tenant)) == NULL)
		st.as_errno = ENOENT;
	else if (t->t_stopped) {
		log_info("%s: resuming the audit log", t->t_name);
		merkle_free(&t->t_tree);
		t->t_stopped = 0;
		journal_recover(t);
	}
	if (peer_compose(&ad.parent, IMSG_AUDIT_RESUMED, 0, -1, &st,
	    sizeof(st)) == -1)
		fatal("compose");
	journal_next();
}

/* ------------------------------------------------------------------ */
/* checkpoints and proofs */

/*
 * Sign a checkpoint for the committed size.  reqtype says who waits for
 * it: 0 nobody (after a commit), or the reply type of a request.
 */
static void
journal_ckpt_sign(struct tenant *t, uint32_t reqid, int reqtype,
    uint64_t index)
{
	struct mvm_sign_checkpoint	 ck;
	struct inflight			*f;

	if (reqtype == 0 && t->t_ckpt_size == t->t_committed)
		return;
	f = inflight_new(MVM_SIGN_CHECKPOINT, t);
	f->f_size = t->t_committed;
	f->f_reqid = reqid;
	f->f_reqtype = reqtype;
	f->f_index = index;
	if (merkle_root(&t->t_tree, f->f_size, f->f_root) == -1)
		fatalx("merkle_root");
	memset(&ck, 0, sizeof(ck));
	(void)strlcpy(ck.ck_origin, t->t_origin, sizeof(ck.ck_origin));
	ck.ck_size = f->f_size;
	memcpy(ck.ck_root, f->f_root, 32);
	sign_send(f, &ck, sizeof(ck));
}

/*
 * From the supervisor: a fresh checkpoint (CKPT_REQ) or an inclusion
 * proof for a committed record (PROOF_REQ).  A checkpoint asked for is
 * fsynced before the answer.
 */
void
journal_ckpt_req(const struct mvm_audit_req *ar, int type)
{
	static struct tenant	 none;		/* answers about nothing */
	struct tenant		*t = tenant_find(ar->ar_tenant);
	int			 reply = type == IMSG_AUDIT_CKPT_REQ ?
				    IMSG_AUDIT_CKPT_RES : IMSG_AUDIT_PROOF_RES;

	if (t == NULL)
		t = &none;
	if (t == &none || t->t_stopped || (reply == IMSG_AUDIT_PROOF_RES &&
	    ar->ar_index >= t->t_committed)) {
		if (reply == IMSG_AUDIT_CKPT_RES)
			ckpt_reply(t, ar->ar_id, t->t_stopped ? MVM_EAUDIT :
			    MVM_EINVAL);
		else
			proof_reply(t, ar->ar_id, UINT64_MAX);
		return;
	}
	if (reply == IMSG_AUDIT_PROOF_RES && t->t_ckpt_size > ar->ar_index) {
		proof_reply(t, ar->ar_id, ar->ar_index);
		return;
	}
	if (reply == IMSG_AUDIT_CKPT_RES && t->t_ckpt_size == t->t_committed &&
	    t->t_ckpt_size > 0) {
		if (fdatasync(t->t_ckptfd) == -1)
			journal_stop(t, errno);
		ckpt_reply(t, ar->ar_id, t->t_stopped ? MVM_EAUDIT : 0);
		return;
	}
	journal_ckpt_sign(t, ar->ar_id, reply, ar->ar_index);
}

/*
 * Once the supervisor is gone: finish what is queued, write a final
 * checkpoint per tenant, sync, exit.
 */
void
journal_drain_check(void)
{
	int	 i, busy = 0;

	if (!ad.draining)
		return;
	if (!TAILQ_EMPTY(&ad.queue) || !TAILQ_EMPTY(&ad.inflight))
		return;
	for (i = 0; i < ad.ntenants; i++) {
		struct tenant	*t = &ad.tenants[i];

		if (t->t_stopped)
			continue;
		if (t->t_npend > 0) {
			journal_commit(t);
			busy = 1;
		} else if (t->t_ckpt_size != t->t_committed) {
			journal_ckpt_sign(t, 0, 0, 0);
			busy = 1;
		}
	}
	if (busy)
		return;
	for (i = 0; i < ad.ntenants; i++) {
		(void)fdatasync(ad.tenants[i].t_logfd);
		(void)fdatasync(ad.tenants[i].t_ckptfd);
	}
	log_debug("drained, exiting");
	exit(0);
}
