/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Bookmarks, bookmark timestamps, comma lists and the client-name hash
 * (PROTOCOL.md §8.1-8.3).
 *
 * This file owns amps_bm_classify/parse/format, amps_ts_parse/format,
 * amps_name_hash and amps_list_begin/next.  It is pure: no allocation, no
 * I/O, no locale or time-zone dependence (the civil-date arithmetic is
 * done here, not by timegm/gmtime).
 *
 * Invariants:
 *  1. Nothing reads outside s[0..len); inputs need not be NUL-terminated.
 *  2. A bookmark id is exactly "<digits>|<digits>|", both fitting uint64_t;
 *     overflow is an error, never a wrap.
 *  3. Timestamps are YYYYmmddTHHMMSS, then optionally '.' and 1..9 digits
 *     (kept to microseconds, extra digits truncated), then optionally 'Z';
 *     year 0000..9999 of the proleptic Gregorian calendar, UTC, no leap
 *     seconds.  amps_ts_format(amps_ts_parse(x)) is the canonical
 *     YYYYmmddTHHMMSS.ffffffZ form, and parse(format(t)) == t for every t
 *     in that range.
 *  4. Only EPOCH, NOW, ids and timestamps may appear inside lists and
 *     ranges; MOST_RECENT ("recent") is a client-side token that replaces
 *     a whole bookmark and is valid only on its own.
 *  5. Formatters are snprintf-like: they return the full length, write at
 *     most cap bytes and NUL-terminate when cap > 0.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "amps.h"

/* Microseconds per day. */
#define USEC_PER_DAY	(86400LL * 1000000LL)

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds. */
#define TS_USEC_MIN	(-62167219200000000LL)
#define TS_USEC_MAX	(253402300799999999LL)

/* Days before each month, for a year starting on March 1st. */
static const int march_days[12] = {
	0, 31, 61, 92, 122, 153, 184, 214, 245, 275, 306, 337
};

/*
 * Parse decimal digits s[0..len) into *out; 0, or -1 when empty, not a
 * digit, or above UINT64_MAX.
 */
static int
bm_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t	n = 0;
	size_t		i;
	unsigned	d;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		d = (unsigned)(s[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return (-1);
		n = n * 10 + d;
	}
	*out = n;
	return (0);
}

/*
 * Parse exactly "<pub>|<seq>|": two unsigned 64-bit decimals, each
 * followed by '|'.  Either output pointer may be NULL.  Returns 0 or
 * AMPS_E_BOOKMARK.
 */
int
amps_bm_parse(const char *s, size_t len, uint64_t *pub, uint64_t *seq)
{
	const char	*bar1, *bar2;
	uint64_t	 p, q;

	if (s == NULL || len < 4 || s[len - 1] != '|')
		return (AMPS_E_BOOKMARK);
	if ((bar1 = memchr(s, '|', len)) == NULL)
		return (AMPS_E_BOOKMARK);
	bar2 = s + len - 1;
	if (bar1 == bar2)
		return (AMPS_E_BOOKMARK);
	if (bm_u64(s, bar1 - s, &p) != 0 ||
	    bm_u64(bar1 + 1, bar2 - bar1 - 1, &q) != 0)
		return (AMPS_E_BOOKMARK);
	if (pub != NULL)
		*pub = p;
	if (seq != NULL)
		*seq = q;
	return (0);
}

/*
 * Format "<pub>|<seq>|" into out[0..cap); returns the full length.
 */
int
amps_bm_format(char *out, size_t cap, uint64_t pub, uint64_t seq)
{
	char	tmp[48], d[20];
	size_t	i;
	int	n = 0, k;

	/* Digits by hand: this runs for every logged message (no snprintf). */
	for (k = 0; k < 2; k++) {
		i = sizeof d;
		do {
			d[--i] = (char)('0' + pub % 10);
			pub /= 10;
		} while (pub != 0);
		memcpy(tmp + n, d + i, sizeof d - i);
		n += (int)(sizeof d - i);
		tmp[n++] = '|';
		pub = seq;
	}
	tmp[n] = '\0';
	if (cap > 0) {
		if ((size_t)n < cap)
			memcpy(out, tmp, (size_t)n + 1);
		else {
			memcpy(out, tmp, cap - 1);
			out[cap - 1] = '\0';
		}
	}
	return (n);
}

/*
 * Floor division of a by a positive b.
 */
static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	if ((a % b) != 0 && a < 0)
		q--;
	return (q);
}

/*
 * True when y is a Gregorian leap year.
 */
static int
is_leap(int64_t y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

/*
 * Days in month m (1..12) of year y.
 */
static int
month_days(int64_t y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && is_leap(y))
		return (29);
	return (days[m - 1]);
}

