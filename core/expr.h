/* expr.h — the expression language of form rules and indicators: parse once, evaluate fast. */
#ifndef TB_EXPR_H
#define TB_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

/*
 * Syntax (full description with examples in docs/expressions.md):
 *
 *   numbers      123  4.5  .5            (no sign, no exponent; '-' is an operator)
 *   field codes  [a-z_][a-z0-9_]*        at most EXPR_MAX_NAME characters
 *   operators    + - * /  unary -  ( )  == != < <= > >=  and or not
 *   functions    sum(a, ...) min(a, ...) max(a, ...)   1..EXPR_MAX_ARGS arguments
 *                abs(x) ceil(x)
 *
 * Precedence, lowest first: or; and; not; comparison; + -; * /; unary -; primary.
 * Comparisons do not chain ("a < b < c" is a syntax error; write "a < b and b < c").
 * and, or and not are reserved words; a name followed by '(' is a function call.
 * Limits: EXPR_MAX_SOURCE bytes of source, EXPR_MAX_DEPTH levels of nesting
 * (each '(' , function call, unary '-' and 'not' is one level), EXPR_MAX_NODES
 * operations (each number, field, operator and call is one).
 *
 * Values are doubles; a boolean is 1.0 (true) or 0.0 (false), and any non-zero
 * number counts as true where a condition is expected (yes/no fields are 1/0).
 *
 * Missing values (an empty field, or a result that cannot be computed):
 *   - + - * / unary -, abs, ceil and every comparison are missing when an
 *     operand is missing;
 *   - x / 0 is missing (never Inf or NaN); so is any result that overflows
 *     (e.g. 1e308 * 10); a field whose stored value is not finite is missing;
 *   - sum, min and max skip missing arguments and are missing only when every
 *     argument is missing;
 *   - and, or use three-valued (Kleene) logic: false and missing = false,
 *     true or missing = true, otherwise a missing operand gives missing;
 *     not missing = missing.
 * A rule whose value is missing is "not evaluated": the caller skips it.
 *
 * Comparisons: < <= > >= compare the doubles exactly; == and != use a relative
 * tolerance: a == b when |a - b| <= 1e-9 * max(|a|, |b|), so 0.1 + 0.2 == 0.3
 * holds. There is no absolute tolerance: x == 0 is exact.
 * A result of -0 is returned as 0.
 */

#define EXPR_MAX_SOURCE 4096 /* bytes of source text */
#define EXPR_MAX_DEPTH 64    /* nesting levels */
#define EXPR_MAX_NODES 512   /* operations in the compiled form */
#define EXPR_MAX_NAME 64     /* characters in a field code */
#define EXPR_MAX_ARGS 64     /* arguments of sum/min/max */
#define EXPR_EQ_TOLERANCE 1e-9

/* A compiled expression: immutable, lives in the arena given to expr_parse,
 * safe to evaluate from several threads at once. */
struct expr;

/* Resolve a field code to a slot index >= 0, or -1 if unknown. `name` is a
 * NUL-terminated copy valid only during the call. */
typedef int (*expr_resolve_fn)(void *ctx, const char *name);

/* Parse `src` and resolve every field code through `resolve(rctx, name)`.
 * Returns the compiled expression, allocated in `a` (one allocation, made only
 * on success). On error returns NULL and writes an English message starting
 * with the 1-based column (in characters) into err (when errlen > 0), e.g.
 * "column 7: unknown field 'pri_studnts'" or "column 3: expected ')'". */
struct expr *expr_parse(struct arena *a, const char *src, expr_resolve_fn resolve, void *rctx,
                        char *err, size_t errlen);

/* The distinct slots the expression reads, in order of first appearance (for
 * "which fields does this rule concern"). Writes up to `max` of them into
 * `slots` (which may be NULL when max is 0) and returns how many there are. */
size_t expr_slots(const struct expr *e, int *slots, size_t max);

/* True when the top-level operation is a comparison or and/or/not, i.e. the
 * expression is a condition (a rule must be one). */
bool expr_is_boolean(const struct expr *e);

/* The value of an expression: missing, or a finite number (booleans 1.0/0.0). */
struct expr_value {
	bool missing;
	double v; /* 0 when missing */
};

/* Evaluate `e` with field slot i holding vals[i] when present[i] != 0 and
 * missing otherwise (both arrays must cover every slot the expression reads).
 * Pure: no allocation, no I/O, bounded stack; never returns Inf or NaN.
 * A NULL expression evaluates to missing. */
struct expr_value expr_eval(const struct expr *e, const double *vals, const unsigned char *present);

#endif
