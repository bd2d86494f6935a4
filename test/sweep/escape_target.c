/* escape_target.c: a program that leaves a process behind outside its
 * process group and session, as a daemon does (fork, setsid, fork again,
 * the middle one exits), for the sweep's case escape.
 *   escape_target exec|fork MARKER [SECS]
 * exec: the leftover execs sleep with MARKER as its argv[0]; fork: it
 * stays this program and sleeps. SECS: the program itself then sleeps
 * that long before its own work (a run in progress, to kill fi-run in). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t pid;
	FILE *f;

	if (argc < 3)
		return 2;
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		setsid();
		if (fork() == 0) {
			if (!strcmp(argv[1], "exec")) {
				execl("/bin/sleep", argv[2], "300",
				      (char *)NULL);
				_exit(127);
			}
			sleep(300);
			_exit(0);
		}
		_exit(0);
	}
	if (waitpid(pid, NULL, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	if (argc > 3)
		sleep((unsigned)strtoul(argv[3], NULL, 10));
	f = fopen("out.txt", "w");
	if (!f) {
		perror("out.txt");
		return 1;
	}
	fputs("done\n", f);
	if (fclose(f)) {
		perror("out.txt");
		return 1;
	}
	puts("ok");
	return 0;
}
