"""Read the metadata service with cloud-init's own OpenStack HTTP reader (Debian's cloud-init).

Usage: cloudinit_read_metadata_service.py BASE_URL KNOWN_MACS_JSON

Runs cloudinit.sources.helpers.openstack.MetadataReader(BASE_URL).read_v2(), as DataSourceOpenStack does
with http://169.254.169.254, and prints the same JSON document as test/helpers/cloudinit_read_config_drive.py
prints for a drive, so the two sources compare key by key. The EC2 tree is read from BASE_URL too
(MetadataReader asks the fixed 169.254.169.254 for it).
"""
import json
import os
import sys

from cloudinit.sources.helpers import openstack

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'helpers'))
from cloudinit_read_config_drive import cloud_init_view  # noqa: E402


class Reader(openstack.MetadataReader):
    def _read_ec2_metadata(self):
        return openstack.ec2.get_instance_metadata(metadata_address=self.base_path, timeout=self.timeout,
                                                   retries=self.retries)


def main():
    base_url, known_macs = sys.argv[1], json.loads(sys.argv[2])
    json.dump(cloud_init_view(Reader(base_url, timeout=10, retries=0), known_macs), sys.stdout)


if __name__ == '__main__':
    main()
