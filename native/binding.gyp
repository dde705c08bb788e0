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
        "src/huge-pages.c",
        "src/clock-count.c",
        "src/clock-census.c",
        "src/engine/engine.c",
        "src/engine/decode.c",
        "src/engine/frame-evidence.c",
        "src/engine/flow-account.c",
        "src/engine/tracker.c",
        "src/engine/pcap-scan.c"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2", "-fno-strict-aliasing", "-ffp-contract=off"],
      "libraries": ["-lpcap", "-lpthread"]
    }
  ]
}
