{
  "targets": [
    {
      "target_name": "media_io",
      "sources": ["media-io.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
