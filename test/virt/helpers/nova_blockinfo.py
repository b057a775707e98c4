"""Run Nova's own attach rules (nova/virt/libvirt/blockinfo.py) on scenarios, for comparison with ours.

Reads a JSON list of scenarios on stdin: {virt_type, host_arch, properties, hw_machine_type, disk_prefix,
ephemeral_gb, swap, root_device_name, config_drive ("iso9660" | "vfat" | null)}. For each, builds the
objects the way Nova's unit tests do (nova/tests/unit/virt/libvirt/test_blockinfo.py: objects.Flavor,
objects.Instance, objects.ImageMeta.from_dict, an image-backed block_device_info), then does what
blockinfo.get_disk_info does: get_disk_bus_for_device_type for disks and cdroms, then get_disk_mapping.
The host's architecture is Architecture.from_host(), patched to the scenario's.

Writes a JSON list on stdout: {disk_bus, cdrom_bus, mapping} or {error: exception class name}.
"""
import json
import sys
from unittest import mock

import nova.conf
from nova import objects

objects.register_all()
CONF = nova.conf.CONF
CONF([], project='nova', default_config_files=[])

from nova.virt.libvirt import blockinfo  # noqa: E402  (needs the registered objects and parsed CONF)


def disk_info(scenario):
    CONF.set_override('config_drive_format', scenario['config_drive'] or 'iso9660')
    CONF.set_override('hw_machine_type', scenario['hw_machine_type'], group='libvirt')
    CONF.set_override('disk_prefix', scenario['disk_prefix'], group='libvirt')
    flavor = objects.Flavor(
        id=2, name='m1.micro', vcpus=1, memory_mb=128, root_gb=10, ephemeral_gb=scenario['ephemeral_gb'],
        swap=scenario['swap'], rxtx_factor=1.0, flavorid='1', vcpu_weight=None, extra_specs={})
    # Instance.config_drive is a string field: Nova stores "True" or "" (False would become a truthy "False").
    instance = objects.Instance(
        uuid='32dfcb37-5af1-552b-357c-be8c3aa38310', project_id='fake', image_ref='155d900f-4e14-4e4c-a73d-069cbf4541e6',
        root_gb=10, ephemeral_gb=scenario['ephemeral_gb'], instance_type_id=flavor.id, flavor=flavor, old_flavor=None,
        new_flavor=None, config_drive='True' if scenario['config_drive'] else '', launched_at=None, system_metadata={})
    virt_type = scenario['virt_type']
    block_device_info = {
        'root_device_name': scenario['root_device_name'],
        'image': [{'device_type': 'disk', 'boot_index': 0}],
    }
    with mock.patch('nova.objects.fields.Architecture.from_host', return_value=scenario['host_arch']):
        image_meta = objects.ImageMeta.from_dict({'disk_format': 'qcow2', 'properties': scenario['properties']})
        disk_bus = blockinfo.get_disk_bus_for_device_type(instance, virt_type, image_meta, 'disk')
        cdrom_bus = blockinfo.get_disk_bus_for_device_type(instance, virt_type, image_meta, 'cdrom')
        mapping = blockinfo.get_disk_mapping(
            virt_type, instance, disk_bus, cdrom_bus, image_meta, block_device_info=block_device_info)
    return {'disk_bus': disk_bus, 'cdrom_bus': cdrom_bus, 'mapping': mapping}


def run(scenario):
    try:
        return disk_info(scenario)
    except Exception as error:  # the comparison is about which scenarios Nova refuses too
        return {'error': type(error).__name__}


json.dump([run(scenario) for scenario in json.load(sys.stdin)], sys.stdout)
