{
  "targets": [
    {
      "target_name": "synscope_native",
      "sources": [
        "src/addon.c",
        "src/errors.c",
        "src/netns.c",
        "src/capture.c",
        "src/filter.c",
        "src/signals.c",
        "src/huge-pages.c"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lpcap"]
    }
  ]
}
