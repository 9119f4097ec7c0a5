/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsipc-format.c: the message-format helpers of libampsipc
 * (ampsipc-format.h): composite builder and parser, NVFIX builder and
 * shredder, FIX builder and shredder.  Pure byte work, libc only.
 *
 * It owns: the growth policy of the builders' buffers, the byte layout
 * of composite parts (4-byte big-endian length, then the bytes) and the
 * split of an NVFIX/FIX payload into name=value fields, which NVFIX and
 * FIX share (FIX adds only the tag-number rules).
 *
 * Invariants:
 *  1. A builder never writes outside [buf, buf + size); every size sum
 *     is checked for overflow before it is used.
 *  2. A failed append changes nothing: all checks and the buffer
 *     reservation happen before the first byte is written.
 *  3. A builder's buffer is freed or reallocated only when it is owned
 *     (the library allocated it); the caller's buffer is never touched
 *     beyond its size and never freed.
 *  4. Parsers and shredders never allocate and never read a byte before
 *     the length that covers it has been checked; their payload is
 *     validated completely when handed over, so the access functions
 *     work on well-formed bytes only.  After a failed parse or shred
 *     the structure holds an empty payload, never a partial one.
 *  5. What a builder writes its matching shredder or parser reads back
 *     unchanged: names hold neither '=' nor the separator, values hold
 *     no separator, and a field's value starts after the first '='.
 *  6. No global or static mutable state; errno is the only side channel.
 */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-format.h"

/* First allocation of a library-grown buffer when no size was given. */
#define FMT_INITIAL_SIZE	256

/* Bytes of a composite part's length prefix. */
#define COMPOSITE_HDR		4

/* ---------------------------------------------------------------- */
/* Builder buffers                                                    */
/* ---------------------------------------------------------------- */

/*
 * Set up b to write into the caller's buf of size bytes, or, with a
 * NULL buf, into a buffer of our own that starts at size bytes.
 */
static void
fmtbuf_init(struct ampsipc_fmt_buf *b, void *buf, size_t size)
{
	b->buf = buf;
	b->len = 0;
	b->size = size;
	b->owned = (buf == NULL);
}

/*
 * Make room for need more bytes after b->len.  A caller's buffer cannot
 * grow (ENOBUFS); ours doubles, at least to what is needed (ENOMEM if
 * that cannot be had or overflows).  While an owned buffer is still
 * NULL, b->size is only the first size to allocate.  Returns 0 or -1.
 */
