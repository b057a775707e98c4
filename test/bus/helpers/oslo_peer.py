"""The daemon's real peers, made of Nova and oslo.messaging themselves, on a real RabbitMQ.

Usage: /usr/bin/python3 oslo_peer.py COMMAND TRANSPORT_URL HOST ...
  cast   URL HOST UUID ID IMAGE_ID          Nova's ComputeAPI().build_and_run_instance (RPC 6.0), as the
                                            conductor casts it, for a new Instance object
  call   URL HOST UUID ID IMAGE_ID MEMORY   the same request as an RPC call (oslo's RPCClient.call), with
                                            the flavor's memory_mb set to MEMORY; prints the outcome
  lifecycle URL HOST UUID ID IMAGE_ID METHOD [ARG]
                                            Nova's ComputeAPI METHOD (terminate_instance, stop_instance,
                                            start_instance, reboot_instance with ARG SOFT or HARD: casts;
                                            get_console_output with ARG lines: a call, its outcome printed)
                                            for the instance as the cast command made it
  unsupported URL HOST                      an RPC call of pause_instance, which the daemon does not
                                            serve; prints the outcome
  declare URL HOST OPTIONS                  what nova-compute's RPC server (topic compute, server HOST) and
                                            its notifier declare, with OPTIONS (JSON: [oslo_messaging_rabbit]
                                            option -> value); runs until stdin closes
  listen URL COUNT TIMEOUT [TOPIC]          oslo's notification listener on TOPIC (versioned_notifications):
                                            prints one JSON line per notification (its context, and Nova's
                                            own verdict on its payload), exits after COUNT of them or TIMEOUT
                                            seconds

Nova's configuration is the global oslo.config CONF (a private ConfigOpts makes cast() fail with
NoSuchOptError oslo_messaging_metrics), read from a temporary file.
"""

import json
import os
import sys
import tempfile
import threading

REQUEST_ID = 'req-0f0e0d0c-0b0a-4998-8776-655443322110'


def configure(url, extra=''):
    from nova import config
    from nova import rpc
    import nova.conf

    conf_dir = tempfile.mkdtemp()
    path = os.path.join(conf_dir, 'nova.conf')
    with open(path, 'w') as conf_file:
        conf_file.write('[DEFAULT]\ntransport_url = %s\n'
                        '[upgrade_levels]\ncompute = 6.0\n'
                        '[oslo_messaging_metrics]\nmetrics_thread_stop_timeout = 0\n'
                        '[oslo_messaging_notifications]\ndriver = messagingv2\n'
                        '[notifications]\nnotification_format = versioned\n%s' % (url, extra))
    config.set_lib_defaults()
    nova.conf.CONF(['--config-file', path], project='nova', default_config_files=[])
    os.remove(path)
    os.rmdir(conf_dir)
    rpc.init(nova.conf.CONF)
    return nova.conf.CONF


def request_context():
    from nova import context
    return context.RequestContext(
        user_id='8c2bd6a9e2b84d8b8a3f0d1c2b3a4f5e', project_id='4d7e1f0a9b8c4d3e8f7a6b5c4d3e2f1a',
        auth_token='gAAAAABtoken-for-glance', request_id=REQUEST_ID, roles=['member'])


