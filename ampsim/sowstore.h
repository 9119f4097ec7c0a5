/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The State of the World of one ampsim topic (PROTOCOL.md §9, §4.10, §11.1).
 * Pure logic: no I/O, no clocks.  Times are passed in by the caller as
 * microseconds (expiry times on whatever monotonic clock the server uses;
 * the record timestamp is opaque to the store).
 *
 * Ownership: records are immutable and reference-counted.  The store holds
 * one reference to each live record.  EVERY record pointer handed out by
 * this API (the cur/prev results of an upsert, the contents of a
 * sow_reclist, sow_lookup_ref) carries its own reference which the caller
 * releases with sow_record_unref() or sow_reclist_free()/sow_reclist_clear().
 * A record stays valid, unchanged, for as long as the caller holds it,
 * even after the store replaced, deleted or expired it, or was freed.
 * An update never modifies a record: it makes a new one.
 *
 * Memory exhaustion aborts the process (this is a test server).
 */
#ifndef AMPSIM_SOWSTORE_H
#define AMPSIM_SOWSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct filter;
struct jdoc_orderby;

/* One SOW record.  All fields are read-only for the caller. */
struct sow_record {
	unsigned	 refs;		/* private: use ref/unref */
	char		*key;		/* SowKey: decimal u64 or the user key */
	json_t		*doc;		/* parsed document (owned by record) */
	char		*data;		/* raw payload as published/merged */
	size_t		 datalen;	/* data[datalen] is a NUL for convenience */
	char		*bookmark;	/* bookmark of the last write, or NULL */
	char		*cid;		/* correlation id, or NULL */
	uint64_t	 ts;		/* caller's timestamp of the last write */
	uint64_t	 expire_at;	/* usec, 0 = never expires */
	uint64_t	 seq;		/* insertion order: kept across updates */
	uint64_t	 version;	/* 1 on insert, +1 on every update */
};

/* Take another reference to r; returns r. */
struct sow_record *sow_record_ref(struct sow_record *r);
/* Drop a reference; frees r on the last one.  NULL is allowed. */
void		 sow_record_unref(struct sow_record *r);

/* A growable array of referenced records. */
struct sow_reclist {
	struct sow_record **v;
	size_t		 n;
	size_t		 cap;
};
/* Unref every record and empty the list (keeps the allocation). */
void		 sow_reclist_clear(struct sow_reclist *);
/* Unref every record and free the array; the list becomes empty. */
void		 sow_reclist_free(struct sow_reclist *);

/* Statistics of one query or delete (PROTOCOL.md §9.3). */
struct sow_stats {
	uint64_t	 topic_matches;		/* records examined */
	uint64_t	 matches;		/* records matching */
	uint64_t	 records_returned;	/* records in the result */
	uint64_t	 records_deleted;	/* sow_delete only */
};

/* Metadata of a write. */
struct sow_meta {
	const char	*bookmark;	/* copied; NULL allowed */
	const char	*cid;		/* copied; NULL allowed */
	uint64_t	 ts;		/* stored as is */
	uint64_t	 expire_at;	/* usec; 0 = none (ignored unless the
					   store has expiration enabled) */
};

/* Results of a write. */
#define SOW_INSERTED	1	/* new record */
#define SOW_UPDATED	2	/* replaced an existing record */
#define SOW_ERR_PARSE	(-1)	/* payload is not a JSON document */
#define SOW_ERR_NOKEY	(-2)	/* key field missing / no user key given */
#define SOW_ERR_TOOBIG	(-5)	/* a merged record above sow_set_max_len() */

struct sowstore;

/*
 * Create the SOW of topic.  When npaths > 0 the topic is keyed by those
 * paths ("/id", ...; copied) and the SowKey is jdoc_sowkey() printed in
 * decimal; when npaths == 0 the topic is user-keyed: writes must supply
 * the key (header k).  expiration enables per-record expire_at.
 */
/*
 * The largest record a delta may merge into (0, the default: no limit);
 * a larger merge is refused with SOW_ERR_TOOBIG and changes nothing.
 */
void		 sow_set_max_len(struct sowstore *, size_t);
struct sowstore	*sow_create(const char *topic, char *const *paths,
		    size_t npaths, int expiration);
/* Free the store, dropping its references.  NULL is allowed. */
void		 sow_free(struct sowstore *);

const char	*sow_topic(const struct sowstore *);
/* 1 when the topic uses publisher-supplied keys. */
int		 sow_user_keyed(const struct sowstore *);
/* The key paths (for jdoc_delta); *npaths is 0 for user-keyed topics. */
char *const	*sow_key_paths(const struct sowstore *, size_t *npaths);
size_t		 sow_count(const struct sowstore *);

/*
 * Compute the SowKey a document would have, into buf.  For user-keyed
 * topics this copies user_key.  Returns 0, or SOW_ERR_NOKEY (or -3 when
 * buf is too small; 21 bytes always suffice for path keys).
 */
