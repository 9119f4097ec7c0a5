#!/bin/bash
# test-timeout: 900
# make check's bounded run of the randomized reliability driver
# (driver.sh: seed, cycles and figures are printed).  Every check is
# strict: a discarded message delivered again fails the run.
export DRIVER_CYCLES=${DRIVER_CYCLES:-24}
export DRIVER_KNOWN_BUGS=${DRIVER_KNOWN_BUGS-}
exec bash "$(dirname "$0")/driver.sh"