def keypair(ctx):
    """A real ed25519 key, with the fingerprint Nova's API computes when the key pair is imported."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from nova import crypto
    from nova import objects

    public_key = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode('ascii') + ' peer@test'
    return objects.KeyPair(name='peer-key', user_id=ctx.user_id, type='ssh', public_key=public_key,
                           fingerprint=crypto.generate_fingerprint(public_key))


def network_info():
    from nova.network import model
    subnet = model.Subnet(cidr='10.0.0.0/24', gateway=model.IP(address='10.0.0.1', type='gateway'),
                          ips=[model.FixedIP(address='10.0.0.5')])
    network = model.Network(id='a5f1c9e0-1b2c-4d3e-8f9a-0b1c2d3e4f5a', bridge='br-int', label='private',
                            subnets=[subnet])
    return model.NetworkInfo([model.VIF(id='1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6', address='fa:16:3e:12:34:56',
                                        network=network, type=model.VIF_TYPE_OVS, devname='tap1e2d3c4b-5a')])


def new_instance(ctx, host, uuid, numeric_id, image_id, memory_mb=64):
    from nova import objects

    key = keypair(ctx)
    instance = objects.Instance(
        ctx, id=numeric_id, uuid=uuid, display_name='peer-%d' % numeric_id, hostname='peer-%d' % numeric_id,
        user_id=ctx.user_id, project_id=ctx.project_id, image_ref=image_id, kernel_id='', ramdisk_id='',
        launch_index=0, key_name=key.name, key_data=key.public_key, user_data=None, reservation_id='r-peer0001',
        availability_zone='az-peer', config_drive='True', launched_at=None, metadata={'peer': 'oslo'},
        system_metadata={}, host=host, node=host,
        flavor=objects.Flavor(
            id=1, name='m1.nano', flavorid='42', memory_mb=memory_mb, vcpus=1, root_gb=1, ephemeral_gb=0, swap=0,
            rxtx_factor=1.0, vcpu_weight=None, disabled=False, is_public=True, extra_specs={}),
        keypairs=objects.KeyPairList(objects=[key]),
        info_cache=objects.InstanceInfoCache(instance_uuid=uuid, network_info=network_info()),
        device_metadata=None, numa_topology=None)
    instance.obj_reset_changes(recursive=True)
    return instance


def build_kwargs(instance, host):
    from nova import objects
    return dict(
        instance=instance, image={}, request_spec=objects.RequestSpec(instance_uuid=instance.uuid, num_instances=1),
        filter_properties={'retry': {'num_attempts': 1, 'hosts': []}}, admin_password=None, injected_files=[],
        requested_networks=None, security_groups=[], block_device_mapping=None, node=host, limits=None,
        host_list=None, accel_uuids=[])


def cast(url, host, uuid, numeric_id, image_id):
    configure(url)
    from nova.compute import rpcapi
    from nova import objects

    objects.register_all()
    ctx = request_context()
    instance = new_instance(ctx, host, uuid, int(numeric_id), image_id)
    kwargs = build_kwargs(instance, host)
    del kwargs['instance']
    rpcapi.ComputeAPI().build_and_run_instance(ctx, instance, host, **kwargs)
    print(json.dumps({'cast': uuid, 'request_id': REQUEST_ID, 'nova_payload': nova_start_payload(ctx, instance)}))


def nova_start_payload(ctx, instance):
    """The InstanceCreatePayload Nova's compute manager builds for instance.create.start of this instance.

    The fields a compute host reads from its database row are set as a freshly scheduled instance has them."""
    from nova import objects
    from nova.notifications.objects import instance as instance_notification

    row = instance.obj_clone()
    row.update(dict(
        tags=objects.TagList(objects=[]), trusted_certs=None, auto_disk_config=False, locked=False, os_type=None,
        architecture=None, display_description=None, created_at=None, updated_at=None, terminated_at=None,
        deleted_at=None, vm_state='building', power_state=0, task_state=None, progress=0))
    payload = instance_notification.InstanceCreatePayload(ctx, row, None, objects.BlockDeviceMappingList(objects=[]))
    payload.obj_reset_changes(recursive=True)
    return payload.obj_to_primitive()


def outcome(action):
    try:
        return {'result': action()}
    except Exception as error:  # the caller sees what oslo.messaging raised
        return {'exception': type(error).__name__, 'module': type(error).__module__,
                'message': str(error).split('\n')[0], 'kwargs': getattr(error, 'kwargs', None),
                'exc_type': getattr(error, 'exc_type', None)}


def rpc_client(host):
    import oslo_messaging as messaging
    from nova import rpc
    from nova.objects import base as objects_base

    target = messaging.Target(topic='compute', version='6.0')
    client = rpc.get_client(target, serializer=objects_base.NovaObjectSerializer())
    return client.prepare(server=host, version='6.0', timeout=30)


def call(url, host, uuid, numeric_id, image_id, memory_mb):
    configure(url)
    from nova import objects

    objects.register_all()
    ctx = request_context()
    instance = new_instance(ctx, host, uuid, int(numeric_id), image_id, int(memory_mb))
    client = rpc_client(host)
    print(json.dumps(outcome(lambda: client.call(ctx, 'build_and_run_instance', **build_kwargs(instance, host)))))


def lifecycle(url, host, uuid, numeric_id, image_id, method, arg=None):
    configure(url)
    from nova.compute import rpcapi
    from nova import objects

    objects.register_all()
    ctx = request_context()
    instance = new_instance(ctx, host, uuid, int(numeric_id), image_id)
    api = rpcapi.ComputeAPI()
    calls = {
        'terminate_instance': lambda: api.terminate_instance(ctx, instance, bdms=objects.BlockDeviceMappingList(objects=[])),
        'stop_instance': lambda: api.stop_instance(ctx, instance, do_cast=True, clean_shutdown=True),
        'start_instance': lambda: api.start_instance(ctx, instance),
        'reboot_instance': lambda: api.reboot_instance(ctx, instance, block_device_info=None, reboot_type=arg),
        'get_console_output': lambda: api.get_console_output(ctx, instance, tail_length=int(arg)),
        # What nova-api casts for Neutron's POST /os-server-external-events: ARG is the port id.
        'external_instance_event': lambda: api.external_instance_event(ctx, [instance], [
            objects.InstanceExternalEvent(instance_uuid=uuid, name='network-vif-plugged', status='completed', tag=arg)]),
    }
    print(json.dumps(outcome(calls[method])))


def unsupported(url, host):
    configure(url)
    client = rpc_client(host)
    print(json.dumps(outcome(lambda: client.call(request_context(), 'pause_instance', instance=None))))


def declare(url, host, options):
    """What nova-compute's RPC server and its versioned notifier declare, and nothing else."""
    lines = ''.join('%s = %s\n' % item for item in json.loads(options).items())
    conf = configure(url, '[oslo_messaging_rabbit]\n' + lines)
    import oslo_messaging as messaging

    transport = messaging.get_rpc_transport(conf)
    server = messaging.get_rpc_server(
        transport, messaging.Target(topic='compute', server=host), [object()], executor='threading')
    server.start()
    notifier = messaging.Notifier(messaging.get_notification_transport(conf), publisher_id='nova-compute:' + host,
                                  driver='messagingv2', topics=['versioned_notifications'])
    notifier.info({}, 'declare.probe', {})
    notifier.error({}, 'declare.probe', {})
    print(json.dumps({'declared': host}))
    sys.stdout.flush()
    # Running until stdin closes: a stopped server deletes its fanout queue (impl_rabbit Connection.close).
    sys.stdin.read()
    server.stop()
    server.wait()


