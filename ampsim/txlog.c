/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * txlog.c: the transaction log (§8.7).  Every state-changing command that
 * carries an identity (publish, delta_publish (merged record), sow_delete
 * per deleted record) is appended as one record; records of topics that
 * are not transaction-logged keep only the (publisher, sequence) pair and
 * the topic, so duplicate detection and the logon ack's `s` survive a
 * restart.
 *
 * The records live in a file: <dir>/txlog.dat when a directory is
 * configured, otherwise an anonymous memory file (memfd), which keeps
 * them for the life of the process only.  The file is the magic
 * "AMPSIMT1" then length-prefixed records, host byte order:
 *
 *	u32 reclen   bytes after this field
 *	u8  type     TXREC_PUBLISH / TXREC_DELETE / TXREC_SEQ
 *	u8  logged   topic is transaction-logged (replayable)
 *	u16 topic_len, u16 x_len, u16 k_len
 *	u64 pub, u64 seq, i64 ts (wall clock usec)
 *	topic, x, k, data (the rest)
 *
 * A torn record at the end (crash during a write) is cut off at startup.
 * Appends are buffered; once TXLOG_WRITE bytes are, the buffer is written
 * by the event of the lowest priority (below), so after the pass's
 * deliveries, not in the middle of a burst (no fsync: nothing waits on
 * these writes); only past TXLOG_WBUF_MAX, when no pass ends (a flood),
 * is it written at once.  What is left is written by txlog_flush(),
 * which the publish path calls before any persisted ack is sent; fsync
 * policy: never (default), in every txlog_flush() (--fsync, so before
 * every persisted ack), or on a timer (--fsync-interval MS), and always
 * at shutdown.  The memory file is written only as its buffer fills
 * (as above): nothing is persisted by writing it.
 *
 * Replays read the records back, as an AMPS journal is read: the process
 * keeps only a 16-byte entry per record (where its body is, its type and
 * flags) and the bookmark index.  Keeping every message in process
 * memory as well, as this file did before, cost the live path most of
 * its latency above the floor's: each message went into memory the
 * process had not used before, and on the VMs measured a first touch of
 * a page from user space is far dearer than the kernel's copy of the
 * same bytes into the page cache (docs/BENCHMARKS.md, "ampsim's p50").
 * The entries sit in chunks of TXLOG_CHUNK, anonymous mappings whose
 * pages are touched ahead of use (TXLOG_AHEAD bytes, TXLOG_STEP per run)
 * by an event of the lowest priority, which runs only when nothing else
 * is active, i.e. after the pass's output is written; the same event has
 * the bookmark index make and touch its next block (bmindex_prefault())
 * and writes a full buffer.  The pages are small (4 kB, advised against
 * transparent huge pages): the first touch of a 2 MB huge page clears
 * all of it in one fault, measured at 3.7 ms of CPU, and a burst that
 * arrived meanwhile waited that long.
 *
 * txlog_get() returns a view of one record: its strings copied out of the
 * file (or the write buffer) into a buffer of this file's, each
 * NUL-terminated.  A view is valid until the next txlog_get() or
 * txlog_each() step; callers that need two records at once keep what
 * they need of the first (replica.c).
 *
 * Invariants:
 *  1. Entry i describes record i of the file: its body is at ents[i].off
 *     (after its length field), ents[i].len bytes, in the file when
 *     off < logsize, else in wbuf at off - logsize.  A record is never
 *     split between the two (a record goes into wbuf whole, and wbuf is
 *     written whole).
 *  2. The file below logsize is never rewritten once startup is over
 *     (append only), so the read window (rwin) never goes stale.
 *  3. Bookmark "<pub>|<seq>|" maps to exactly one record index (the
 *     last record of that identity), exactly: bmindex.c keys on the
 *     pair itself; the index is rebuilt from the file at startup.
 *  4. bmindex_max(pub) is the highest seq of any record of pub.
 *  5. No persisted ack is sent for a record before txlog_flush() wrote
 *     it (and fsynced it when asked).
 *  6. Appending never moves what is there: entries live in chunks of
 *     TXLOG_CHUNK, never reallocated or freed, and the bookmark index
 *     appends to per-publisher blocks that never move (bmindex.c), so
 *     no append pays for copying the whole log or rehashing a whole
 *     index (tail latency).
 */

