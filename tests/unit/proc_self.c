#include <criterion/criterion.h>
#include <dirent.h>

#include "proc_self.h"

unsigned count_dir(const char *path)
{
	DIR *d = opendir(path);
	unsigned n = 0;

	cr_assert_not_null(d, "cannot open %s", path);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}
