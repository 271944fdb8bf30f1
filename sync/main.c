/* main.c — tianbao-sync: delivers approved submissions from the outbox to the provincial platform.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/log.h"
#include "core/migrate.h"
#include "core/outbox.h"
#include "sync/sync.h"

static volatile sig_atomic_t sync_stop;

/* SIGTERM / SIGINT: finish the request in flight, then stop. */
static void sync_on_signal(int sig)
{
	(void)sig;
	sync_stop = 1;
}

/* Print the usage text. */
static void sync_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: tianbao-sync [-c CONFIG] [-s SYNC_CONFIG] (--once | --daemon)\n"
	    "\n"
	    "Delivers every approved submission version waiting in the outbox to the provincial\n"
	    "platform (POST {base_url}/api/dataValueSets, docs/upstream.md), retrying with\n"
	    "backoff; safe to kill at any moment and to start twice.\n"
	    "\n"
	    "  -c, --config FILE       the common configuration (for [tianbao] database);\n"
	    "                          default %s/tianbao/tianbao.ini\n"
	    "  -s, --sync-config FILE  the upstream settings, section [sync] (readable only by\n"
	    "                          the sync job); default %s/tianbao/sync.ini\n"
	    "      --once              deliver what is due, then exit (for a systemd timer)\n"
	    "      --daemon            deliver, sleep the configured interval, repeat; SIGTERM\n"
	    "                          stops after the request in flight\n"
	    "                          (exactly one of --once and --daemon)\n"
	    "  -h, --help              this help\n"
	    "\n"
	    "Exit status: 0 when the (last) pass went through; 1 when the database failed or\n"
	    "the platform refused the endpoint or the credentials (401, 403, 404, 407: the\n"
	    "rows stay pending), or the configuration is wrong; 2 for a usage error.\n",
	    TB_SYSCONFDIR, TB_SYSCONFDIR);
}

/* A lease owner name: host, pid and random bits. */
static void sync_owner(char *out, size_t len)
{
	char host[64] = "host";
	gethostname(host, sizeof(host) - 1);
	snprintf(out, len, "%s:%ld:%08x", host, (long)getpid(), randombytes_random());
}

/* What sync_one came to, for the pass. */
enum sync_step {
	STEP_DONE,   /* sent and recorded, or skipped: go on */
	STEP_PAUSED, /* the platform refused the endpoint or credentials: stop the pass */
	STEP_DBERR,  /* the database failed: stop the pass */
};

/* Deliver one claimed row and record the outcome. On STEP_PAUSED the outcome's
 * message is copied into pause (of pauselen bytes). */
static enum sync_step sync_one(struct db *db, struct sync_client *cl, const struct sync_config *cfg,
                               const char *owner, const struct outbox_row *row, char *pause,
                               size_t pauselen)
{
	long long now = (long long)time(NULL);
	int renewed = outbox_renew(db, row->id, owner, now, cfg->lease_s);
	if (renewed < 0) {
		log_error("outbox %lld (%s): the lease could not be renewed (database error): not "
		          "sent",
		          row->id, row->idem_key);
		return STEP_DBERR;
	}
	if (renewed == 0) {
		log_info("outbox %lld (%s): no longer ours (superseded, or leased by another run): "
		         "skipped",
		         row->id, row->idem_key);
		return STEP_DONE;
	}
	struct sync_answer ans;
	sync_client_send(cl, row->idem_key, row->payload, &ans);
	char message[600];
	enum sync_outcome o = sync_classify(&ans, message, sizeof(message));
	now = (long long)time(NULL);
	struct outbox_result r = {.status = ans.status, .message = message, .next_attempt_at = now};
	int attempts = row->attempts + 1;
	double u = randombytes_uniform(1000000) / 1e6;
	long long wait = sync_backoff(attempts, cfg->backoff_base_s, cfg->backoff_max_s, u,
	                              sync_retry_after(ans.retry_after, now));
	if (o == SO_DELIVERED || o == SO_WARNING) {
		r.state = OB_DELIVERED;
		r.reply = ans.body;
		r.warnings = o == SO_WARNING;
	} else if (o == SO_FAILED) {
		r.state = OB_FAILED;
		r.reply = ans.body;
	} else if (o == SO_PAUSE) {
		/* not the row's fault: it stays pending, the attempt not counted */
		r.state = OB_PENDING;
		r.paused = true;
		r.next_attempt_at = now + wait;
	} else if (attempts >= cfg->max_attempts) {
		r.state = OB_DEAD;
	} else {
		r.state = OB_PENDING;
		r.next_attempt_at = now + wait;
	}
	if (o == SO_PAUSE)
		snprintf(pause, pauselen, "%s", message);
	if (!outbox_record(db, row->id, owner, now, &r)) {
		log_error(
		    "outbox %lld (%s): the outcome could not be recorded; the lease will expire "
		    "and the row be sent again (harmless: same idempotency key)",
		    row->id, row->idem_key);
		return o == SO_PAUSE ? STEP_PAUSED : STEP_DONE;
	}
	if (o == SO_PAUSE)
		return STEP_PAUSED;
	log_info("outbox %lld (%s): %s, attempt %d: %s", row->id, row->idem_key,
	         outbox_state_code(r.state), attempts, message);
	return STEP_DONE;
}

/* What a pass came to. */
enum sync_pass_rc {
	PASS_OK,
	PASS_PAUSED, /* stopped by an answer about the endpoint or credentials */
	PASS_DBERR,
};

