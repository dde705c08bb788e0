#!/usr/bin/env bash
# File-format variant of the refusals scenario: vlan. See record-refusals.sh.
# Usage: record-refusals-vlan.sh OUT.pcapng   (root; takes about 8 s)
REFUSALS_VARIANT=vlan exec bash "$(dirname "$0")/record-refusals.sh" "$@"
