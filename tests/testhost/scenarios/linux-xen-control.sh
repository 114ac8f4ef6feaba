# Scenario linux-xen-control: controlling a Xen PVH Linux (Debian's kernel, console on hvc0 only).
# (a) A shell on hvc0 (pvhv.shell=1): lines typed into `pvctl create -F`'s stdin (a fifo) reach the
#     guest's PV console; the answers to `echo $((6*7))`, the processor count and `uname -r` must come
#     back; then `poweroff -f` typed in it must end the domain with reason poweroff (pvctl exit 0).
# (b)+(c) A second guest with on_reboot = "restart", sitting in its shell: `pvctl reboot -w` goes through
#     xenstore control/shutdown ("reboot"): Linux runs /sbin/reboot and restarts, pvd applies on_reboot and the guest boots again
#     (a new domid, its console log gets a second boot); then `pvctl shutdown -w` ("poweroff"): Linux runs
#     /sbin/poweroff (the L2 initramfs's: sync, poweroff -f), powers off cleanly ("reboot: Power down") and `pvctl create -F` exits 0.
# testhost-needs: pvd pvctl
# testhost-timeout: 900
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/System.map /guest/l2.cpio
export PVHV_RUNTIME_DIR=/run/pvhv

guest_cfg() {  # NAME ON_REBOOT
  xen_guest_cfg "$1" "panic=-1 pvhv.shell=1" "on_reboot = \"$2\"" >"/tmp/work/$1.cfg"
  sed -e 's/^/CFG| /' "/tmp/work/$1.cfg"
}

# wait_count FILE PATTERN N SECONDS: until FILE has at least N lines matching PATTERN (false on timeout or
# when the background pvctl ended).
wait_count() {
  i=0
  while [ "$(tr -d '\r' <"$1" 2>/dev/null | grep -c -E "$2")" -lt "$3" ]; do
    i=$((i + 1))
    [ $i -gt "$4" ] && return 1
    [ -f /tmp/.pvctl_rc ] && return 1
    sleep 1
  done
}
# wait_pvctl SECONDS: until the background pvctl create -F has exited; sets RC.
wait_pvctl() {
  i=0
  while [ ! -f /tmp/.pvctl_rc ]; do
    i=$((i + 1)); [ $i -gt "$1" ] && { RC=124; return 1; }
    sleep 1
  done
  RC=$(cat /tmp/.pvctl_rc)
}
domid_of() { pvctl list 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }

# --- (a) a shell on hvc0 through pvctl create -F's stdin
guest_cfg ctl-shell destroy
out=/tmp/work/ctl-shell.out
: >"$out"
rm -f /tmp/in /tmp/.pvctl_rc
mkfifo /tmp/in
t0=$(up)
( timeout 400 pvctl create -F /tmp/work/ctl-shell.cfg </tmp/in >"$out" 2>&1; echo $? >/tmp/.pvctl_rc ) &
exec 3>/tmp/in
follow "$out" "PVCTL| "
follow "$PVHV_RUNTIME_DIR/pvd.log" "PVD| "
wait_count "$out" 'PVHV-L2-SHELL: ready' 1 300 || { unfollow; fail "(a) the guest's shell never said it was ready"; }
say "(a) shell ready after $(elapsed "$t0" "$(up)") s; typing"
# type LINE PATTERN: types LINE into the guest's shell and waits for an output line matching PATTERN.
type_line() {
  printf '%s\n' "$1" >&3
  wait_count "$out" "$2" 1 60 || { unfollow; fail "(a) no answer matching '$2' to '$1'"; }
  say "(a) typed '$1', the guest answered: $(tr -d '\r' <"$out" | grep -m1 -E "$2")"
}
type_line 'echo CTL-MATH=$((6*7))' '^CTL-MATH=42$'
type_line 'echo CTL-CPUS=$(cat /proc/cpuinfo | grep -c processor)' '^CTL-CPUS=[0-9]+$'
type_line 'echo CTL-UNAME=$(uname -r)' '^CTL-UNAME='
type_line 'echo CTL-HV=$(cat /sys/hypervisor/type 2>&1)' '^CTL-HV='
cpus=$(tr -d '\r' <"$out" | sed -n 's/^CTL-CPUS=//p' | head -n 1)
[ "$cpus" = 1 ] || fail "(a) the shell counted $cpus processors, want 1 (vcpus = 1)"
uname_shell=$(tr -d '\r' <"$out" | sed -n 's/^CTL-UNAME=//p' | head -n 1)
uname_init=$(tr -d '\r' <"$out" | sed -n 's/^PVHV-L2-UNAME: //p' | head -n 1)
[ -n "$uname_shell" ] && [ "$uname_shell" = "$uname_init" ] ||
  fail "(a) uname -r in the shell is '$uname_shell', /init said '$uname_init'"
