/* hal/native/precise-timer.c: a timerfd on the calling thread's libuv loop (see there). */
#ifndef PI_ATA_PRECISE_TIMER_H
#define PI_ATA_PRECISE_TIMER_H
#include <node_api.h>

void precise_timer_export(napi_env env, napi_value exports);

#endif
