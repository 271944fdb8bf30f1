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
	    "  -h, --help              this help\n",
	    TB_SYSCONFDIR, TB_SYSCONFDIR);
}

/* A lease owner name: host, pid and random bits. */
static void sync_owner(char *out, size_t len)
{
	char host[64] = "host";
	gethostname(host, sizeof(host) - 1);
	snprintf(out, len, "%s:%ld:%08x", host, (long)getpid(), randombytes_random());
}

/* Deliver one claimed row and record the outcome. */
static void sync_one(struct db *db, struct sync_client *cl, const struct sync_config *cfg,
                     const char *owner, const struct outbox_row *row)
{
	long long now = (long long)time(NULL);
	if (!outbox_renew(db, row->id, owner, now, cfg->lease_s)) {
		log_info("outbox %lld: no longer ours, skipped", row->id);
		return;
	}
	struct sync_answer ans;
	sync_client_send(cl, row->idem_key, row->payload, &ans);
	char message[600];
	enum sync_outcome o = sync_classify(&ans, message, sizeof(message));
	now = (long long)time(NULL);
	struct outbox_result r = {.status = ans.status, .message = message, .next_attempt_at = now};
	int attempts = row->attempts + 1;
	if (o == SO_DELIVERED) {
		r.state = OB_DELIVERED;
		r.reply = ans.body;
	} else if (o == SO_FAILED) {
		r.state = OB_FAILED;
		r.reply = ans.body;
	} else if (attempts >= cfg->max_attempts) {
		r.state = OB_DEAD;
	} else {
		r.state = OB_PENDING;
		double u = randombytes_uniform(1000000) / 1e6;
		long long wait = sync_backoff(attempts, cfg->backoff_base_s, cfg->backoff_max_s, u,
		                              sync_retry_after(ans.retry_after, now));
		r.next_attempt_at = now + wait;
	}
	if (!outbox_record(db, row->id, owner, now, &r))
		log_error(
		    "outbox %lld (%s): the outcome could not be recorded; the lease will expire "
		    "and the row be sent again (harmless: same idempotency key)",
		    row->id, row->idem_key);
	else
		log_info("outbox %lld (%s): %s, attempt %d: %s", row->id, row->idem_key,
		         outbox_state_code(r.state), attempts, message);
}

/* Deliver everything due now; returns -1 on a database error. */
static int sync_pass(struct db *db, struct sync_client *cl, const struct sync_config *cfg,
                     const char *owner)
{
	struct arena a;
	arena_init(&a, 64 * 1024);
	int rc = 0;
	while (!sync_stop) {
		struct outbox_row *rows;
		size_t n;
		if (outbox_claim(db, &a, owner, (long long)time(NULL), cfg->lease_s,
		                 (size_t)cfg->batch_size, &rows, &n) != 0) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		for (size_t i = 0; i < n && !sync_stop; i++)
			sync_one(db, cl, cfg, owner, &rows[i]);
		arena_reset(&a);
	}
	arena_free(&a);
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
			mode = 'o';
			break;
		case 'd':
			mode = 'd';
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
	struct config cfg;
	struct sync_config sc;
	config_defaults(&cfg);
	if (!config_load(&cfg, cfg_path, err, sizeof(err)) ||
	    !sync_config_load(&sc, sync_path, err, sizeof(err))) {
		fprintf(stderr, "tianbao-sync: %s\n", err);
		return 1;
	}
	if (sc.database[0])
		snprintf(cfg.database, sizeof(cfg.database), "%s", sc.database);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "tianbao-sync: cannot initialise libsodium or libcurl\n");
		return 1;
	}
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
		curl_global_cleanup();
		return 1;
	}
	if (migrate_version(&db) < 5) {
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
	rc = 0;
	do {
		if (sync_pass(&db, &cl, &sc, owner) != 0)
			rc = 1;
		for (int s = 0; mode == 'd' && s < sc.interval_s && !sync_stop; s++)
			sleep(1);
	} while (mode == 'd' && !sync_stop);
	outbox_release(&db, owner);
	log_info("stopped");
	sync_client_free(&cl);
out_db:
	db_close(&db);
	curl_global_cleanup();
	return rc;
}
