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

int int_arg(napi_env env, napi_value v, int32_t *out) {
  /* Read as a double and checked: napi_get_value_int32 would take NaN as 0 (udpClose(NaN) closed fd 0), 2^32 + k as
   * k and 1.9 as 1, none of which a caller meant. */
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= -2147483648.0 && d <= 2147483647.0) || d != (double)(int32_t)d) {
    napi_throw_type_error(env, NULL, "media-io: expected an integer in the int32 range");
    return 0;
  }
  *out = (int32_t)d;
  return 1;
}

int bytes_arg(napi_env env, napi_value v, void **data, size_t *length) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "media-io: expected a Uint8Array");
    return 0;
  }
  return 1;
}

int span_fits(int32_t offset, int32_t length, size_t size) {
  return offset >= 0 && length >= 0 && (size_t)offset <= size && (size_t)length <= size - (size_t)offset;
}

void export_functions(napi_env env, napi_value exports, const named_function *fns, size_t count) {
  for (size_t i = 0; i < count; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}