int		 sow_key_of(const struct sowstore *, const json_t *doc,
		    const char *user_key, char *buf, size_t len);

/*
 * Insert or replace a record (publish).  data/len is the raw payload
 * (copied).  doc is the parsed payload if the caller already has it
 * (the store takes its own reference), or NULL to parse data here.
 * user_key is the k header (required on user-keyed topics, ignored
 * otherwise; keys longer than 511 bytes are refused with SOW_ERR_NOKEY).
 * meta->expire_at replaces the record's expiry: an update without one
 * clears it (the server computes topic defaults).  On success *cur gets
 * the stored record and *prev the record it replaced (NULL on insert);
 * both carry references for the caller.  cur and prev may be NULL when
 * not wanted.  Returns SOW_INSERTED, SOW_UPDATED or a SOW_ERR_* (nothing
 * changed).
 */
int		 sow_upsert(struct sowstore *, const char *data, size_t len,
		    json_t *doc, const char *user_key, const struct sow_meta *,
		    struct sow_record **cur, struct sow_record **prev);

/*
 * Delta publish (§11.1): merge the delta into the existing record with
 * jdoc_merge (NULL leaves skipped, arrays replaced); the merged document
 * is re-serialised compactly and becomes the raw payload.  Without an
 * existing record this is an insert of the delta as published.  The
 * correlation id is the delta's when meta->cid is set, else the old
 * record's.  A merged record longer than the store's max_len is refused
 * (SOW_ERR_TOOBIG), the old record kept.  Same arguments, results and
 * ownership as sow_upsert.
 */
int		 sow_delta_upsert(struct sowstore *, const char *data,
		    size_t len, json_t *doc, const char *user_key,
		    const struct sow_meta *, struct sow_record **cur,
		    struct sow_record **prev);

/* Return a referenced record by SowKey, or NULL. */
struct sow_record *sow_lookup_ref(const struct sowstore *, const char *key);

/*
 * A query (§4.7, §9.4).  filter NULL = every record.  keys/nkeys
 * (sow_keys) NULL/0 = every record, else only those keys (unknown keys
 * and duplicates are skipped).  orderby NULL = insertion order (with keys:
 * the order of the key list).  Ties under orderby keep insertion order.
 * skip_n records are skipped, then at most top_n returned (SOW_TOP_ALL
 * for no limit; top_n 0 returns nothing but still counts matches).
 */
#define SOW_TOP_ALL	((size_t)-1)
struct sow_query {
	const struct filter		*filter;
	const char *const		*keys;
	size_t				 nkeys;
	const struct jdoc_orderby	*orderby;
	size_t				 top_n;
	size_t				 skip_n;
};
/* Initialise q to "everything, unlimited". */
void		 sow_query_init(struct sow_query *q);

/*
 * Run q: append the result records (referenced) to out and fill stats
 * (topic_matches = records examined: all records, or the keys found;
 * matches = those passing the filter; records_returned = out entries
 * added).  Returns the number of records appended.
 */
size_t		 sow_query(const struct sowstore *, const struct sow_query *q,
		    struct sow_reclist *out, struct sow_stats *stats);

/*
 * sow_delete forms (§4.10, §9.8).  Each appends the deleted records (the
 * previous state, referenced, in insertion order or key-list order) to
 * out, fills stats (topic_matches, matches, records_deleted) and returns
 * the number deleted.
 *   by keys:   unknown keys are skipped.
 *   by filter: NULL filter matches every record.
 *   by data:   the key is computed from the payload (doc or parsed from
 *              data); returns SOW_ERR_PARSE / SOW_ERR_NOKEY on failure.
 *              On a user-keyed topic user_key names the record.
 */
int		 sow_delete_keys(struct sowstore *, const char *const *keys,
		    size_t nkeys, struct sow_reclist *out,
		    struct sow_stats *stats);
int		 sow_delete_filter(struct sowstore *, const struct filter *,
		    struct sow_reclist *out, struct sow_stats *stats);
int		 sow_delete_data(struct sowstore *, const char *data,
		    size_t len, json_t *doc, const char *user_key,
		    struct sow_reclist *out, struct sow_stats *stats);

/*
 * Remove every record with 0 < expire_at <= now; append them (in expiry
 * order, ties by insertion order) to out and return how many.
 */
size_t		 sow_expire(struct sowstore *, uint64_t now,
		    struct sow_reclist *out);
/* The earliest expire_at of any record, or 0 when none expires. */
uint64_t	 sow_next_expiry(const struct sowstore *);

/*
 * Call cb for every record in insertion order with a borrowed pointer.
 * cb must not modify the store; a nonzero return stops the walk and is
 * returned.
 */
int		 sow_foreach(const struct sowstore *,
		    int (*cb)(const struct sow_record *, void *), void *arg);

#endif /* AMPSIM_SOWSTORE_H */
