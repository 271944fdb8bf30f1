/* urlenc.c — application/x-www-form-urlencoded parsing (WHATWG) with hard limits. */
#include "urlenc.h"

#include <stdint.h>
#include <string.h>

/* Longest parameter name urlenc_name_ok accepts, in bytes. Form field names are chosen by
 * us (t_total, pri_students, ...), so anything longer is noise or an attack. */
#define URLENC_NAME_MAX 128

/* The UTF-8 encoding of U+FFFD REPLACEMENT CHARACTER. */
static const unsigned char utf8_replacement[3] = {0xEF, 0xBF, 0xBD};

/* Return the value of the ASCII hex digit `c`, or -1 when it is not one. */
static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read one byte of the percent-decoded form of in[i..len) into *b: "%XX" with two hex digits
 * becomes that byte, any other '%' stays itself, and when `plus` is set '+' becomes a space.
 * Returns the number of input bytes used (1 or 3); i must be below len. */
static size_t pct_byte(const char *in, size_t len, size_t i, bool plus, unsigned char *b)
{
	unsigned char c = (unsigned char)in[i];

	if (c == '%' && len - i >= 3) {
		int hi = hex_value((unsigned char)in[i + 1]);
		int lo = hex_value((unsigned char)in[i + 2]);
		if (hi >= 0 && lo >= 0) {
			*b = (unsigned char)(hi << 4 | lo);
			return 3;
		}
	}
	*b = (plus && c == '+') ? ' ' : c;
	return 1;
}

/* Classify the UTF-8 lead byte `c` (not ASCII): return how many continuation bytes follow it
 * and set the allowed range of the first of them (which excludes overlongs, surrogates and
 * code points past U+10FFFF), or return 0 when `c` cannot start a sequence. These are the
 * bounds of the WHATWG Encoding Standard's UTF-8 decoder. */
static size_t utf8_lead(unsigned char c, unsigned char *lower, unsigned char *upper)
{
	*lower = 0x80;
	*upper = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		return 1;
	if (c >= 0xE0 && c <= 0xEF) {
		if (c == 0xE0)
			*lower = 0xA0;
		else if (c == 0xED)
			*upper = 0x9F;
		return 2;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (c == 0xF0)
			*lower = 0x90;
		else if (c == 0xF4)
			*upper = 0x8F;
		return 3;
	}
	return 0;
}

/* Append `n` bytes of `s` at out[*o] and advance *o; with out NULL only count them. */
static void put_bytes(char *out, size_t *o, const unsigned char *s, size_t n)
{
	if (out)
		memcpy(out + *o, s, n);
	*o += n;
}

/* Decode one name or value: '+' to space, percent-decode, then "UTF-8 decode without BOM"
 * re-encoded as UTF-8, each maximal invalid subpart becoming U+FFFD. With out NULL nothing is
 * written and only the decoded length is computed; otherwise out must hold that many bytes.
 * The output is at most three bytes per input byte. Returns the decoded length. */
static size_t form_decode(const char *in, size_t len, char *out)
{
	unsigned char seq[4];
	unsigned char lower = 0x80, upper = 0xBF;
	size_t need = 0, seen = 0;
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char b;
		size_t step = pct_byte(in, len, i, true, &b);

		if (need == 0) {
			i += step;
			if (b < 0x80) {
				put_bytes(out, &o, &b, 1);
				continue;
			}
			need = utf8_lead(b, &lower, &upper);
			if (need == 0) {
				put_bytes(out, &o, utf8_replacement, 3);
				continue;
			}
			seq[0] = b;
			seen = 0;
			continue;
		}
		if (b < lower || b > upper) {
			/* Replace the incomplete sequence and look at this byte afresh
			 * (i is not advanced). */
			need = 0;
			put_bytes(out, &o, utf8_replacement, 3);
			continue;
		}
		i += step;
		lower = 0x80;
		upper = 0xBF;
		seq[++seen] = b;
		if (seen == need) {
			put_bytes(out, &o, seq, need + 1);
			need = 0;
		}
	}
	if (need)
		put_bytes(out, &o, utf8_replacement, 3);
	return o;
}

/* Parse a urlencoded byte string into name/value pairs (see urlenc.h). The field count is
 * checked before anything is decoded, then name and value limits field by field, each before
 * its copy is allocated. A NULL `lim` means no limits. On failure *out is NULL and *n is 0;
 * arena memory already handed out stays with the arena. With no fields *out is NULL. */
