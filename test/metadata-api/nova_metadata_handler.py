"""Serve requests with Nova's own metadata API handler (python3-nova), for comparison with ours.

Reads one JSON document on stdin: the instance as test/helpers/nova_config_drive.py reads it (see
test/metadata-api/nova-handler.ts), plus
  "conf": {"service_metadata_proxy", "metadata_proxy_shared_secret", "use_forwarded_for"},
  "password": the password already stored for the instance (or null),
  "requests": [{"method", "path", "headers": {...}, "remote_addr", "body": base64 or null,
                "random_seed": base64 or null}, ...].

Each request goes through nova.api.metadata.handler.MetadataRequestHandler as nova-api-metadata's WSGI
pipeline would pass it (webob), one fresh handler per request so that Nova's metadata cache plays no part.
Only what needs Nova's database or Neutron is stubbed, as nova/tests/unit/test_metadata.py does:
Instance.get_by_uuid (the instance, or InstanceNotFound for another uuid) and Instance.save, Neutron's
get_fixed_ip_by_address, the security groups and BDMs, and os.urandom (it returns the request's
random_seed). Nova's own get_metadata_by_instance_id and get_metadata_by_address build the InstanceMetadata,
so the service side is what nova-api-metadata serves: no injected files and no admin_pass (those reach
only the config drive's InstanceMetadata).

Writes [{"status": int, "headers": [[name, value], ...], "body": base64}, ...] on stdout.
"""
import base64
import json
import os
import sys
from unittest import mock

import nova.conf
from oslo_log import log as oslo_log

# The handler reads CONF.debug, an oslo.log option; it must be registered before the CONF is parsed.
oslo_log.register_options(nova.conf.CONF)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'helpers'))
import nova_config_drive as drive  # noqa: E402  (parses CONF, registers the objects)

from nova.api.metadata import base  # noqa: E402
from nova.api.metadata import handler  # noqa: E402
from nova.api.metadata import password as password_api  # noqa: E402
from nova import context  # noqa: E402
from nova import exception  # noqa: E402
from nova.network import model as network_model  # noqa: E402
from nova import objects  # noqa: E402
import webob  # noqa: E402

CONF = drive.CONF


def main():
    data = json.load(sys.stdin)
    conf = data['conf']
    options = data['options']
    CONF.set_override('dhcp_domain', options['dhcp_domain'], group='api')
    CONF.set_override('vendordata_providers', options['vendordata_providers'], group='api')
    CONF.set_override('use_forwarded_for', conf['use_forwarded_for'], group='api')
    CONF.set_override('local_metadata_per_cell', True, group='api')
    CONF.set_override('service_metadata_proxy', conf['service_metadata_proxy'], group='neutron')
    CONF.set_override('metadata_proxy_shared_secret', conf['metadata_proxy_shared_secret'], group='neutron')
    if options['vendordata_json'] is not None:
        path = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'nova-spawnd-vendor-%d.json' % os.getpid())
        with open(path, 'w', encoding='utf-8') as f:
            f.write(options['vendordata_json'])
        CONF.set_override('vendordata_jsonfile_path', path, group='api')

    ctx = context.get_admin_context()
    instance = drive.build_instance(ctx, data, data['block_devices'], data['ec2_ids'])
    if data['password'] is not None:
        instance.system_metadata.update(password_api.convert_password(ctx, data['password']))
    bdms = objects.BlockDeviceMappingList(objects=[
        objects.BlockDeviceMapping(**bdm) for bdm in data['block_devices']['block_device_mapping']])
    network_info = network_model.NetworkInfo.hydrate(data['instance']['network_info'])
    sgroups = [{'name': name} for name in data['security_groups']]
    fixed_ips = {ip['address'] for vif in network_info for ip in vif.fixed_ips()}

    def get_by_uuid(ctxt, instance_id, expected_attrs=None):
        if instance_id != instance.uuid:
            raise exception.InstanceNotFound(instance_id=instance_id)
        return instance

    def get_fixed_ip_by_address(api, ctxt, address):
        if address not in fixed_ips:
            raise exception.FixedIpNotFoundForAddress(address=address)
        return {'instance_uuid': instance.uuid}

    real_urandom = os.urandom
    responses = []
    for request in data['requests']:
        seed = base64.b64decode(request['random_seed']) if request['random_seed'] else None

        def urandom(n, seed=seed):
            if n == 512 and seed is not None:
                return seed
            return real_urandom(n)

        req = webob.Request.blank(request['path'], method=request['method'])
        req.remote_addr = request['remote_addr']
        req.headers.update(request['headers'])
        if request['body'] is not None:
            req.body = base64.b64decode(request['body'])
        with mock.patch('nova.network.security_group_api.get_instance_security_groups', return_value=sgroups), \
                mock.patch.object(objects.Instance, 'get_bdms', return_value=bdms), \
                mock.patch.object(objects.Instance, 'get_by_uuid', side_effect=get_by_uuid), \
                mock.patch.object(objects.Instance, 'save'), \
                mock.patch.object(base.os, 'urandom', side_effect=urandom), \
                mock.patch.object(base.neutron.API, 'get_fixed_ip_by_address', autospec=True,
                                  side_effect=get_fixed_ip_by_address):
            response = req.get_response(handler.MetadataRequestHandler())
        responses.append({
            'status': response.status_int,
            'headers': [[name, value] for name, value in response.headerlist],
            'body': base64.b64encode(response.body).decode('ascii'),
        })
    json.dump(responses, sys.stdout)


if __name__ == '__main__':
    main()
