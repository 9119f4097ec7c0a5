/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * sowstore: the State of the World of one ampsim topic (PROTOCOL.md §9, §11.1).
 * Owns one reference to every live record, the key paths, an index from
 * SowKey to entry, the insertion-order list and the expiry heap.  It never
 * does I/O or reads a clock.
 *
 * Invariants:
 *  1. Every entry is in the order list, in the key map under the key of
 *     its record, and in the expiry heap iff its record has expire_at != 0.
 *  2. Records are immutable once stored; an update swaps the entry's
 *     record for a new one keeping seq (so the entry keeps its place in
 *     the order list) with version + 1.
 *  3. count equals the number of entries and of map nodes.
 *  4. expire_at is always 0 when the store has expiration disabled.
 *  5. Every record returned to a caller carries a reference of its own.
 */

#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "jsondoc.h"
#include "sowstore.h"
#include "strmap.h"

struct sow_entry {
	TAILQ_ENTRY(sow_entry)	 link;
	struct strmap_node	 hnode;
	struct theap_node	 enode;
	struct sow_record	*rec;
};
TAILQ_HEAD(sow_entries, sow_entry);

struct sowstore {
	char			*topic;
	char			**paths;
	size_t			 npaths;
	int			 expiration;
	struct sow_entries	 order;
	struct strmap		 map;
	struct theap		 heap;
	uint64_t		 nextseq;
	size_t			 count;
	size_t			 max_len;	/* merged record; 0: none */
};

/* Allocate or abort. */
static void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	return (p);
}

/* Copy a string or abort; NULL stays NULL. */
static char *
xstrdup0(const char *s)
{
	size_t	 len;
	char	*p;

	if (s == NULL)
		return (NULL);
	len = strlen(s);
	p = xmalloc(len + 1);
	memcpy(p, s, len + 1);
	return (p);
}

/* Take a reference. */
struct sow_record *
sow_record_ref(struct sow_record *r)
{
	r->refs++;
	return (r);
}

/* Drop a reference, freeing on the last. */
void
sow_record_unref(struct sow_record *r)
{
	if (r == NULL || --r->refs > 0)
		return;
	free(r->key);
	json_decref(r->doc);
	free(r->data);
	free(r->bookmark);
	free(r->cid);
	free(r);
}

/* Append a (referenced) record to a list. */
static void
sow_reclist_add(struct sow_reclist *l, struct sow_record *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		if (l->cap > SIZE_MAX / sizeof *l->v)
			abort();
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (l->v == NULL)
			abort();
	}
	l->v[l->n++] = r;
}

/* Unref all records, keep the array. */
void
sow_reclist_clear(struct sow_reclist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		sow_record_unref(l->v[i]);
	l->n = 0;
}