/* Deliver everything due now. A pause stops the pass (the rows leased and not
 * sent are given back); it is logged when it starts or its message changes, not
 * again on every pass of a daemon (`last_pause` remembers it; "" when none). */
static enum sync_pass_rc sync_pass(struct db *db, struct sync_client *cl,
                                   const struct sync_config *cfg, const char *owner,
                                   char *last_pause, size_t pauselen)
{
	struct arena a;
	arena_init(&a, 64 * 1024);
	enum sync_pass_rc rc = PASS_OK;
	char pause[600] = "";
	while (!sync_stop && rc == PASS_OK) {
		struct outbox_row *rows;
		size_t n;
		if (outbox_claim(db, &a, owner, (long long)time(NULL), cfg->lease_s,
		                 (size_t)cfg->batch_size, &rows, &n) != 0) {
			rc = PASS_DBERR;
			break;
		}
		if (n == 0)
			break;
		for (size_t i = 0; i < n && !sync_stop && rc == PASS_OK; i++) {
			enum sync_step step =
			    sync_one(db, cl, cfg, owner, &rows[i], pause, sizeof(pause));
			rc = step == STEP_PAUSED  ? PASS_PAUSED
			     : step == STEP_DBERR ? PASS_DBERR
			                          : PASS_OK;
		}
		arena_reset(&a);
	}
	arena_free(&a);
	if (rc != PASS_OK && !outbox_release(db, owner))
		log_error(
		    "the leases of this run could not be given back; they expire by themselves");
	if (rc == PASS_PAUSED) {
		if (strcmp(pause, last_pause) != 0)
			log_error(
			    "the platform refused this run: %s; the rows stay pending and are "
			    "tried again with backoff (check sync.ini: token, proxy, base_url)",
			    pause);
		snprintf(last_pause, pauselen, "%s", pause);
	} else if (rc == PASS_OK && last_pause[0]) {
		log_info("delivery resumed");
		last_pause[0] = '\0';
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"sync-config", required_argument, NULL, 's'},
	    {"once", no_argument, NULL, 'o'},         {"daemon", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	char cfg_path[CONFIG_PATH_MAX], sync_path[CONFIG_PATH_MAX], err[1024];
	snprintf(cfg_path, sizeof(cfg_path), "%s/tianbao/tianbao.ini", TB_SYSCONFDIR);
	snprintf(sync_path, sizeof(sync_path), "%s/tianbao/sync.ini", TB_SYSCONFDIR);
	int mode = 0, c;
	log_init("tianbao-sync");
	while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			snprintf(cfg_path, sizeof(cfg_path), "%s", optarg);
			break;
		case 's':
			snprintf(sync_path, sizeof(sync_path), "%s", optarg);
			break;
		case 'o':
		case 'd':
			if (mode && mode != c) {
				fprintf(stderr,
				        "tianbao-sync: --once and --daemon exclude each other\n");
				sync_usage(stderr);
				return 2;
			}
			mode = c;
			break;
		case 'h':
			sync_usage(stdout);
			return 0;
		default:
			sync_usage(stderr);
			return 2;
		}
	}
	if (!mode || optind != argc) {
		sync_usage(stderr);
		return 2;
	}
	/* libcurl first: reading the configuration already parses URLs with it */
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "tianbao-sync: cannot initialise libsodium or libcurl\n");
		return 1;
	}
	struct config cfg;
	static struct sync_config sc; /* static: wiped at exit (the token) */
	config_defaults(&cfg);
	if (!config_load(&cfg, cfg_path, err, sizeof(err)) ||
	    !sync_config_load(&sc, sync_path, err, sizeof(err))) {
		fprintf(stderr, "tianbao-sync: %s\n", err);
		sodium_memzero(&sc, sizeof(sc));
		curl_global_cleanup();
		return 1;
	}
	if (sc.database[0])
		snprintf(cfg.database, sizeof(cfg.database), "%s", sc.database);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sync_on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct db db;
	struct sync_client cl;
	int rc = 1;
	if (!db_open(&db, cfg.database, cfg.busy_timeout_ms, err, sizeof(err))) {
		fprintf(stderr, "tianbao-sync: %s\n", err);
		sodium_memzero(&sc, sizeof(sc));
		curl_global_cleanup();
		return 1;
	}
	if (migrate_version(&db) < 7) { /* 0007: the state superseded */
		fprintf(stderr, "tianbao-sync: %s is not up to date; run 'tianbao-admin migrate'\n",
		        cfg.database);
		goto out_db;
	}
	if (!sync_client_init(&cl, &sc, err, sizeof(err))) {
		fprintf(stderr, "tianbao-sync: %s\n", err);
		goto out_db;
	}
	char owner[128];
	sync_owner(owner, sizeof(owner));
	log_info("delivering to %s as %s (%s)", sc.base_url, owner,
	         mode == 'o' ? "once" : "daemon");
	char last_pause[600] = "";
	do {
		/* the exit code is the last pass's: a daemon that recovered exits 0 */
		rc = sync_pass(&db, &cl, &sc, owner, last_pause, sizeof(last_pause)) == PASS_OK ? 0
		                                                                                : 1;
		for (int s = 0; mode == 'd' && s < sc.interval_s && !sync_stop; s++)
			sleep(1);
	} while (mode == 'd' && !sync_stop);
	outbox_release(&db, owner);
	log_info("stopped");
	sync_client_free(&cl);
out_db:
	db_close(&db);
	sodium_memzero(&sc, sizeof(sc));
	curl_global_cleanup();
	return rc;
}
