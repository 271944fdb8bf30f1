/* tmpl.c — Mustache engine: parses templates once into node trees, renders them many times. */
#include "tmpl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMPL_MAX_FILE (1024 * 1024) /* largest template file tmpl_load_dir accepts */
#define TMPL_MAX_NEST 100           /* deepest section nesting within one template */
#define TMPL_MAX_PARTIALS 64        /* deepest partial nesting at render time */
#define TMPL_MAX_EXPANSIONS 100000  /* partials expanded by one tmpl_render call */
#define TMPL_SUFFIX ".mustache"

/* The parsed form of a template: a list of nodes, sections holding sublists. */
enum node_kind {
	N_TEXT,     /* literal bytes */
	N_INDENT,   /* start of a template line: the partial indentation goes here */
	N_VAR,      /* {{x}}: HTML-escaped value */
	N_RAW,      /* {{{x}}} or {{&x}}: value as is */
	N_SECTION,  /* {{#x}}...{{/x}} */
	N_INVERTED, /* {{^x}}...{{/x}} */
	N_PARTIAL   /* {{>x}} */
};

struct node {
	enum node_kind kind;
	bool standalone;    /* N_PARTIAL: the tag stood alone on its line */
	struct node *next;  /* following sibling */
	const char *s;      /* N_TEXT: bytes; N_PARTIAL: NUL-terminated name */
	size_t len;         /* N_TEXT: byte count */
	const char *indent; /* N_PARTIAL standalone: whitespace before the tag */
	size_t indent_len;  /* its length */
	const char **parts; /* N_VAR/N_RAW/sections: dotted name split at '.' */
	size_t nparts;      /* 0 means the implicit iterator "." */
	struct node *kids;  /* sections: the body */
};

/* One named template in a set. */
struct tmpl {
	const char *name; /* NULL marks an empty hash slot */
	struct node *root;
};

/* A set: every node and string lives in `arena`; `slots` is an open-addressing
 * hash table of templates by name (capacity a power of two). */
struct tmpl_set {
	struct arena arena;
	struct tmpl *slots;
	size_t cap;
	size_t count;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format a message into `err` when there is room for one. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* FNV-1a hash of a NUL-terminated name. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The template called `name`, or NULL. */
static const struct tmpl *set_find(const struct tmpl_set *set, const char *name)
{
	if (!set || !set->cap || !name)
		return NULL;
	size_t mask = set->cap - 1;
	for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
		const struct tmpl *t = &set->slots[i];
		if (!t->name)
			return NULL;
		if (strcmp(t->name, name) == 0)
			return t;
	}
}

/* Store `root` under `name` (whose bytes live in the set), replacing an older
 * template of that name. Grows the table to keep it at most half full. */