/*
 * Days from 1970-01-01 to y-m-d (proleptic Gregorian).  Counting years
 * from March 1st puts the leap day last, so the day of the year does not
 * depend on whether the year is a leap year.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	yy, days;
	int	mi;

	yy = (m <= 2) ? y - 1 : y;	/* the March-based year */
	mi = (m <= 2) ? m + 9 : m - 3;	/* 0 = March ... 11 = February */
	days = 365 * yy + floordiv(yy, 4) - floordiv(yy, 100) +
	    floordiv(yy, 400) + march_days[mi] + (d - 1);
	/* 719468 = the value above for 1970-01-01. */
	return (days - 719468);
}

/*
 * The inverse of days_from_civil: split days since 1970-01-01 into a
 * year, month (1..12) and day (1..31).  Peels whole 400-, 100-, 4- and
 * 1-year blocks off a count that starts at 0000-03-01.
 */
static void
civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t	z, n400, n100, n4, n1, r;
	int	mi;

	z = days + 719468;
	n400 = floordiv(z, 146097);
	r = z - n400 * 146097;		/* 0 .. 146096 */
	n100 = r / 36524;
	if (n100 == 4)			/* the leap day ending a 400 cycle */
		n100 = 3;
	r -= n100 * 36524;
	n4 = r / 1461;
	r -= n4 * 1461;
	n1 = r / 365;
	if (n1 == 4)			/* the leap day ending a 4 cycle */
		n1 = 3;
	r -= n1 * 365;			/* day of the March-based year */
	for (mi = 11; mi > 0 && march_days[mi] > r; mi--)
		/* nothing */;
	*y = 400 * n400 + 100 * n100 + 4 * n4 + n1;
	*d = (int)(r - march_days[mi]) + 1;
	if (mi >= 10) {
		*m = mi - 9;
		(*y)++;
	} else
		*m = mi + 3;
}

/*
 * Read n decimal digits at s into *out; -1 when one is not a digit.
 */
static int
ts_digits(const char *s, int n, int *out)
{
	int	i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (0);
}

/*
 * Parse a bookmark timestamp (see invariant 3) into microseconds since
 * 1970-01-01T00:00:00Z.  usec may be NULL (validation only).  Returns 0
 * or AMPS_E_BOOKMARK.
 */
int
amps_ts_parse(const char *s, size_t len, int64_t *usec)
{
	int	 year, mon, day, hh, mm, ss, frac = 0, ndig = 0;
	size_t	 i;
	int64_t	 t;

	if (s == NULL || len < 15 || s[8] != 'T')
		return (AMPS_E_BOOKMARK);
	if (ts_digits(s, 4, &year) != 0 || ts_digits(s + 4, 2, &mon) != 0 ||
	    ts_digits(s + 6, 2, &day) != 0 || ts_digits(s + 9, 2, &hh) != 0 ||
	    ts_digits(s + 11, 2, &mm) != 0 || ts_digits(s + 13, 2, &ss) != 0)
		return (AMPS_E_BOOKMARK);
	if (mon < 1 || mon > 12 || day < 1 || day > month_days(year, mon) ||
	    hh > 23 || mm > 59 || ss > 59)
		return (AMPS_E_BOOKMARK);
	i = 15;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (++ndig > 9)
				return (AMPS_E_BOOKMARK);
			if (ndig <= 6)
				frac = frac * 10 + (s[i] - '0');
		}
		if (ndig == 0)
			return (AMPS_E_BOOKMARK);
		for (; ndig < 6; ndig++)
			frac *= 10;
	}
	if (i < len && s[i] == 'Z')
		i++;
	if (i != len)
		return (AMPS_E_BOOKMARK);
	t = days_from_civil(year, mon, day) * USEC_PER_DAY +
	    ((int64_t)hh * 3600 + mm * 60 + ss) * 1000000 + frac;
	if (usec != NULL)
		*usec = t;
	return (0);
}

/*
 * Format usec (microseconds since the Unix epoch) as
 * YYYYmmddTHHMMSS.ffffffZ into out[0..cap).  Returns 23 (the length), or
 * AMPS_E_RANGE when the year is outside 0000..9999.
 */
