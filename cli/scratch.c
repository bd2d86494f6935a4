/* scratch.c: fi-run's own temporary files (the report, private copies of
 * scenarios read from a pipe or a device). They are made with mkstemp
 * under TMPDIR and removed when fi-run ends: at exit, and from the signal
 * handler of launch.c when a signal ends fi-run. */
#include "scratch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fi_run.h"

/* A list the signal handler can walk: a node is complete before it is
 * published at the head. */
struct node {
	struct node *next;
	char path[];
};

static struct node *volatile head;
static pid_t owner;

static void remove_at_exit(void)
{
	fi__scratch_remove_all();
}

void fi__scratch_remove_all(void)
{
	struct node *n;

	if (getpid() != owner) /* a forked child leaves them alone */
		return;
	for (n = head; n; n = n->next)
		unlink(n->path);
}

/* mkstemp under dir, "dir/stem.XXXXXX"; the path in a new node. */
static struct node *try_dir(const char *dir, const char *stem, int *fd)
{
	size_t n = strlen(dir) + 1 + strlen(stem) + sizeof(".XXXXXX");
	struct node *node = fi__util_xmalloc(sizeof(*node) + n);

	snprintf(node->path, n, "%s/%s.XXXXXX", dir, stem);
	*fd = mkstemp(node->path);
	if (*fd < 0) {
		free(node);
		return NULL;
	}
	return node;
}

const char *fi__scratch_dir(void)
{
	const char *dir = getenv("TMPDIR");

	/* A ':' would split FI_SCENARIO; /tmp then. */
	return dir && *dir && !strchr(dir, ':') ? dir : "/tmp";
}

int fi__scratch_make(const char *stem, char **path)
{
	const char *dir = fi__scratch_dir();
	struct node *node;
	sigset_t all, old;
	int fd, err;

	if (!owner) {
		owner = getpid();
		atexit(remove_at_exit);
	}
	/* No signal between mkstemp and the file being on the list. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	node = try_dir(dir, stem, &fd);
	err = errno;
	if (!node && strcmp(dir, "/tmp") != 0)
		node = try_dir("/tmp", stem, &fd);
	if (node) {
		node->next = head;
		head = node;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!node) {
		errno = err;
		return -1;
	}
	*path = node->path;
	return fd;
}