#define _GNU_SOURCE		/* memfd_create(2) */

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsim.h"
#include "bmindex.h"

#define TXLOG_MAGIC	"AMPSIMT1"
#define TXLOG_FIXED	(1 + 1 + 2 + 2 + 2 + 8 + 8 + 8)

/* Entries in chunks of TXLOG_CHUNK, never moved (invariant 6). */
#define TXLOG_CHUNK	65536
#define TXLOG_MAPUNIT	(2UL << 20)	/* mappings are multiples of this */
#define TXLOG_WRITE	65536		/* disk write size as the buffer fills */
#define TXLOG_WBUF_MAX	(1UL << 20)	/* written at once past this */
#define TXLOG_RWIN	(256UL << 10)	/* bytes read back at a time */
#define TXLOG_AHEAD	(256UL << 10)	/* prefault this far ahead */
#define TXLOG_STEP	(64UL << 10)	/* at most this much per run */
#define TXLOG_PAGE	4096

/* Where record i is (invariant 1): 16 bytes. */
struct txent {
	uint64_t	 off;		/* of the body, after its length */
	uint32_t	 len;		/* body bytes */
	uint8_t		 type;		/* TXREC_* */
	uint8_t		 logged;
	uint8_t		 from_peer;	/* received by replication */
	uint8_t		 pad;
};

static struct txent	**chunks;
static size_t		 nchunks, capchunks;
static size_t		 nrecs;
static size_t		 ent_touched;	/* bytes of the last chunk prefaulted */
static char		*next_chunk;	/* the next chunk, mapped ahead */
static size_t		 next_touched;
static struct event	*ev_idle;	/* lowest priority (ampsim.c) */
static struct bmindex	 bm_index;	/* (pub, seq) -> index, pub max */
static int		 logfd = -1;
static int		 logmem;	/* logfd is a memory file */
static struct sbuf	 wbuf;		/* appended, not yet written */
static off_t		 logsize;	/* bytes in the file */
static int		 dirty;		/* written since the last fsync */
static struct event	*ev_fsync;
static char		*rwin;		/* file bytes [rwin_off, +rwin_len) */
static size_t		 rwin_cap, rwin_len;
static uint64_t		 rwin_off;
static struct sbuf	 vbuf;		/* the view's strings */
static struct txrec	 view;

static void	txlog_write(void);

/* Entry i (i < nrecs). */
static struct txent *
ent_at(size_t i)
{
	return (&chunks[i / TXLOG_CHUNK][i % TXLOG_CHUNK]);
}

/*
 * An anonymous mapping of len bytes (a multiple of TXLOG_MAPUNIT) on
 * small pages (see the top comment).  Never unmapped (invariant 6).
 */
static void *
txlog_map(size_t len)
{
	void	*p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		sim_fatalx("txlog: mmap of %zu bytes: %s", len, strerror(errno));
#ifdef MADV_NOHUGEPAGE
	(void)madvise(p, len, MADV_NOHUGEPAGE);
#endif
	return (p);
}

/* Bytes of one chunk's mapping. */
static size_t
txlog_chunk_len(void)
{
	size_t	len = TXLOG_CHUNK * sizeof **chunks;

	return ((len + TXLOG_MAPUNIT - 1) / TXLOG_MAPUNIT * TXLOG_MAPUNIT);
}

/* Touch pages of p[*done..want) (at most *budget bytes); 1 if short. */
static int
txlog_touch(char *p, size_t *done, size_t want, size_t *budget)
{
	volatile char	*v = p;

	while (*done < want && *budget > 0) {
		v[*done] = 0;	/* a fresh anonymous page is zero already */
		*done += TXLOG_PAGE;
		*budget = *budget > TXLOG_PAGE ? *budget - TXLOG_PAGE : 0;
	}
	return (*done < want);
}

/*
 * The log's work off the hot path, at the lowest priority, so after the
 * output of the pass (see the top comment), and again while behind:
 * write a full buffer; prefault ahead of the entries' write position, in
 * this chunk and then the next chunk's head, and the bookmark index's
 * next block, TXLOG_STEP at a time.
 */