enum urlenc_status urlenc_parse(struct arena *a, const char *in, size_t len,
                                const struct urlenc_limits *lim, struct http_param **out, size_t *n)
{
	size_t max_fields = lim ? lim->max_fields : 0;
	size_t max_name = lim ? lim->max_name : 0;
	size_t max_value = lim ? lim->max_value : 0;
	struct http_param *params;
	size_t count = 0, k = 0, pos;

	*out = NULL;
	*n = 0;
	if (len == 0)
		return URLENC_OK;
	/* Decoding can triple the size; refuse inputs whose sizes would overflow. */
	if (len > SIZE_MAX / 4)
		return URLENC_VALUE_TOO_LONG;

	for (pos = 0; pos < len;) {
		const char *amp = memchr(in + pos, '&', len - pos);
		size_t end = amp ? (size_t)(amp - in) : len;
		if (end > pos)
			count++;
		pos = end + 1;
	}
	if (max_fields && count > max_fields)
		return URLENC_TOO_MANY_FIELDS;
	if (count == 0)
		return URLENC_OK;
	if (count > SIZE_MAX / sizeof(*params))
		return URLENC_TOO_MANY_FIELDS;
	params = arena_alloc(a, count * sizeof(*params));

	for (pos = 0; pos < len;) {
		const char *amp = memchr(in + pos, '&', len - pos);
		size_t end = amp ? (size_t)(amp - in) : len;
		const char *seq = in + pos;
		size_t seq_len = end - pos;
		pos = end + 1;
		if (seq_len == 0)
			continue;

		const char *eq = memchr(seq, '=', seq_len);
		size_t name_raw = eq ? (size_t)(eq - seq) : seq_len;
		const char *val = eq ? eq + 1 : seq + seq_len;
		size_t val_raw = eq ? seq_len - name_raw - 1 : 0;

		size_t name_len = form_decode(seq, name_raw, NULL);
		if (max_name && name_len > max_name)
			return URLENC_NAME_TOO_LONG;
		size_t value_len = form_decode(val, val_raw, NULL);
		if (max_value && value_len > max_value)
			return URLENC_VALUE_TOO_LONG;

		/* One allocation holds "name\0value\0"; arena_alloc zero-fills. */
		char *mem = arena_alloc(a, name_len + value_len + 2);
		form_decode(seq, name_raw, mem);
		form_decode(val, val_raw, mem + name_len + 1);
		params[k].name = mem;
		params[k].name_len = name_len;
		params[k].value = mem + name_len + 1;
		params[k].value_len = value_len;
		k++;
	}
	*out = params;
	*n = k;
	return URLENC_OK;
}

/* Percent-decode in[0..len) into a NUL-terminated arena copy; '+' stays '+', invalid escapes
 * stay literal and the bytes are not checked as UTF-8. Stores the decoded length (which
 * excludes the NUL and may count embedded NULs) in *outlen unless it is NULL. */
char *urlenc_percent_decode(struct arena *a, const char *in, size_t len, size_t *outlen)
{
	char *out = arena_alloc(a, len + 1);
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char b;
		i += pct_byte(in, len, i, false, &b);
		out[o++] = (char)b;
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

/* Accept 1..URLENC_NAME_MAX (128) bytes drawn only from [A-Za-z0-9_.-]. */
bool urlenc_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > URLENC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* Reject NUL, C0 controls other than tab (and CR/LF unless allow_newlines) and DEL; bytes
 * from 0x80 up belong to multi-byte UTF-8 characters and are accepted. */
bool urlenc_value_ok(const char *value, size_t len, bool allow_newlines)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c == 0x7F)
			return false;
		if (c >= 0x20 || c == '\t')
			continue;
		if ((c == '\r' || c == '\n') && allow_newlines)
			continue;
		return false;
	}
	return true;
}

/* Check s[0..len) against the UTF-8 well-formedness table (Unicode 3.9 table 3-7). */
bool urlenc_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char lower, upper;
		size_t need;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		need = utf8_lead(p[i], &lower, &upper);
		if (need == 0 || len - i - 1 < need)
			return false;
		if (p[i + 1] < lower || p[i + 1] > upper)
			return false;
		for (size_t k = 2; k <= need; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
		}
		i += need + 1;
	}
	return true;
}
