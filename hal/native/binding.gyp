{
  "targets": [
    {
      "target_name": "media_io",
      "sources": ["media-io.c", "precise-timer.c", "pcm-pipe.c", "fd-watch.c", "arguments.c", "wakeup-slice.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