/* Unref all records and free the array. */
void
sow_reclist_free(struct sow_reclist *l)
{
	sow_reclist_clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

/* Make a record holding its own copies; doc gets a new reference. */
static struct sow_record *
sow_record_new(const char *key, json_t *doc, const char *data, size_t len,
    const char *bookmark, const char *cid, uint64_t ts, uint64_t expire_at)
{
	struct sow_record	*r;

	r = xmalloc(sizeof *r);
	memset(r, 0, sizeof *r);
	r->refs = 1;
	r->key = xstrdup0(key);
	r->doc = json_incref(doc);
	r->data = xmalloc(len + 1);
	if (len > 0)
		memcpy(r->data, data, len);
	r->data[len] = '\0';
	r->datalen = len;
	r->bookmark = xstrdup0(bookmark);
	r->cid = xstrdup0(cid);
	r->ts = ts;
	r->expire_at = expire_at;
	return (r);
}

/* Create an empty store. */
struct sowstore *
sow_create(const char *topic, char *const *paths, size_t npaths,
    int expiration)
{
	struct sowstore	*s;
	size_t		 i;

	s = xmalloc(sizeof *s);
	memset(s, 0, sizeof *s);
	s->topic = xstrdup0(topic != NULL ? topic : "");
	s->npaths = npaths;
	if (npaths > 0) {
		if (npaths > SIZE_MAX / sizeof *s->paths)
			abort();
		s->paths = xmalloc(npaths * sizeof *s->paths);
		for (i = 0; i < npaths; i++)
			s->paths[i] = xstrdup0(paths[i]);
	}
	s->expiration = expiration != 0;
	TAILQ_INIT(&s->order);
	strmap_init(&s->map);
	theap_init(&s->heap);
	s->nextseq = 1;
	return (s);
}

/* Free the store and drop its references. */
void
sow_free(struct sowstore *s)
{
	struct sow_entry	*e;
	size_t			 i;

	if (s == NULL)
		return;
	while ((e = TAILQ_FIRST(&s->order)) != NULL) {
		TAILQ_REMOVE(&s->order, e, link);
		sow_record_unref(e->rec);
		free(e);
	}
	strmap_free(&s->map);
	theap_free(&s->heap);
	for (i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->topic);
	free(s);
}

/* The topic name. */
const char *
sow_topic(const struct sowstore *s)
{
	return (s->topic);
}

/* 1 when keys come from publishers. */
int
sow_user_keyed(const struct sowstore *s)
{
	return (s->npaths == 0);
}

/* The key paths. */
char *const *
sow_key_paths(const struct sowstore *s, size_t *npaths)
{
	*npaths = s->npaths;
	return (s->paths);
}

/* Number of records. */
size_t
sow_count(const struct sowstore *s)
{
	return (s->count);
}

/* Compute the SowKey of doc (or take user_key) into buf. */
int
sow_key_of(const struct sowstore *s, const json_t *doc, const char *user_key,
    char *buf, size_t len)
{
	uint64_t	key;
	int		n;

	if (s->npaths == 0) {
		if (user_key == NULL || *user_key == '\0')
			return (SOW_ERR_NOKEY);
		if (strlen(user_key) >= len)
			return (-3);
		memcpy(buf, user_key, strlen(user_key) + 1);
		return (0);
	}
	if (doc == NULL || jdoc_sowkey(doc, s->topic, s->paths, s->npaths,
	    &key) != 0)
		return (SOW_ERR_NOKEY);
	n = snprintf(buf, len, "%" PRIu64, key);
	if (n < 0 || (size_t)n >= len)
		return (-3);
	return (0);
}

/* Find the entry of key. */
static struct sow_entry *
sow_find(const struct sowstore *s, const char *key)
{
	struct strmap_node	*nd;

	if ((nd = strmap_find(&s->map, key)) == NULL)
		return (NULL);
	return (STRMAP_ENTRY(nd, struct sow_entry, hnode));
}

/* Referenced record of key, or NULL. */
struct sow_record *
sow_lookup_ref(const struct sowstore *s, const char *key)
{
	struct sow_entry	*e;

	if (key == NULL || (e = sow_find(s, key)) == NULL)
		return (NULL);
	return (sow_record_ref(e->rec));
}

/* Place e in the expiry heap according to its record. */
static void
sow_heap_set(struct sowstore *s, struct sow_entry *e)
{
	theap_remove(&s->heap, &e->enode);
	if (e->rec->expire_at == 0)
		return;
	e->enode.when = e->rec->expire_at;
	e->enode.tie = e->rec->seq;
	theap_insert(&s->heap, &e->enode);
}

/*
 * Store r (holding the store's reference) under its key, replacing the
 * current record if any.  Returns the replaced record (its reference now
 * the caller's) or NULL when r was inserted.
 */
static struct sow_record *
sow_put(struct sowstore *s, struct sow_record *r)
{
	struct sow_entry	*e;
	struct sow_record	*old;

	if ((e = sow_find(s, r->key)) != NULL) {
		old = e->rec;
		r->seq = old->seq;
		r->version = old->version + 1;
		e->rec = r;
		e->hnode.key = r->key;
		sow_heap_set(s, e);
		return (old);
	}
	e = xmalloc(sizeof *e);
	memset(e, 0, sizeof *e);
	e->enode.idx = THEAP_NONE;
	r->seq = s->nextseq++;
	r->version = 1;
	e->rec = r;
	TAILQ_INSERT_TAIL(&s->order, e, link);
	strmap_insert(&s->map, &e->hnode, r->key);
	sow_heap_set(s, e);
	s->count++;
	return (NULL);
}

/* Remove e; return its record with the store's reference. */
static struct sow_record *
sow_remove(struct sowstore *s, struct sow_entry *e)
{
	struct sow_record	*r = e->rec;

	TAILQ_REMOVE(&s->order, e, link);
	strmap_remove(&s->map, &e->hnode);
	theap_remove(&s->heap, &e->enode);
	s->count--;
	free(e);
	return (r);
}

/* Parse data unless doc is given; returns a new reference or NULL. */
static json_t *
sow_parse(const char *data, size_t len, json_t *doc)
{
	json_error_t	err;

	if (doc != NULL)
		return (json_incref(doc));
	if (data == NULL)
		return (NULL);
	return (json_loadb(data, len, JSON_DECODE_ANY, &err));
}

/* Hand out cur/prev as requested, dropping what is not wanted. */
static void
sow_results(struct sow_record *r, struct sow_record *old,
    struct sow_record **cur, struct sow_record **prev)
{
	if (cur != NULL)
		*cur = sow_record_ref(r);
	if (prev != NULL)
		*prev = old;
	else
		sow_record_unref(old);
}

/* Publish: insert or replace. */
int
sow_upsert(struct sowstore *s, const char *data, size_t len, json_t *doc,
    const char *user_key, const struct sow_meta *meta,
    struct sow_record **cur, struct sow_record **prev)
{
	struct sow_record	*r, *old;
	json_t			*d;
	char			 key[512];
	uint64_t		 exp;
	int			 rv;

	if (cur != NULL)
		*cur = NULL;
	if (prev != NULL)
		*prev = NULL;
	if ((d = sow_parse(data, len, doc)) == NULL)
		return (SOW_ERR_PARSE);
	if ((rv = sow_key_of(s, d, user_key, key, sizeof key)) != 0) {
		json_decref(d);
		return (rv == -3 ? SOW_ERR_NOKEY : rv);
	}
	exp = s->expiration ? meta->expire_at : 0;
	if (data == NULL) {
		/* Only a doc: serialise it so records always have bytes. */
		char	*txt = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);

		if (txt == NULL)
			abort();
		r = sow_record_new(key, d, txt, strlen(txt), meta->bookmark,
		    meta->cid, meta->ts, exp);
		free(txt);
	} else
		r = sow_record_new(key, d, data, len, meta->bookmark,
		    meta->cid, meta->ts, exp);
	json_decref(d);
	old = sow_put(s, r);
	sow_results(r, old, cur, prev);
	return (old == NULL ? SOW_INSERTED : SOW_UPDATED);
}