static void set_insert(struct tmpl_set *set, const char *name, struct node *root)
{
	if ((set->count + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 32;
		struct tmpl *slots = calloc(cap, sizeof(*slots));
		if (!slots) {
			fprintf(stderr, "tianbao: out of memory (template table)\n");
			abort();
		}
		for (size_t i = 0; i < set->cap; i++) {
			if (!set->slots[i].name)
				continue;
			size_t j = name_hash(set->slots[i].name) & (cap - 1);
			while (slots[j].name)
				j = (j + 1) & (cap - 1);
			slots[j] = set->slots[i];
		}
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	size_t mask = set->cap - 1;
	size_t i = name_hash(name) & mask;
	while (set->slots[i].name) {
		if (strcmp(set->slots[i].name, name) == 0) {
			set->slots[i].root = root;
			return;
		}
		i = (i + 1) & mask;
	}
	set->slots[i].name = name;
	set->slots[i].root = root;
	set->count++;
}

/* ---- Parser ---- */

/* An open list being filled: the root or a section awaiting its close tag. */
struct pframe {
	struct node **tail; /* where the next node is linked */
	const char *name;   /* section name as written (trimmed), for the close tag */
	size_t name_len;
	int line; /* line of the opening tag */
};

struct parser {
	struct arena *a;
	const char *tname; /* template name, for messages */
	const char *src;   /* the template text (owned by the set) */
	size_t len;
	size_t pos;       /* next byte to consume */
	const char *otag; /* current opening delimiter */
	size_t olen;
	const char *ctag; /* current closing delimiter */
	size_t clen;
	int line;       /* 1-based line number of byte `counted` */
	size_t counted; /* newlines before this offset are counted in `line` */
	bool at_bol;    /* nothing emitted yet on the current template line */
	bool dirty;     /* the current line holds non-blank text or a tag before pos */
	int depth;      /* open sections */
	struct pframe stack[TMPL_MAX_NEST + 1];
	char *err;
	size_t errlen;
};

/* True for the blanks allowed around a standalone tag. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* True for whitespace trimmed from tag contents. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Offset of the first occurrence of `n` in `h[from..hlen)`, or hlen when absent. */
static size_t find_bytes(const char *h, size_t hlen, size_t from, const char *n, size_t nlen)
{
	while (from + nlen <= hlen) {
		const char *p = memchr(h + from, n[0], hlen - from - nlen + 1);
		if (!p)
			break;
		size_t at = (size_t)(p - h);
		if (memcmp(p, n, nlen) == 0)
			return at;
		from = at + 1;
	}
	return hlen;
}

/* Line number of source offset `off` (offsets must not go backwards). */
static int line_at(struct parser *p, size_t off)
{
	for (; p->counted < off; p->counted++)
		if (p->src[p->counted] == '\n')
			p->line++;
	return p->line;
}

/* Append a fresh node of `kind` to the innermost open list. */
static struct node *add_node(struct parser *p, enum node_kind kind)
{
	struct node *n = arena_alloc(p->a, sizeof(*n));
	n->kind = kind;
	struct pframe *f = &p->stack[p->depth];
	*f->tail = n;
	f->tail = &n->next;
	return n;
}

/* Emit an indentation point if nothing was emitted yet on this line. */
static void mark_line_start(struct parser *p)
{
	if (p->at_bol) {
		add_node(p, N_INDENT);
		p->at_bol = false;
	}
}

/* Emit the literal text src[a..b). */
static void emit_text(struct parser *p, size_t a, size_t b)
{
	if (a >= b)
		return;
	mark_line_start(p);
	struct node *n = add_node(p, N_TEXT);
	n->s = p->src + a;
	n->len = b - a;
	p->at_bol = p->src[b - 1] == '\n';
}

/* Look at the text src[a..b) before a tag: returns whether the line the tag
 * sits on has non-blank content before it, and stores in *ls where that line
 * starts (or `a` when the line began before this text). */
static bool scan_text(const struct parser *p, size_t a, size_t b, size_t *ls)
{
	bool dirty = p->dirty;
	size_t start = a;
	for (size_t i = b; i > a; i--) {
		if (p->src[i - 1] == '\n') {
			start = i;
			dirty = false;
			break;
		}
	}
	for (size_t i = start; i < b && !dirty; i++)
		if (!is_blank(p->src[i]))
			dirty = true;
	*ls = start;
	return dirty;
}

/* Split a tag's name into its dotted parts, each copied NUL-terminated into
 * the arena; "." alone is the implicit iterator (no parts). */
static void parse_name(struct parser *p, struct node *n, const char *s, size_t len)
{
	if (len == 1 && s[0] == '.') {
		n->nparts = 0;
		return;
	}
	size_t count = 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '.')
			count++;
	n->parts = arena_alloc(p->a, count * sizeof(*n->parts));
	n->nparts = count;
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			n->parts[k++] = arena_strndup(p->a, s + start, i - start);
			start = i + 1;
		}
	}
}

/* Apply a set-delimiter tag whose inside (between the '=' signs) is s[0..len).
 * Returns false when it is not exactly two blank-separated delimiters
 * without '=' or whitespace in them. */
static bool set_delimiters(struct parser *p, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && is_space(s[i]))
		i++;
	size_t o = i;
	while (i < len && !is_space(s[i]) && s[i] != '=')
		i++;
	size_t olen = i - o;
	if (i < len && !is_space(s[i]))
		return false;
	while (i < len && is_space(s[i]))
		i++;
	size_t c = i;
	while (i < len && !is_space(s[i]) && s[i] != '=')
		i++;
	size_t clen = i - c;
	while (i < len && is_space(s[i]))
		i++;
	if (i != len || !olen || !clen)
		return false;
	p->otag = s + o;
	p->olen = olen;
	p->ctag = s + c;
	p->clen = clen;
	return true;
}

/* Parse p->src into the list at p->stack[0]. Returns false with a message
 * naming the template and line in p->err on a syntax error. */
