"""Prints the AMQP message that Nova's conductor would cast for build_and_run_instance, made by Nova itself.

Usage: /usr/bin/python3 nova_wire_body.py SCENARIO UPGRADE_LEVEL
  SCENARIO       full | minimal
  UPGRADE_LEVEL  [upgrade_levels] compute: 6.0 casts RPC 6.0, victoria (5.12) casts 5.11, 5.0 casts 5.0

Real objects (nova.objects, nova.network.model, glance's image translation, nova.context.RequestContext)
go through the real nova.compute.rpcapi.ComputeAPI.build_and_run_instance, oslo.messaging's RPC client and
its rabbit driver. The driver's transport is kombu's in-memory one (oslo.messaging's "kombu+memory"
URL), so no broker is needed: the driver publishes to exchange "nova" with routing key "compute.<host>"
exactly as it would to RabbitMQ, a queue bound there receives it, and the message's raw body and
properties are printed as JSON on stdout.
"""

import base64
import datetime
import json
import os
import sys
import tempfile

HOST = 'compute-1'
INSTANCE_UUID = '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10'
IMAGE_UUID = '0b6f4d0e-4bb8-4f7a-9b47-7d2f6c5e9a01'


def configure(upgrade_level):
    from nova import config
    from nova import rpc
    import nova.conf

    conf_dir = tempfile.mkdtemp()
    path = os.path.join(conf_dir, 'nova.conf')
    with open(path, 'w') as conf_file:
        # The RPC client's metrics thread (metrics are off, the thread runs anyway) would keep the
        # interpreter alive for metrics_thread_stop_timeout seconds after the cast.
        conf_file.write('[DEFAULT]\ntransport_url = kombu+memory:////\n'
                        '[upgrade_levels]\ncompute = %s\n'
                        '[oslo_messaging_metrics]\nmetrics_thread_stop_timeout = 0\n' % upgrade_level)
    config.set_lib_defaults()
    nova.conf.CONF(['--config-file', path], project='nova', default_config_files=[])
    os.remove(path)
    os.rmdir(conf_dir)
    rpc.init(nova.conf.CONF)


def request_context():
    from nova import context
    return context.RequestContext(
        user_id='8c2bd6a9e2b84d8b8a3f0d1c2b3a4f5e', project_id='4d7e1f0a9b8c4d3e8f7a6b5c4d3e2f1a',
        auth_token='gAAAAABtoken-for-glance', request_id='req-2b1f7c0e-6d8a-4b1e-9c3d-5e7f9a1b2c3d',
        global_request_id='req-9f8e7d6c-5b4a-4321-8765-0fedcba98765', roles=['member', 'reader'],
        user_name='alice', project_name='web', remote_address='192.0.2.10')


def network_info():
    from nova.network import model
    v4 = model.Subnet(
        cidr='10.0.0.0/24',
        gateway=model.IP(address='10.0.0.1', type='gateway'),
        dns=[model.IP(address='8.8.8.8', type='dns'), model.IP(address='10.0.0.2', type='dns')],
        routes=[model.Route(cidr='192.168.0.0/16', gateway=model.IP(address='10.0.0.254', type='gateway'))],
        ips=[model.FixedIP(address='10.0.0.5', floating_ips=[model.IP(address='203.0.113.7', type='floating')])],
        dhcp_server='10.0.0.2')
    v6 = model.Subnet(
        cidr='fd00:1::/64',
        gateway=model.IP(address='fd00:1::1', type='gateway'),
        ips=[model.FixedIP(address='fd00:1::5')],
        ipv6_address_mode='slaac', ipv6_ra_mode='slaac')
    network = model.Network(
        id='a5f1c9e0-1b2c-4d3e-8f9a-0b1c2d3e4f5a', bridge='br-int', label='private', subnets=[v4, v6],
        mtu=1450, physical_network=None, tunneled=True)
    return model.NetworkInfo([
        model.VIF(
            id='1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6', address='fa:16:3e:12:34:56', network=network,
            type=model.VIF_TYPE_OVS, details={'port_filter': True, 'ovs_hybrid_plug': False},
            devname='tap1e2d3c4b-5a', ovs_interfaceid='1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6', active=True,
            vnic_type=model.VNIC_TYPE_NORMAL, profile={}, preserve_on_delete=True),
        model.VIF(
            id='7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2f10', address='fa:16:3e:ab:cd:ef',
            network=model.Network(id='c0ffee00-1111-4222-8333-444455556666', bridge=None, label='sriov-net',
                                  subnets=[]),
            type=model.VIF_TYPE_HW_VEB, details={'vlan': '1000'}, vnic_type=model.VNIC_TYPE_DIRECT),
    ])


