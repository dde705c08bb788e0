#!/usr/bin/env bash
# File-format variant of the refusals scenario: nanosecond. See record-refusals.sh.
# Usage: record-refusals-nanosecond.sh OUT.pcap   (root; takes about 8 s)
REFUSALS_VARIANT=nanosecond exec bash "$(dirname "$0")/record-refusals.sh" "$@"