static bool parse(struct parser *p)
{
	const char *src = p->src;
	size_t len = p->len;
	while (p->pos < len) {
		size_t ts = find_bytes(src, len, p->pos, p->otag, p->olen);
		if (ts == len) {
			emit_text(p, p->pos, len);
			p->pos = len;
			break;
		}
		int line = line_at(p, ts);
		size_t q = ts + p->olen;
		char type = q < len ? src[q] : '\0';
		if (type != '\0' && strchr("#^/!>=&{", type))
			q++;
		else
			type = '\0';

		/* Find the end of the tag: "}" + ctag for {, "=" + ctag for =. */
		char closer = type == '{' ? '}' : type == '=' ? '=' : '\0';
		size_t ce, te;
		size_t k = q;
		for (;;) {
			k = find_bytes(src, len, k, p->ctag, p->clen);
			if (k == len) {
				set_err(p->err, p->errlen, "%s:%d: unclosed tag", p->tname, line);
				return false;
			}
			if (!closer) {
				ce = k;
				break;
			}
			if (k > q && src[k - 1] == closer) {
				ce = k - 1;
				break;
			}
			k++;
		}
		te = k + p->clen;

		/* The tag's contents, trimmed. */
		size_t cs = q;
		while (cs < ce && is_space(src[cs]))
			cs++;
		while (ce > cs && is_space(src[ce - 1]))
			ce--;
		const char *name = src + cs;
		size_t name_len = ce - cs;

		/* A standalone tag owns its whole line, which disappears. */
		size_t ls;
		bool dirty = scan_text(p, p->pos, ts, &ls);
		bool standalone = false;
		size_t after = te;
		if (type && type != '&' && type != '{' && !dirty) {
			size_t e = te;
			while (e < len && is_blank(src[e]))
				e++;
			if (e == len) {
				standalone = true;
				after = len;
			} else if (src[e] == '\n') {
				standalone = true;
				after = e + 1;
			} else if (src[e] == '\r' && e + 1 < len && src[e + 1] == '\n') {
				standalone = true;
				after = e + 2;
			}
		}
		emit_text(p, p->pos, standalone ? ls : ts);
		if (standalone) {
			p->dirty = false;
			p->at_bol = true;
		} else {
			mark_line_start(p);
			p->dirty = true;
		}
		p->pos = after;

		if (type != '!' && type != '=' && name_len == 0) {
			set_err(p->err, p->errlen, "%s:%d: empty tag", p->tname, line);
			return false;
		}
		struct node *n;
		switch (type) {
		case '!':
			break;
		case '=':
			if (!set_delimiters(p, name, name_len)) {
				set_err(p->err, p->errlen, "%s:%d: bad set-delimiter tag", p->tname,
				        line);
				return false;
			}
			break;
		case '#':
		case '^':
			if (p->depth >= TMPL_MAX_NEST) {
				set_err(p->err, p->errlen, "%s:%d: sections nested too deeply",
				        p->tname, line);
				return false;
			}
			n = add_node(p, type == '#' ? N_SECTION : N_INVERTED);
			parse_name(p, n, name, name_len);
			p->depth++;
			p->stack[p->depth].tail = &n->kids;
			p->stack[p->depth].name = name;
			p->stack[p->depth].name_len = name_len;
			p->stack[p->depth].line = line;
			break;
		case '/':
			if (p->depth == 0) {
				set_err(p->err, p->errlen,
				        "%s:%d: close tag '%.*s' without section", p->tname, line,
				        (int)name_len, name);
				return false;
			}
			if (p->stack[p->depth].name_len != name_len ||
			    memcmp(p->stack[p->depth].name, name, name_len) != 0) {
				set_err(p->err, p->errlen,
				        "%s:%d: close tag '%.*s' does not match '%.*s' opened on "
				        "line %d",
				        p->tname, line, (int)name_len, name,
				        (int)p->stack[p->depth].name_len, p->stack[p->depth].name,
				        p->stack[p->depth].line);
				return false;
			}
			p->depth--;
			break;
		case '>':
			n = add_node(p, N_PARTIAL);
			n->s = arena_strndup(p->a, name, name_len);
			n->standalone = standalone;
			if (standalone) {
				n->indent = src + ls;
				n->indent_len = ts - ls;
			}
			break;
		default:
			n = add_node(p, type ? N_RAW : N_VAR);
			parse_name(p, n, name, name_len);
			break;
		}
	}
	if (p->depth > 0) {
		const struct pframe *f = &p->stack[p->depth];
		set_err(p->err, p->errlen, "%s:%d: unclosed section '%.*s'", p->tname, f->line,
		        (int)f->name_len, f->name);
		return false;
	}
	return true;
}

