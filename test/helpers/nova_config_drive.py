"""Build a config drive file list with Nova's own code (python3-nova), for comparison with ours.

Reads one JSON document on stdin (see test/metadata/nova-reference.ts) describing the instance the way
build_and_run_instance carries it, builds nova.objects (Instance, Flavor, KeyPairList, InstanceInfoCache,
InstanceDeviceMetadata, InstanceNUMATopology, EC2Ids), and calls
nova.api.metadata.base.InstanceMetadata(...).metadata_for_config_drive() exactly as the libvirt driver's
_create_configdrive does. Only what needs Nova's database or Neutron is stubbed, as Nova's own unit tests
do (nova/tests/unit/test_metadata.py): the security group lookup, the instance's BDMs, and os.urandom (so
the random seeds are the ones the caller chose).

Writes {"files": [[path, base64 data], ...], "urandom_calls": N} on stdout, in yield order.

With `--bench RUNS DIR` it instead times Nova's whole in-process pipeline RUNS times, as the libvirt
driver runs it for each spawn (InstanceMetadata, then ConfigDriveBuilder.make_drive, which writes the
tree to a temporary directory and runs genisoimage with CONF.mkisofs_cmd), and writes
{"seconds": [per run]} on stdout; the drives go to DIR.
"""
import base64
import json
import os
import sys
import tempfile
from unittest import mock

import nova.conf
from nova import objects

objects.register_all()
CONF = nova.conf.CONF
CONF([], project='nova', default_config_files=[])

from nova.api.metadata import base  # noqa: E402  (needs the registered objects and parsed CONF)
from nova import context  # noqa: E402
from nova.network import model as network_model  # noqa: E402

BUSES = {
    'pci': objects.PCIDeviceBus,
    'usb': objects.USBDeviceBus,
    'scsi': objects.SCSIDeviceBus,
    'ide': objects.IDEDeviceBus,
    'xen': objects.XenDeviceBus,
}


def device_object(device):
    fields = {}
    if device['bus'] != 'none':
        fields['bus'] = BUSES[device['bus']](address=device['address'])
    if device['tags']:
        fields['tags'] = device['tags']
    if device['type'] == 'nic':
        for name in ('mac', 'vlan', 'vf_trusted'):
            if name in device:
                fields[name] = device[name]
        return objects.NetworkInterfaceMetadata(**fields)
    for name in ('serial', 'path'):
        if name in device:
            fields[name] = device[name]
    return objects.DiskMetadata(**fields)


def numa_topology(dedicated_cpus):
    if not dedicated_cpus:
        return None
    cell = objects.InstanceNUMACell(id=0, cpuset=set(), pcpuset=set(dedicated_cpus), memory=512,
                                    cpu_policy='dedicated')
    return objects.InstanceNUMATopology(cells=[cell])


def build_instance(ctx, data, block_devices, ec2_ids):
    inst = data['instance']
    instance = objects.Instance(
        context=ctx,
        id=inst['id'],
        uuid=inst['uuid'],
        user_id=inst['user_id'],
        project_id=inst['project_id'],
        key_name=inst['key_name'],
        key_data=inst['key_data'],
        launch_index=inst['launch_index'],
        reservation_id=inst['reservation_id'],
        user_data=inst['user_data'],
        image_ref=inst['image_ref'],
        kernel_id=inst['kernel_id'],
        ramdisk_id=inst['ramdisk_id'],
        root_device_name=inst['root_device_name'],
        hostname=inst['hostname'],
        display_name=inst['display_name'],
        metadata=inst['metadata'],
        system_metadata=inst['system_metadata'],
        default_ephemeral_device=block_devices['default_ephemeral_device'],
        default_swap_device=block_devices['default_swap_device'],
        availability_zone=inst['availability_zone'],
        config_drive=inst['config_drive'],
    )
    instance.keypairs = objects.KeyPairList(objects=[
        objects.KeyPair(name=k['name'], type=k['type'], public_key=k['public_key']) for k in inst['keypairs']])
    instance.info_cache = objects.InstanceInfoCache(
        context=ctx, instance_uuid=inst['uuid'],
        network_info=network_model.NetworkInfo.hydrate(inst['network_info']))
    flavor = inst['flavor']
    instance.flavor = objects.Flavor(**flavor)
    devices = [device_object(d) for d in inst['device_metadata']]
    instance.device_metadata = objects.InstanceDeviceMetadata(devices=devices) if devices else None
    instance.numa_topology = numa_topology(inst['dedicated_cpus'])
    instance.ec2_ids = objects.EC2Ids(**ec2_ids)
    return instance