void
sow_set_max_len(struct sowstore *s, size_t max_len)
{
	s->max_len = max_len;
}

/* Delta publish: merge into the existing record. */
int
sow_delta_upsert(struct sowstore *s, const char *data, size_t len,
    json_t *doc, const char *user_key, const struct sow_meta *meta,
    struct sow_record **cur, struct sow_record **prev)
{
	struct sow_entry	*e;
	struct sow_record	*r, *old;
	json_t			*d, *merged;
	char			 key[512], *txt;
	size_t			 tlen;
	const char		*cid;
	uint64_t		 exp;
	int			 rv;

	if (cur != NULL)
		*cur = NULL;
	if (prev != NULL)
		*prev = NULL;
	if ((d = sow_parse(data, len, doc)) == NULL)
		return (SOW_ERR_PARSE);
	if ((rv = sow_key_of(s, d, user_key, key, sizeof key)) != 0) {
		json_decref(d);
		return (rv == -3 ? SOW_ERR_NOKEY : rv);
	}
	if ((e = sow_find(s, key)) == NULL) {
		rv = sow_upsert(s, data, len, d, user_key, meta, cur, prev);
		json_decref(d);
		return (rv);
	}
	if ((merged = jdoc_merge(e->rec->doc, d)) == NULL)
		abort();
	json_decref(d);
	if ((txt = json_dumps(merged, JSON_COMPACT | JSON_ENCODE_ANY)) ==
	    NULL)
		abort();
	tlen = strlen(txt);
	if (s->max_len != 0 && tlen > s->max_len) {
		free(txt);
		json_decref(merged);
		return (SOW_ERR_TOOBIG);
	}
	cid = meta->cid != NULL ? meta->cid : e->rec->cid;
	exp = s->expiration ? meta->expire_at : 0;
	r = sow_record_new(key, merged, txt, tlen, meta->bookmark,
	    cid, meta->ts, exp);
	free(txt);
	json_decref(merged);
	old = sow_put(s, r);
	sow_results(r, old, cur, prev);
	return (SOW_UPDATED);
}

