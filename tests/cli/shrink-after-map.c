/* shrink-after-map.c: an LD_PRELOAD module for test-explain: right after a
 * program maps the file named by $TS_TEST_SHRINK_PATH, it truncates that
 * file to $TS_TEST_SHRINK_TO bytes (another program truncating a capture
 * while tscope reads it, at a moment a test can rely on), and creates
 * "$TS_TEST_SHRINK_PATH.shrunk" to say it did.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#undef _FILE_OFFSET_BITS /* both mmap () and mmap64 () are defined here */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef void *(*MmapFn) (void *addr, size_t len, int prot, int flags, int fd, off_t off);

static void
shrink (int fd)
{
  const char *target = getenv ("TS_TEST_SHRINK_PATH");
  const char *to = getenv ("TS_TEST_SHRINK_TO");
  char link[64], path[4096], marker[4200];
  ssize_t n;
  int m;

  if (target == NULL || to == NULL || fd < 0)
    return;
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, path, sizeof path - 1);
  if (n <= 0)
    return;
  path[n] = '\0';
  if (strcmp (path, target) != 0 || truncate (path, atoll (to)) != 0)
    return;
  snprintf (marker, sizeof marker, "%s.shrunk", path);
  m = open (marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (m >= 0)
    close (m);
}

static void *
mapped (const char *name, void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  MmapFn real = (MmapFn)dlsym (RTLD_NEXT, name);
  void *p;

  if (real == NULL)
    return MAP_FAILED;
  p = real (addr, len, prot, flags, fd, off);
  if (p != MAP_FAILED)
    shrink (fd);
  return p;
}

void *
mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  return mapped ("mmap", addr, len, prot, flags, fd, off);
}

void *
mmap64 (void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  return mapped ("mmap64", addr, len, prot, flags, fd, off);
}
