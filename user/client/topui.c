/* `agentperf top`: a live terminal view of every run on the host. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "topui.h"
#include "topview.h"

#define REFRESH_MS 1000
#define SCREEN_MAX (256 * 1024)

/* Set by signal handlers only. */
static volatile sig_atomic_t stop_requested, resized;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

/* The daemon's status records, or NULL with a one-line reason in err. */
static cJSON *fetch(const char *control_path, char *err, size_t errlen)
{
	struct control_request req = { .cmd = CONTROL_STATUS };
	int fd = client_connect(control_path, err, errlen);
	cJSON *reply, *runs;

	if (fd < 0)
		return NULL;
	reply = client_call(fd, &req, err, errlen);
	close(fd);
	if (!reply)
		return NULL;
	runs = cJSON_DetachItemFromObjectCaseSensitive(reply, "runs");
	cJSON_Delete(reply);
	if (!runs)
		snprintf(err, errlen, "agentperfd sent no runs");
	return runs;
}

static void clock_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	strftime(buf, len, "%H:%M:%S", localtime_r(&t, &tm));
}

static void draw(const char *control_path, char *screen, int cols, int rows)
{
	char err[256], clk[16], *p, *nl;
	cJSON *runs = fetch(control_path, err, sizeof(err));
	FILE *out = stdout;

	clock_now(clk, sizeof(clk));
	if (runs)
		topview_render(runs, cols, rows, clk, screen, SCREEN_MAX);
	else
		snprintf(screen, SCREEN_MAX, "agentperf top - %s\nagentperf: %.*s\n", clk,
			 cols > 12 ? cols - 12 : 0, err);
	cJSON_Delete(runs);
	/* Home, each line then "clear to its end", then clear below. */
	fputs("\033[H", out);
	for (p = screen; (nl = strchr(p, '\n')); p = nl + 1)
		fprintf(out, "%.*s\033[K%s", (int)(nl - p), p, nl[1] ? "\r\n" : "");
	fputs("\033[J", out);
	fflush(out);
}

static void size_of(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* Waits until the next refresh; true when the user asked to quit. */
static bool wait_key(int ms)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char c[16];
	ssize_t n;

	if (poll(&pfd, 1, ms) <= 0)
		return false; /* timeout, or a signal (resize, stop) */
	n = read(STDIN_FILENO, c, sizeof(c));
	if (n == 0)
		return true; /* the terminal is gone */
	for (ssize_t i = 0; i < n; i++)
		if (c[i] == 'q' || c[i] == 'Q')
			return true;
	return false;
}

static int snapshot(const char *control_path)
{
	char err[256], clk[16], *screen;
	cJSON *runs = fetch(control_path, err, sizeof(err));

	if (!runs) {
		fprintf(stderr, "agentperf: %s\n", err);
		return 1;
	}
	screen = malloc(SCREEN_MAX);
	if (!screen) {
		cJSON_Delete(runs);
		return 1;
	}
	clock_now(clk, sizeof(clk));
	topview_render(runs, 0, 0, clk, screen, SCREEN_MAX);
	fputs(screen, stdout);
	cJSON_Delete(runs);
	free(screen);
	return 0;
}

int topui_run(const char *control_path)
{
	struct sigaction stop = { .sa_handler = on_stop }, winch = { .sa_handler = on_winch };
	struct termios saved, raw;
	bool have_tty;
	char *screen;
	int cols, rows;

	if (!isatty(STDOUT_FILENO))
		return snapshot(control_path);
	screen = malloc(SCREEN_MAX);
	if (!screen)
		return 1;
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGHUP, &stop, NULL);
	sigaction(SIGWINCH, &winch, NULL);
	/* Keys one at a time, not echoed; Ctrl-C still interrupts. */
	have_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (have_tty) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	/* The alternate screen, without a cursor: the shell's screen comes back after. */
	fputs("\033[?1049h\033[?25l", stdout);
	while (!stop_requested) {
		resized = 0;
		size_of(&cols, &rows);
		draw(control_path, screen, cols, rows);
		if (wait_key(REFRESH_MS))
			break;
	}
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (have_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	free(screen);
	return 0;
}
