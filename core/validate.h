/* validate.h — checking one form's input: types, bounds, required fields, rules and changes
 * against last period. Pure: no I/O; everything it returns lives in the caller's arena. */
#ifndef TB_VALIDATE_H
#define TB_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "form.h"

#define VALIDATE_MAX_RAW 8000        /* bytes of one typed value that are kept: 2000 characters */
#define VALIDATE_MAX_EXPLANATION 200 /* characters of one 说明 */

enum validate_status { VS_EMPTY, VS_OK, VS_BAD };

/* Why validate_value refused a value (VR_NONE when it did not). */
enum validate_reason {
	VR_NONE,
	VR_NOT_NUMBER,
	VR_NEGATIVE,
	VR_DECIMALS,
	VR_TOO_LARGE,
	VR_RANGE,
	VR_CONTROL,
	VR_TOO_LONG,
	VR_YESNO,
	VR_CHOICE,
};
enum validate_kind { VK_ERROR, VK_WARNING };

/* The label people see for a field: the column label after the stage name for a
 * grid cell ("小学 在校生数"), else the field's label. */
const char *validate_label(struct arena *a, const struct form_field *f);

/* Check one typed value against its field.
 *   integer/decimal: num_normalize (full-width digits, separators, spaces), then
 *                    min/max; *norm is the canonical number text;
 *   text:   surrounding spaces trimmed, at most max_length characters, no control
 *           characters; *norm is the trimmed text;
 *   yesno:  "1"/"0" (also "true"/"false", "是"/"否"); *norm is "1" or "0";
 *   choice: one of the choice values.
 * VS_EMPTY for NULL or nothing but spaces. VS_OK sets *norm and *num (the number;
 * 1/0 for yes/no; 0 for text and choices). VS_BAD sets *msg to a Chinese message
 * that names the field and quotes the input ("小学 在校生数：“12a”不是有效的数字。")
 * and *why to the reason. Any output pointer may be NULL. */
enum validate_status validate_value(struct arena *a, const struct form_field *f, const char *raw,
                                    const char **norm, double *num, const char **msg,
                                    enum validate_reason *why);

/* The reason in English for the command line ("not a number", "out of range 0 to
 * 3000", ...), without the field. */
const char *validate_reason_en(struct arena *a, const struct form_field *f,
                               enum validate_reason why);

/* A 说明 the school gave for a warning (rule code or "chg:<field>"). */
struct validate_expl {
	const char *code;
	const char *text;
};

/* One problem found in a form. */
struct validate_issue {
	enum validate_kind kind;
	/* "val:<field>" (a bad value), "req:<field>" (required and empty, only when
	 * submitting), a rule code ("edu_sum_eq_teachers:pri"), or "chg:<field>" (a change
	 * of more than the form's change_warning against last period) */
	const char *code;
	const char *message; /* Chinese, complete */
	const int *slots;    /* the fields to show it beside (global slots) */
	size_t nslots;
	const char *explanation; /* warnings: the school's 说明, or NULL */
};

/* What validate_form reads. Arrays indexed by global slot (form_nslots) cover
 * every slot; the caller fills what it has. */
struct validate_in {
	const struct form_set *set;
	const struct form_def *form;
	const char *school_type; /* 办学类型 code */
	unsigned stages;         /* the school's stage bits */
	const char *const *raw;  /* this form's fields as typed (NULL = empty) */
	/* the numbers of the other forms' fields of the same school and period */
	const double *num;
	const unsigned char *present;
	/* last period's approved numbers (NULL when there is none) */
	const double *prev;
	const unsigned char *prev_present;
	const struct validate_expl *expl; /* the 说明 given so far */
	size_t nexpl;
	bool submitting; /* report empty required fields as errors */
};

/* What validate_form finds. */
struct validate_out {
	const char **norm;      /* per slot, this form's fields: canonical text or NULL */
	double *num;            /* per slot: the values the rules saw (this form's from raw) */
	unsigned char *present; /* per slot */
	struct validate_issue *issues; /* in field order: value problems, required, then rules
	                                  in definition order, then changes */
	size_t nissues;
	int errors;          /* VK_ERROR issues */
	int warnings;        /* VK_WARNING issues */
	int unexplained;     /* warnings without a 说明 */
	int required_total;  /* required fields that apply to the school */
	int required_filled; /* of those, how many hold a valid value */
};

/* Validate the form for one school. Only fields that apply to the school
 * (form_field_applies) are read; rules of stages the school does not have are
 * skipped, and a rule whose value is missing is not evaluated. A change warning
 * is raised for a number whose last-period value is above 0 and which moved by
 * more than form->change_warning of it. */
void validate_form(struct arena *a, const struct validate_in *in, struct validate_out *out);

/* True when the validated form may be submitted: no errors, every warning
 * explained, every required field filled. (Call with in->submitting set so that
 * the issues name the empty required fields.) */
bool validate_submittable(const struct validate_out *out);

/* How many issues are "req:" (required and empty; only when submitting). */
int validate_missing(const struct validate_out *out);

/* The 说明 of `code` in a list, or NULL. */
const char *validate_expl_find(const struct validate_expl *e, size_t n, const char *code);

/* A copy of s without surrounding white space: ASCII space, tab, CR, LF, the
 * ideographic space U+3000 and the no-break space U+00A0. */
const char *validate_trim(struct arena *a, const char *s);

/* Format a number for people: at most `decimals` places, trailing zeros dropped. */
const char *validate_fmt_num(struct arena *a, double v, int decimals);

#endif
