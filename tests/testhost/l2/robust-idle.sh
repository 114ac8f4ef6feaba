#!/bin/sh
# L2 guest that stays up until the toolstack powers it off (pvhv.run=robust-idle), for scenarios that need
# a second domain alive (linux-xen-destroy-io keeps pvd, which exits with its last domain, up;
# linux-xen-pvd-kill has an idle guest next to the loaded one). `pvctl shutdown` ends it through
# control/shutdown, which makes Linux run /sbin/poweroff (build-l2-initramfs.sh's script: sync, then
# busybox poweroff -f). pvhv.ridle=SEC: the longest wait
# (default 900 s), after which the script fails.
. /l2/lib.sh
max=$(cmdline_arg ridle) || max=900
mark "RIDLE: waiting up to $max s for a shutdown request"
sleep "$max"
mark "RIDLE-TIMEOUT: no shutdown request in $max s"
exit 1
