/* See arguments.h. */
#include "arguments.h"

int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "media-io: too few arguments");
    return 0;
  }
  return 1;
}

int deadline_arg(napi_env env, napi_value v, struct timespec *out) {
  double ms;
  if (napi_get_value_double(env, v, &ms) != napi_ok || !(ms > -1e15 && ms < 1e15)) {
    napi_throw_type_error(env, NULL, "media-io: expected a finite deadline in ms");
    return 0;
  }
  if (ms < 0) ms = 0;
  out->tv_sec = (time_t)(ms / 1e3);
  out->tv_nsec = (long)((ms - (double)out->tv_sec * 1e3) * 1e6);
  if (out->tv_nsec >= 1000000000L) out->tv_nsec = 999999999L;
  return 1;
}