static void
txlog_idle_cb(evutil_socket_t fd, short ev, void *arg)
{
	size_t	budget = TXLOG_STEP, want, pos, clen = txlog_chunk_len();
	int	more = 0;

	if (wbuf.len >= TXLOG_WRITE)
		txlog_write();
	more |= bmindex_prefault(&bm_index, &budget);
	if (nchunks == 0 || nrecs == nchunks * TXLOG_CHUNK)
		goto out;
	pos = (nrecs % TXLOG_CHUNK) * sizeof **chunks;
	if (ent_touched < pos)
		ent_touched = (pos + TXLOG_PAGE - 1) & ~(size_t)(TXLOG_PAGE - 1);
	want = pos + TXLOG_AHEAD;
	if (want > clen)
		want = clen;
	more |= txlog_touch((char *)chunks[nchunks - 1], &ent_touched, want,
	    &budget);
	if (want == clen && pos + TXLOG_AHEAD > clen) {
		if (next_chunk == NULL) {
			next_chunk = txlog_map(clen);
			next_touched = 0;
		}
		more |= txlog_touch(next_chunk, &next_touched,
		    pos + TXLOG_AHEAD - clen, &budget);
	}
out:
	if (more && ev_idle != NULL)
		event_active(ev_idle, EV_TIMEOUT, 1);
}

/* Have the idle event run once nothing else is active. */
static void
txlog_idle_kick(void)
{
	if (ev_idle == NULL && sim_base != NULL) {
		ev_idle = event_new(sim_base, -1, 0, txlog_idle_cb, NULL);
		event_priority_set(ev_idle, SIM_PRIO_IDLE);
	}
	if (ev_idle != NULL && !event_pending(ev_idle, EV_TIMEOUT, NULL))
		event_active(ev_idle, EV_TIMEOUT, 1);
}

/* Add the entry of a record at off and index (pub, seq). */
static size_t
txlog_add_ent(uint64_t off, uint32_t len, uint8_t type, uint8_t logged,
    uint64_t pub, uint64_t seq)
{
	struct txent	*e;

	if (nrecs == nchunks * TXLOG_CHUNK) {
		if (nchunks == capchunks) {
			capchunks = capchunks ? capchunks * 2 : 16;
			chunks = xrealloc(chunks, capchunks * sizeof *chunks);
		}
		if (next_chunk != NULL) {	/* mapped and touched ahead */
			chunks[nchunks++] = (struct txent *)(void *)next_chunk;
			ent_touched = next_touched;
			next_chunk = NULL;
		} else {
			chunks[nchunks++] = txlog_map(txlog_chunk_len());
			ent_touched = 0;
		}
	}
	e = ent_at(nrecs);
	e->off = off;
	e->len = len;
	e->type = type;
	e->logged = logged;
	e->from_peer = 0;
	/* The last record of an identity holds its bookmark. */
	bmindex_put(&bm_index, pub, seq, nrecs);
	return (nrecs++);
}

/*
 * len bytes of the log at off (invariant 1): in the write buffer, the
 * read window, or read into the window now.  NULL if they are beyond the
 * end (only while loading: a torn record).  Valid until the next call.
 */
