/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * libampsipc message-format helpers: build and take apart the payloads
 * of AMPS composite, NVFIX and FIX messages, in the manner of the AMPS
 * client's CompositeMessageBuilder/Parser, NVFIXBuilder/Shredder and
 * FIXBuilder/Shredder.  They work on bytes only; nothing here talks to
 * ampsd, and no handle (struct ampsipc) is involved.
 *
 * Payload formats (docs/PROTOCOL.md Appendix D):
 * - composite: the concatenation of parts, each a 4-byte big-endian
 *   length followed by that many bytes.  Zero parts is the empty
 *   payload; a part may be empty.
 * - NVFIX: fields "name=value" each followed by a separator byte, by
 *   default SOH (0x01), e.g. "Data=0\001".  A name is not empty and
 *   holds neither '=' nor the separator; a value may be empty and may
 *   hold '=' but not the separator.
 * - FIX: as NVFIX with a non-negative decimal tag number for the name,
 *   e.g. "55=IBM\001".
 *
 * Rules for every function below:
 * - Functions that can fail return -1 and set errno; they never exit,
 *   print or keep global state.  The structures are independent; one
 *   must be used by one thread at a time.
 * - A builder either writes into a buffer the caller supplies (fixed
 *   capacity: an append that does not fit fails with ENOBUFS) or, when
 *   given a NULL buffer, grows one of its own with malloc/realloc
 *   (ENOMEM on failure), released by the builder's _free function.  A
 *   failed append leaves the builder exactly as it was.
 * - Parsers and shredders never allocate: they hand out views
 *   (struct ampsipc_fmt_view) that point into the caller's payload and
 *   stay valid as long as the payload does.  The payload is checked
 *   once, completely, when it is handed over (EBADMSG if malformed), so
 *   later calls cannot meet a malformed field.
 * - The structures are public so they may live on the stack, but their
 *   members are private: use the functions.
 */

#ifndef AMPSIPC_FORMAT_H
#define AMPSIPC_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "ampsipc.h"		/* AMPSIPC_API */

