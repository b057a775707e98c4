"""Read an extracted config drive tree with cloud-init's own OpenStack reader (Debian's cloud-init).

Usage: cloudinit_read_config_drive.py DIR KNOWN_MACS_JSON

Runs cloudinit.sources.helpers.openstack.ConfigDriveReader(DIR).read_v2() and convert_net_json() on the
network_data it found, with KNOWN_MACS ({mac: interface name}) standing in for the guest's NICs, and the
ConfigDrive datasource's get_public_ssh_keys() on the metadata. Prints one JSON document: the read_v2
result (bytes as {"base64": ...}), the SSH keys and the converted network config.
"""
import base64
import json
import sys

from cloudinit.sources.helpers import openstack


def jsonable(value):
    if isinstance(value, bytes):
        return {'base64': base64.b64encode(value).decode('ascii')}
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


class KeySource(openstack.SourceMixin):
    """The key lookup of DataSourceConfigDrive, without the datasource's device probing."""

    def __init__(self, metadata, version):
        self.metadata = metadata
        self.version = version


def cloud_init_view(reader, known_macs):
    """What cloud-init makes of a source, through any of its OpenStack readers, as one JSON document."""
    results = reader.read_v2()
    network_config = None
    if results.get('networkdata'):
        network_config = openstack.convert_net_json(results['networkdata'], known_macs=known_macs)
    return {
        'version': reader._find_working_version(),
        'read_v2': jsonable(results),
        'public_ssh_keys': KeySource(results['metadata'], results['version']).get_public_ssh_keys(),
        'network_config': network_config,
    }


def main():
    directory, known_macs = sys.argv[1], json.loads(sys.argv[2])
    json.dump(cloud_init_view(openstack.ConfigDriveReader(directory), known_macs), sys.stdout)


if __name__ == '__main__':
    main()
