/* agentperfd: reads its configuration, opens the daemon and runs its one
 * event loop until SIGTERM. */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "privs.h"
#include "startup.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct daemon *d = NULL;
	struct config cfg;
	char err[256];
	int ret = 1, e;

	e = config_parse(argc, argv, &cfg);
	if (e)
		return e == CONFIG_EXIT ? 0 : 2;
	log_set_verbose(cfg.verbose);
	libbpf_set_print(log_libbpf_print);
	if (startup_preflight())
		goto out;
	startup_raise_fd_limit();
	d = daemon_new(&cfg);
	if (!d)
		goto out;
	if (cfg.cleanup) {
		ret = daemon_cleanup(d) ? 1 : 0;
		goto out;
	}
	/* Programs loaded, port and socket bound: the rest needs far less. */
	if (privs_drop(err, sizeof(err))) {
		fprintf(stderr, "agentperfd: %s\n", err);
		goto out;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* One thread, one loop: lws polls the port, the descriptors the modules
	 * registered (the control socket, the registries' lock watch) and the
	 * timers; a signal interrupts its poll and ends the loop. */
	while (!stop_requested && daemon_serve(d) == 0)
		;
	log_info("stopping");
	ret = daemon_shutdown(d) ? 1 : 0;
out:
	daemon_free(d);
	config_free(&cfg);
	return ret;
}