def allow_empty_construction(classes):
    """obj_from_primitive builds an object with cls() and then sets each field through the field's own
    from_primitive (which type-checks it); payload classes want their source objects as constructor
    arguments, so construction without arguments is routed to the base class for the check to run."""
    from nova.notifications.objects import base as notification_base

    for cls in classes:
        if issubclass(cls, notification_base.NotificationPayloadBase):
            def init(self, *args, _own=cls.__init__, **kwargs):
                if args or kwargs:
                    _own(self, *args, **kwargs)
                else:
                    notification_base.NotificationPayloadBase.__init__(self)
            cls.__init__ = init


def listen(url, count, timeout, topic='versioned_notifications'):
    conf = configure(url)
    import oslo_messaging as messaging
    from nova.notifications.objects import exception as exception_notification  # noqa: F401 (registers the payloads)
    from nova.notifications.objects import instance as instance_notification  # noqa: F401
    from nova.objects import base as objects_base

    objects_base.NovaObjectRegistry.register_notification_objects()
    allow_empty_construction(objects_base.NovaObjectRegistry.notification_classes)
    done = threading.Event()
    seen = []
    lock = threading.Lock()

    class Endpoint(object):
        def _record(self, ctxt, publisher_id, event_type, payload, metadata, priority):
            try:
                obj = objects_base.NovaObject.obj_from_primitive(payload)
                verdict = {'class': type(obj).__name__, 'version': obj.VERSION,
                           'uuid': obj.uuid, 'state': obj.state, 'flavor_memory_mb': obj.flavor.memory_mb
                           if obj.obj_attr_is_set('flavor') else None,
                           'fault': obj.fault.exception if obj.obj_attr_is_set('fault') and obj.fault else None}
                if obj.obj_attr_is_set('task_state'):
                    verdict.update(task_state=obj.task_state, power_state=obj.power_state)
            except Exception as error:
                verdict = {'error': '%s: %s' % (type(error).__name__, error)}
            line = {'priority': priority, 'publisher_id': publisher_id, 'event_type': event_type,
                    'request_id': ctxt.get('request_id'), 'auth_token': ctxt.get('auth_token'), 'context': ctxt,
                    'message_id': metadata.get('message_id'), 'timestamp': metadata.get('timestamp'),
                    'nova': verdict, 'payload': payload}
            with lock:
                seen.append(line)
                sys.stdout.write(json.dumps(line) + '\n')
                sys.stdout.flush()
                if len(seen) >= count:
                    done.set()

        def info(self, ctxt, publisher_id, event_type, payload, metadata):
            self._record(ctxt, publisher_id, event_type, payload, metadata, 'INFO')

        def error(self, ctxt, publisher_id, event_type, payload, metadata):
            self._record(ctxt, publisher_id, event_type, payload, metadata, 'ERROR')

    transport = messaging.get_notification_transport(conf)
    listener = messaging.get_notification_listener(
        transport, [messaging.Target(topic=topic)], [Endpoint()], executor='threading')
    listener.start()
    sys.stderr.write('listening\n')
    sys.stderr.flush()
    done.wait(timeout)
    listener.stop()
    listener.wait()


if __name__ == '__main__':
    command, args = sys.argv[1], sys.argv[2:]
    if command == 'listen':
        listen(args[0], int(args[1]), float(args[2]), *args[3:])
    else:
        {'cast': cast, 'call': call, 'lifecycle': lifecycle, 'unsupported': unsupported, 'declare': declare}[command](*args)
    # oslo's threads (heartbeats, metrics) must not hold the interpreter open.
    sys.stdout.flush()
    os._exit(0)
