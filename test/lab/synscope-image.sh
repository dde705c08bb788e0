#!/usr/bin/env bash
# The synscope image built offline on a lab dockerd, for labs that deploy it (source after
# netns-lab.sh and docker-lab.sh). The build context's app/ is what `npm install -g` of the
# packed tarball puts in a prefix, with the native addon this machine built (--ignore-scripts:
# nothing is compiled); the base is made from this machine (node-base-rootfs.sh: the host's
# Node 20, libpcap, static busybox), since Debian ships Node 18.
SYNSCOPE_LAB_IMAGE=synscope-lab/synscope:lab
SYNSCOPE_LAB_BASE=synscope-lab/node-base:lab

synscope_image_build() { # synscope_image_build NODE: build $SYNSCOPE_LAB_IMAGE on NODE
  local node=$1 build addon tarball
  build="$DOCKER_LAB_TMP/build"
  mkdir -p "$build/priming/lib"  # npm install -g --dry-run lstats PREFIX/lib
  addon="$LAB_REPO/native/build/Release/synscope_native.node"
  [ -f "$addon" ] || { echo "synscope-image: no $addon; run npm run build:native first" >&2; return 1; }
  tarball=$(cd "$LAB_REPO" && npm pack --ignore-scripts --loglevel=error --pack-destination "$build" | tail -n1)
  # `npm ci` caches only abbreviated registry documents and `install -g` asks for full ones: a
  # dry run puts them in the cache (from the registry only if missing), then nothing is fetched.
  npm install -g --prefer-offline --dry-run --ignore-scripts --omit=dev --no-audit --no-fund --loglevel=error --prefix "$build/priming" "$build/$tarball" >/dev/null
  npm install -g --offline --ignore-scripts --omit=dev --no-audit --no-fund --loglevel=error --prefix "$build/app" "$build/$tarball"
  mkdir -p "$build/app/lib/node_modules/synscope/native/build/Release"
  cp "$addon" "$build/app/lib/node_modules/synscope/native/build/Release/"
  bash "$LAB_DIR/node-base-rootfs.sh" "$DOCKER_LAB_TMP/node-base.tar"
  dk "$node" import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' "$DOCKER_LAB_TMP/node-base.tar" "$SYNSCOPE_LAB_BASE" >/dev/null
  rm -f "$DOCKER_LAB_TMP/node-base.tar"
  DOCKER_BUILDKIT=0 dk "$node" build -q --build-arg "BASE=$SYNSCOPE_LAB_BASE" -f "$LAB_REPO/deploy/Dockerfile" -t "$SYNSCOPE_LAB_IMAGE" "$build" >/dev/null
}

synscope_image_copy() { # synscope_image_copy FROM TO: the built image loaded into another node
  dk "$1" save "$SYNSCOPE_LAB_IMAGE" | dk "$2" load -q >/dev/null
}
