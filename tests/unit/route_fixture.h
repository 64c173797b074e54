/*
 * route_fixture.h - helpers for router unit tests.
 */
#ifndef ATTN_ROUTE_FIXTURE_H
#define ATTN_ROUTE_FIXTURE_H

#include "store_fixture.h"

#include <jansson.h>
#include "util/buf.h"
#include "util/error.h"

#endif
