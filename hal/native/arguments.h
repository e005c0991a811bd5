/* Argument checks shared by hal/native's files: a wrong type is a JS TypeError (a bug in the caller), never UB. */
#ifndef PI_ATA_ARGUMENTS_H
#define PI_ATA_ARGUMENTS_H
#include <node_api.h>
#include <time.h>

/* The first `want` arguments into argv; 0 (a TypeError thrown) when fewer were given. */
int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);

/*
 * A deadline in CLOCK_MONOTONIC ms as a timespec, a past (negative) one as 0; 0 (a TypeError thrown) for what is not
 * a finite number, since NaN or an infinity would be undefined behaviour in the conversion.
 */
int deadline_arg(napi_env env, napi_value v, struct timespec *out);

#endif
