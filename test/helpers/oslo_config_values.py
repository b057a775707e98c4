"""Loads config files with the real oslo.config and Nova's own option definitions, and prints the values
of the options named on stdin (JSON: [[section, option], ...]) as JSON, for comparison with our loader.

usage: /usr/bin/python3 oslo_config_values.py [--config-file F]... < options.json
"""
import json
import sys

import nova.conf
from keystoneauth1 import loading as ks_loading
from oslo_log import log
from oslo_messaging import transport
from oslo_messaging._drivers import amqp
from oslo_messaging._drivers import impl_rabbit
from oslo_messaging.notify import notifier
from oslo_messaging.rpc import client as rpc_client
from oslo_service import _options as service_options

CONF = nova.conf.CONF
log.register_options(CONF)
CONF.register_opts(transport._transport_opts)
CONF.register_opts(impl_rabbit.rabbit_opts, group='oslo_messaging_rabbit')
CONF.register_opts(amqp.amqp_opts, group='oslo_messaging_rabbit')
CONF.register_opts(notifier._notifier_opts, group='oslo_messaging_notifications')
CONF.register_opts(service_options.service_opts)
CONF.register_opts(rpc_client._client_opts)
# Nova's own defaults that it sets at start-up (nova/config.py) or that we chose on purpose (README).
CONF.set_default('control_exchange', 'nova')
CONF.set_default('state_path', '/var/lib/nova')

# keystoneauth registers a section's plugin options only when it loads the plugin auth_type names
# (ks_loading.load_auth_from_conf_options); every plugin nova-spawnd implements, as that would.
for group in ('placement', 'neutron', 'service_user'):
    for plugin in ('password', 'admin_token'):
        CONF.register_opts(ks_loading.get_auth_plugin_conf_options(plugin), group=group)

CONF(sys.argv[1:], project='nova', default_config_files=[])
wanted = json.load(sys.stdin)
out = {}
for section, option in wanted:
    group = CONF if section == 'DEFAULT' else getattr(CONF, section)
    out.setdefault(section, {})[option] = getattr(group, option)
print(json.dumps(out))