def glance_image():
    from nova.image import glance

    class ImageV2(dict):
        """A glanceclient v2 image: a dict of attributes with the image schema beside it."""
        schema = {'name': 'image', 'properties': {name: {} for name in (
            'id', 'name', 'status', 'visibility', 'protected', 'checksum', 'os_hash_algo', 'os_hash_value',
            'owner', 'size', 'virtual_size', 'container_format', 'disk_format', 'created_at', 'updated_at',
            'tags', 'direct_url', 'min_ram', 'min_disk', 'self', 'file', 'schema', 'locations', 'os_hidden')}}

    return glance._translate_from_glance(ImageV2(
        id=IMAGE_UUID, name='debian-12', status='active', visibility='public', protected=False,
        checksum='9a0364b9e99bb480dd25e1f0284c8555', os_hash_algo='sha512', os_hash_value='ab' * 64,
        owner='4d7e1f0a9b8c4d3e8f7a6b5c4d3e2f1a', size=468713472, virtual_size=2147483648,
        container_format='bare', disk_format='qcow2', created_at='2024-04-01T10:00:00Z',
        updated_at='2024-04-01T10:05:00Z', tags=[], min_ram=0, min_disk=2, os_hidden=False,
        hw_disk_bus='virtio', hw_machine_type='q35', img_config_drive='optional', os_distro='debian',
        block_device_mapping='[{"boot_index": 0, "source_type": "image"}]'))


def full_instance(ctx):
    from nova import objects
    from nova import utils

    display_name = 'Über server ☃ 🚀'
    keypair = objects.KeyPair(
        id=7, name='alice-key', user_id=ctx.user_id, type='ssh',
        public_key='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfJ6zY0k4Qx alice@laptop',
        fingerprint='aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99')
    instance = objects.Instance(
        ctx, id=1234, uuid=INSTANCE_UUID, display_name=display_name,
        hostname=utils.sanitize_hostname(display_name), display_description=display_name,
        user_id=ctx.user_id, project_id=ctx.project_id, image_ref=IMAGE_UUID,
        kernel_id='5e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c9b', ramdisk_id='',
        launch_index=0, key_name=keypair.name, key_data=keypair.public_key,
        user_data=base64.b64encode(b'#cloud-config\nruncmd: [echo hi]\n\xff\x00\xfe').decode('ascii'),
        reservation_id='r-3fhpjulh', availability_zone='az-1', config_drive=True,
        root_device_name='/dev/vda', vm_state='building', task_state='scheduling', power_state=0,
        host=HOST, node=HOST, launched_at=None, created_at=datetime.datetime(2024, 5, 1, 12, 0, 0),
        locked=False, os_type=None, architecture='x86_64',
        metadata={'role': 'web', 'ünïcode key': 'välue ☃'},
        system_metadata={'image_hw_disk_bus': 'virtio', 'image_min_ram': '0', 'image_base_image_ref': IMAGE_UUID,
                         'owner_user_name': 'alice', 'image_os_distro': None},
        flavor=objects.Flavor(
            id=11, name='m1.pinned', flavorid='pinned-4', memory_mb=4096, vcpus=4, root_gb=20, ephemeral_gb=1,
            swap=512, rxtx_factor=1.0, vcpu_weight=0, disabled=False, is_public=True,
            extra_specs={'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': '2'}, description=None),
        keypairs=objects.KeyPairList(objects=[keypair]),
        info_cache=objects.InstanceInfoCache(instance_uuid=INSTANCE_UUID, network_info=network_info()),
        device_metadata=objects.InstanceDeviceMetadata(devices=[
            objects.NetworkInterfaceMetadata(
                bus=objects.PCIDeviceBus(address='0000:00:03.0'), mac='fa:16:3e:12:34:56', tags=['frontend'],
                vlan=1000, vf_trusted=True),
            objects.DiskMetadata(
                bus=objects.SCSIDeviceBus(address='0:0:1:0'), serial='vol-serial-1', path='/dev/sdb', tags=['db']),
        ]),
        numa_topology=objects.InstanceNUMATopology(instance_uuid=INSTANCE_UUID, cells=[
            objects.InstanceNUMACell(id=0, cpuset=set(), pcpuset={3, 1}, memory=2048, cpu_policy='dedicated'),
            objects.InstanceNUMACell(id=1, cpuset=set(), pcpuset={2, 0}, memory=2048, cpu_policy='dedicated'),
        ]))
    # The conductor casts the instance as Instance.create() leaves it: changes reset.
    instance.obj_reset_changes(recursive=True)
    return instance