/* True when `name` is a non-empty run of [A-Za-z0-9_-] of length `len`. */
static bool valid_name(const char *name, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Create an empty template set. */
struct tmpl_set *tmpl_set_new(void)
{
	struct tmpl_set *set = calloc(1, sizeof(*set));
	if (!set) {
		fprintf(stderr, "tianbao: out of memory (template set)\n");
		abort();
	}
	arena_init(&set->arena, 64 * 1024);
	return set;
}

/* Parse `text` and add it to the set as `name`, replacing a template of that
 * name. Returns false with a message naming template and line on error. */
bool tmpl_add(struct tmpl_set *set, const char *name, const char *text, size_t len, char *err,
              size_t errlen)
{
	if (!set || !name || (!text && len)) {
		set_err(err, errlen, "tmpl: bad arguments");
		return false;
	}
	if (!valid_name(name, strlen(name))) {
		set_err(err, errlen, "tmpl: bad template name '%s' (allowed: A-Z a-z 0-9 _ -)",
		        name);
		return false;
	}
	struct parser *p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "tianbao: out of memory (template parser)\n");
		abort();
	}
	bool ok = false;
	struct node *root = NULL;
	p->a = &set->arena;
	p->tname = arena_strdup(&set->arena, name);
	p->src = arena_strndup(&set->arena, text ? text : "", len);
	p->len = len;
	p->otag = "{{";
	p->olen = 2;
	p->ctag = "}}";
	p->clen = 2;
	p->line = 1;
	p->at_bol = true;
	p->stack[0].tail = &root;
	p->err = err;
	p->errlen = errlen;
	if (!parse(p))
		goto cleanup;
	set_insert(set, p->tname, root);
	ok = true;
cleanup:
	free(p);
	return ok;
}

/* True when the set holds a template called `name`. */
bool tmpl_has(const struct tmpl_set *set, const char *name)
{
	return set_find(set, name) != NULL;
}

/* Read and parse one template file `path` as `name` into the set. */
static bool load_file(struct tmpl_set *set, const char *path, const char *name, char *err,
                      size_t errlen)
{
	bool ok = false;
	char *data = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "tmpl: %s: %s", path, strerror(errno));
		goto cleanup;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		set_err(err, errlen, "tmpl: %s: %s", path, strerror(errno));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "tmpl: %s: not a regular file", path);
		goto cleanup;
	}
	if (st.st_size > TMPL_MAX_FILE) {
		set_err(err, errlen, "tmpl: %s: larger than %d bytes", path, TMPL_MAX_FILE);
		goto cleanup;
	}
	data = malloc(TMPL_MAX_FILE + 1);
	if (!data) {
		set_err(err, errlen, "tmpl: %s: out of memory", path);
		goto cleanup;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, data + len, TMPL_MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err, errlen, "tmpl: %s: %s", path, strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > TMPL_MAX_FILE) {
			set_err(err, errlen, "tmpl: %s: larger than %d bytes", path, TMPL_MAX_FILE);
			goto cleanup;
		}
	}
	char perr[512] = "";
	ok = tmpl_add(set, name, data, len, perr, sizeof(perr));
	if (!ok)
		set_err(err, errlen, "tmpl: %s: %s", path, perr);
cleanup:
	free(data);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Parse every `*.mustache` file in `dir` into a new set (hidden files are
 * ignored). Returns NULL with a message in `err` on the first failure. */
struct tmpl_set *tmpl_load_dir(const char *dir, char *err, size_t errlen)
{
	struct tmpl_set *set = tmpl_set_new();
	char *path = NULL;
	DIR *d = opendir(dir);
	if (!d) {
		set_err(err, errlen, "tmpl: %s: %s", dir, strerror(errno));
		goto fail;
	}
	const size_t slen = strlen(TMPL_SUFFIX);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *fn = de->d_name;
		size_t fl = strlen(fn);
		if (fn[0] == '.' || fl <= slen || strcmp(fn + fl - slen, TMPL_SUFFIX) != 0)
			continue;
		size_t nl = fl - slen;
		if (!valid_name(fn, nl)) {
			set_err(err, errlen,
			        "tmpl: %s/%s: bad template name (allowed: A-Z a-z 0-9 _ -)", dir,
			        fn);
			goto fail;
		}
		char name[256];
		memcpy(name, fn, nl);
		name[nl] = '\0';
		free(path);
		size_t plen = strlen(dir) + 1 + fl + 1;
		path = malloc(plen);
		if (!path) {
			set_err(err, errlen, "tmpl: out of memory");
			goto fail;
		}
		snprintf(path, plen, "%s/%s", dir, fn);
		if (!load_file(set, path, name, err, errlen))
			goto fail;
	}
	free(path);
	closedir(d);
	return set;
