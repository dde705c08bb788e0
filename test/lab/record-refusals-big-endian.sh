#!/usr/bin/env bash
# File-format variant of the refusals scenario: big-endian. See record-refusals.sh.
# Usage: record-refusals-big-endian.sh OUT.pcap   (root; takes about 8 s)
REFUSALS_VARIANT=big-endian exec bash "$(dirname "$0")/record-refusals.sh" "$@"
