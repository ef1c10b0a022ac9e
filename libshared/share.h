/*
 * Host shares (mvmctl run --add-dir): a directory tree as one byte
 * stream, written by whoever packs a tree (mvmctl on the host, the
 * agent in the guest) and read, strictly and incrementally, by every
 * side that receives one: the supervisor (from mvmctl), the agent (from
 * the host), mvm-vmm and mvmctl (from the guest, which is not trusted).
 * It depends on libc alone: the agent links it statically.
 *
 * Stream (integers big-endian):
 *	magic	SHARE_MAGIC, 8 bytes
 *	entry*	header, path, body
 *	end	one header of kind SHARE_END; nothing may follow it
 * header, SHARE_HDR_LEN bytes:
 *	u8	kind	SHARE_DIR, SHARE_FILE, SHARE_LINK or SHARE_END
 *	u8	zero
 *	u16	mode	permission bits 0..0777 (dir, file); 0 for a link
 *	u32	pathlen	1..SHARE_PATH_MAX; 0 for END
 *	u64	size	file: its bytes; link: its target's length
 *			(1..SHARE_PATH_MAX); dir: 0; END: how many
 *			entries came before it
 * path: relative, components separated by one '/', none empty, "." or
 * "..", no NUL, at most SHARE_DEPTH_MAX components.  A directory comes
 * before what it holds (the reader does not check that; whoever
 * creates the entries fails on a missing parent).
 * body: the file's bytes, or the link's target (share_link_ok).
 *
 * Bounds per stream: SHARE_FILES_MAX entries, SHARE_BYTES_MAX bytes of
 * file data and link targets together, hence SHARE_ARCHIVE_MAX bytes.
 */
#ifndef MVM_SHARE_H
#define MVM_SHARE_H

#include <stddef.h>
#include <stdint.h>

#define SHARE_MAGIC		"mvmshr1\n"
#define SHARE_MAGIC_LEN		8
#define SHARE_HDR_LEN		16
#define SHARE_PATH_MAX		4096
#define SHARE_DEPTH_MAX		64
#define SHARE_FILES_MAX		10000
#define SHARE_BYTES_MAX		(256ULL * 1024 * 1024)
#define SHARE_ARCHIVE_MAX	(SHARE_MAGIC_LEN +			\
	    (SHARE_FILES_MAX + 1ULL) * SHARE_HDR_LEN +			\
	    SHARE_FILES_MAX * (uint64_t)SHARE_PATH_MAX + SHARE_BYTES_MAX)

#define SHARE_DIR		1
#define SHARE_FILE		2
#define SHARE_LINK		3
#define SHARE_END		4

/* the entry being read */
struct share_entry {
	int		 se_kind;
	uint32_t	 se_mode;
	uint64_t	 se_size;
	size_t		 se_pathlen;
	char		 se_path[SHARE_PATH_MAX + 1];
	char		 se_target[SHARE_PATH_MAX + 1];	/* a link's */
};

struct share_reader {
	int		 sr_state;
	size_t		 sr_have;	/* bytes of the current part */
	uint8_t		 sr_buf[SHARE_HDR_LEN];
	uint64_t	 sr_left;	/* file bytes still to come */
	uint64_t	 sr_entries;
	uint64_t	 sr_bytes;	/* file data and link targets */
	uint64_t	 sr_total;	/* stream bytes taken */
	struct share_entry sr_e;
	char		 sr_why[160];	/* after SHARE_EV_ERROR */
};

/* what share_read() found */
#define SHARE_EV_ERROR		(-1)	/* sr_why says why; final */
#define SHARE_EV_MORE		0	/* the input is used up */
#define SHARE_EV_DIR		1	/* sr_e: a directory */
#define SHARE_EV_FILE		2	/* sr_e: a file; DATA follows */
#define SHARE_EV_DATA		3	/* a piece of the file's bytes */
#define SHARE_EV_FILE_END	4	/* the file is complete */
#define SHARE_EV_LINK		5	/* sr_e: a link and its target */
#define SHARE_EV_END		6	/* the end; nothing may follow */

void	 share_reader_init(struct share_reader *);
/*
 * Take bytes from *p (advancing it, lowering *len) until something is
 * found; DATA points *data into the input.  Call again until MORE.
 */
int	 share_read(struct share_reader *, const uint8_t **, size_t *,
	    const uint8_t **, size_t *);
int	 share_reader_done(const struct share_reader *);

/* 1 if the relative path is well formed (above), else 0 */
int	 share_path_ok(const char *, size_t);
/*
 * 1 if a link at path (well formed) to target stays inside the tree
 * whatever the other entries are: the target is relative, and after
 * dropping empty and "." components its ".." come first, no more of
 * them than the link's directory is deep.  ("a/b" -> "../c" is fine,
 * "a/b" -> "../../c" and "a/b" -> "c/../d" are not.)  Lexically only,
 * so that a chain of links cannot climb out either: each link starts
 * from a real directory (entries are never created through a link) and
 * can only go up to the top of the tree before it goes down again.
 */
int	 share_link_ok(const char *, const char *);
/*
 * 1 if a share's guest directory is absolute, its components plain
 * (share_path_ok), and it fits an audit token without ':' (1..128 of
 * [A-Za-z0-9._/@+=-]): the evidence names it in clear.
 */
int	 share_guest_path_ok(const char *);
/* Encode a header into out; returns SHARE_HDR_LEN. */
size_t	 share_header(uint8_t *, int, uint32_t, size_t, uint64_t);

/*
 * A writer: the magic, entries (a file's bytes follow its entry through
 * share_write_data, exactly its size), the end.  It checks what it is
 * given as the reader would; -1 with errno EINVAL (a bad path or link,
 * a file's bytes that do not add up), E2BIG (over a bound), or the
 * output function's errno.
 */
struct share_writer {
	int		(*sw_out)(void *, const void *, size_t);
	void		*sw_arg;
	uint64_t	 sw_entries;
	uint64_t	 sw_bytes;
	uint64_t	 sw_left;	/* of the current file */
	uint64_t	 sw_total;	/* bytes written */
};
int	 share_write_start(struct share_writer *,
	    int (*)(void *, const void *, size_t), void *);
int	 share_write_entry(struct share_writer *, int, uint32_t, const char *,
	    uint64_t, const char *);
int	 share_write_data(struct share_writer *, const void *, size_t);
int	 share_write_end(struct share_writer *);

#endif /* MVM_SHARE_H */