fail:
	free(path);
	if (d)
		closedir(d);
	tmpl_set_free(set);
	return NULL;
}

/* Release the set and every template in it. */
void tmpl_set_free(struct tmpl_set *set)
{
	if (!set)
		return;
	arena_free(&set->arena);
	free(set->slots);
	free(set);
}

/* ---- Renderer ---- */

/* A context stack frame; frames live on the C stack of the render calls. */
struct ctx {
	const struct tv *v;
	const struct ctx *up;
};

struct render {
	const struct tmpl_set *set;
	struct arena *scratch;
	struct buf *out;
	int partials;    /* current partial nesting */
	long expansions; /* partials expanded so far */
};

/* The entry for `key` in `m`, or NULL when `m` is not a map or lacks it. */
static const struct tv_pair *map_pair(const struct tv *m, const char *key)
{
	if (!m || m->type != TV_MAP)
		return NULL;
	for (size_t i = 0; i < m->u.map.n; i++)
		if (strcmp(m->u.map.pairs[i].key, key) == 0)
			return &m->u.map.pairs[i];
	return NULL;
}

/* Resolve a tag's name: "." is the top of the stack; otherwise the first part
 * is searched down the stack and the rest only inside what it found. */
static const struct tv *lookup(const struct node *n, const struct ctx *c)
{
	if (n->nparts == 0)
		return c ? c->v : NULL;
	const struct tv_pair *pair = NULL;
	for (; c && !pair; c = c->up)
		pair = map_pair(c->v, n->parts[0]);
	if (!pair)
		return NULL;
	const struct tv *v = pair->val;
	for (size_t i = 1; i < n->nparts && v; i++) {
		pair = map_pair(v, n->parts[i]);
		v = pair ? pair->val : NULL;
	}
	return v;
}

/* True when a section over `v` renders nothing: missing, null, false or an empty list. */
static bool falsey(const struct tv *v)
{
	return !v || v->type == TV_NULL || (v->type == TV_BOOL && !v->u.b) ||
	       (v->type == TV_LIST && v->u.list.n == 0);
}

