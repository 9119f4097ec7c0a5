/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * txlog.c: the transaction log (§8.7).  Every state-changing command that
 * carries an identity (publish, delta_publish (merged record), sow_delete
 * per deleted record) is appended as one record; records of topics that
 * are not transaction-logged keep only the (publisher, sequence) pair so
 * duplicate detection and the logon ack's `s` survive a restart.
 *
 * On disk (when a directory is configured): <dir>/txlog.dat, the magic
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
 * Appends are buffered and written in writes of about TXLOG_WRITE bytes
 * as the buffer fills (no fsync: nothing waits on them), and what is left
 * by txlog_flush(), which the publish path calls before any persisted
 * ack is sent; fsync policy: never (default), in every txlog_flush()
 * (--fsync, so before every persisted ack), or on a timer
 * (--fsync-interval MS), and always at shutdown.
 *
 * In memory, records (struct txrec) sit in chunks of TXLOG_CHUNK and
 * their strings in an arena of TXLOG_ARENA chunks, both anonymous
 * mappings: no malloc per record.  Their pages are touched ahead of use
 * (TXLOG_AHEAD bytes, TXLOG_STEP per run) by an event of the lowest
 * priority, which runs only when nothing else is active, i.e. after the
 * pass's output is written, so page faults leave the path from a
 * publish to its deliveries.  The pages are small (4 kB, advised
 * against transparent huge pages): the first touch of a 2 MB huge page
 * clears all of it in one fault, measured at 3.7 ms of CPU, and a burst
 * that arrived meanwhile waited that long even though the prefault, not
 * the publish, took the fault (the receive-path p99 at 50k msg/s was
 * 3.3-5.3 ms with huge pages, 0.2-0.3 ms with small ones;
 * docs/BENCHMARKS.md).
 *
 * Invariants:
 *  1. The whole log is also held in memory (this is a test server);
 *     record i on disk is txlog_get(i).
 *  2. Bookmark "<pub>|<seq>|" maps to exactly one record index (the
 *     last record of that identity), exactly: bmindex.c keys on the
 *     pair itself; the index is rebuilt from the file at startup.
 *  3. bmindex_max(pub) is the highest seq of any record of pub.
 *  4. No persisted ack is sent for a record before txlog_flush() wrote
 *     it (and fsynced it when asked).
 *  5. Appending never moves what is there: records live in chunks of
 *     TXLOG_CHUNK and their strings in arena chunks, none of them ever
 *     reallocated or freed, and the bookmark index appends to
 *     per-publisher blocks that never move (bmindex.c), so no append
 *     pays for copying the whole log or rehashing a whole index (tail
 *     latency).
 */

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

/* Records in chunks of TXLOG_CHUNK, never moved (invariant 5). */
#define TXLOG_CHUNK	65536
#define TXLOG_ARENA	(64UL << 20)	/* record strings, per mapping */
#define TXLOG_MAPUNIT	(2UL << 20)	/* mappings are multiples of this */
#define TXLOG_WRITE	65536		/* disk write size as the buffer fills */
#define TXLOG_AHEAD	(1UL << 20)	/* prefault this far ahead */
#define TXLOG_STEP	(64UL << 10)	/* at most this much per run */
#define TXLOG_PAGE	4096
static char		*arena;		/* current arena chunk */
static size_t		 arena_off, arena_cap;
static size_t		 arena_touched;	/* arena[0..touched) prefaulted */
static size_t		 rec_touched;	/* of the last record chunk */
static char		*next_chunk;	/* the next record chunk, mapped ahead */
static size_t		 next_touched;
static struct event	*ev_prefault;	/* lowest priority (ampsim.c) */
static struct txrec	**chunks;
static size_t		 nchunks, capchunks;
static size_t		 nrecs;
static struct bmindex	 bm_index;	/* (pub, seq) -> index, pub max */
static int		 logfd = -1;
static struct sbuf	 wbuf;
static off_t		 logsize;
static int		 dirty;		/* written since the last fsync */
static struct event	*ev_fsync;

static void	txlog_write(void);

