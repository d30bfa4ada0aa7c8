/* Who holds the CPU, sampled at random instants: tools/bench/lab/checks.sh's CPU instrument.
 *
 * The user-mode-linux guest charges each 10 ms tick to the task it finds running, and its ticks fall on
 * multiples of 10 ms of the monotonic clock, as lvsh's 20 ms grid of timers does: lvsh wakes with a
 * tick and is often asleep again before the next one, so the ticks charge it a boot-dependent part of
 * what it ran. This sampler wakes at Poisson instants (every phase alike) at real-time priority and
 * looks whether any thread of each group of processes is in state R (running, or woken and waiting for
 * the CPU): the share of looks that find it so bounds the group's share of the one CPU from above. A
 * second figure splits each look among the tasks then runnable (from /proc/loadavg, less the sampler
 * and the groups marked as witnesses, which only take what the others leave): a group with r of them
 * gets r / k of the look. On one CPU one of the k was running, and this share counts waiting for the
 * CPU no more than once.
 *
 * A look must cost little, or the sampler's own runs keep woken tasks waiting and are counted as
 * theirs (a Python version took about 3 ms a look in the guest and doubled every figure). So the stat
 * files are opened once and re-read with pread, a group's threads are listed again once a second
 * (io_uring's workers come and go), and the looks happen before anything else after a wake-up.
 *
 * Usage: sampler SECONDS RATE LABEL=PID[,PID...]...   (a LABEL that starts with "witness" is one)
 * Prints, per group: LABEL SECONDS SHARE SD LOOKS SPLIT_SECONDS SPLIT_SHARE (SECONDS = SHARE x the
 * window's wall time). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_GROUPS 8
#define MAX_FDS 512

struct group {
	const char *label;
	int pids[64], npids;
	int fds[MAX_FDS], nfds;
	int witness;
	long hits;
	double split;
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void list_threads(struct group *g)
{
	for (int i = 0; i < g->nfds; i++)
		close(g->fds[i]);
	g->nfds = 0;
	for (int p = 0; p < g->npids; p++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", g->pids[p]);
		DIR *d = opendir(path);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) && g->nfds < MAX_FDS) {
			if (e->d_name[0] == '.')
				continue;
			char stat[300];
			snprintf(stat, sizeof stat, "/proc/%d/task/%s/stat", g->pids[p], e->d_name);
			int fd = open(stat, O_RDONLY | O_CLOEXEC);
			if (fd >= 0)
				g->fds[g->nfds++] = fd;
		}
		closedir(d);
	}
}

/* How many of the group's threads are runnable. */
static int runnable(const struct group *g)
{
	char buf[512];
	int r = 0;
	for (int i = 0; i < g->nfds; i++) {
		ssize_t n = pread(g->fds[i], buf, sizeof buf - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = 0;
		char *close_paren = strrchr(buf, ')');
		if (close_paren && close_paren[1] == ' ' && close_paren[2] == 'R')
			r++;
	}
	return r;
}

/* The guest's runnable tasks, this sampler among them (/proc/loadavg's fourth field, before the '/'). */
static int running_tasks(int fd)
{
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	int running = 0;
	sscanf(buf, "%*s %*s %*s %d/", &running);
	return running;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: sampler SECONDS RATE LABEL=PID[,PID...]...\n");
		return 2;
	}
	double seconds = atof(argv[1]), rate = atof(argv[2]);
	struct group groups[MAX_GROUPS];
	int ngroups = 0;
	for (int a = 3; a < argc && ngroups < MAX_GROUPS; a++) {
		struct group *g = &groups[ngroups++];
		memset(g, 0, sizeof *g);
		char *eq = strchr(argv[a], '=');
		if (!eq) {
			fprintf(stderr, "sampler: %s is not LABEL=PID[,PID...]\n", argv[a]);
			return 2;
		}
		*eq = 0;
		g->label = argv[a];
		g->witness = strncmp(g->label, "witness", 7) == 0;
		for (char *p = strtok(eq + 1, ","); p && g->npids < 64; p = strtok(NULL, ","))
			g->pids[g->npids++] = atoi(p);
		list_threads(g);
	}
	struct sched_param param = { .sched_priority = 50 };
	if (sched_setscheduler(0, SCHED_FIFO, &param) != 0)
		perror("sampler: SCHED_FIFO");
	mlockall(MCL_CURRENT | MCL_FUTURE);
	int loadavg = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	srand48(getpid() ^ (long)(now() * 1e6));
	long looks = 0;
	double start = now(), end = start + seconds, relist = start + 1;
	for (;;) {
		double wait = -log(1 - drand48()) / rate;
		struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		int hit[MAX_GROUPS];
		for (int i = 0; i < ngroups; i++)
			hit[i] = runnable(&groups[i]);
		int others = running_tasks(loadavg) - 1;
		double t = now();
		if (t >= end)
			break;
		looks++;
		for (int i = 0; i < ngroups; i++)
			if (groups[i].witness)
				others -= hit[i];
		for (int i = 0; i < ngroups; i++) {
			groups[i].hits += hit[i] > 0;
			if (!groups[i].witness && hit[i] > 0)
				groups[i].split += (double)hit[i] / (others > hit[i] ? others : hit[i]);
		}
		if (t >= relist) {
			for (int i = 0; i < ngroups; i++)
				list_threads(&groups[i]);
			relist = t + 1;
		}
	}
	double wall = now() - start;
	for (int i = 0; i < ngroups; i++) {
		double share = looks ? (double)groups[i].hits / looks : 0;
		double split = looks ? groups[i].split / looks : 0;
		printf("%s %.3f %.4f %.4f %ld %.3f %.4f\n", groups[i].label, share * wall, share,
		       looks ? sqrt(share * (1 - share) / looks) : 0, looks, split * wall, split);
	}
	return 0;
}
