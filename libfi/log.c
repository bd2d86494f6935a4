/* log.c: fi's own messages on stderr (log.h); used by the patcher, the
 * planner and the constructor, inside the hook too. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "raw.h"

int fi__log_debug;

void fi__log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	memcpy(buf, "fi: ", 4);
	va_start(ap, fmt);
	n = vsnprintf(buf + 4, sizeof(buf) - 5, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += 4;
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	buf[n++] = '\n';
	fi__raw3(SYS_write, 2, buf, n);
}