/* Initialise a query to "everything". */
void
sow_query_init(struct sow_query *q)
{
	memset(q, 0, sizeof *q);
	q->top_n = SOW_TOP_ALL;
}

/* Compare two records by orderby, ties by insertion order. */
static int
sow_cmp(const struct jdoc_orderby *ob, const struct sow_record *a,
    const struct sow_record *b)
{
	int	c;

	if (ob != NULL && (c = jdoc_orderby_cmp(ob, a->doc, b->doc)) != 0)
		return (c);
	if (a->seq != b->seq)
		return (a->seq < b->seq ? -1 : 1);
	return (0);
}

/* Stable merge sort of v[0..n) using tmp (same size). */
static void
sow_sort(const struct jdoc_orderby *ob, struct sow_record **v,
    struct sow_record **tmp, size_t n)
{
	size_t	mid, i, j, k;

	if (n < 2)
		return;
	mid = n / 2;
	sow_sort(ob, v, tmp, mid);
	sow_sort(ob, v + mid, tmp, n - mid);
	if (sow_cmp(ob, v[mid - 1], v[mid]) <= 0)
		return;
	memcpy(tmp, v, n * sizeof *v);
	i = 0;
	j = mid;
	k = 0;
	while (i < mid && j < n) {
		if (sow_cmp(ob, tmp[j], tmp[i]) < 0)
			v[k++] = tmp[j++];
		else
			v[k++] = tmp[i++];
	}
	while (i < mid)
		v[k++] = tmp[i++];
	while (j < n)
		v[k++] = tmp[j++];
}

/*
 * Collect the candidate records of q (borrowed) in natural order: every
 * record, or the distinct known keys in list order.
 */
static void
sow_candidates(const struct sowstore *s, const struct sow_query *q,
    struct sow_reclist *cand)
{
	struct sow_entry	*e;
	struct strmap		 seen;
	struct strmap_node	*nodes;
	size_t			 i, nseen = 0;

	if (q->keys == NULL) {
		TAILQ_FOREACH(e, &s->order, link)
			sow_reclist_add(cand, e->rec);
		return;
	}
	strmap_init(&seen);
	if (q->nkeys > SIZE_MAX / sizeof *nodes)
		abort();
	nodes = xmalloc(q->nkeys * sizeof *nodes);
	for (i = 0; i < q->nkeys; i++) {
		if (q->keys[i] == NULL || strmap_find(&seen, q->keys[i]) != NULL)
			continue;
		if ((e = sow_find(s, q->keys[i])) == NULL)
			continue;
		strmap_insert(&seen, &nodes[nseen++], q->keys[i]);
		sow_reclist_add(cand, e->rec);
	}
	strmap_free(&seen);
	free(nodes);
}

/* Run a query. */
size_t
sow_query(const struct sowstore *s, const struct sow_query *q,
    struct sow_reclist *out, struct sow_stats *stats)
{
	struct sow_reclist	 cand = { NULL, 0, 0 };
	struct sow_record	**tmp;
	size_t			 i, m = 0, added = 0;