#ifdef __cplusplus
extern "C" {
#endif

/* The default NVFIX and FIX field separator, SOH. */
#define AMPSIPC_FMT_SOH		'\001'

/*
 * A view of len bytes at ptr inside someone else's buffer; not
 * NUL-terminated.  An empty view has len 0 (ptr then points at where
 * the bytes would be).  Composite parts may hold any bytes, including
 * NUL.
 */
struct ampsipc_fmt_view {
	const char	*ptr;
	size_t		 len;
};

/* The output buffer shared by the builders (members private). */
struct ampsipc_fmt_buf {
	char		*buf;
	size_t		 len;		/* bytes written */
	size_t		 size;		/* capacity of buf */
	int		 owned;		/* ours to grow and free */
};

/* ---------------------------------------------------------------- */
/* Composite                                                          */
/* ---------------------------------------------------------------- */

struct ampsipc_composite_builder {
	struct ampsipc_fmt_buf	 b;
	size_t			 nparts;
};

/*
 * Prepare a composite builder with no parts.  If buf is not NULL the
 * payload is written into its size bytes and never beyond; the caller
 * keeps ownership of buf.  If buf is NULL the builder allocates on the
 * first append, starting at size bytes (a default if 0), and grows as
 * needed; call ampsipc_composite_builder_free() when done.  Cannot fail.
 */
AMPSIPC_API void	 ampsipc_composite_builder_init(
			    struct ampsipc_composite_builder *, void *buf,
			    size_t size);

/*
 * Append one part of len bytes (data may be NULL when len is 0: an
 * empty part).  data may not point into the builder's own buffer.
 * Returns 0, or -1: EINVAL (NULL builder, or NULL data with len > 0),
 * EMSGSIZE (len above 0xffffffff, the most a 4-byte length carries),
 * ENOBUFS (the caller's buffer is too small), ENOMEM.
 */
AMPSIPC_API int		 ampsipc_composite_append(
			    struct ampsipc_composite_builder *,
			    const void *data, size_t len);

/*
 * The payload built so far; its length is stored in *lenp (lenp may be
 * NULL).  With no parts the length is 0 and the pointer may be NULL.
 * The pointer is valid until the next append, reset or free.
 */
AMPSIPC_API const char	*ampsipc_composite_data(
			    const struct ampsipc_composite_builder *,
			    size_t *lenp);

/* The number of parts appended since init or the last reset. */
AMPSIPC_API size_t	 ampsipc_composite_builder_count(
			    const struct ampsipc_composite_builder *);

/* Drop every part, keeping the buffer for reuse.  Cannot fail. */
AMPSIPC_API void	 ampsipc_composite_builder_reset(
			    struct ampsipc_composite_builder *);

/*
 * Release a buffer the builder allocated (never the caller's) and leave
 * the builder empty, as if initialised with a NULL buffer.  NULL is
 * allowed.
 */
AMPSIPC_API void	 ampsipc_composite_builder_free(
			    struct ampsipc_composite_builder *);

struct ampsipc_composite_parser {
	const char	*data;
	size_t		 len;
	size_t		 nparts;
	size_t		 cur;		/* part at curoff */
	size_t		 curoff;
};

/*
 * Check a composite payload of len bytes and make the parser read it.
 * data may be NULL when len is 0 (zero parts).  The parser keeps
 * pointers into data, which must outlive it and stay unchanged.
 * Returns 0, or -1: EINVAL (NULL parser, or NULL data with len > 0),
 * EBADMSG (fewer than 4 bytes left where a length is due, or a length
 * running past the end); the parser then holds zero parts.
 */
AMPSIPC_API int		 ampsipc_composite_parse(
			    struct ampsipc_composite_parser *,
			    const void *data, size_t len);

/* The number of parts of the parsed payload. */
AMPSIPC_API size_t	 ampsipc_composite_count(
			    const struct ampsipc_composite_parser *);

/*
 * Store a view of part i (counting from 0) in *part.  Reading the parts
 * in order costs O(1) each; going back rescans from the start.  Returns
 * 0, or -1: EINVAL (NULL argument), ERANGE (i is not below the count).
 */
AMPSIPC_API int		 ampsipc_composite_part(
			    struct ampsipc_composite_parser *, size_t i,
			    struct ampsipc_fmt_view *part);

/* ---------------------------------------------------------------- */
/* NVFIX                                                              */
/* ---------------------------------------------------------------- */

struct ampsipc_nvfix_builder {
	struct ampsipc_fmt_buf	 b;
	char			 sep;
};

/*
 * Prepare an NVFIX builder with no fields.  buf and size as for
 * ampsipc_composite_builder_init().  sep is the field separator; 0
 * means AMPSIPC_FMT_SOH.  Returns 0, or -1 with EINVAL (NULL builder,
 * or sep is '='); the builder is then unusable.
 */
AMPSIPC_API int		 ampsipc_nvfix_builder_init(
			    struct ampsipc_nvfix_builder *, void *buf,
			    size_t size, char sep);

/*
 * Append the field name=value followed by the separator.  The name is
 * namelen bytes, not empty, without '=' or the separator; the value is
 * valuelen bytes (value may be NULL when valuelen is 0), without the
 * separator.  Returns 0, or -1: EINVAL (NULL argument, or a name or
 * value that breaks those rules), ENOBUFS (the caller's buffer is too
 * small), ENOMEM.
 */
AMPSIPC_API int		 ampsipc_nvfix_append(
			    struct ampsipc_nvfix_builder *, const char *name,
			    size_t namelen, const char *value, size_t valuelen);

/* As ampsipc_nvfix_append() with NUL-terminated name and value. */
AMPSIPC_API int		 ampsipc_nvfix_append_str(
			    struct ampsipc_nvfix_builder *, const char *name,
			    const char *value);

/* As ampsipc_composite_data(), for the NVFIX payload built so far. */
AMPSIPC_API const char	*ampsipc_nvfix_data(
			    const struct ampsipc_nvfix_builder *,
			    size_t *lenp);

/* Drop every field, keeping the buffer and separator.  Cannot fail. */
AMPSIPC_API void	 ampsipc_nvfix_builder_reset(
			    struct ampsipc_nvfix_builder *);

/* As ampsipc_composite_builder_free(); the separator is kept. */
AMPSIPC_API void	 ampsipc_nvfix_builder_free(
			    struct ampsipc_nvfix_builder *);

struct ampsipc_nvfix_shredder {
	const char	*data;
	size_t		 len;
	size_t		 off;		/* iteration cursor */
	size_t		 nfields;
	char		 sep;
};

/*
 * Check an NVFIX payload of len bytes separated by sep (0 means
 * AMPSIPC_FMT_SOH) and make the shredder read it, from its first field.
 * The last field may lack its separator.  data may be NULL when len is
 * 0 (no fields).  The shredder keeps pointers into data, which must
 * outlive it and stay unchanged.  Returns 0, or -1: EINVAL (NULL
 * shredder, NULL data with len > 0, or sep is '='), EBADMSG (a field
 * without '=', with an empty name, or empty: two separators in a row);
 * the shredder then holds no fields.
 */
AMPSIPC_API int		 ampsipc_nvfix_shred(
			    struct ampsipc_nvfix_shredder *, const void *data,
			    size_t len, char sep);

/* The number of fields of the shredded payload. */
AMPSIPC_API size_t	 ampsipc_nvfix_count(
			    const struct ampsipc_nvfix_shredder *);

/*
 * Store views of the next field's name and value in *name and *value
 * (either may be NULL) and advance.  The value runs from after the
 * first '=' to the separator.  Returns 1, or 0 after the last field
 * (and for a NULL shredder).
 */
AMPSIPC_API int		 ampsipc_nvfix_next(
			    struct ampsipc_nvfix_shredder *,
			    struct ampsipc_fmt_view *name,
			    struct ampsipc_fmt_view *value);

/* Start the iteration of ampsipc_nvfix_next() again. */
AMPSIPC_API void	 ampsipc_nvfix_rewind(struct ampsipc_nvfix_shredder *);

/*
 * Look a field up by its name (namelen bytes, compared exactly) and
 * store a view of its value in *value (may be NULL).  If the name
 * occurs more than once the first occurrence wins.  A linear scan; the
 * iteration cursor is not moved.  Returns 0, or -1: ENOENT (no such
 * field), EINVAL (NULL shredder, or NULL name with namelen > 0).
 */
AMPSIPC_API int		 ampsipc_nvfix_get(
			    const struct ampsipc_nvfix_shredder *,
			    const char *name, size_t namelen,
			    struct ampsipc_fmt_view *value);

/* As ampsipc_nvfix_get() with a NUL-terminated name. */
AMPSIPC_API int		 ampsipc_nvfix_get_str(
			    const struct ampsipc_nvfix_shredder *,
			    const char *name, struct ampsipc_fmt_view *value);

/* ---------------------------------------------------------------- */
/* FIX                                                                */
/* ---------------------------------------------------------------- */

struct ampsipc_fix_builder {
	struct ampsipc_fmt_buf	 b;
	char			 sep;
};

/*
 * Prepare a FIX builder with no fields.  buf and size as for
 * ampsipc_composite_builder_init().  sep is the field separator; 0
 * means AMPSIPC_FMT_SOH.  Returns 0, or -1 with EINVAL (NULL builder,
 * or sep is '=' or a digit); the builder is then unusable.
 */
AMPSIPC_API int		 ampsipc_fix_builder_init(
			    struct ampsipc_fix_builder *, void *buf,
			    size_t size, char sep);

/*
 * Append the field tag=value, the tag in decimal, followed by the
 * separator.  The value is len bytes (value may be NULL when len is 0)
 * without the separator; it may hold '='.  Returns 0, or -1: EINVAL
 * (NULL builder or value, negative tag, value holding the separator),
 * ENOBUFS (the caller's buffer is too small), ENOMEM.
 */
AMPSIPC_API int		 ampsipc_fix_append(struct ampsipc_fix_builder *,
			    int tag, const char *value, size_t len);

/* As ampsipc_fix_append() with a NUL-terminated value. */
AMPSIPC_API int		 ampsipc_fix_append_str(
			    struct ampsipc_fix_builder *, int tag,
			    const char *value);

/* As ampsipc_composite_data(), for the FIX payload built so far. */
AMPSIPC_API const char	*ampsipc_fix_data(
			    const struct ampsipc_fix_builder *,
			    size_t *lenp);

/* Drop every field, keeping the buffer and separator.  Cannot fail. */
AMPSIPC_API void	 ampsipc_fix_builder_reset(
			    struct ampsipc_fix_builder *);

/* As ampsipc_composite_builder_free(); the separator is kept. */
AMPSIPC_API void	 ampsipc_fix_builder_free(struct ampsipc_fix_builder *);

struct ampsipc_fix_shredder {
	const char	*data;
	size_t		 len;
	size_t		 off;		/* iteration cursor */
	size_t		 nfields;
	char		 sep;
};

/*
 * Check a FIX payload of len bytes separated by sep (0 means
 * AMPSIPC_FMT_SOH) and make the shredder read it, from its first field.
 * The last field may lack its separator.  data may be NULL when len is
 * 0.  The shredder keeps pointers into data, which must outlive it and
 * stay unchanged.  Returns 0, or -1: EINVAL (NULL shredder, NULL data
 * with len > 0, or sep is '=' or a digit), EBADMSG (a field without
 * '=', a tag that is empty, not all digits or above INT_MAX, or an
 * empty field); the shredder then holds no fields.
 */
AMPSIPC_API int		 ampsipc_fix_shred(
			    struct ampsipc_fix_shredder *, const void *data,
			    size_t len, char sep);

/* The number of fields of the shredded payload. */
AMPSIPC_API size_t	 ampsipc_fix_count(
			    const struct ampsipc_fix_shredder *);

/*
 * Store the next field's tag in *tagp and a view of its value in *value
 * (either may be NULL) and advance.  Returns 1, or 0 after the last
 * field (and for a NULL shredder).
 */
AMPSIPC_API int		 ampsipc_fix_next(struct ampsipc_fix_shredder *,
			    int *tagp, struct ampsipc_fmt_view *value);

/* Start the iteration of ampsipc_fix_next() again. */
AMPSIPC_API void	 ampsipc_fix_rewind(struct ampsipc_fix_shredder *);

/*
 * Look a field up by tag and store a view of its value in *value (may
 * be NULL).  If the tag occurs more than once the first occurrence
 * wins; "055" and "55" are the same tag.  A linear scan; the iteration
 * cursor is not moved.  Returns 0, or -1: ENOENT (no such field),
 * EINVAL (NULL shredder).
 */
AMPSIPC_API int		 ampsipc_fix_get(
			    const struct ampsipc_fix_shredder *, int tag,
			    struct ampsipc_fmt_view *value);

#ifdef __cplusplus
}
#endif
#endif /* AMPSIPC_FORMAT_H */