/* Append a long long in decimal. */
static void put_int(struct buf *out, long long i)
{
	char tmp[24];
	size_t n = sizeof(tmp);
	unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
	do {
		tmp[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (i < 0)
		tmp[--n] = '-';
	buf_append(out, tmp + n, sizeof(tmp) - n);
}

/* Append a double with at most six decimals and fifteen significant digits
 * (prices, ratios) without printf: the shortest decimal m / 10^k that reads
 * back as `r` is exactly what "%.15g" prints. Returns false for other values. */
static bool put_real_short(struct buf *out, double r)
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
	double ar = r < 0 ? -r : r;
	if (!(ar >= 1e-4 && ar < 1e15))
		return false;
	for (size_t k = 0; k < sizeof(p10) / sizeof(p10[0]); k++) {
		double x = ar * p10[k];
		if (x >= 1e15)
			return false;
		unsigned long long m = (unsigned long long)(x + 0.5);
		if ((double)m / p10[k] != ar)
			continue;
		char tmp[40];
		size_t n = sizeof(tmp), digits = 0;
		do {
			tmp[--n] = (char)('0' + m % 10);
			m /= 10;
			digits++;
			if (digits == k)
				tmp[--n] = '.';
		} while (m);
		if (k && digits <= k) {
			while (digits < k) {
				tmp[--n] = '0';
				digits++;
			}
			if (tmp[n] != '.')
				tmp[--n] = '.';
			tmp[--n] = '0';
		}
		if (r < 0)
			tmp[--n] = '-';
		buf_append(out, tmp + n, sizeof(tmp) - n);
		return true;
	}
	return false;
}

/* Append a double in its shortest form that reads back to the same value:
 * "%.15g" when that round-trips, else "%.17g". */
static void put_real(struct buf *out, double r)
{
	char tmp[40];
	if (put_real_short(out, r))
		return;
	snprintf(tmp, sizeof(tmp), "%.15g", r);
	if (strtod(tmp, NULL) != r)
		snprintf(tmp, sizeof(tmp), "%.17g", r);
	buf_puts(out, tmp);
}

/* Append the text form of a value, HTML-escaped when `escape`. Lists and maps
 * print nothing. */
static void put_value(struct buf *out, const struct tv *v, bool escape)
{
	if (!v)
		return;
	switch (v->type) {
	case TV_NULL:
	case TV_LIST:
	case TV_MAP:
		break;
	case TV_BOOL:
		buf_puts(out, v->u.b ? "true" : "false");
		break;
	case TV_INT:
		put_int(out, v->u.i);
		break;
	case TV_REAL:
		put_real(out, v->u.r);
		break;
	case TV_STR:
		if (escape)
			buf_html(out, v->u.str.s, v->u.str.len);
		else
			buf_append(out, v->u.str.s, v->u.str.len);
		break;
	}
}

/* Append literal text, indenting each line after the first with `indent`. */
static void put_indented(struct buf *out, const char *s, size_t len, const char *indent,
                         size_t ilen)
{
	size_t a = 0;
	while (a < len) {
		const char *nl = memchr(s + a, '\n', len - a);
		if (!nl) {
			buf_append(out, s + a, len - a);
			return;
		}
		size_t e = (size_t)(nl - s) + 1;
		buf_append(out, s + a, e - a);
		a = e;
		if (a < len)
			buf_append(out, indent, ilen);
	}
}

static void render_nodes(struct render *r, const struct node *n, const struct ctx *c,
                         const char *indent, size_t ilen);

/* Render a partial tag: look the template up by name and render it in the
 * current context, indented when the tag stood alone on its line. */
static void render_partial(struct render *r, const struct node *n, const struct ctx *c,
                           const char *indent, size_t ilen)
{
	if (r->partials >= TMPL_MAX_PARTIALS || r->expansions >= TMPL_MAX_EXPANSIONS)
		return;
	const struct tmpl *t = set_find(r->set, n->s);
	if (!t)
		return;
	const char *pin = NULL;
	size_t plen = 0;
	if (n->standalone) {
		if (!n->indent_len || !r->scratch) {
			pin = indent;
			plen = ilen;
		} else if (!ilen) {
			pin = n->indent;
			plen = n->indent_len;
		} else {
			char *both = arena_alloc(r->scratch, ilen + n->indent_len);
			memcpy(both, indent, ilen);
			memcpy(both + ilen, n->indent, n->indent_len);
			pin = both;
			plen = ilen + n->indent_len;
		}
	}
	r->partials++;
	r->expansions++;
	render_nodes(r, t->root, c, pin, plen);
	r->partials--;
}

/* Render a list of nodes against context stack `c`; `indent` (ilen bytes) is
 * the standalone-partial indentation put at the start of each template line. */
static void render_nodes(struct render *r, const struct node *n, const struct ctx *c,
                         const char *indent, size_t ilen)
{
	for (; n; n = n->next) {
		const struct tv *v;
		struct ctx inner;
		switch (n->kind) {
		case N_TEXT:
			if (ilen)
				put_indented(r->out, n->s, n->len, indent, ilen);
			else
				buf_append(r->out, n->s, n->len);
			break;
		case N_INDENT:
			if (ilen)
				buf_append(r->out, indent, ilen);
			break;
		case N_VAR:
		case N_RAW:
			put_value(r->out, lookup(n, c), n->kind == N_VAR);
			break;
		case N_SECTION:
			v = lookup(n, c);
			if (falsey(v))
				break;
			inner.up = c;
			if (v->type == TV_LIST) {
				for (size_t i = 0; i < v->u.list.n; i++) {
					inner.v = v->u.list.items[i];
					render_nodes(r, n->kids, &inner, indent, ilen);
				}
			} else {
				inner.v = v;
				render_nodes(r, n->kids, &inner, indent, ilen);
			}
			break;
		case N_INVERTED:
			if (falsey(lookup(n, c)))
				render_nodes(r, n->kids, c, indent, ilen);
			break;
		case N_PARTIAL:
			render_partial(r, n, c, indent, ilen);
			break;
		}
	}
}

/* Render template `name` against `ctx`, appending to `out`. Returns false
 * when the set has no such template. */
bool tmpl_render(const struct tmpl_set *set, const char *name, const struct tv *ctx,
                 struct arena *scratch, struct buf *out)
{
	const struct tmpl *t = set_find(set, name);
	if (!t || !out)
		return false;
	struct render r = {set, scratch, out, 0, 0};
	struct ctx top = {ctx, NULL};
	render_nodes(&r, t->root, ctx ? &top : NULL, NULL, 0);
	return true;
}
