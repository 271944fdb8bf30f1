/* expr.c — recursive-descent parser to postfix code, and its stack evaluator. */
#include "expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Operations of the postfix code. */
enum expr_op {
	OP_NUM,  /* push num */
	OP_SLOT, /* push field arg */
	OP_NEG,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_AND,
	OP_OR,
	OP_NOT,
	OP_SUM, /* arg = argument count */
	OP_MIN,
	OP_MAX,
	OP_ABS,
	OP_CEIL,
};

/* One instruction: 16 bytes. */
struct expr_code {
	double num;
	int32_t arg;
	uint8_t op;
};

/* The compiled expression: one arena block holding the header, the code and
 * the distinct slots (after the code). */
struct expr {
	uint16_t n;      /* instructions in code[] */
	uint16_t nslots; /* distinct slots, stored after code[] */
	bool boolean;
	const int *slots;
	struct expr_code code[];
};

/* Token kinds. Single-character operators use the character itself. */
enum tok_kind {
	T_END = 0,
	T_NUM = 256,
	T_NAME,
	T_EQ,
	T_NE,
	T_LE,
	T_GE,
	T_AND,
	T_OR,
	T_NOT,
};

/* One token of the source. */
struct token {
	int kind;
	size_t pos; /* byte offset of the first character */
	size_t len;
	double num;
};

/* Parser state; everything is built here and copied to the arena at the end. */
struct parser {
	const char *src;
	size_t srclen;
	size_t pos; /* byte offset of the next unread character */
	struct token tok;
	int depth;
	bool failed;
	char *err;
	size_t errlen;
	expr_resolve_fn resolve;
	void *rctx;
	size_t n;
	struct expr_code code[EXPR_MAX_NODES];
	size_t nslots;
	int slots[EXPR_MAX_NODES];
};

