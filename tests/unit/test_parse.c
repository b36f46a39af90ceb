#include <criterion/criterion.h>

#include "devices/parse.h"

Test(parse, u64)
{
	uint64_t v;

	cr_assert_eq(parse_u64("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(parse_u64("0x3f8", &v), 0);
	cr_assert_eq(v, 0x3f8);
	cr_assert_eq(parse_u64("18446744073709551615", &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(parse_u64("18446744073709551616", &v), -1);
	cr_assert_eq(parse_u64("-1", &v), -1);
	cr_assert_eq(parse_u64(" 1", &v), -1);
	cr_assert_eq(parse_u64("1x", &v), -1);
	cr_assert_eq(parse_u64("", &v), -1);
}

Test(parse, size)
{
	uint64_t v;

	cr_assert_eq(parse_size("2k", &v), 0);
	cr_assert_eq(v, 2048);
	cr_assert_eq(parse_size("3G", &v), 0);
	cr_assert_eq(v, 3ull << 30);
	cr_assert_eq(parse_size("1TiB", &v), 0);
	cr_assert_eq(v, 1ull << 40);
	cr_assert_eq(parse_size("5MB", &v), 0);
	cr_assert_eq(v, 5ull << 20);
	cr_assert_eq(parse_size("16777216T", &v), -1, "overflow");
	cr_assert_eq(parse_size("1X", &v), -1);
	cr_assert_eq(parse_size("1Mx", &v), -1);
	cr_assert_eq(parse_size("M", &v), -1);
}

Test(parse, bools)
{
	bool b;

	cr_assert_eq(parse_bool("on", &b), 0);
	cr_assert(b);
	cr_assert_eq(parse_bool("False", &b), 0);
	cr_assert(!b);
	cr_assert_eq(parse_bool("maybe", &b), -1);
}