	memset(stats, 0, sizeof *stats);
	sow_candidates(s, q, &cand);
	stats->topic_matches = cand.n;
	for (i = 0; i < cand.n; i++) {
		if (q->filter == NULL || filter_match(q->filter,
		    cand.v[i]->doc))
			cand.v[m++] = cand.v[i];
	}
	cand.n = m;
	stats->matches = m;
	if (q->orderby != NULL && m > 1) {
		tmp = xmalloc(m * sizeof *tmp);
		sow_sort(q->orderby, cand.v, tmp, m);
		free(tmp);
	}
	for (i = q->skip_n; i < m && added < q->top_n; i++, added++)
		sow_reclist_add(out, sow_record_ref(cand.v[i]));
	stats->records_returned = added;
	free(cand.v);		/* borrowed pointers: no unref */
	return (added);
}

/* Delete records by SowKey. */
int
sow_delete_keys(struct sowstore *s, const char *const *keys, size_t nkeys,
    struct sow_reclist *out, struct sow_stats *stats)
{
	struct sow_entry	*e;
	size_t			 i;
	int			 n = 0;

	memset(stats, 0, sizeof *stats);
	for (i = 0; i < nkeys; i++) {
		if (keys[i] == NULL || (e = sow_find(s, keys[i])) == NULL)
			continue;
		sow_reclist_add(out, sow_remove(s, e));
		n++;
	}
	stats->topic_matches = stats->matches = stats->records_deleted = n;
	return (n);
}

/* Delete records matching a filter (NULL = all). */
int
sow_delete_filter(struct sowstore *s, const struct filter *f,
    struct sow_reclist *out, struct sow_stats *stats)
{
	struct sow_entry	*e, *next;
	int			 n = 0;

	memset(stats, 0, sizeof *stats);
	for (e = TAILQ_FIRST(&s->order); e != NULL; e = next) {
		next = TAILQ_NEXT(e, link);
		stats->topic_matches++;
		if (f != NULL && !filter_match(f, e->rec->doc))
			continue;
		sow_reclist_add(out, sow_remove(s, e));
		n++;
	}
	stats->matches = stats->records_deleted = n;
	return (n);
}

/* Delete the record a payload would replace. */
int
sow_delete_data(struct sowstore *s, const char *data, size_t len,
    json_t *doc, const char *user_key, struct sow_reclist *out,
    struct sow_stats *stats)
{
	struct sow_entry	*e;
	json_t			*d = NULL;
	char			 key[512];
	int			 rv;

	memset(stats, 0, sizeof *stats);
	if (s->npaths > 0 && (d = sow_parse(data, len, doc)) == NULL)
		return (SOW_ERR_PARSE);
	rv = sow_key_of(s, d, user_key, key, sizeof key);
	json_decref(d);
	if (rv != 0)
		return (SOW_ERR_NOKEY);
	if ((e = sow_find(s, key)) == NULL)
		return (0);
	sow_reclist_add(out, sow_remove(s, e));
	stats->topic_matches = stats->matches = stats->records_deleted = 1;
	return (1);
}

/* Remove the records whose expiry has passed. */
size_t
sow_expire(struct sowstore *s, uint64_t now, struct sow_reclist *out)
{
	struct theap_node	*nd;
	struct sow_entry	*e;
	size_t			 n = 0;

	while ((nd = theap_min(&s->heap)) != NULL && nd->when <= now) {
		e = STRMAP_ENTRY(nd, struct sow_entry, enode);
		sow_reclist_add(out, sow_remove(s, e));
		n++;
	}
	return (n);
}

/* The next expiry time, 0 if none. */
uint64_t
sow_next_expiry(const struct sowstore *s)
{
	struct theap_node	*nd;

	if ((nd = theap_min(&s->heap)) == NULL)
		return (0);
	return (nd->when);
}

/* Walk the records in insertion order. */
int
sow_foreach(const struct sowstore *s,
    int (*cb)(const struct sow_record *, void *), void *arg)
{
	struct sow_entry	*e;
	int			 rv;

	TAILQ_FOREACH(e, &s->order, link) {
		if ((rv = cb(e->rec, arg)) != 0)
			return (rv);
	}
	return (0);
}