/* 1-based column of byte offset `off`, counting UTF-8 characters. */
static size_t column_of(const char *s, size_t off)
{
	size_t col = 1;
	for (size_t i = 0; i < off; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			col++;
	return col;
}

/* Record the first error at byte offset `off` ("column N: message"). */
__attribute__((format(printf, 3, 4))) static void fail_at(struct parser *p, size_t off,
                                                          const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	if (!p->err || p->errlen == 0)
		return;
	int k = snprintf(p->err, p->errlen, "column %zu: ", column_of(p->src, off));
	if (k < 0 || (size_t)k >= p->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
	va_end(ap);
}

/* Character classes of the lexer (ASCII only). */
static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Letters, digits and '_' (what a name or a malformed number runs over). */
static bool is_word(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Length of the UTF-8 character at s (1..4), or 0 when it is malformed. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Read a number token at p->pos: digits, optionally '.' and digits, or '.'
 * and digits. Anything glued to it (letters, a second '.') is an error. */
static void lex_number(struct parser *p, struct token *t)
{
	const char *s = p->src;
	size_t i = p->pos;
	while (is_digit(s[i]))
		i++;
	if (s[i] == '.') {
		i++;
		size_t frac = i;
		while (is_digit(s[i]))
			i++;
		if (i == frac) {
			fail_at(p, p->pos, "malformed number '%.*s' (write 5 or 5.0, not 5.)",
			        (int)(i - p->pos), s + p->pos);
			return;
		}
	}
	if (is_word(s[i]) || s[i] == '.') {
		size_t j = i;
		while (is_word(s[j]) || s[j] == '.')
			j++;
		size_t shown = j - p->pos > 64 ? 64 : j - p->pos;
		fail_at(p, p->pos, "malformed number '%.*s'", (int)shown, s + p->pos);
		return;
	}
	/* Only digits and one '.' remain, so strtod (C locale) reads exactly this. */
	char *end = NULL;
	double v = strtod(s + p->pos, &end);
	if (end != s + i) {
		fail_at(p, p->pos, "malformed number");
		return;
	}
	if (!isfinite(v)) {
		fail_at(p, p->pos, "number too large");
		return;
	}
	t->kind = T_NUM;
	t->len = i - p->pos;
	t->num = v;
	p->pos = i;
}

/* Read a name or keyword at p->pos. */
static void lex_name(struct parser *p, struct token *t)
{
	const char *s = p->src;
	size_t i = p->pos;
	bool upper = false;
	while (is_word(s[i])) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			upper = true;
		i++;
	}
	size_t len = i - p->pos;
	if (upper) {
		fail_at(p, p->pos, "'%.*s': names and keywords are lowercase",
		        (int)(len > 64 ? 64 : len), s + p->pos);
		return;
	}
	if (len > EXPR_MAX_NAME) {
		fail_at(p, p->pos, "name longer than %d characters", EXPR_MAX_NAME);
		return;
	}
	t->kind = T_NAME;
	if (len == 3 && memcmp(s + p->pos, "and", 3) == 0)
		t->kind = T_AND;
	else if (len == 2 && memcmp(s + p->pos, "or", 2) == 0)
		t->kind = T_OR;
	else if (len == 3 && memcmp(s + p->pos, "not", 3) == 0)
		t->kind = T_NOT;
	t->len = len;
	p->pos = i;
}

/* Advance p->tok to the next token (T_END at the end; on error the parser
 * is marked failed and the token is T_END). */
static void next(struct parser *p)
{
	const char *s = p->src;
	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
		p->pos++;
	struct token *t = &p->tok;
	t->pos = p->pos;
	t->len = 1;
	t->num = 0;
	t->kind = T_END;
	if (p->failed)
		return;
	unsigned char c = (unsigned char)s[p->pos];
	if (c == '\0') {
		t->len = 0;
		return;
	}
	if (is_digit(c) || (c == '.' && is_digit(s[p->pos + 1]))) {
		lex_number(p, t);
		return;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
		lex_name(p, t);
		return;
	}
	char c1 = s[p->pos + 1];
	switch (c) {
	case '+':
	case '-':
	case '*':
	case '/':
	case '(':
	case ')':
	case ',':
		t->kind = c;
		p->pos++;
		return;
	case '<':
	case '>':
		t->kind = c;
		if (c1 == '=') {
			t->kind = c == '<' ? T_LE : T_GE;
			t->len = 2;
		}
		p->pos += t->len;
		return;
	case '=':
		if (c1 == '=') {
			t->kind = T_EQ;
			t->len = 2;
			p->pos += 2;
			return;
		}
		fail_at(p, p->pos, "unexpected '=' (use '==' to compare)");
		return;
	case '!':
		if (c1 == '=') {
			t->kind = T_NE;
			t->len = 2;
			p->pos += 2;
			return;
		}
		fail_at(p, p->pos, "unexpected '!' (use 'not')");
		return;
	case '&':
		fail_at(p, p->pos, "unexpected '&' (use 'and')");
		return;
	case '|':
		fail_at(p, p->pos, "unexpected '|' (use 'or')");
		return;
	default:
		break;
	}
	if (c >= 0x80) {
		size_t n = utf8_len((const unsigned char *)s + p->pos);
		if (n)
			fail_at(p, p->pos, "unexpected character '%.*s'", (int)n, s + p->pos);
		else
			fail_at(p, p->pos, "invalid UTF-8 byte 0x%02X", c);
	} else if (c < 0x20 || c == 0x7F) {
		fail_at(p, p->pos, "unexpected control character 0x%02X", c);
	} else {
		fail_at(p, p->pos, "unexpected character '%c'", c);
	}
}

/* Report the current token as unexpected, naming it. */
static void fail_unexpected(struct parser *p)
{
	const struct token *t = &p->tok;
	if (t->kind == T_END)
		fail_at(p, t->pos, "unexpected end of expression");
	else
		fail_at(p, t->pos, "unexpected '%.*s'", (int)(t->len > 64 ? 64 : t->len),
		        p->src + t->pos);
}

/* Append one instruction; false (and an error at `pos`) past EXPR_MAX_NODES. */
static bool emit(struct parser *p, size_t pos, enum expr_op op, int32_t arg, double num)
{
	if (p->failed)
		return false;
	if (p->n >= EXPR_MAX_NODES) {
		fail_at(p, pos, "expression too large (more than %d operations)", EXPR_MAX_NODES);
		return false;
	}
	p->code[p->n].op = (uint8_t)op;
	p->code[p->n].arg = arg;
	p->code[p->n].num = num;
	p->n++;
	return true;
}

/* Enter one nesting level at `pos`; false (with an error) past EXPR_MAX_DEPTH. */
static bool enter(struct parser *p, size_t pos)
{
	if (++p->depth > EXPR_MAX_DEPTH) {
		fail_at(p, pos, "expression nested too deeply (more than %d levels)",
		        EXPR_MAX_DEPTH);
		return false;
	}
	return true;
}

static void parse_or(struct parser *p);

/* The functions: name, opcode, minimum and maximum argument counts. */
static const struct {
	const char *name;
	enum expr_op op;
	int min_args, max_args;
} functions[] = {
    {"sum", OP_SUM, 1, EXPR_MAX_ARGS}, {"min", OP_MIN, 1, EXPR_MAX_ARGS},
    {"max", OP_MAX, 1, EXPR_MAX_ARGS}, {"abs", OP_ABS, 1, 1},
    {"ceil", OP_CEIL, 1, 1},
};

/* function_call := NAME '(' or_expr (',' or_expr)* ')'; the current token is '('. */
static void parse_call(struct parser *p, const struct token *name)
{
	size_t fi = 0, nf = sizeof(functions) / sizeof(functions[0]);
	while (fi < nf && !(strlen(functions[fi].name) == name->len &&
	                    memcmp(functions[fi].name, p->src + name->pos, name->len) == 0))
		fi++;
	if (fi == nf) {
		fail_at(p, name->pos, "unknown function '%.*s'", (int)name->len,
		        p->src + name->pos);
		return;
	}
	const char *fn = functions[fi].name;
	if (!enter(p, name->pos))
		return;
	next(p); /* '(' */
	if (p->tok.kind == ')') {
		fail_at(p, p->tok.pos, "%s() needs an argument", fn);
		return;
	}
	int argc = 0;
	for (;;) {
		if (argc == functions[fi].max_args) {
			if (functions[fi].max_args == 1)
				fail_at(p, p->tok.pos, "%s() takes exactly one argument", fn);
			else
				fail_at(p, p->tok.pos, "%s() takes at most %d arguments", fn,
				        functions[fi].max_args);
			return;
		}
		parse_or(p);
		if (p->failed)
			return;
		argc++;
		if (p->tok.kind != ',')
			break;
		next(p);
	}
	if (p->tok.kind != ')') {
		fail_at(p, p->tok.pos, "expected ')' or ','");
		return;
	}
	emit(p, name->pos, functions[fi].op, argc, 0);
	next(p);
	p->depth--;
}

/* Add `slot` to the list of distinct slots read. */
static void note_slot(struct parser *p, int slot)
{
	for (size_t i = 0; i < p->nslots; i++)
		if (p->slots[i] == slot)
			return;
	p->slots[p->nslots++] = slot;
}

/* primary := NUMBER | NAME | function_call | '(' or_expr ')' */
static void parse_primary(struct parser *p)
{
	struct token t = p->tok;
	if (p->failed)
		return;
	if (t.kind == T_NUM) {
		emit(p, t.pos, OP_NUM, 0, t.num);
		next(p);
		return;
	}
	if (t.kind == '(') {
		if (!enter(p, t.pos))
			return;
		next(p);
		parse_or(p);
		if (p->failed)
			return;
		if (p->tok.kind != ')') {
			fail_at(p, p->tok.pos, "expected ')'");
			return;
		}
		next(p);
		p->depth--;
		return;
	}
	if (t.kind != T_NAME) {
		fail_unexpected(p);
		return;
	}
	next(p);
	if (p->failed)
		return;
	if (p->tok.kind == '(') {
		parse_call(p, &t);
		return;
	}
	char name[EXPR_MAX_NAME + 1];
	memcpy(name, p->src + t.pos, t.len);
	name[t.len] = '\0';
	int slot = p->resolve ? p->resolve(p->rctx, name) : -1;
	if (slot < 0) {
		fail_at(p, t.pos, "unknown field '%s'", name);
		return;
	}
	if (emit(p, t.pos, OP_SLOT, slot, 0))
		note_slot(p, slot);
}

/* unary := '-' unary | primary */
static void parse_unary(struct parser *p)
{
	if (p->tok.kind != '-') {
		parse_primary(p);
		return;
	}
	size_t pos = p->tok.pos;
	if (!enter(p, pos))
		return;
	next(p);
	parse_unary(p);
	emit(p, pos, OP_NEG, 0, 0);
	p->depth--;
}

/* mul := unary (('*' | '/') unary)* */
static void parse_mul(struct parser *p)
{
	parse_unary(p);
	while (!p->failed && (p->tok.kind == '*' || p->tok.kind == '/')) {
		struct token op = p->tok;
		next(p);
		parse_unary(p);
		emit(p, op.pos, op.kind == '*' ? OP_MUL : OP_DIV, 0, 0);
	}
}

/* add := mul (('+' | '-') mul)* */
static void parse_add(struct parser *p)
{
	parse_mul(p);
	while (!p->failed && (p->tok.kind == '+' || p->tok.kind == '-')) {
		struct token op = p->tok;
		next(p);
		parse_mul(p);
		emit(p, op.pos, op.kind == '+' ? OP_ADD : OP_SUB, 0, 0);
	}
}

/* The comparison opcode of a token kind, or -1. */
static int comparison_op(int kind)
{
	switch (kind) {
	case T_EQ:
		return OP_EQ;
	case T_NE:
		return OP_NE;
	case '<':
		return OP_LT;
	case T_LE:
		return OP_LE;
	case '>':
		return OP_GT;
	case T_GE:
		return OP_GE;
	default:
		return -1;
	}
}

/* comparison := add [cmp add]; a second comparison operator is an error. */
static void parse_comparison(struct parser *p)
{
	parse_add(p);
	if (p->failed)
		return;
	int op = comparison_op(p->tok.kind);
	if (op < 0)
		return;
	size_t pos = p->tok.pos;
	next(p);
	parse_add(p);
	if (p->failed)
		return;
	if (comparison_op(p->tok.kind) >= 0) {
		fail_at(p, p->tok.pos, "comparisons cannot be chained (use 'and')");
		return;
	}
	emit(p, pos, (enum expr_op)op, 0, 0);
}

/* not := 'not' not | comparison */
static void parse_not(struct parser *p)
{
	if (p->tok.kind != T_NOT) {
		parse_comparison(p);
		return;
	}
	size_t pos = p->tok.pos;
	if (!enter(p, pos))
		return;
	next(p);
	parse_not(p);
	emit(p, pos, OP_NOT, 0, 0);
	p->depth--;
}

/* and := not ('and' not)* */
static void parse_and(struct parser *p)
{
	parse_not(p);
	while (!p->failed && p->tok.kind == T_AND) {
		size_t pos = p->tok.pos;
		next(p);
		parse_not(p);
		emit(p, pos, OP_AND, 0, 0);
	}
}

/* or := and ('or' and)* */
static void parse_or(struct parser *p)
{
	parse_and(p);
	while (!p->failed && p->tok.kind == T_OR) {
		size_t pos = p->tok.pos;
		next(p);
		parse_and(p);
		emit(p, pos, OP_OR, 0, 0);
	}
}

/* True for opcodes whose result is a boolean. */
static bool op_is_boolean(uint8_t op)
{
	return op >= OP_EQ && op <= OP_NOT;
}

/* Parse and resolve `src` into postfix code in `a` (see expr.h). The parser
 * state (about 10 KB) lives on the stack; the arena gets one allocation. */
struct expr *expr_parse(struct arena *a, const char *src, expr_resolve_fn resolve, void *rctx,
                        char *err, size_t errlen)
{
	struct parser ps;
	struct parser *p = &ps;
	memset(p, 0, sizeof(*p));
	p->src = src ? src : "";
	p->err = err;
	p->errlen = errlen;
	p->resolve = resolve;
	p->rctx = rctx;
	if (err && errlen)
		err[0] = '\0';
	while (p->srclen <= EXPR_MAX_SOURCE && p->src[p->srclen])
		p->srclen++;
	if (p->srclen > EXPR_MAX_SOURCE) {
		fail_at(p, EXPR_MAX_SOURCE, "expression too long (more than %d characters)",
		        EXPR_MAX_SOURCE);
		return NULL;
	}
	next(p);
	if (p->tok.kind == T_END && !p->failed) {
		fail_at(p, 0, "empty expression");
		return NULL;
	}
	parse_or(p);
	if (!p->failed && p->tok.kind != T_END) {
		if (p->tok.kind == ')')
			fail_at(p, p->tok.pos, "unexpected ')' (no matching '(')");
		else
			fail_unexpected(p);
	}
	if (p->failed)
		return NULL;

	size_t code_bytes = p->n * sizeof(struct expr_code);
	struct expr *e = arena_alloc(a, sizeof(struct expr) + code_bytes + p->nslots * sizeof(int));
	e->n = (uint16_t)p->n;
	e->nslots = (uint16_t)p->nslots;
	e->boolean = op_is_boolean(p->code[p->n - 1].op);
	memcpy(e->code, p->code, code_bytes);
	int *slots = (int *)(void *)((char *)e->code + code_bytes);
	if (p->nslots)
		memcpy(slots, p->slots, p->nslots * sizeof(int));
	e->slots = slots;
	return e;
}

/* Copy up to `max` distinct slots into `slots`; return their total number. */
size_t expr_slots(const struct expr *e, int *slots, size_t max)
{
	if (!e)
		return 0;
	for (size_t i = 0; i < e->nslots && i < max; i++)
		slots[i] = e->slots[i];
	return e->nslots;
}

/* Whether the top-level operation is a comparison or a boolean operator. */
bool expr_is_boolean(const struct expr *e)
{
	return e && e->boolean;
}

/* Tolerant equality: |a - b| <= 1e-9 * max(|a|, |b|). */
static bool approx_equal(double a, double b)
{
	if (a == b)
		return true;
	double diff = fabs(a - b);
	double scale = fmax(fabs(a), fabs(b));
	return diff <= EXPR_EQ_TOLERANCE * scale;
}

/* Evaluate the postfix code with a value stack (see expr.h for the rules).
 * The stack (about 4.5 KB of locals) can never be deeper than the number of
 * instructions, so it cannot overflow. */
struct expr_value expr_eval(const struct expr *e, const double *vals, const unsigned char *present)
{
	struct expr_value none = {true, 0};
	if (!e || e->n == 0)
		return none;
	double v[EXPR_MAX_NODES];
	unsigned char m[EXPR_MAX_NODES]; /* 1 = missing */
	size_t sp = 0;

	for (size_t pc = 0; pc < e->n; pc++) {
		const struct expr_code *c = &e->code[pc];
		double r = 0;
		unsigned char miss = 0;
		switch ((enum expr_op)c->op) {
		case OP_NUM:
			v[sp] = c->num;
			m[sp++] = 0;
			continue;
		case OP_SLOT: {
			int s = c->arg;
			bool ok = present[s] && isfinite(vals[s]);
			v[sp] = ok ? vals[s] + 0.0 : 0; /* + 0.0 turns -0 into 0 */
			m[sp++] = !ok;
			continue;
		}
		case OP_NEG:
			v[sp - 1] = m[sp - 1] ? 0 : -v[sp - 1] + 0.0;
			continue;
		case OP_ABS:
			v[sp - 1] = fabs(v[sp - 1]);
			continue;
		case OP_CEIL:
			v[sp - 1] = m[sp - 1] ? 0 : ceil(v[sp - 1]) + 0.0;
			continue;
		case OP_NOT:
			if (!m[sp - 1])
				v[sp - 1] = v[sp - 1] == 0 ? 1.0 : 0.0;
			continue;
		case OP_AND:
		case OP_OR: {
			sp--;
			double a = v[sp - 1], b = v[sp];
			unsigned char ma = m[sp - 1], mb = m[sp];
			/* The deciding value: false for and, true for or. */
			bool decider = c->op == OP_OR;
			if ((!ma && (a != 0) == decider) || (!mb && (b != 0) == decider)) {
				r = decider ? 1.0 : 0.0;
			} else if (ma || mb) {
				miss = 1;
			} else {
				r = decider ? 0.0 : 1.0;
			}
			v[sp - 1] = r;
			m[sp - 1] = miss;
			continue;
		}
		case OP_SUM:
		case OP_MIN:
		case OP_MAX: {
			size_t argc = (size_t)c->arg, base = sp - argc, have = 0;
			for (size_t i = base; i < sp; i++) {
				if (m[i])
					continue;
				if (have == 0)
					r = v[i];
				else if (c->op == OP_SUM)
					r += v[i];
				else if (c->op == OP_MIN)
					r = v[i] < r ? v[i] : r;
				else
					r = v[i] > r ? v[i] : r;
				have++;
			}
			miss = have == 0 || !isfinite(r);
			sp = base + 1;
			v[sp - 1] = miss ? 0 : r + 0.0;
			m[sp - 1] = miss;
			continue;
		}
		default:
			break;
		}
		/* Binary operators that are missing when either operand is. */
		sp--;
		double a = v[sp - 1], b = v[sp];
		miss = m[sp - 1] | m[sp];
		if (!miss) {
			switch ((enum expr_op)c->op) {
			case OP_ADD:
				r = a + b;
				break;
			case OP_SUB:
				r = a - b;
				break;
			case OP_MUL:
				r = a * b;
				break;
			case OP_DIV:
				if (b == 0)
					miss = 1;
				else
					r = a / b;
				break;
			case OP_EQ:
				r = approx_equal(a, b);
				break;
			case OP_NE:
				r = !approx_equal(a, b);
				break;
			case OP_LT:
				r = a < b;
				break;
			case OP_LE:
				r = a <= b;
				break;
			case OP_GT:
				r = a > b;
				break;
			case OP_GE:
				r = a >= b;
				break;
			default:
				miss = 1;
				break;
			}
			if (!isfinite(r))
				miss = 1;
		}
		v[sp - 1] = miss ? 0 : r + 0.0;
		m[sp - 1] = miss;
	}
	struct expr_value out = {m[0] != 0, m[0] ? 0 : v[0]};
	return out;
}
