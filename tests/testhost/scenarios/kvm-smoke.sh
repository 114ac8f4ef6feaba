# Scenario kvm-smoke: L1 came up with /dev/kvm (checked by /init); open it and report the KVM API version.
. /scenarios/common.sh
[ -c /dev/kvm ] || fail "/dev/kvm is not a character device"
say "/dev/kvm present: $(ls -l /dev/kvm)"
say "kvm_amd parameters: npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)"
exit 0
