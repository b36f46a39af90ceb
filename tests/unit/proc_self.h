/* What this test process holds, from /proc/self: for tests that check a
 * device leaves no file descriptor or thread behind. */
#ifndef TESTS_UNIT_PROC_SELF_H
#define TESTS_UNIT_PROC_SELF_H

/* Entries of directory @path ("/proc/self/fd", "/proc/self/task"),
 * "." and ".." included: compare counts, not absolute numbers. */
unsigned count_dir(const char *path);

#endif
