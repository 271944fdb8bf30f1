/* main.c — tianbao-fcgi: open the FastCGI socket, fork the workers, supervise them. */
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "app.h"

#define MAX_WORKERS 256

struct worker {
	pid_t pid;
	unsigned gen; /* configuration generation it was started with */
	time_t started;
};

static volatile sig_atomic_t got_term, got_hup, got_chld;
static volatile sig_atomic_t worker_busy;
static int listen_fd = -1;

/* Supervisor signal handler: only records what happened. */
static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

/* Worker SIGTERM handler: finish the request in flight, accept no more.
 * Closing our copy of the listening socket makes a pending or imminent
 * accept() fail at once, without touching the other workers' copies. */
static void on_worker_term(int sig)
{
	(void)sig;
	got_term = 1;
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
	}
}

/* Install `fn` for `sig` with the given sa_flags. */
static void set_handler_flags(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Install `fn` for `sig` without SA_RESTART, so blocking calls return EINTR. */
static void set_handler(int sig, void (*fn)(int))
{
	set_handler_flags(sig, fn, 0);
}

/* FCGX body reader for app_handle. */
static size_t fcgi_read(void *ctx, char *buf, size_t n)
{
	int r = FCGX_GetStr(buf, n > 65536 ? 65536 : (int)n, (FCGX_Stream *)ctx);
	return r > 0 ? (size_t)r : 0;
}

/* FCGX response writer for app_handle. */
static void fcgi_write(void *ctx, const char *p, size_t n)
{
	while (n > 0) {
		int chunk = n > 1 << 20 ? 1 << 20 : (int)n;
		if (FCGX_PutStr(p, chunk, (FCGX_Stream *)ctx) < 0)
			return;
		p += chunk;
		n -= (size_t)chunk;
	}
}

/* The life of one worker: its own connection and templates, an accept loop,
 * a clean exit on SIGTERM (so that LeakSanitizer can check it). */
static int worker_main(const struct config *cfg)
{
	struct app app;
	char err[512];
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* SA_RESTART: a request body being read must not come back short; an
	 * accept() restarted after the handler closed the socket fails with EBADF. */
	set_handler_flags(SIGTERM, on_worker_term, SA_RESTART);
	set_handler(SIGINT, SIG_IGN);
	set_handler(SIGHUP, SIG_IGN);
	set_handler(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (getppid() == 1)
		return 1;
	if (!app_open(&app, cfg, err, sizeof(err))) {
		log_error("worker cannot start: %s", err);
		return 1;
	}
	FCGX_Request req;
	FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!got_term) {
		if (FCGX_Accept_r(&req) < 0)
			break;
		worker_busy = 1;
		app_handle(&app, req.envp, fcgi_read, req.in, fcgi_write, req.out);
		FCGX_Finish_r(&req);
		worker_busy = 0;
	}
	FCGX_Free(&req, 1);
	app_close(&app);
	return 0;
}

/* Fork one worker of generation `gen`; returns its pid or -1. */
static pid_t spawn_worker(const struct config *cfg, unsigned gen)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		log_init("tianbao-fcgi worker");
		_exit(worker_main(cfg) == 0 ? 0 : 1);
	}
	return pid;
}

/* Open the FastCGI socket named in the config (unix path or host:port). */
static int open_socket(const struct config *cfg)
{
	const char *s = cfg->socket;
	if (strchr(s, '/')) {
		struct stat sb;
		if (stat(s, &sb) == 0 && S_ISSOCK(sb.st_mode))
			unlink(s);
	}
	int fd = FCGX_OpenSocket(s, 256);
	if (fd < 0) {
		log_error("cannot open FastCGI socket %s: %s", s, strerror(errno));
		return -1;
	}
	if (strchr(s, '/') && chmod(s, (mode_t)cfg->socket_mode) != 0)
		log_warn("chmod %s: %s", s, strerror(errno));
	return fd;
}

/* Check that a worker could start (templates parse, database opens), so that
 * a broken installation fails here with one message instead of in a loop. */
static bool preflight(const struct config *cfg)
{
	struct app app;
	char err[512];
	if (!app_open(&app, cfg, err, sizeof(err))) {
		log_error("%s", err);
		return false;
	}
	app_close(&app);
	return true;
}

/* Print usage. */
static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tianbao-fcgi -c CONFIG [--check]\n"
	        "\n"
	        "Runs the Tianbao web application as a FastCGI server behind nginx.\n"
	        "\n"
	        "  -c, --config FILE  configuration file (INI, section [tianbao])\n"
	        "      --check        check the configuration, templates and database, then exit\n"
	        "  -h, --help         show this help\n"
	        "\n"
	        "Signals: SIGTERM stops all workers after the requests in flight;\n"
	        "SIGHUP re-reads the configuration and replaces the workers.\n");
}

/* Count workers of the current generation. */
static int live_workers(const struct worker *w, int n, unsigned gen)
{
	int c = 0;
	for (int i = 0; i < n; i++)
		if (w[i].pid > 0 && w[i].gen == gen)
			c++;
	return c;
}

