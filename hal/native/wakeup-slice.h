/* hal/native/wakeup-slice.c: the calling thread's scheduler slice, for a prompt wake-up (see there). */
#ifndef PI_ATA_WAKEUP_SLICE_H
#define PI_ATA_WAKEUP_SLICE_H
#include <node_api.h>

void wakeup_slice_export(napi_env env, napi_value exports);

#endif
