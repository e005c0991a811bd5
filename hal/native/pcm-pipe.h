/* hal/native/pcm-pipe.c: the pipes between the agent and arecord/aplay, read and written without Node's streams. */
#ifndef PI_ATA_PCM_PIPE_H
#define PI_ATA_PCM_PIPE_H
#include <node_api.h>

void pcm_pipe_export(napi_env env, napi_value exports);

#endif