t_off=$(up)
printf 'poweroff -f\n' >&3
wait_pvctl 120
exec 3>&-
unfollow
rm -f /tmp/in
say "(a) typed 'poweroff -f': pvctl create -F exited $RC $(elapsed "$t_off" "$(up)") s later"
[ "$RC" = 0 ] || fail "(a) pvctl create -F exited $RC after 'poweroff -f' (want 0: poweroff)"
grep -q 'reboot: Power down' "$PVHV_RUNTIME_DIR/console/ctl-shell.log" || fail "(a) no 'reboot: Power down'"
grep -q 'domain ctl-shell (id [0-9]*) powered off; action destroy' "$PVHV_RUNTIME_DIR/pvd.log" ||
  fail "(a) pvd did not log the power-off of ctl-shell"

# --- (b)+(c) pvctl reboot (on_reboot = "restart"), then pvctl shutdown
guest_cfg ctl-life restart
out=/tmp/work/ctl-life.out
log="$PVHV_RUNTIME_DIR/console/ctl-life.log"
: >"$out"
rm -f /tmp/.pvctl_rc
t0=$(up)
( timeout 600 pvctl create -F /tmp/work/ctl-life.cfg </dev/null >"$out" 2>&1; echo $? >/tmp/.pvctl_rc ) &
follow "$out" "PVCTL| "
follow "$PVHV_RUNTIME_DIR/pvd.log" "PVD| "
wait_count "$out" 'PVHV-L2-SHELL: ready' 1 300 || { unfollow; fail "(b) the guest never reached its shell"; }
id1=$(domid_of ctl-life)
say "(c) guest up (domid $id1) after $(elapsed "$t0" "$(up)") s; pvctl reboot -w"
t1=$(up)
pvctl reboot -w -t 120 ctl-life 2>&1 | sed -e 's/^/PVCTL-REBOOT| /'
wait_count "$out" 'PVHV-L2-SHELL: ready' 2 300 || { unfollow; fail "(c) the guest did not boot again after pvctl reboot"; }
id2=$(domid_of ctl-life)
say "(c) booted again (domid $id2) $(elapsed "$t1" "$(up)") s after the reboot request"
t2=$(up)
pvctl shutdown -w -t 120 ctl-life 2>&1 | sed -e 's/^/PVCTL-SHUTDOWN| /'
wait_pvctl 150
unfollow
say "(b) pvctl shutdown: pvctl create -F exited $RC $(elapsed "$t2" "$(up)") s after the request"
grep -E 'control/shutdown|acknowledged|rebooted|powered off|restart' "$PVHV_RUNTIME_DIR/pvd.log" |
  grep ctl-life | sed -e 's/^/SCENARIO: pvd: /'
grep -q 'to reboot through /local/domain/[0-9]*/control/shutdown' "$PVHV_RUNTIME_DIR/pvd.log" ||
  fail "(c) pvd did not write reboot to control/shutdown"
tr -d '\r' <"$log" | grep -q -E 'PVHV-L2-END: reboot$' || fail "(c) Linux did not run /sbin/reboot (orderly_reboot)"
grep -q 'reboot: Restarting system' "$log" || fail "(c) Linux did not restart ('reboot: Restarting system')"
grep -q 'domain ctl-life (id [0-9]*) rebooted; action restart' "$PVHV_RUNTIME_DIR/pvd.log" ||
  fail "(c) pvd did not apply on_reboot = restart"
[ "$(grep -c 'PVHV-L2-MARKER: init reached' "$log")" = 2 ] || fail "(c) want two boots in $log"
[ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ] || fail "(c) domid before/after the reboot: '$id1' '$id2'"
grep -q 'to poweroff through /local/domain/[0-9]*/control/shutdown' "$PVHV_RUNTIME_DIR/pvd.log" ||
  fail "(b) pvd did not write poweroff to control/shutdown"
tr -d '\r' <"$log" | grep -q -E 'PVHV-L2-END: poweroff$' || fail "(b) Linux did not run /sbin/poweroff (orderly_poweroff)"
grep -q 'reboot: Power down' "$log" || fail "(b) no 'reboot: Power down'"
[ "$RC" = 0 ] || fail "(b) pvctl create -F exited $RC after pvctl shutdown (want 0: poweroff)"
exit 0