static const char *
txlog_bytes(uint64_t off, size_t len)
{
	ssize_t	n;
	size_t	want, got = 0;

	if (off >= (uint64_t)logsize) {
		if (off - (uint64_t)logsize > wbuf.len ||
		    len > wbuf.len - (off - (uint64_t)logsize))
			return (NULL);
		return (wbuf.p + (off - (uint64_t)logsize));
	}
	if (len > (uint64_t)logsize - off)
		return (NULL);
	if (off >= rwin_off && len <= rwin_len && off - rwin_off <= rwin_len -
	    len)
		return (rwin + (off - rwin_off));
	if (len > rwin_cap || rwin == NULL) {
		rwin_cap = len > TXLOG_RWIN ? len : TXLOG_RWIN;
		free(rwin);
		rwin = xmalloc(rwin_cap);
	}
	want = rwin_cap;
	if (want > (uint64_t)logsize - off)
		want = (size_t)((uint64_t)logsize - off);
	rwin_len = 0;
	while (got < want) {
		n = pread(logfd, rwin + got, want - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			sim_fatalx("txlog: read at %llu: %s",
			    (unsigned long long)(off + got),
			    n < 0 ? strerror(errno) : "unexpected end of file");
		got += (size_t)n;
	}
	rwin_off = off;
	rwin_len = got;
	return (rwin);
}

/* The fixed part of a record body; -1 if malformed. */
static int
txlog_fixed(const char *p, size_t len, struct txrec *r, uint16_t *tl,
    uint16_t *xl, uint16_t *kl)
{
	if (len < TXLOG_FIXED)
		return (-1);
	memset(r, 0, sizeof *r);
	r->type = (uint8_t)p[0];
	r->logged = (uint8_t)p[1];
	memcpy(tl, p + 2, 2);
	memcpy(xl, p + 4, 2);
	memcpy(kl, p + 6, 2);
	memcpy(&r->pub, p + 8, 8);
	memcpy(&r->seq, p + 16, 8);
	memcpy(&r->ts, p + 24, 8);
	if ((size_t)*tl + *xl + *kl > len - TXLOG_FIXED)
		return (-1);
	if (r->type < TXREC_PUBLISH || r->type > TXREC_SEQ)
		return (-1);
	return (0);
}

/* Copy len bytes of s to the view buffer, NUL after; returns the offset. */
static size_t
txlog_view_part(const char *s, size_t len)
{
	size_t	at = vbuf.len;

	sbuf_add(&vbuf, s, len);
	sbuf_add(&vbuf, "", 1);
	return (at);
}

/* Open the log file in dir, or the memory file; fills *st. */
static int
txlog_open_file(const char *dir, struct stat *st, char *err, size_t errlen)
{
	char	path[4096];

	if (dir == NULL) {
		logmem = 1;
		if ((logfd = memfd_create("ampsim-txlog", MFD_CLOEXEC)) == -1) {
			snprintf(err, errlen, "txlog: memfd_create: %s",
			    strerror(errno));
			return (-1);
		}
		memset(st, 0, sizeof *st);
		return (0);
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	snprintf(path, sizeof path, "%s/txlog.dat", dir);
	if ((logfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1 ||
	    fstat(logfd, st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Open (or create) the log in dir and index it.  dir NULL = a memory
 * file, empty.
 */
int
txlog_open(const char *dir, char *err, size_t errlen)
{
	struct stat	 st;
	struct txrec	 r;
	const char	*p;
	uint64_t	 off, good;
	uint32_t	 rl;
	uint16_t	 tl, xl, kl;

	if (txlog_open_file(dir, &st, err, errlen) != 0)
		return (-1);
	if (st.st_size == 0) {
		if (write(logfd, TXLOG_MAGIC, 8) != 8) {
			snprintf(err, errlen, "txlog: %s", strerror(errno));
			return (-1);
		}
		logsize = 8;
		return (0);
	}
	logsize = st.st_size;
	if ((p = txlog_bytes(0, 8)) == NULL ||
	    memcmp(p, TXLOG_MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s/txlog.dat: not an ampsim log", dir);
		return (-1);
	}
	off = good = 8;
	for (;;) {
		if ((p = txlog_bytes(off, 4)) == NULL)
			break;
		memcpy(&rl, p, 4);
		if ((p = txlog_bytes(off + 4, rl)) == NULL ||
		    txlog_fixed(p, rl, &r, &tl, &xl, &kl) != 0)
			break;
		txlog_add_ent(off + 4, rl, r.type, r.logged, r.pub, r.seq);
		off += 4 + (uint64_t)rl;
		good = off;
	}
	if (good != (uint64_t)st.st_size) {
		sim_log(LOG_WARN, "txlog: %s/txlog.dat: cutting %lld torn "
		    "bytes at the end", dir,
		    (long long)((uint64_t)st.st_size - good));
		if (ftruncate(logfd, (off_t)good) != 0) {
			snprintf(err, errlen, "%s/txlog.dat: %s", dir,
			    strerror(errno));
			return (-1);
		}
	}
	logsize = (off_t)good;
	sim_log(LOG_INFO, "txlog: %s/txlog.dat: %zu records loaded", dir,
	    nrecs);
	return (0);
}

/* Flush and close. */
void
txlog_close(void)
{
	if (ev_fsync != NULL)
		event_free(ev_fsync);
	ev_fsync = NULL;
	if (ev_idle != NULL)
		event_free(ev_idle);
	ev_idle = NULL;
	txlog_flush();
	if (dirty && logfd != -1 && !logmem)
		fsync(logfd);
	if (logfd != -1)
		close(logfd);
	logfd = -1;
}

/* Append a record; returns its index. */
size_t
txlog_append(uint8_t type, uint64_t pub, uint64_t seq, const char *topic,
    const char *x, const char *k, const char *data, size_t dlen, int logged)
{
	uint16_t	tl, xl, kl;
	uint32_t	rl;
	uint64_t	off;
	int64_t		ts = sim_wall_usec();
	char		fixed[TXLOG_FIXED];

	if (logfd == -1)
		sim_fatalx("txlog: append before the log is open");
	tl = (uint16_t)(topic ? strnlen(topic, 65535) : 0);
	xl = (uint16_t)(x ? strnlen(x, 65535) : 0);
	kl = (uint16_t)(k ? strnlen(k, 65535) : 0);
	if (type == TXREC_SEQ || !logged) {
		dlen = 0;
		xl = kl = 0;
	}
	/*
	 * No input reaches this: TXLOG_FRAME_MAX bounds a publish's frame,
	 * and a delta_publish's merged record is refused above frame_max
	 * (sow_set_max_len(), sowcmd.c).
	 */
	if (dlen > UINT32_MAX - TXLOG_FIXED - 3 * 65535)
		sim_fatalx("txlog: record of %zu bytes", dlen);
	rl = (uint32_t)(TXLOG_FIXED + tl + xl + kl + dlen);
	fixed[0] = (char)type;
	fixed[1] = (char)(logged != 0);
	memcpy(fixed + 2, &tl, 2);
	memcpy(fixed + 4, &xl, 2);
	memcpy(fixed + 6, &kl, 2);
	memcpy(fixed + 8, &pub, 8);
	memcpy(fixed + 16, &seq, 8);
	memcpy(fixed + 24, &ts, 8);
	off = (uint64_t)logsize + wbuf.len + 4;
	sbuf_add(&wbuf, &rl, 4);
	sbuf_add(&wbuf, fixed, sizeof fixed);
	if (tl)
		sbuf_add(&wbuf, topic, tl);
	if (xl)
		sbuf_add(&wbuf, x, xl);
	if (kl)
		sbuf_add(&wbuf, k, kl);
	if (dlen)
		sbuf_add(&wbuf, data, dlen);
	if (wbuf.len >= TXLOG_WBUF_MAX || (wbuf.len >= TXLOG_WRITE &&
	    sim_base == NULL))
		txlog_write();	/* no fsync: nothing waits on it */
	txlog_idle_kick();
	return (txlog_add_ent(off, rl, type, (uint8_t)(logged != 0), pub,
	    seq));
}

/* Write the buffered records to the file (no fsync). */
static void
txlog_write(void)
{
	ssize_t	n;
	size_t	off = 0;

	if (logfd == -1 || wbuf.len == 0)
		return;
	while (off < wbuf.len) {
		n = pwrite(logfd, wbuf.p + off, wbuf.len - off,
		    logsize + (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sim_fatalx("txlog: write failed: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	logsize += (off_t)wbuf.len;
	wbuf.len = 0;
	dirty = 1;
}

/*
 * Write what is buffered and, with --fsync, fsync what was written since
 * the last fsync (also by txlog_write() as the buffer filled): called
 * before any persisted ack (invariant 5).  The memory file has nothing
 * to persist: its buffer is written only as it fills.
 */
void
txlog_flush(void)
{
	if (logfd == -1 || logmem)
		return;
	txlog_write();
	if (conf.fsync && dirty) {
		if (fsync(logfd) != 0)
			sim_fatalx("txlog: fsync failed: %s", strerror(errno));
		dirty = 0;
	}
}

/* --fsync-interval: write and fsync what is pending. */
static void
txlog_fsync_cb(evutil_socket_t fd, short ev, void *arg)
{
	txlog_flush();
	if (dirty && logfd != -1) {
		if (fsync(logfd) != 0)
			sim_fatalx("txlog: fsync failed: %s", strerror(errno));
		dirty = 0;
	}
}

/* Start the periodic fsync timer (after the event base exists). */
void
txlog_start_timer(void)
{
	struct timeval	tv;

	if (logfd == -1 || logmem || conf.fsync_interval_ms == 0)
		return;
	ev_fsync = event_new(sim_base, -1, EV_PERSIST, txlog_fsync_cb, NULL);
	tv.tv_sec = conf.fsync_interval_ms / 1000;
	tv.tv_usec = (conf.fsync_interval_ms % 1000) * 1000;
	event_add(ev_fsync, &tv);
}

/* Number of records. */
size_t
txlog_count(void)
{
	return (nrecs);
}

/*
 * A view of record i (i < txlog_count()), valid until the next
 * txlog_get(): see the top comment.
 */
const struct txrec *
txlog_get(size_t i)
{
	const struct txent	*e;
	const char		*p;
	uint16_t		 tl, xl, kl;
	size_t			 t, x, k, d;

	if (i >= nrecs)
		return (NULL);
	e = ent_at(i);
	if ((p = txlog_bytes(e->off, e->len)) == NULL ||
	    txlog_fixed(p, e->len, &view, &tl, &xl, &kl) != 0)
		sim_fatalx("txlog: record %zu is damaged", i);
	vbuf.len = 0;
	p += TXLOG_FIXED;
	t = txlog_view_part(p, tl);
	x = txlog_view_part(p + tl, xl);
	k = txlog_view_part(p + tl + xl, kl);
	view.dlen = e->len - TXLOG_FIXED - tl - xl - kl;
	d = txlog_view_part(p + tl + xl + kl, view.dlen);
	/* Pointers only now: vbuf may have moved while it grew. */
	view.topic = vbuf.p + t;
	view.x = xl ? vbuf.p + x : NULL;
	view.k = kl ? vbuf.p + k : NULL;
	view.data = vbuf.p + d;
	view.from_peer = e->from_peer;
	return (&view);
}

/* The (pub, seq, ts) of record i, without copying it. */
static void
txlog_head(size_t i, uint64_t *pub, uint64_t *seq, int64_t *ts)
{
	const struct txent	*e = ent_at(i);
	const char		*p;

	if (e->len < TXLOG_FIXED || (p = txlog_bytes(e->off, TXLOG_FIXED)) ==
	    NULL)
		sim_fatalx("txlog: record %zu is damaged", i);
	memcpy(pub, p + 8, 8);
	memcpy(seq, p + 16, 8);
	memcpy(ts, p + 24, 8);
}

/* Index of bookmark (pub, seq), or -1. */
long long
txlog_find(uint64_t pub, uint64_t seq)
{
	uint64_t	i, p, s;
	int64_t		ts;

	if (!bmindex_get(&bm_index, pub, seq, &i) || i >= nrecs)
		return (-1);
	txlog_head(i, &p, &s, &ts);
	if (p != pub || s != seq)
		return (-1);
	return ((long long)i);
}

/* First index whose timestamp is >= usec (nrecs when none). */
size_t
txlog_find_ts(int64_t usec)
{
	size_t		lo = 0, hi = nrecs, mid;
	uint64_t	pub, seq;
	int64_t		ts;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		txlog_head(mid, &pub, &seq, &ts);
		if (ts < usec)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/* Highest seq recorded for pub, 0 if none. */
uint64_t
txlog_pub_max(uint64_t pub)
{
	return (bmindex_max(&bm_index, pub));
}

/* Format the bookmark of r. */
int
txlog_bm(const struct txrec *r, char *out, size_t cap)
{
	return (amps_bm_format(out, cap, r->pub, r->seq));
}

/* Call fn for every record in log order (a view each, as txlog_get()). */
void
txlog_each(txlog_load_fn fn)
{
	size_t	i;

	for (i = 0; i < nrecs; i++)
		fn(txlog_get(i));
}

/* Mark record i as received from the replication peer (not re-sent). */
void
txlog_mark_peer(size_t i)
{
	if (i < nrecs)
		ent_at(i)->from_peer = 1;
}

/* Whether record i came from the replication peer. */
int
txlog_from_peer(size_t i)
{
	return (i < nrecs && ent_at(i)->from_peer);
}
