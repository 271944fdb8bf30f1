/* number.c — normalising numbers as people type them (full-width digits, separators, spaces). */
#include "number.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decode the UTF-8 character at s[*i] (s has `len` bytes) and advance *i.
 * Returns the code point, or -1 for malformed input (bad lead or continuation
 * byte, truncated sequence, overlong form, surrogate, above U+10FFFF). */
static int32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	if (c < 0x80) {
		(*i)++;
		return c;
	}
	size_t n;
	int32_t cp, min;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return -1;
	}
	if (len - *i < n)
		return -1;
	for (size_t k = 1; k < n; k++) {
		unsigned char cc = s[*i + k];
		if ((cc & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (cc & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*i += n;
	return cp;
}

/* Spaces allowed around a number: space, tab, CR, LF, U+00A0, U+3000. */
static bool is_space_cp(int32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0x00A0 || cp == 0x3000;
}

/* The digit value of an ASCII or full-width digit, or -1. */
static int digit_of(int32_t cp)
{
	if (cp >= '0' && cp <= '9')
		return cp - '0';
	if (cp >= 0xFF10 && cp <= 0xFF19)
		return cp - 0xFF10;
	return -1;
}

/* Powers of ten up to 10^15, all exact in a double. */
static const double pow10_table[NUM_MAX_DECIMALS + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
};

/* What the scanner collected from the number's body. */
struct num_scan {
	bool negative;
	bool point;
	size_t int_digits; /* integer digits seen, leading zeros included */
	size_t int_sig;    /* integer digits after the leading zeros */
	char int_buf[NUM_MAX_DIGITS + 1];
	size_t frac_digits; /* fraction digits seen */
	size_t frac_sig;    /* fraction digits up to the last non-zero one */
	char frac_buf[NUM_MAX_DECIMALS + 1];
	bool separators;       /* a thousands separator was seen */
	size_t group_len;      /* digits in the current integer group */
	bool first_group;      /* still in the first group */
	bool first_group_zero; /* the first group starts with 0 */
};

/* Take one integer-part digit. */
static void scan_int_digit(struct num_scan *sc, int d)
{
	if (sc->group_len == 0 && sc->first_group)
		sc->first_group_zero = d == 0;
	sc->group_len++;
	sc->int_digits++;
	if (sc->int_sig == 0 && d == 0)
		return;
	if (sc->int_sig < NUM_MAX_DIGITS)
		sc->int_buf[sc->int_sig] = (char)('0' + d);
	sc->int_sig++;
}

/* Take one fraction digit. */
static void scan_frac_digit(struct num_scan *sc, int d)
{
	if (sc->frac_digits < NUM_MAX_DECIMALS)
		sc->frac_buf[sc->frac_digits] = (char)('0' + d);
	sc->frac_digits++;
	if (d != 0)
		sc->frac_sig = sc->frac_digits;
}

/* A thousands separator: false when it is misplaced. */
static bool scan_separator(struct num_scan *sc)
{
	if (sc->point || sc->group_len == 0)
		return false;
	if (sc->first_group) {
		if (sc->group_len > 3 || sc->first_group_zero)
			return false;
	} else if (sc->group_len != 3) {
		return false;
	}
	sc->separators = true;
	sc->first_group = false;
	sc->group_len = 0;
	return true;
}

/* Scan bytes [b, e) of s, already trimmed of surrounding spaces, into sc.
 * Returns false when the text is not a number we accept (NUM_BAD). */
static bool scan_body(const unsigned char *s, size_t b, size_t e, struct num_scan *sc)
{
	size_t i = b;
	bool first = true;
	sc->first_group = true;
	while (i < e) {
		int32_t cp = utf8_next(s, e, &i);
		if (cp < 0)
			return false;
		int d = digit_of(cp);
		if (d >= 0) {
			if (sc->point)
				scan_frac_digit(sc, d);
			else
				scan_int_digit(sc, d);
		} else if (cp == ',' || cp == 0xFF0C) {
			if (!scan_separator(sc))
				return false;
		} else if (cp == '.' || cp == 0xFF0E) {
			if (sc->point)
				return false;
			if (sc->separators && sc->group_len != 3)
				return false;
			sc->point = true;
		} else if (first && (cp == '-' || cp == 0xFF0D || cp == 0x2212)) {
			sc->negative = true;
		} else {
			return false;
		}
		first = false;
	}
	if (sc->int_digits + sc->frac_digits == 0)
		return false;
	/* A separator needs a full last group before the point or the end. */
	if (sc->separators && !sc->point && sc->group_len != 3)
		return false;
	return true;
}

/* Store "" / 0 for a failed normalisation and return st. */
static enum num_status num_fail(enum num_status st, char *out, size_t outlen, double *value)
{
	if (out && outlen)
		out[0] = '\0';
	if (value)
		*value = 0;
	return st;
}

/* Normalise a number as typed (see number.h for the accepted forms). */
enum num_status num_normalize(const char *in, int decimals, char *out, size_t outlen, double *value)
{
	if (decimals < 0)
		decimals = 0;
	if (decimals > NUM_MAX_DECIMALS)
		decimals = NUM_MAX_DECIMALS;
	if (!in)
		return num_fail(NUM_EMPTY, out, outlen, value);
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strlen(in);

	/* Validate and trim: find the first and last non-space characters. */
	size_t b = len, e = 0, i = 0;
	while (i < len) {
		size_t at = i;
		int32_t cp = utf8_next(s, len, &i);
		if (cp < 0)
			return num_fail(NUM_BAD, out, outlen, value);
		if (is_space_cp(cp))
			continue;
		if (b == len)
			b = at;
		e = i;
	}
	if (b == len)
		return num_fail(NUM_EMPTY, out, outlen, value);

	struct num_scan sc;
	memset(&sc, 0, sizeof(sc));
	if (!scan_body(s, b, e, &sc))
		return num_fail(NUM_BAD, out, outlen, value);
	if (sc.negative)
		return num_fail(NUM_NEGATIVE, out, outlen, value);
	if (sc.frac_sig > (size_t)decimals)
		return num_fail(NUM_TOO_MANY_DECIMALS, out, outlen, value);

	/* Significant digits of the canonical mantissa. */
	size_t frac_lead = 0;
	if (sc.int_sig == 0)
		while (frac_lead < sc.frac_sig && sc.frac_buf[frac_lead] == '0')
			frac_lead++;
	size_t sig = sc.int_sig + sc.frac_sig - frac_lead;
	if (sig > NUM_MAX_DIGITS)
		return num_fail(NUM_TOO_LARGE, out, outlen, value);

	uint64_t mant = 0;
	for (size_t k = 0; k < sc.int_sig; k++)
		mant = mant * 10 + (uint64_t)(sc.int_buf[k] - '0');
	for (size_t k = 0; k < sc.frac_sig; k++)
		mant = mant * 10 + (uint64_t)(sc.frac_buf[k] - '0');
	/* mant < 10^15 < 2^53 and 10^frac_sig are exact: one correctly rounded division. */
	double v = (double)mant / pow10_table[sc.frac_sig];
	if (v > NUM_MAX_VALUE)
		return num_fail(NUM_TOO_LARGE, out, outlen, value);

	if (out && outlen) {
		char tmp[NUM_OUT_SIZE];
		size_t n = 0;
		if (sc.int_sig == 0) {
			tmp[n++] = '0';
		} else {
			memcpy(tmp + n, sc.int_buf, sc.int_sig);
			n += sc.int_sig;
		}
		if (sc.frac_sig) {
			tmp[n++] = '.';
			memcpy(tmp + n, sc.frac_buf, sc.frac_sig);
			n += sc.frac_sig;
		}
		if (n + 1 > outlen)
			return num_fail(NUM_BAD, out, outlen, value);
		memcpy(out, tmp, n);
		out[n] = '\0';
	}
	if (value)
		*value = v;
	return NUM_OK;
}

/* Copy the NUL-terminated UTF-8 string src into buf, cutting it at a
 * character boundary when it does not fit. */
static void copy_utf8(char *buf, size_t buflen, const char *src)
{
	size_t n = strlen(src);
	if (n >= buflen) {
		n = buflen - 1;
		/* Back up over a partial character: continuation bytes, then its lead. */
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf, src, n);
	buf[n] = '\0';
}

/* Write the Chinese message for `st` into buf and return buf. */
const char *num_message(enum num_status st, int decimals, char *buf, size_t buflen)
{
	if (!buf || buflen == 0)
		return "";
	char tmp[NUM_MESSAGE_SIZE];
	const char *msg = "";
	switch (st) {
	case NUM_OK:
		msg = "";
		break;
	case NUM_EMPTY:
		msg = "请填写数字";
		break;
	case NUM_BAD:
		msg = "请输入数字";
		break;
	case NUM_NEGATIVE:
		msg = "不能为负数";
		break;
	case NUM_TOO_MANY_DECIMALS:
		if (decimals <= 0) {
			msg = "只能填写整数";
		} else {
			snprintf(tmp, sizeof(tmp), "最多 %d 位小数",
			         decimals > NUM_MAX_DECIMALS ? NUM_MAX_DECIMALS : decimals);
			msg = tmp;
		}
		break;
	case NUM_TOO_LARGE:
		msg = "数值过大";
		break;
	default:
		msg = "请输入数字";
		break;
	}
	copy_utf8(buf, buflen, msg);
	return buf;
}