def minimal_instance(ctx):
    from nova import objects
    from nova.network import model

    # A server booted from a volume with nothing but a name; changes left set, as on a fresh object.
    return objects.Instance(
        ctx, id=5, uuid='00000000-0000-4000-8000-000000000001', display_name='x', hostname='x',
        user_id=ctx.user_id, project_id=ctx.project_id, image_ref='', kernel_id='', ramdisk_id='',
        launch_index=0, key_name=None, key_data=None, user_data=None, reservation_id='r-00000001',
        availability_zone=None, config_drive='', launched_at=None, metadata={}, system_metadata={},
        flavor=objects.Flavor(
            id=1, name='m1.tiny', flavorid='1', memory_mb=512, vcpus=1, root_gb=1, ephemeral_gb=0, swap=0,
            rxtx_factor=1.0, vcpu_weight=None, disabled=False, is_public=True, extra_specs={}),
        keypairs=objects.KeyPairList(objects=[]),
        info_cache=objects.InstanceInfoCache(instance_uuid='00000000-0000-4000-8000-000000000001',
                                             network_info=model.NetworkInfo([])),
        device_metadata=None, numa_topology=None)


def cast(scenario, upgrade_level):
    configure(upgrade_level)
    import kombu
    from nova.compute import rpcapi
    from nova import objects

    objects.register_all()
    ctx = request_context()
    queue = kombu.Queue('compute.' + HOST, kombu.Exchange('nova', 'topic', durable=False),
                        routing_key='compute.' + HOST, durable=False)
    with kombu.Connection('memory://') as connection:
        queue(connection.channel()).declare()
        if scenario == 'full':
            instance = full_instance(ctx)
            extra = dict(
                image=glance_image(), admin_password='sekrit-päss',
                injected_files=[('/etc/motd', base64.b64encode(b'Welcome!\n').decode('ascii')),
                                ('/root/blob.bin', base64.encodebytes(bytes(range(256)) * 2).decode('ascii'))],
                requested_networks=objects.NetworkRequestList(objects=[
                    objects.NetworkRequest(port_id='1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6', tag='frontend')]),
                security_groups=['default', 'web'],
                block_device_mapping=objects.BlockDeviceMappingList(objects=[objects.BlockDeviceMapping(
                    instance_uuid=INSTANCE_UUID, source_type='image', destination_type='local', boot_index=0,
                    image_id=IMAGE_UUID, device_name='/dev/vda', delete_on_termination=True)]),
                limits={'memory_mb': 16384, 'disk_gb': 200, 'numa_topology': None},
                host_list=[objects.Selection(
                    service_host=HOST, nodename=HOST, compute_node_uuid='11111111-2222-4333-8444-555555555555',
                    cell_uuid='66666666-7777-4888-9999-000000000000', limits=None, allocation_request=None,
                    allocation_request_version=None, availability_zone='az-1')],
                accel_uuids=[])
        else:
            instance = minimal_instance(ctx)
            extra = dict(image={}, admin_password=None, injected_files=[], security_groups=[])
        rpcapi.ComputeAPI().build_and_run_instance(
            ctx, instance, HOST, request_spec=objects.RequestSpec(instance_uuid=instance.uuid, num_instances=1),
            filter_properties={'retry': {'num_attempts': 1, 'hosts': []}}, node=HOST, **extra)
        message = queue(connection.channel()).get(no_ack=True)
    return {
        'body_base64': base64.b64encode(message.body).decode('ascii'),
        'content_type': message.content_type,
        'content_encoding': message.content_encoding,
        'delivery_mode': message.properties.get('delivery_mode'),
        'exchange': message.delivery_info.get('exchange'),
        'routing_key': message.delivery_info.get('routing_key'),
    }


if __name__ == '__main__':
    json.dump(cast(sys.argv[1], sys.argv[2]), sys.stdout)
