/* t_dlopen: dlopen a library whose constructor makes syscalls (one of them
 * an inline `syscall` in the library itself), call into it, dlclose it. */
#include <dlfcn.h>

#include "live.h"

#ifndef LIVE_DSO_PATH
#error "LIVE_DSO_PATH must name the built live_dso library"
#endif

int main(void) {
  live_begin();
  void *h = dlopen(LIVE_DSO_PATH, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    fprintf(stderr, "dlopen: %s\n", dlerror());
  LIVE_CHECK(h != NULL);
  int (*report)(int *, int *, int *);
  *(void **)&report = dlsym(h, "live_dso_report");
  LIVE_CHECK(report != NULL);
  int pid_ok = 0, devnull_ok = 0, asm_ok = 0;
  LIVE_CHECK(report(&pid_ok, &devnull_ok, &asm_ok) == getpid());
  LIVE_CHECK(pid_ok && devnull_ok && asm_ok);
  printf("constructor: getpid, open/write/close /dev/null, inline syscall ok\n");
  LIVE_CHECK(dlclose(h) == 0);
  printf("dlclose ok\n");
  printf("dlopen ok\n");
  return 0;
}
