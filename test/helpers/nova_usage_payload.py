"""Nova's own legacy notifications (compute_utils.notify_about_instance_usage through rpc.get_notifier('compute',
host), the LegacyValidatingNotifier nova-compute's manager holds), made by Nova's code for an instance and recorded
by oslo.messaging's in-memory `test` driver after Nova's serializer: event type, priority, publisher and payload.

Usage: /usr/bin/python3 nova_usage_payload.py HOST GLANCE_API_SERVER
         stdin: a JSON list of {instance, context, event_suffix, network_info, extra_usage_info, fault}: `instance`
         an Instance primitive (as the daemon held it when it notified), `context` the request context's dict,
         `network_info` the VIF list or null, `fault` {exception, exception_message} or null: Nova gets an
         exception of that class whose message is that. Prints the list of
         {event_type, priority, publisher_id, payload}.
"""

import json
import os
import sys
import tempfile


def configure(glance_api_server):
    """Nova's configuration with Nova's default notification_format (unversioned) and the test driver."""
    import nova.conf
    from nova import config
    from nova import rpc

    conf_dir = tempfile.mkdtemp()
    path = os.path.join(conf_dir, 'nova.conf')
    with open(path, 'w') as conf_file:
        conf_file.write('[DEFAULT]\ntransport_url = kombu+memory:////\n'
                        '[oslo_messaging_notifications]\ndriver = test\n'
                        '[glance]\napi_servers = %s\n' % glance_api_server)
    config.set_lib_defaults()
    nova.conf.CONF(['--config-file', path], project='nova', default_config_files=[])
    os.remove(path)
    os.rmdir(conf_dir)
    rpc.init(nova.conf.CONF)


def fault_of(fault):
    """A NovaException of the fault's class name, whose format_message() is its message."""
    from nova import exception

    if fault is None:
        return None
    cls = type(str(fault['exception']), (exception.NovaException,), {})
    return cls(message=fault['exception_message'])


def notifications(host, items):
    from nova.compute import utils as compute_utils
    from nova import context
    from nova.network import model as network_model
    from nova import objects
    from nova import rpc
    from oslo_messaging.notify import _impl_test

    objects.register_all()
    notifier = rpc.get_notifier('compute', host)
    made = []
    for item in items:
        _impl_test.reset()
        network_info = item.get('network_info')
        compute_utils.notify_about_instance_usage(
            notifier, context.RequestContext.from_dict(item['context']),
            objects.Instance.obj_from_primitive(item['instance']), item['event_suffix'],
            network_info=None if network_info is None else network_model.NetworkInfo.hydrate(network_info),
            extra_usage_info=item.get('extra_usage_info'), fault=fault_of(item.get('fault')))
        (_ctxt, message, priority, _retry), = _impl_test.NOTIFICATIONS
        made.append({'event_type': message['event_type'], 'priority': priority,
                     'publisher_id': message['publisher_id'], 'payload': message['payload']})
    return made


if __name__ == '__main__':
    configure(sys.argv[2])
    print(json.dumps(notifications(sys.argv[1], json.load(sys.stdin))))
