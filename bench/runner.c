/* runner: time whole processes, round-robin, with their peak RSS.
 *
 *   runner ROUNDS WARMUP :: LABEL STDIN [VAR=VALUE...] PROGRAM [ARG...] :: ...
 *
 * Each group after "::" is one command: LABEL names it in the output, STDIN
 * is the file its stdin reads from, VAR=VALUE words are added to (or, with
 * an empty VALUE after "-", "-VAR", removed from) the inherited environment,
 * an @UID:GID word runs it as that user (no supplementary groups; the
 * runner must be root), then the program (a path, no PATH search) and its arguments. stdout and
 * stderr go to /dev/null. The groups run in turn, WARMUP rounds unmeasured,
 * then ROUNDS measured rounds, so every command of one invocation sees the
 * same machine load. Wall time is fork to wait4; peak RSS is ru_maxrss from
 * wait4 (KiB, the high-water mark across exec). Output, one line a command:
 *   LABEL n med_us p10_us p25_us p75_us p90_us min_us maxrss_kib
 * Exit 1 (with the label on stderr) if any run of any command fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cmd {
	const char *label, *in;
	char **env_ops; /* VAR=VALUE or -VAR */
	int n_env;
	char **argv;
	double *us;
	long maxrss;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int run_once(struct cmd *c, double *us, long *rss)
{
	struct rusage ru;
	int status;
	double t0 = now_us();
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open(c->in, O_RDONLY), null = open("/dev/null", O_WRONLY);

		if (in < 0 || null < 0 || dup2(in, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		for (int i = 0; i < c->n_env; i++) {
			unsigned int uid, gid;

			if (c->env_ops[i][0] == '@') {
				if (sscanf(c->env_ops[i], "@%u:%u", &uid, &gid) != 2 ||
				    setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
					_exit(126);
			} else if (c->env_ops[i][0] == '-')
				unsetenv(c->env_ops[i] + 1);
			else
				putenv(c->env_ops[i]);
		}
		execv(c->argv[0], c->argv);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	*us = now_us() - t0;
	*rss = ru.ru_maxrss;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "runner: %s: exit status %d, signal %d\n", c->label,
		WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Quantile q of sorted v[0..n-1], linear interpolation. */
static double quant(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

int main(int argc, char **argv)
{
	struct cmd cmds[64];
	int nc = 0, rounds, warm;

	if (argc < 4 || strcmp(argv[3], "::") != 0) {
		fprintf(stderr, "usage: runner ROUNDS WARMUP :: LABEL STDIN [VAR=VALUE...] PROGRAM [ARG...] :: ...\n");
		return 2;
	}
	rounds = atoi(argv[1]);
	warm = atoi(argv[2]);
	if (rounds < 1 || warm < 0)
		return 2;
	for (int i = 3; i < argc;) {
		struct cmd *c;
		int j = i + 1, end;

		if (nc == 64 || j + 2 >= argc + 0) {
			fprintf(stderr, "runner: bad command group at argument %d\n", i);
			return 2;
		}
		for (end = j; end < argc && strcmp(argv[end], "::") != 0; end++)
			;
		c = &cmds[nc++];
		memset(c, 0, sizeof(*c));
		c->label = argv[j++];
		c->in = argv[j++];
		c->env_ops = &argv[j];
		while (j < end && (strchr(argv[j], '=') || argv[j][0] == '-' || argv[j][0] == '@') &&
		       argv[j][0] != '/')
			c->n_env++, j++;
		if (j >= end) {
			fprintf(stderr, "runner: %s: no program\n", c->label);
			return 2;
		}
		c->argv = &argv[j];
		if (end < argc)
			argv[end] = NULL; /* terminates this argv */
		c->us = calloc(rounds, sizeof(double));
		i = end;
	}
	for (int r = -warm; r < rounds; r++) {
		for (int k = 0; k < nc; k++) {
			struct cmd *c = &cmds[k];
			double us;
			long rss;

			if (run_once(c, &us, &rss) < 0) {
				fprintf(stderr, "runner: %s: a run failed\n", c->label);
				return 1;
			}
			if (r >= 0) {
				c->us[r] = us;
				if (rss > c->maxrss)
					c->maxrss = rss;
			}
		}
	}
	for (int k = 0; k < nc; k++) {
		struct cmd *c = &cmds[k];

		qsort(c->us, rounds, sizeof(double), cmp);
		printf("%s %d %.1f %.1f %.1f %.1f %.1f %.1f %ld\n", c->label, rounds,
		       quant(c->us, rounds, 0.5), quant(c->us, rounds, 0.1), quant(c->us, rounds, 0.25),
		       quant(c->us, rounds, 0.75), quant(c->us, rounds, 0.9), c->us[0], c->maxrss);
	}
	return 0;
}
