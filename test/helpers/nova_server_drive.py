"""The config drive files Nova's own code writes for a server of the control plane (scripts/control-plane), from
its database, for comparison with the drive our daemon built for that server.

Reads one JSON document on stdin:
  "config_files": nova.conf files in oslo.config order: the control plane's (its databases, Neutron) and then
                  the compute host's, the one our daemon ran with, so that its [api] options (dhcp_domain,
                  config_drive_skip_versions, vendordata_*) are the ones Nova uses here too;
  "uuid":         the server;
  "admin_password": what nova-api answered the POST with (adminPass), or null;
  "random_seeds": base64, what os.urandom(512) returns in turn (each meta_data.json's random_seed).

Loads the instance as nova-compute has it for spawn: its cell from the API database's InstanceMapping, then
Instance.get_by_uuid targeted at that cell, with the fields InstanceMetadata reads. Then builds
InstanceMetadata(instance, content=injected files, extra_md={'admin_pass': ...}, network_info=...) as the
libvirt driver's _create_configdrive does (test/helpers/nova_config_drive.py's config_drive_files). Nothing
else is stubbed: the BDMs and EC2 ids come from cell1's database, the security groups from the control plane's
Neutron, as nova-compute's would.

What the database holds after the build and what nova-compute held while it built the drive differ only in
fields InstanceMetadata does not read (vm_state, task_state, power_state, launched_at, host, node...), with
one exception, device_metadata: the libvirt driver sets it from the guest's tagged devices just before it
builds the drive (saved with the instance afterwards). A --nic none server without tagged BDMs has none,
None in Nova, so the database's value is the one Nova had: the caller checks devices are [] on both sides.
The injected files (personality) are not in the database; none can be given from microversion 2.57 on, so
content is [], as the compute manager's _decode_files([]) gives. network_info is the one the build saved in
the instance's info_cache ([] for --nic none), which the driver's spawn() was given.

Writes {"files": [[path, base64 data], ...], "urandom_calls": N} on stdout, in yield order.
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nova_config_drive as drive  # noqa: E402  (registers the objects)

from nova import config  # noqa: E402
from nova import context  # noqa: E402
from nova import objects  # noqa: E402

CONF = drive.CONF

# What the compute manager's instance has loaded by the time the driver spawns it (the conductor's
# Instance.create, then the manager's own loads); InstanceMetadata reads no other lazy field.
EXPECTED_ATTRS = ['metadata', 'system_metadata', 'flavor', 'info_cache', 'security_groups', 'keypairs',
                  'ec2_ids', 'device_metadata', 'numa_topology']


def main():
    data = json.load(sys.stdin)
    # Parsed as Nova's services parse theirs (their options, the databases); nova_config_drive parsed none,
    # and the CLI options parse_args registers must come before any parse.
    CONF.clear()
    config.parse_args(['nova-compute'] + ['--config-file=%s' % path for path in data['config_files']])

    ctx = context.get_admin_context()
    mapping = objects.InstanceMapping.get_by_instance_uuid(ctx, data['uuid'])
    with context.target_cell(ctx, mapping.cell_mapping) as cctxt:
        instance = objects.Instance.get_by_uuid(cctxt, data['uuid'], expected_attrs=EXPECTED_ATTRS)
        extra_md = {}
        if data['admin_password']:
            extra_md['admin_pass'] = data['admin_password']
        seeds = [base64.b64decode(seed) for seed in data['random_seeds']]
        files, urandom_calls = drive.config_drive_files(
            instance, [], extra_md, instance.info_cache.network_info, seeds)

    json.dump({'files': files, 'urandom_calls': urandom_calls}, sys.stdout)


if __name__ == '__main__':
    main()