/* Start workers until `want` of generation `gen` run. */
static void fill_workers(struct worker *w, int max, int want, unsigned gen,
                         const struct config *cfg)
{
	for (int i = 0; i < max && live_workers(w, max, gen) < want; i++) {
		if (w[i].pid > 0)
			continue;
		pid_t pid = spawn_worker(cfg, gen);
		if (pid < 0)
			return;
		w[i].pid = pid;
		w[i].gen = gen;
		w[i].started = time(NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"check", no_argument, NULL, 'k'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *cfg_path = NULL;
	bool check_only = false;
	int c;
	log_init("tianbao-fcgi");
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!cfg_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	struct config cfg;
	char err[512];
	config_defaults(&cfg);
	if (!config_load(&cfg, cfg_path, err, sizeof(err))) {
		fprintf(stderr, "tianbao-fcgi: %s\n", err);
		return 1;
	}
	if (!preflight(&cfg))
		return 1;
	if (check_only) {
		printf("configuration OK\n");
		return 0;
	}
	/* Workers spend much of a request waiting on the socket: four per core keep
	 * the cores busy (see docs/PERFORMANCE.md). */
	int nworkers = cfg.workers > 0 ? cfg.workers : 4 * (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > MAX_WORKERS / 2)
		nworkers = MAX_WORKERS / 2;

	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	listen_fd = open_socket(&cfg);
	if (listen_fd < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	set_handler(SIGHUP, on_signal);
	set_handler(SIGCHLD, on_signal);

	static struct worker workers[MAX_WORKERS];
	unsigned gen = 1;
	int quick_deaths = 0;
	fill_workers(workers, MAX_WORKERS, nworkers, gen, &cfg);
	log_info("listening on %s with %d workers", cfg.socket, nworkers);

	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!got_term) {
		if (!got_hup && !got_chld)
			sigsuspend(&old);
		if (got_chld) {
			got_chld = 0;
			int st;
			pid_t pid;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				for (int i = 0; i < MAX_WORKERS; i++) {
					if (workers[i].pid != pid)
						continue;
					bool current = workers[i].gen == gen;
					if (current && (WIFSIGNALED(st) || WEXITSTATUS(st) != 0)) {
						log_warn(
						    "worker %ld died (%s %d); starting another",
						    (long)pid,
						    WIFSIGNALED(st) ? "signal" : "status",
						    WIFSIGNALED(st) ? WTERMSIG(st)
						                    : WEXITSTATUS(st));
						quick_deaths = time(NULL) - workers[i].started < 2
						                   ? quick_deaths + 1
						                   : 0;
					}
					workers[i].pid = 0;
				}
			}
			if (quick_deaths > 5) {
				/* A worker that cannot start would otherwise fork in a tight loop.
				 */
				sigprocmask(SIG_SETMASK, &old, NULL);
				sleep(1);
				sigprocmask(SIG_BLOCK, &block, NULL);
			}
			if (!got_term)
				fill_workers(workers, MAX_WORKERS, nworkers, gen, &cfg);
		}
		if (got_hup && !got_term) {
			got_hup = 0;
			struct config next;
			config_defaults(&next);
			if (!config_load(&next, cfg_path, err, sizeof(err))) {
				log_error("reload refused: %s", err);
			} else if (strcmp(next.socket, cfg.socket) != 0) {
				log_error(
				    "reload refused: the socket cannot change without a restart");
			} else if (preflight(&next)) {
				cfg = next;
				nworkers = cfg.workers > 0 ? cfg.workers : nworkers;
				if (nworkers > MAX_WORKERS / 2)
					nworkers = MAX_WORKERS / 2;
				unsigned old_gen = gen++;
				quick_deaths = 0;
				fill_workers(workers, MAX_WORKERS, nworkers, gen, &cfg);
				for (int i = 0; i < MAX_WORKERS; i++)
					if (workers[i].pid > 0 && workers[i].gen == old_gen)
						kill(workers[i].pid, SIGTERM);
				log_info("reloaded: %d new workers", nworkers);
			}
		}
	}
	log_info("stopping");
	for (int i = 0; i < MAX_WORKERS; i++)
		if (workers[i].pid > 0)
			kill(workers[i].pid, SIGTERM);
	sigprocmask(SIG_SETMASK, &old, NULL);
	set_handler(SIGCHLD, SIG_DFL);
	time_t deadline = time(NULL) + 10;
	for (;;) {
		int alive = 0;
		for (int i = 0; i < MAX_WORKERS; i++) {
			if (workers[i].pid <= 0)
				continue;
			if (waitpid(workers[i].pid, NULL, WNOHANG) == workers[i].pid)
				workers[i].pid = 0;
			else
				alive++;
		}
		if (!alive)
			break;
		if (time(NULL) > deadline) {
			for (int i = 0; i < MAX_WORKERS; i++)
				if (workers[i].pid > 0)
					kill(workers[i].pid, SIGKILL);
		}
		usleep(20000);
	}
	if (strchr(cfg.socket, '/'))
		unlink(cfg.socket);
	close(listen_fd);
	log_info("stopped");
	return 0;
}
