/* For guests that use the front-ends of pvdrivers/front: the drivers and their setup. */
#ifndef GUEST_FRONT_H
#define GUEST_FRONT_H

#include <stdbool.h>

#include "front_env.h"
#include "grant.h"
#include "xenbus_front.h"

/* events_init, xs_init, the 10 ms tick (the drivers' timeouts) and `grant_frames` grant
 * frames in a hole above RAM. Reports a FAIL line and returns false if a step fails. */
bool front_init(unsigned int grant_frames);

#endif
