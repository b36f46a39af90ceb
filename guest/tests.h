/* The self-test table: add a test by adding a line to it (tests_*.c). */
#ifndef GUEST_TESTS_H
#define GUEST_TESTS_H

#include "tap.h"

extern const struct guest_test guest_tests[];
extern const int guest_ntests;

#endif