static int
fmtbuf_reserve(struct ampsipc_fmt_buf *b, size_t need)
{
	size_t	 cap, want, newsize;
	char	*nbuf;

	cap = b->buf != NULL ? b->size : 0;
	if (need <= cap - b->len)
		return (0);
	if (!b->owned) {
		errno = ENOBUFS;
		return (-1);
	}
	if (need > SIZE_MAX - b->len) {
		errno = ENOMEM;
		return (-1);
	}
	want = b->len + need;
	if (b->buf == NULL)
		newsize = b->size != 0 ? b->size : FMT_INITIAL_SIZE;
	else
		newsize = cap;
	while (newsize < want) {
		if (newsize > SIZE_MAX / 2) {
			newsize = want;
			break;
		}
		newsize *= 2;
	}
	if ((nbuf = realloc(b->buf, newsize)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	b->buf = nbuf;
	b->size = newsize;
	return (0);
}

/* Copy len bytes to the end of b; room was reserved by the caller. */
static void
fmtbuf_put(struct ampsipc_fmt_buf *b, const void *p, size_t len)
{
	if (len == 0)
		return;
	memcpy(b->buf + b->len, p, len);
	b->len += len;
}

/* The bytes written so far, their count in *lenp if lenp is not NULL. */
static const char *
fmtbuf_data(const struct ampsipc_fmt_buf *b, size_t *lenp)
{
	if (lenp != NULL)
		*lenp = b->len;
	return (b->buf);
}

/* Release an owned buffer; leave b empty and library-grown. */
static void
fmtbuf_free(struct ampsipc_fmt_buf *b)
{
	if (b->owned)
		free(b->buf);
	fmtbuf_init(b, NULL, 0);
}

/* ---------------------------------------------------------------- */
/* Composite                                                          */
/* ---------------------------------------------------------------- */

/* Read a 4-byte big-endian length at p. */
static size_t
composite_len(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	return (((size_t)u[0] << 24) | ((size_t)u[1] << 16) |
	    ((size_t)u[2] << 8) | (size_t)u[3]);
}

/* Prepare a composite builder; see ampsipc-format.h. */
void
ampsipc_composite_builder_init(struct ampsipc_composite_builder *cb,
    void *buf, size_t size)
{
	if (cb == NULL)
		return;
	fmtbuf_init(&cb->b, buf, size);
	cb->nparts = 0;
}

/* Append one part: its 4-byte big-endian length, then its bytes. */
int
ampsipc_composite_append(struct ampsipc_composite_builder *cb,
    const void *data, size_t len)
{
	unsigned char	hdr[COMPOSITE_HDR];

	if (cb == NULL || (data == NULL && len != 0)) {
		errno = EINVAL;
		return (-1);
	}
#if SIZE_MAX > UINT32_MAX
	if (len > UINT32_MAX) {
		errno = EMSGSIZE;
		return (-1);
	}
#endif
	if (len > SIZE_MAX - COMPOSITE_HDR) {
		errno = EMSGSIZE;
		return (-1);
	}
	if (fmtbuf_reserve(&cb->b, COMPOSITE_HDR + len) == -1)
		return (-1);
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	fmtbuf_put(&cb->b, hdr, sizeof hdr);
	fmtbuf_put(&cb->b, data, len);
	cb->nparts++;
	return (0);
}

/* The composite payload built so far. */
const char *
ampsipc_composite_data(const struct ampsipc_composite_builder *cb,
    size_t *lenp)
{
	if (cb == NULL) {
		if (lenp != NULL)
			*lenp = 0;
		return (NULL);
	}
	return (fmtbuf_data(&cb->b, lenp));
}

/* The number of parts appended so far. */
size_t
ampsipc_composite_builder_count(const struct ampsipc_composite_builder *cb)
{
	return (cb != NULL ? cb->nparts : 0);
}

/* Drop every part, keeping the buffer. */
void
ampsipc_composite_builder_reset(struct ampsipc_composite_builder *cb)
{
	if (cb == NULL)
		return;
	cb->b.len = 0;
	cb->nparts = 0;
}

/* Release the builder's own buffer, if any. */
void
ampsipc_composite_builder_free(struct ampsipc_composite_builder *cb)
{
	if (cb == NULL)
		return;
	fmtbuf_free(&cb->b);
	cb->nparts = 0;
}

/* Validate a whole composite payload and count its parts. */
int
ampsipc_composite_parse(struct ampsipc_composite_parser *cp,
    const void *data, size_t len)
{
	const char	*p = data;
	size_t		 off, plen, n;

	if (cp == NULL) {
		errno = EINVAL;
		return (-1);
	}
	memset(cp, 0, sizeof *cp);
	if (data == NULL && len != 0) {
		errno = EINVAL;
		return (-1);
	}
	for (off = 0, n = 0; off < len; n++) {
		if (len - off < COMPOSITE_HDR)
			goto bad;
		plen = composite_len(p + off);
		off += COMPOSITE_HDR;
		if (plen > len - off)
			goto bad;
		off += plen;
	}
	cp->data = p;
	cp->len = len;
	cp->nparts = n;
	return (0);

bad:
	errno = EBADMSG;
	return (-1);
}

/* The number of parts of the parsed payload. */
size_t
ampsipc_composite_count(const struct ampsipc_composite_parser *cp)
{
	return (cp != NULL ? cp->nparts : 0);
}

/*
 * A view of part i.  The parser remembers where the last part asked for
 * starts, so a forward walk does not rescan; parse() proved every
 * length, so the walk needs no checks.
 */
int
ampsipc_composite_part(struct ampsipc_composite_parser *cp, size_t i,
    struct ampsipc_fmt_view *part)
{
	if (cp == NULL || part == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (i >= cp->nparts) {
		errno = ERANGE;
		return (-1);
	}
	if (i < cp->cur) {
		cp->cur = 0;
		cp->curoff = 0;
	}
	while (cp->cur < i) {
		cp->curoff += COMPOSITE_HDR + composite_len(cp->data +
		    cp->curoff);
		cp->cur++;
	}
	part->ptr = cp->data + cp->curoff + COMPOSITE_HDR;
	part->len = composite_len(cp->data + cp->curoff);
	return (0);
}

/* ---------------------------------------------------------------- */
/* Fields shared by NVFIX and FIX                                     */
/* ---------------------------------------------------------------- */

/* One name=value field, as offsets into the payload. */
struct tv_field {
	size_t	name;
	size_t	namelen;
	size_t	value;
	size_t	valuelen;
	size_t	next;		/* offset of the following field */
};

/*
 * Split the field that starts at off in the n bytes at p.  The field
 * runs to the next sep (or the end); its name to the first '='.
 * Returns 1 with *f filled, 0 when off is at the end, -1 for a
 * malformed field (empty, no '=', empty name).
 */
static int
tv_split(const char *p, size_t n, char sep, size_t off, struct tv_field *f)
{
	const char	*end, *eq;
	size_t		 flen;

	if (off >= n)
		return (0);
	end = memchr(p + off, (unsigned char)sep, n - off);
	flen = end != NULL ? (size_t)(end - (p + off)) : n - off;
	/* An empty field has no '=' either. */
	if ((eq = memchr(p + off, '=', flen)) == NULL || eq == p + off)
		return (-1);
	f->name = off;
	f->namelen = (size_t)(eq - (p + off));
	f->value = off + f->namelen + 1;
	f->valuelen = flen - f->namelen - 1;
	f->next = end != NULL ? off + flen + 1 : n;
	return (1);
}

/*
 * Parse a FIX tag of len bytes at p: decimal digits only, not empty,
 * at most INT_MAX (leading zeros allowed).  Returns the tag or -1.
 */
static int
tv_tag(const char *p, size_t len)
{
	size_t	i;
	int	tag = 0, d;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (-1);
		d = p[i] - '0';
		if (tag > (INT_MAX - d) / 10)
			return (-1);
		tag = tag * 10 + d;
	}
	return (tag);
}

/*
 * Validate every field of the n bytes at p and count them in *countp;
 * with fix set, also every tag.  Returns 0 or -1 (malformed).
 */
static int
tv_validate(const char *p, size_t n, char sep, int fix, size_t *countp)
{
	struct tv_field	f;
	size_t		off = 0, count = 0;
	int		r;

	while ((r = tv_split(p, n, sep, off, &f)) == 1) {
		if (fix && tv_tag(p + f.name, f.namelen) == -1)
			return (-1);
		count++;
		off = f.next;
	}
	if (r == -1)
		return (-1);
	*countp = count;
	return (0);
}

/* Store a view of len bytes at p in *v if v is not NULL. */
static void
tv_view(struct ampsipc_fmt_view *v, const char *p, size_t len)
{
	if (v == NULL)
		return;
	v->ptr = p;
	v->len = len;
}

/* Does the separator byte occur in the len bytes at p? */
static int
tv_has(const char *p, size_t len, char c)
{
	return (len != 0 && memchr(p, (unsigned char)c, len) != NULL);
}

/*
 * Append name=value and the separator to b, name and value already
 * checked.  Returns 0 or -1 (ENOBUFS, ENOMEM, or EMSGSIZE for sizes that
 * overflow).
 */
static int
tv_append(struct ampsipc_fmt_buf *b, char sep, const char *name,
    size_t namelen, const char *value, size_t valuelen)
{
	const char	eq = '=';

	if (namelen > SIZE_MAX - 2 || valuelen > SIZE_MAX - 2 - namelen) {
		errno = EMSGSIZE;
		return (-1);
	}
	if (fmtbuf_reserve(b, namelen + valuelen + 2) == -1)
		return (-1);
	fmtbuf_put(b, name, namelen);
	fmtbuf_put(b, &eq, 1);
	fmtbuf_put(b, value, valuelen);
	fmtbuf_put(b, &sep, 1);
	return (0);
}

/* ---------------------------------------------------------------- */
/* NVFIX                                                              */
/* ---------------------------------------------------------------- */

/* Prepare an NVFIX builder; see ampsipc-format.h. */
int
ampsipc_nvfix_builder_init(struct ampsipc_nvfix_builder *nb, void *buf,
    size_t size, char sep)
{
	if (nb == NULL || sep == '=') {
		errno = EINVAL;
		return (-1);
	}
	fmtbuf_init(&nb->b, buf, size);
	nb->sep = sep != '\0' ? sep : AMPSIPC_FMT_SOH;
	return (0);
}

/* Append name=value and the separator, after checking both. */
int
ampsipc_nvfix_append(struct ampsipc_nvfix_builder *nb, const char *name,
    size_t namelen, const char *value, size_t valuelen)
{
	if (nb == NULL || name == NULL || namelen == 0 ||
	    (value == NULL && valuelen != 0) ||
	    tv_has(name, namelen, '=') || tv_has(name, namelen, nb->sep) ||
	    (value != NULL && tv_has(value, valuelen, nb->sep))) {
		errno = EINVAL;
		return (-1);
	}
	return (tv_append(&nb->b, nb->sep, name, namelen, value, valuelen));
}

/* Append with NUL-terminated name and value. */
int
ampsipc_nvfix_append_str(struct ampsipc_nvfix_builder *nb, const char *name,
    const char *value)
{
	if (name == NULL || value == NULL) {
		errno = EINVAL;
		return (-1);
	}
	return (ampsipc_nvfix_append(nb, name, strlen(name), value,
	    strlen(value)));
}

/* The NVFIX payload built so far. */
const char *
ampsipc_nvfix_data(const struct ampsipc_nvfix_builder *nb, size_t *lenp)
{
	if (nb == NULL) {
		if (lenp != NULL)
			*lenp = 0;
		return (NULL);
	}
	return (fmtbuf_data(&nb->b, lenp));
}

/* Drop every field, keeping buffer and separator. */
void
ampsipc_nvfix_builder_reset(struct ampsipc_nvfix_builder *nb)
{
	if (nb != NULL)
		nb->b.len = 0;
}

/* Release the builder's own buffer, if any. */
void
ampsipc_nvfix_builder_free(struct ampsipc_nvfix_builder *nb)
{
	if (nb != NULL)
		fmtbuf_free(&nb->b);
}

/* Validate an NVFIX payload and make the shredder read it. */
int
ampsipc_nvfix_shred(struct ampsipc_nvfix_shredder *ns, const void *data,
    size_t len, char sep)
{
	size_t	count;

	if (ns == NULL) {
		errno = EINVAL;
		return (-1);
	}
	memset(ns, 0, sizeof *ns);
	ns->sep = sep != '\0' ? sep : AMPSIPC_FMT_SOH;
	if ((data == NULL && len != 0) || sep == '=') {
		errno = EINVAL;
		return (-1);
	}
	if (tv_validate(data, len, ns->sep, 0, &count) == -1) {
		errno = EBADMSG;
		return (-1);
	}
	ns->data = data;
	ns->len = len;
	ns->nfields = count;
	return (0);
}

/* The number of fields of the shredded payload. */
size_t
ampsipc_nvfix_count(const struct ampsipc_nvfix_shredder *ns)
{
	return (ns != NULL ? ns->nfields : 0);
}

/* The next field's name and value; 0 at the end. */
int
ampsipc_nvfix_next(struct ampsipc_nvfix_shredder *ns,
    struct ampsipc_fmt_view *name, struct ampsipc_fmt_view *value)
{
	struct tv_field	f;

	if (ns == NULL || tv_split(ns->data, ns->len, ns->sep, ns->off,
	    &f) != 1)
		return (0);
	tv_view(name, ns->data + f.name, f.namelen);
	tv_view(value, ns->data + f.value, f.valuelen);
	ns->off = f.next;
	return (1);
}

/* Start the iteration again. */
void
ampsipc_nvfix_rewind(struct ampsipc_nvfix_shredder *ns)
{
	if (ns != NULL)
		ns->off = 0;
}

/* The value of the first field called name. */
int
ampsipc_nvfix_get(const struct ampsipc_nvfix_shredder *ns, const char *name,
    size_t namelen, struct ampsipc_fmt_view *value)
{
	struct tv_field	f;
	size_t		off = 0;

	if (ns == NULL || (name == NULL && namelen != 0)) {
		errno = EINVAL;
		return (-1);
	}
	while (tv_split(ns->data, ns->len, ns->sep, off, &f) == 1) {
		if (f.namelen == namelen &&
		    memcmp(ns->data + f.name, name, namelen) == 0) {
			tv_view(value, ns->data + f.value, f.valuelen);
			return (0);
		}
		off = f.next;
	}
	errno = ENOENT;
	return (-1);
}

/* Look up with a NUL-terminated name. */
int
ampsipc_nvfix_get_str(const struct ampsipc_nvfix_shredder *ns,
    const char *name, struct ampsipc_fmt_view *value)
{
	if (name == NULL) {
		errno = EINVAL;
		return (-1);
	}
	return (ampsipc_nvfix_get(ns, name, strlen(name), value));
}

/* ---------------------------------------------------------------- */
/* FIX                                                                */
/* ---------------------------------------------------------------- */

/* May c separate FIX fields?  Not '=' and not a digit of a tag. */
static int
fix_sep_ok(char c)
{
	return (c != '=' && (c < '0' || c > '9'));
}

/* Prepare a FIX builder; see ampsipc-format.h. */
int
ampsipc_fix_builder_init(struct ampsipc_fix_builder *fb, void *buf,
    size_t size, char sep)
{
	if (fb == NULL || !fix_sep_ok(sep)) {
		errno = EINVAL;
		return (-1);
	}
	fmtbuf_init(&fb->b, buf, size);
	fb->sep = sep != '\0' ? sep : AMPSIPC_FMT_SOH;
	return (0);
}

/* Append tag=value and the separator, the tag in decimal. */
int
ampsipc_fix_append(struct ampsipc_fix_builder *fb, int tag,
    const char *value, size_t len)
{
	char	digits[sizeof(int) * 3 + 1];
	size_t	n = sizeof digits;

	if (fb == NULL || tag < 0 || (value == NULL && len != 0) ||
	    (value != NULL && tv_has(value, len, fb->sep))) {
		errno = EINVAL;
		return (-1);
	}
	do {
		digits[--n] = (char)('0' + tag % 10);
		tag /= 10;
	} while (tag != 0);
	return (tv_append(&fb->b, fb->sep, digits + n, sizeof digits - n,
	    value, len));
}

/* Append with a NUL-terminated value. */
int
ampsipc_fix_append_str(struct ampsipc_fix_builder *fb, int tag,
    const char *value)
{
	if (value == NULL) {
		errno = EINVAL;
		return (-1);
	}
	return (ampsipc_fix_append(fb, tag, value, strlen(value)));
}

/* The FIX payload built so far. */
const char *
ampsipc_fix_data(const struct ampsipc_fix_builder *fb, size_t *lenp)
{
	if (fb == NULL) {
		if (lenp != NULL)
			*lenp = 0;
		return (NULL);
	}
	return (fmtbuf_data(&fb->b, lenp));
}

/* Drop every field, keeping buffer and separator. */
void
ampsipc_fix_builder_reset(struct ampsipc_fix_builder *fb)
{
	if (fb != NULL)
		fb->b.len = 0;
}

/* Release the builder's own buffer, if any. */
void
ampsipc_fix_builder_free(struct ampsipc_fix_builder *fb)
{
	if (fb != NULL)
		fmtbuf_free(&fb->b);
}

/* Validate a FIX payload, tags included, and make the shredder read it. */
int
ampsipc_fix_shred(struct ampsipc_fix_shredder *fs, const void *data,
    size_t len, char sep)
{
	size_t	count;

	if (fs == NULL) {
		errno = EINVAL;
		return (-1);
	}
	memset(fs, 0, sizeof *fs);
	fs->sep = sep != '\0' ? sep : AMPSIPC_FMT_SOH;
	if ((data == NULL && len != 0) || !fix_sep_ok(sep)) {
		errno = EINVAL;
		return (-1);
	}
	if (tv_validate(data, len, fs->sep, 1, &count) == -1) {
		errno = EBADMSG;
		return (-1);
	}
	fs->data = data;
	fs->len = len;
	fs->nfields = count;
	return (0);
}

/* The number of fields of the shredded payload. */
size_t
ampsipc_fix_count(const struct ampsipc_fix_shredder *fs)
{
	return (fs != NULL ? fs->nfields : 0);
}

/* The next field's tag and value; 0 at the end. */
int
ampsipc_fix_next(struct ampsipc_fix_shredder *fs, int *tagp,
    struct ampsipc_fmt_view *value)
{
	struct tv_field	f;

	if (fs == NULL || tv_split(fs->data, fs->len, fs->sep, fs->off,
	    &f) != 1)
		return (0);
	if (tagp != NULL)
		*tagp = tv_tag(fs->data + f.name, f.namelen);
	tv_view(value, fs->data + f.value, f.valuelen);
	fs->off = f.next;
	return (1);
}

/* Start the iteration again. */
void
ampsipc_fix_rewind(struct ampsipc_fix_shredder *fs)
{
	if (fs != NULL)
		fs->off = 0;
}

/* The value of the first field with this tag. */
int
ampsipc_fix_get(const struct ampsipc_fix_shredder *fs, int tag,
    struct ampsipc_fmt_view *value)
{
	struct tv_field	f;
	size_t		off = 0;

	if (fs == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (tag >= 0) {
		while (tv_split(fs->data, fs->len, fs->sep, off, &f) == 1) {
			if (tv_tag(fs->data + f.name, f.namelen) == tag) {
				tv_view(value, fs->data + f.value,
				    f.valuelen);
				return (0);
			}
			off = f.next;
		}
	}
	errno = ENOENT;
	return (-1);
}
