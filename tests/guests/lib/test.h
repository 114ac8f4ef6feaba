/* What a test guest includes: it defines test_main(), which reports and returns (or shuts down). */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include "hypercall.h"
#include "report.h"
#include "start_info.h"
#include "string.h"

/* Called in 64-bit mode with the hypercall page set up and start_info valid; test_finish()
 * follows when it returns. */
void test_main(void);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
