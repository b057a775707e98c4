#!/bin/busybox sh
# /init of the end-to-end test guest (see guest.ts): finds the config drive the way cloud-init does (filesystem
# label config-2), mounts it read-only and prints every file on it to the serial console, base64-encoded between
# markers that console-dump.ts parses, then powers off. Every outcome ends in a marker line, so a test reading
# console.log never has to guess.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

fail() {
  echo "===ERROR $*==="
  poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# guest.ts names them NNN-<module>.ko in dependency order; the glob sorts by NNN.
for module in /lib/modules/*.ko; do
  insmod "$module" || fail "insmod $module failed"
done

# Disks and CD-ROMs appear asynchronously after their driver loads: give them up to 10 s.
device=
for _ in $(seq 100); do
  device=$(findfs LABEL=config-2 2>/dev/null) && break
  sleep 0.1
done
[ -n "$device" ] || fail "no filesystem labelled config-2; block devices: $(cat /proc/partitions | tail -n +3 | tr -s ' \n' ' ')"

# No -t: the kernel tries each registered filesystem, and the one it settled on is reported for the test.
mount -o ro "$device" /mnt || fail "mount -o ro $device /mnt failed"
fstype=$(awk '$2 == "/mnt" { print $3 }' /proc/mounts)

# Kernel messages must not land in the middle of a base64 block.
echo 1 > /proc/sys/kernel/printk

echo "===DRIVE $device $fstype==="
cd /mnt || fail "cd /mnt failed"
# Through a file, not a pipe: the loop must run in this shell to keep $count, and names may hold spaces.
find . -type f | sort > /dump-list
count=0
while IFS= read -r path; do
  path=${path#./}
  echo "===BEGIN $path==="
  base64 "$path" || fail "reading $path failed"
  echo "===END $path==="
  count=$((count + 1))
done < /dump-list
echo "===DUMP COMPLETE $count files==="

# The first static IPv4 network of network_data.json, configured as cloud-init would (the NIC found by its MAC),
# and the gateway pinged: ===NET mac address/prefix interface=== then ===PING gateway ok|failed===. Nova writes
# the JSON with fixed key order and spacing, so grep finds the first of each key (the network's netmask comes
# before its routes'; the first gateway is the default route's).
json=/mnt/openstack/latest/network_data.json
if [ -f "$json" ] && grep -q '"type": "ipv4"' "$json"; then
  mac=$(grep -o '"ethernet_mac_address": "[^"]*"' "$json" | head -n 1 | cut -d'"' -f4)
  address=$(grep -o '"ip_address": "[^"]*"' "$json" | head -n 1 | cut -d'"' -f4)
  netmask=$(grep -o '"netmask": "[^"]*"' "$json" | head -n 1 | cut -d'"' -f4)
  gateway=$(grep -o '"gateway": "[^"]*"' "$json" | head -n 1 | cut -d'"' -f4)
  eval "$(ipcalc -p "$address" "$netmask")"
  nic=
  for _ in $(seq 50); do
    for path in /sys/class/net/*; do
      [ "$(cat "$path/address")" = "$mac" ] && nic=${path##*/}
    done
    [ -n "$nic" ] && break
    sleep 0.1
  done
  [ -n "$nic" ] || fail "no NIC with MAC $mac: $(cat /sys/class/net/*/address | tr '\n' ' ')"
  ip link set "$nic" up && ip addr add "$address/$PREFIX" dev "$nic" || fail "configuring $address/$PREFIX on $nic failed"
  echo "===NET $mac $address/$PREFIX $nic==="
  if [ -n "$gateway" ] && ping -c 5 -w 10 "$gateway" >/dev/null 2>&1; then
    echo "===PING $gateway ok==="
  else
    echo "===PING $gateway failed==="
  fi
fi
cd /
umount /mnt
poweroff -f