/* Record i (i < nrecs). */
static struct txrec *
rec_at(size_t i)
{
	return (&chunks[i / TXLOG_CHUNK][i % TXLOG_CHUNK]);
}

/*
 * An anonymous mapping of len bytes (a multiple of TXLOG_MAPUNIT) on
 * small pages (see the top comment).  Never unmapped (invariant 1).
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

/* len rounded up to a multiple of TXLOG_MAPUNIT; aborts on overflow. */
static size_t
txlog_map_round(size_t len)
{
	if (len > SIZE_MAX - TXLOG_MAPUNIT)
		sim_fatalx("txlog: record of %zu bytes", len);
	return ((len + TXLOG_MAPUNIT - 1) / TXLOG_MAPUNIT * TXLOG_MAPUNIT);
}

/* Bytes of one record chunk's mapping. */
static size_t
txlog_chunk_len(void)
{
	return (txlog_map_round(TXLOG_CHUNK * sizeof **chunks));
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
 * Prefault ahead of the arena's and the record chunk's write positions,
 * TXLOG_STEP at a time; runs at the lowest priority, so after the output
 * of the pass (see the top comment), and again while behind.
 */
static void
txlog_prefault_cb(evutil_socket_t fd, short ev, void *arg)
{
	size_t	budget = TXLOG_STEP, want, rpos, clen = txlog_chunk_len();
	int	more = 0;

	if (arena != NULL) {
		want = arena_off + TXLOG_AHEAD;
		if (want > arena_cap)
			want = arena_cap;
		if (arena_touched < arena_off)
			arena_touched = (arena_off + TXLOG_PAGE - 1) &
			    ~(size_t)(TXLOG_PAGE - 1);
		more |= txlog_touch(arena, &arena_touched, want, &budget);
	}
	/* Records: this chunk ahead of nrecs, then the next chunk's head. */
	if (nchunks > 0) {
		rpos = (nrecs % TXLOG_CHUNK) * sizeof **chunks;
		if (nrecs < nchunks * TXLOG_CHUNK) {
			if (rec_touched < rpos)
				rec_touched = (rpos + TXLOG_PAGE - 1) &
				    ~(size_t)(TXLOG_PAGE - 1);
			want = rpos + TXLOG_AHEAD / 4;
			if (want > clen)
				want = clen;
			more |= txlog_touch((char *)chunks[nchunks - 1],
			    &rec_touched, want, &budget);
			if (want == clen && rpos + TXLOG_AHEAD / 4 > clen) {
				if (next_chunk == NULL) {
					next_chunk = txlog_map(clen);
					next_touched = 0;
				}
				more |= txlog_touch(next_chunk, &next_touched,
				    TXLOG_AHEAD / 4, &budget);
			}
		}
	}
	if (more && ev_prefault != NULL)
		event_active(ev_prefault, EV_TIMEOUT, 1);
}

/* Have the prefault event run once nothing else is active. */
static void
txlog_prefault_kick(void)
{
	if (ev_prefault == NULL && sim_base != NULL) {
		ev_prefault = event_new(sim_base, -1, 0, txlog_prefault_cb,
		    NULL);
		event_priority_set(ev_prefault, SIM_PRIO_IDLE);
	}
	if (ev_prefault != NULL &&
	    !event_pending(ev_prefault, EV_TIMEOUT, NULL))
		event_active(ev_prefault, EV_TIMEOUT, 1);
}

/* len bytes for a record's strings, from the arena (invariant 5). */
static char *
txlog_alloc(size_t len)
{
	char	*p;

	len = (len + 7) & ~(size_t)7;
	if (len > TXLOG_ARENA / 4)	/* big record: a mapping of its own */
		return (txlog_map(txlog_map_round(len)));
	if (arena == NULL || arena_cap - arena_off < len) {
		arena = txlog_map(TXLOG_ARENA);
		arena_cap = TXLOG_ARENA;
		arena_off = 0;
		arena_touched = 0;
	}
	p = arena + arena_off;
	arena_off += len;
	return (p);
}

/* Add a record to memory and the indexes. */
static size_t
txlog_add_mem(const struct txrec *r)
{
	if (nrecs == nchunks * TXLOG_CHUNK) {
		if (nchunks == capchunks) {
			capchunks = capchunks ? capchunks * 2 : 16;
			chunks = xrealloc(chunks, capchunks * sizeof *chunks);
		}
		if (next_chunk != NULL) {	/* mapped and touched ahead */
			chunks[nchunks++] = (struct txrec *)(void *)next_chunk;
			rec_touched = next_touched;
			next_chunk = NULL;
		} else {
			chunks[nchunks++] = txlog_map(txlog_chunk_len());
			rec_touched = 0;
		}
	}
	*rec_at(nrecs) = *r;
	/* The last record of an identity holds its bookmark. */
	bmindex_put(&bm_index, r->pub, r->seq, nrecs);
	return (nrecs++);
}

/* Copy len bytes of s (may be NULL when len is 0) to *blk, NUL after. */
static char *
txlog_part(char **blk, const char *s, size_t len)
{
	char	*p = *blk;

	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	*blk = p + len + 1;
	return (p);
}

/*
 * The strings of a record in one arena block (never freed: invariant 1),
 * each part NUL-terminated as xstrndup() would leave it.
 */
static void
txlog_strings(struct txrec *r, const char *topic, size_t tl, const char *x,
    size_t xl, const char *k, size_t kl, const char *data, size_t dlen)
{
	char	*blk;

	if (dlen > SIZE_MAX - 4 * 65536)
		sim_fatalx("txlog: record of %zu bytes", dlen);
	blk = txlog_alloc(tl + 1 + (xl ? xl + 1 : 0) + (kl ? kl + 1 : 0) +
	    dlen + 1);
	r->topic = txlog_part(&blk, topic, tl);
	r->x = xl ? txlog_part(&blk, x, xl) : NULL;
	r->k = kl ? txlog_part(&blk, k, kl) : NULL;
	r->data = txlog_part(&blk, data, dlen);
	r->dlen = dlen;
}

/* Parse one on-disk record body; -1 if malformed. */
static int
txlog_parse(const char *p, size_t len, struct txrec *r)
{
	uint16_t	tl, xl, kl;
	size_t		off = TXLOG_FIXED;

	if (len < TXLOG_FIXED)
		return (-1);
	memset(r, 0, sizeof *r);
	r->type = (uint8_t)p[0];
	r->logged = (uint8_t)p[1];
	memcpy(&tl, p + 2, 2);
	memcpy(&xl, p + 4, 2);
	memcpy(&kl, p + 6, 2);
	memcpy(&r->pub, p + 8, 8);
	memcpy(&r->seq, p + 16, 8);
	memcpy(&r->ts, p + 24, 8);
	if ((size_t)tl + xl + kl > len - off)
		return (-1);
	if (r->type < TXREC_PUBLISH || r->type > TXREC_SEQ)
		return (-1);
	txlog_strings(r, p + off, tl, p + off + tl, xl, p + off + tl + xl, kl,
	    p + off + tl + xl + kl, len - off - tl - xl - kl);
	return (0);
}

/*
 * Open (or create) the log in dir and load it.  dir NULL = memory only.
 */
int
txlog_open(const char *dir, char *err, size_t errlen)
{
	char		 path[4096], *buf = NULL;
	struct stat	 st;
	struct txrec	 r;
	size_t		 off, good;
	uint32_t	 rl;
	ssize_t		 n;

	if (dir == NULL)
		return (0);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	snprintf(path, sizeof path, "%s/txlog.dat", dir);
	if ((logfd = open(path, O_RDWR | O_CREAT, 0644)) == -1 ||
	    fstat(logfd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (st.st_size == 0) {
		if (write(logfd, TXLOG_MAGIC, 8) != 8) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return (-1);
		}
		logsize = 8;
		return (0);
	}
	buf = xmalloc((size_t)st.st_size);
	n = pread(logfd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size || memcmp(buf, TXLOG_MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s: not an ampsim log", path);
		free(buf);
		return (-1);
	}
	off = good = 8;
	while (off + 4 <= (size_t)n) {
		memcpy(&rl, buf + off, 4);
		if (rl > (size_t)n - off - 4)
			break;
		if (txlog_parse(buf + off + 4, rl, &r) != 0)
			break;
		txlog_add_mem(&r);
		off += 4 + rl;
		good = off;
	}
	free(buf);
	if (good != (size_t)n) {
		sim_log(LOG_WARN, "txlog: %s: cutting %lld torn bytes at the "
		    "end", path, (long long)((size_t)n - good));
		if (ftruncate(logfd, (off_t)good) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return (-1);
		}
	}
	logsize = (off_t)good;
	sim_log(LOG_INFO, "txlog: %s: %zu records loaded", path, nrecs);
	return (0);
}

/* Flush and close. */
void
txlog_close(void)
{
	if (ev_fsync != NULL)
		event_free(ev_fsync);
	ev_fsync = NULL;
	if (ev_prefault != NULL)
		event_free(ev_prefault);
	ev_prefault = NULL;
	txlog_flush();
	if (dirty && logfd != -1)
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
	struct txrec	r;
	uint16_t	tl, xl, kl;
	uint32_t	rl;
	char		fixed[TXLOG_FIXED];

	memset(&r, 0, sizeof r);
	r.type = type;
	r.logged = (uint8_t)logged;
	r.pub = pub;
	r.seq = seq;
	r.ts = sim_wall_usec();
	tl = (uint16_t)(topic ? strnlen(topic, 65535) : 0);
	xl = (uint16_t)(x ? strnlen(x, 65535) : 0);
	kl = (uint16_t)(k ? strnlen(k, 65535) : 0);
	if (type == TXREC_SEQ || !logged) {
		dlen = 0;
		xl = kl = 0;
	}
	txlog_strings(&r, topic, tl, x, xl, k, kl, data, dlen);
	txlog_prefault_kick();
	if (logfd != -1) {
		rl = (uint32_t)(TXLOG_FIXED + tl + xl + kl + dlen);
		fixed[0] = (char)r.type;
		fixed[1] = (char)r.logged;
		memcpy(fixed + 2, &tl, 2);
		memcpy(fixed + 4, &xl, 2);
		memcpy(fixed + 6, &kl, 2);
		memcpy(fixed + 8, &r.pub, 8);
		memcpy(fixed + 16, &r.seq, 8);
		memcpy(fixed + 24, &r.ts, 8);
		sbuf_add(&wbuf, &rl, 4);
		sbuf_add(&wbuf, fixed, sizeof fixed);
		sbuf_add(&wbuf, r.topic, tl);
		if (xl)
			sbuf_add(&wbuf, r.x, xl);
		if (kl)
			sbuf_add(&wbuf, r.k, kl);
		sbuf_add(&wbuf, r.data, dlen);
		if (wbuf.len >= TXLOG_WRITE)
			txlog_write();	/* no fsync: nothing waits on it */
	}
	return (txlog_add_mem(&r));
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
 * before any persisted ack (invariant 4).
 */
void
txlog_flush(void)
{
	if (logfd == -1)
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

	if (logfd == -1 || conf.fsync_interval_ms == 0)
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

/* Record i (i < txlog_count()). */
const struct txrec *
txlog_get(size_t i)
{
	return (i < nrecs ? rec_at(i) : NULL);
}

/* Index of bookmark (pub, seq), or -1. */
long long
txlog_find(uint64_t pub, uint64_t seq)
{
	uint64_t	i;

	if (!bmindex_get(&bm_index, pub, seq, &i))
		return (-1);
	if (i >= nrecs || rec_at(i)->pub != pub || rec_at(i)->seq != seq)
		return (-1);
	return ((long long)i);
}

/* First index whose timestamp is >= usec (nrecs when none). */
size_t
txlog_find_ts(int64_t usec)
{
	size_t	lo = 0, hi = nrecs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rec_at(mid)->ts < usec)
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

/* Call fn for every record in log order. */
void
txlog_each(txlog_load_fn fn)
{
	size_t	i;

	for (i = 0; i < nrecs; i++)
		fn(rec_at(i));
}

/* Mark record i as received from the replication peer (not re-sent). */
void
txlog_mark_peer(size_t i)
{
	if (i < nrecs)
		rec_at(i)->from_peer = 1;
}
