/* Argument checks shared by hal/native's files: a wrong type is a JS TypeError (a bug in the caller), never UB. */
#ifndef PI_ATA_ARGUMENTS_H
#define PI_ATA_ARGUMENTS_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The first `want` arguments into argv; 0 (a TypeError thrown) when fewer were given. */
int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);

/*
 * A deadline in CLOCK_MONOTONIC ms as a timespec, a past (negative) one as 0; 0 (a TypeError thrown) for what is not
 * a finite number, since NaN or an infinity would be undefined behaviour in the conversion.
 */
int deadline_arg(napi_env env, napi_value v, struct timespec *out);

/* An int32 argument; 0 (a TypeError thrown) for what is not an integer in the int32 range (NaN, 1.5, 2^32). */
int int_arg(napi_env env, napi_value v, int32_t *out);

/* A Uint8Array argument's bytes; 0 (a TypeError thrown) for anything else. */
int bytes_arg(napi_env env, napi_value v, void **data, size_t *length);

/* Whether [offset, offset + length) lies within a buffer of `size` bytes (the callers answer -EINVAL if not). */
int span_fits(int32_t offset, int32_t length, size_t size);

/* The module's functions, set on `exports` by name. */
typedef struct {
  const char *name;
  napi_callback cb;
} named_function;
void export_functions(napi_env env, napi_value exports, const named_function *fns, size_t count);

#endif
