# Scenario linux-plain-input: typed console input reaches a plain PVH Linux on ttyS0. pvd boots Debian's
# kernel (xen_cpuid = 0: no PV console, so pvd routes input to the emulated COM1 UART's receiver) with
# pvhv.echo=1; once the L2 /init says it is ready, a line goes into `pvctl create -F`'s stdin; /init
# reads it from the console and echoes it uppercased, then powers off. Passes with the echo and exit 0.
# testhost-needs: pvd pvctl
# testhost-timeout: 600
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/l2.cpio /guest/linux-plain-input.cfg
export PVHV_RUNTIME_DIR=/run/pvhv
mkdir -p /tmp/work
out=/tmp/work/pvctl.out
: >"$out"
rm -f /tmp/in /tmp/.pvctl_rc
mkfifo /tmp/in
sed -e 's/^/CFG| /' /guest/linux-plain-input.cfg
t0=$(up)
( timeout 300 pvctl create -F /guest/linux-plain-input.cfg </tmp/in >"$out" 2>&1; echo $? >/tmp/.pvctl_rc ) &
exec 3>/tmp/in
follow "$out" "PVCTL| "
i=0
until grep -q 'PVHV-L2-INPUT: ready' "$out"; do
  i=$((i + 1))
  [ $i -gt 280 ] && { unfollow; fail "the L2 guest never said it was ready for input"; }
  [ -f /tmp/.pvctl_rc ] && { unfollow; fail "pvctl exited $(cat /tmp/.pvctl_rc) before the guest was ready"; }
  sleep 1
done
say "typing a line into pvctl create -F at $(elapsed "$t0" "$(up)") s"
printf 'hello com1 from l1\n' >&3
while [ ! -f /tmp/.pvctl_rc ]; do sleep 1; done
exec 3>&-
unfollow
rc=$(cat /tmp/.pvctl_rc)
say "L2-TIMES: pvctl create to exit $(elapsed "$t0" "$(up)") s (pvctl exit $rc)"
grep -q 'PVHV-L2-ECHO: HELLO COM1 FROM L1' "$out" || fail "no uppercased echo from the L2 guest"
[ "$rc" = 0 ] || fail "pvctl create -F exited $rc (want 0: poweroff)"
exit 0