int
amps_ts_format(char *out, size_t cap, int64_t usec)
{
	char	tmp[32];
	int64_t	days, rem, y;
	int	m, d, n;

	if (usec < TS_USEC_MIN || usec > TS_USEC_MAX)
		return (AMPS_E_RANGE);
	days = floordiv(usec, USEC_PER_DAY);
	rem = usec - days * USEC_PER_DAY;
	civil_from_days(days, &y, &m, &d);
	n = snprintf(tmp, sizeof tmp, "%04d%02d%02dT%02d%02d%02d.%06dZ",
	    (int)y, m, d, (int)(rem / 3600000000LL),
	    (int)(rem / 60000000 % 60), (int)(rem / 1000000 % 60),
	    (int)(rem % 1000000));
	if (cap > 0) {
		if ((size_t)n < cap)
			memcpy(out, tmp, (size_t)n + 1);
		else {
			memcpy(out, tmp, cap - 1);
			out[cap - 1] = '\0';
		}
	}
	return (n);
}

/*
 * 64-bit FNV-1a of name[0..len).
 */
uint64_t
amps_name_hash(const char *name, size_t len)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 1099511628211ULL;
	}
	return (h);
}

/*
 * Start iterating the comma list s[0..len).
 */
void
amps_list_begin(struct amps_list_iter *it, const char *s, size_t len)
{
	it->p = s;
	it->end = s + len;
}

/*
 * Return the next non-empty item of the list with spaces and tabs
 * trimmed: 1 with *item and *len set, or 0 at the end.
 */
int
amps_list_next(struct amps_list_iter *it, const char **item, size_t *len)
{
	const char	*b, *e, *comma;

	while (it->p != NULL && it->p < it->end) {
		if ((comma = memchr(it->p, ',', it->end - it->p)) == NULL)
			comma = it->end;
		b = it->p;
		e = comma;
		it->p = (comma == it->end) ? it->end : comma + 1;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (b == e)
			continue;
		*item = b;
		*len = (size_t)(e - b);
		return (1);
	}
	return (0);
}

/*
 * Classify one bookmark that is not a list or a range.
 */
static enum amps_bm_kind
bm_classify1(const char *s, size_t len)
{
	if (len == 1 && s[0] == '0')
		return (AMPS_BM_EPOCH);
	if (len == 4 && memcmp(s, AMPS_BOOKMARK_NOW, 4) == 0)
		return (AMPS_BM_NOW);
	if (len == 6 && memcmp(s, AMPS_BOOKMARK_MOST_RECENT, 6) == 0)
		return (AMPS_BM_MOST_RECENT);
	if (amps_bm_parse(s, len, NULL, NULL) == 0)
		return (AMPS_BM_ID);
	if (amps_ts_parse(s, len, NULL) == 0)
		return (AMPS_BM_TIMESTAMP);
	return (AMPS_BM_INVALID);
}

/*
 * Classify a comma list of single bookmarks.  Returns the kind of the
 * only item, AMPS_BM_LIST for several, AMPS_BM_INVALID if any item is
 * bad (or MOST_RECENT) or there are none.
 */
static enum amps_bm_kind
bm_classify_list(const char *s, size_t len)
{
	struct amps_list_iter	 it;
	const char		*item;
	size_t			 ilen, n = 0;
	enum amps_bm_kind	 k, first = AMPS_BM_INVALID;

	amps_list_begin(&it, s, len);
	while (amps_list_next(&it, &item, &ilen) == 1) {
		k = bm_classify1(item, ilen);
		if (k == AMPS_BM_INVALID || k == AMPS_BM_MOST_RECENT)
			return (AMPS_BM_INVALID);
		if (n++ == 0)
			first = k;
	}
	if (n > 1)
		return (AMPS_BM_LIST);
	return (first);
}

/*
 * Classify s[0..len): a special value, an id, a timestamp, a comma list
 * of those (AMPS_BM_LIST when it has more than one item), or a range
 * "[" or "(", begin list, ":", end list, "]" or ")" (§8.3).
 */
enum amps_bm_kind
amps_bm_classify(const char *s, size_t len)
{
	const char	*colon;

	if (s == NULL || len == 0)
		return (AMPS_BM_INVALID);
	if (s[0] == '[' || s[0] == '(') {
		if (len < 2 || (s[len - 1] != ']' && s[len - 1] != ')'))
			return (AMPS_BM_INVALID);
		s++;
		len -= 2;
		if ((colon = memchr(s, ':', len)) == NULL ||
		    memchr(colon + 1, ':', len - (colon + 1 - s)) != NULL)
			return (AMPS_BM_INVALID);
		if (bm_classify_list(s, colon - s) == AMPS_BM_INVALID ||
		    bm_classify_list(colon + 1, len - (colon + 1 - s)) ==
		    AMPS_BM_INVALID)
			return (AMPS_BM_INVALID);
		return (AMPS_BM_RANGE);
	}
	if (memchr(s, ',', len) == NULL)
		return (bm_classify1(s, len));
	return (bm_classify_list(s, len));
}
