/* number.h — normalising numbers as people type them (full-width digits, separators, spaces). */
#ifndef TB_NUMBER_H
#define TB_NUMBER_H

#include <stddef.h>

/* Outcome of num_normalize. */
enum num_status {
	NUM_OK,
	NUM_EMPTY,             /* nothing but spaces */
	NUM_BAD,               /* not a number we accept */
	NUM_NEGATIVE,          /* a well-formed number with a leading minus */
	NUM_TOO_MANY_DECIMALS, /* more decimal places than the field allows */
	NUM_TOO_LARGE,         /* more than NUM_MAX_DIGITS significant digits, or > NUM_MAX_VALUE */
};

#define NUM_MAX_DIGITS 15   /* significant digits (exact in a double) */
#define NUM_MAX_VALUE 1e12  /* largest accepted value */
#define NUM_MAX_DECIMALS 15 /* larger `decimals` arguments are treated as this */
#define NUM_OUT_SIZE 24     /* an `out` buffer of this size always suffices */
#define NUM_MESSAGE_SIZE 64 /* a `buf` of this size always holds a message */

/* Normalise `in` (UTF-8, NULL counts as empty) for a field with `decimals`
 * allowed places (0 = integer; negative counts as 0) into canonical ASCII in
 * `out` and its value in `*value` (either may be omitted: out NULL with outlen
 * 0, value NULL).
 *
 * Canonical form: digits, at most one '.', no leading zeros except the single
 * "0" before the point ("0.5"), no trailing zeros after the point and no point
 * without decimals ("12.50" -> "12.5", "12.0" -> "12"), "0" for zero.
 *
 * Accepted:
 *   - surrounding ASCII space, tab, CR and LF, U+3000 (ideographic space) and
 *     U+00A0 (no-break space), in any mix;
 *   - ASCII digits and full-width digits U+FF10..U+FF19, in any mix;
 *   - thousands separators ',' and U+FF0C '，' in the integer part only, in
 *     correct groups: a first group of 1..3 digits not starting with 0, then
 *     groups of exactly 3 ("1,234", "12,345,678"; "12,34", "1,2345", "0,123"
 *     and "1,234.567,8" are NUM_BAD);
 *   - a decimal point '.' or U+FF0E '．' with digits on at least one side
 *     (".5" is 0.5 and "5." is 5; "." alone is NUM_BAD).
 *     Trailing zeros after the point do not count as decimals: "12.0" and
 *     "12." are 12 in an integer field, "3.140" fits 2 decimals; any other
 *     digit after the point beyond `decimals` is NUM_TOO_MANY_DECIMALS (so
 *     "12.5" in an integer field is NUM_TOO_MANY_DECIMALS).
 * Rejected:
 *   - NUM_EMPTY: NULL, "" or only the spaces above;
 *   - NUM_BAD: invalid UTF-8, letters or any other character, '+', a second
 *     point, the ideographic full stop U+3002 '。', spaces inside the number
 *     ("1 234"), a misplaced separator, a minus anywhere but first;
 *   - NUM_NEGATIVE: an otherwise acceptable number led by '-', U+FF0D '－' or
 *     U+2212 '−' (also "-0");
 *   - NUM_TOO_MANY_DECIMALS: see above;
 *   - NUM_TOO_LARGE: more than NUM_MAX_DIGITS significant digits (leading
 *     zeros and trailing zeros after the point do not count) or a value above
 *     NUM_MAX_VALUE.
 * The first of BAD, NEGATIVE, TOO_MANY_DECIMALS, TOO_LARGE that applies wins.
 * `*value` is the correctly rounded double of the canonical text (as strtod
 * would give, independent of the locale). When the status is not NUM_OK,
 * out is "" and *value is 0. When outlen is non-zero but smaller than the
 * canonical text needs (never with NUM_OUT_SIZE), the result is NUM_BAD.
 * Pure: no allocation, no I/O. */
enum num_status num_normalize(const char *in, int decimals, char *out, size_t outlen,
                              double *value);

/* A short Chinese message for a status, written into buf (truncated at a
 * character boundary if buflen is too small) and returned: "" for NUM_OK,
 * "请填写数字" (empty), "请输入数字" (bad), "不能为负数" (negative),
 * "最多 N 位小数" or, when decimals is 0, "只能填写整数" (too many decimals),
 * "数值过大" (too large). buf must not be NULL unless buflen is 0, in which
 * case a static "" is returned. */
const char *num_message(enum num_status st, int decimals, char *buf, size_t buflen);

#endif
