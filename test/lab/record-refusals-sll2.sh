#!/usr/bin/env bash
# File-format variant of the refusals scenario: sll2. See record-refusals.sh.
# Usage: record-refusals-sll2.sh OUT.pcap   (root; takes about 8 s)
REFUSALS_VARIANT=sll2 exec bash "$(dirname "$0")/record-refusals.sh" "$@"
