"""Nova's own InstanceActionPayload (nova/notifications/objects/instance.py), made by Nova's code for an instance,
as compute_utils.notify_about_instance_action makes it: InstanceActionPayload(context, instance, fault, bdms).

Usage: /usr/bin/python3 nova_action_payload.py
         stdin: a JSON list of {instance, context, bdms, fault}: `instance` an Instance primitive (as the daemon
         held it when it notified), `context` the request context's dict, `bdms` whether the manager passes the
         instance's BDMs (an empty BlockDeviceMappingList: no volumes) or None, `fault` an ExceptionPayload's
         fields or null. Prints the list of payload primitives.
       /usr/bin/python3 nova_action_payload.py NOVA_CONF UUID
         stdin: {context, bdms}. The payload of the instance UUID as the database of NOVA_CONF holds it (deleted
         or not, with the fields the payload reads joined). Prints the payload primitive.
"""

import json
import os
import sys
import tempfile


def configure(conf_files=()):
    """Nova's configuration with versioned notifications on: populate_schema does nothing without them
    (rpc.if_notifications_enabled). Nothing is sent: the transport is kombu's in-memory one."""
    import nova.conf
    from nova import config
    from nova import rpc

    conf_dir = tempfile.mkdtemp()
    path = os.path.join(conf_dir, 'nova.conf')
    with open(path, 'w') as conf_file:
        conf_file.write('[DEFAULT]\ntransport_url = kombu+memory:////\n'
                        '[oslo_messaging_notifications]\ndriver = messagingv2\n'
                        '[notifications]\nnotification_format = versioned\n')
    config.set_lib_defaults()
    args = [arg for conf in conf_files for arg in ('--config-file', conf)]
    nova.conf.CONF(args + ['--config-file', path], project='nova', default_config_files=[])
    os.remove(path)
    os.rmdir(conf_dir)
    rpc.init(nova.conf.CONF)


def payload(ctx, instance, bdms, fault):
    from nova import objects
    from nova.notifications.objects import exception as exception_notification
    from nova.notifications.objects import instance as instance_notification

    made = instance_notification.InstanceActionPayload(
        ctx, instance, None if fault is None else exception_notification.ExceptionPayload(**fault),
        bdms=objects.BlockDeviceMappingList(objects=[]) if bdms else None)
    # As NotificationBase.emit sends it: a new payload's every field looks changed, so the changes are dropped.
    made.obj_reset_changes(recursive=True)
    return made.obj_to_primitive()


def from_primitives(items):
    from nova import context
    from nova import objects

    configure()
    objects.register_all()
    return [payload(context.RequestContext.from_dict(item['context']), objects.Instance.obj_from_primitive(item['instance']),
                    item['bdms'], item.get('fault')) for item in items]


def from_database(conf_path, uuid, request):
    from nova import context
    from nova import objects
    from nova import utils

    configure([conf_path])
    objects.register_all()
    ctx = context.RequestContext.from_dict(request['context'])
    with utils.temporary_mutation(ctx, read_deleted='yes'):
        instance = objects.Instance.get_by_uuid(
            ctx, uuid, expected_attrs=['flavor', 'info_cache', 'metadata', 'system_metadata'])
    return payload(ctx, instance, request['bdms'], None)


if __name__ == '__main__':
    request = json.load(sys.stdin)
    if len(sys.argv) == 3:
        print(json.dumps(from_database(sys.argv[1], sys.argv[2], request)))
    else:
        print(json.dumps(from_primitives(request)))