def config_drive_files(instance, content, extra_md, network_info, seeds):
    """metadata_for_config_drive() of the InstanceMetadata that the libvirt driver's _create_configdrive builds,
    as [[path, base64 data], ...] in yield order, with os.urandom(512) returning `seeds` in turn (the
    random_seed of each meta_data.json); and how many seeds it drew. More draws than seeds is an error."""
    calls = []
    real_urandom = os.urandom

    def urandom(n):
        # uuid4() for request ids also draws from os.urandom: only the 512-byte draws are seeds.
        if n != 512:
            return real_urandom(n)
        if len(calls) == len(seeds):
            raise RuntimeError('InstanceMetadata drew more than the %d random seeds given' % len(seeds))
        calls.append(n)
        return seeds[len(calls) - 1]

    with mock.patch.object(base.os, 'urandom', side_effect=urandom):
        md = base.InstanceMetadata(instance, content=content, extra_md=extra_md, network_info=network_info)
        files = []
        for path, value in md.metadata_for_config_drive():
            if isinstance(value, str):
                value = value.encode('utf-8')
            files.append([path, base64.b64encode(value).decode('ascii')])
    return files, len(calls)


def bench(instance, content, extra_md, network_info, runs, outdir):
    import time
    from nova.virt import configdrive
    seconds = []
    for run in range(runs):
        path = os.path.join(outdir, 'disk.config.%d' % run)
        start = time.perf_counter()
        md = base.InstanceMetadata(instance, content=content, extra_md=extra_md, network_info=network_info)
        with configdrive.ConfigDriveBuilder(instance_md=md) as cdb:
            cdb.make_drive(path)
        seconds.append(time.perf_counter() - start)
        os.unlink(path)
    return seconds


def main():
    data = json.load(sys.stdin)
    options = data['options']
    CONF.set_override('dhcp_domain', options['dhcp_domain'], group='api')
    CONF.set_override('config_drive_skip_versions', ' '.join(options['config_drive_skip_versions']), group='api')
    CONF.set_override('vendordata_providers', options['vendordata_providers'], group='api')

    with tempfile.TemporaryDirectory() as tmp:
        if options['vendordata_json'] is not None:
            path = os.path.join(tmp, 'vendor_data.json')
            with open(path, 'wb') as f:
                f.write(options['vendordata_json'].encode('utf-8'))
            CONF.set_override('vendordata_jsonfile_path', path, group='api')

        ctx = context.get_admin_context()
        instance = build_instance(ctx, data, data['block_devices'], data['ec2_ids'])
        bdms = objects.BlockDeviceMappingList(objects=[
            objects.BlockDeviceMapping(**bdm) for bdm in data['block_devices']['block_device_mapping']])
        seeds = [base64.b64decode(s) for s in data['random_seeds']]
        content = [(path, base64.b64decode(b64)) for path, b64 in data['injected_files']]
        extra_md = {}
        if data['admin_password']:
            extra_md['admin_pass'] = data['admin_password']
        network_info = network_model.NetworkInfo.hydrate(data['instance']['network_info'])
        sgroups = [{'name': name} for name in data['security_groups']]
        if len(sys.argv) == 4 and sys.argv[1] == '--bench':
            with mock.patch('nova.network.security_group_api.get_instance_security_groups', return_value=sgroups), \
                    mock.patch.object(objects.Instance, 'get_bdms', return_value=bdms):
                json.dump({'seconds': bench(instance, content, extra_md, network_info,
                                            int(sys.argv[2]), sys.argv[3])}, sys.stdout)
            return
        with mock.patch('nova.network.security_group_api.get_instance_security_groups', return_value=sgroups), \
                mock.patch.object(objects.Instance, 'get_bdms', return_value=bdms):
            files, urandom_calls = config_drive_files(instance, content, extra_md, network_info, seeds)

    json.dump({'files': files, 'urandom_calls': urandom_calls}, sys.stdout)


if __name__ == '__main__':
    main()
