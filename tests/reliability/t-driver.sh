#!/bin/bash
# make check's bounded run of the randomized reliability driver
# (driver.sh: seed, cycles and figures are printed).  A discarded
# message delivered again after an upstream disconnect is a known bug,
# reported but tolerated here; t-driver-strict.sh (XFAIL) insists.
export DRIVER_CYCLES=${DRIVER_CYCLES:-24}
export DRIVER_KNOWN_BUGS=${DRIVER_KNOWN_BUGS-discard-after-disconnect}
exec bash "$(dirname "$0")/driver.sh"
