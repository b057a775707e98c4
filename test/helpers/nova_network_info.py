"""Runs Nova's own nova.network.neutron.API()._build_network_info_model and prints the network_info JSON
that Nova would store in InstanceInfoCache (NetworkInfo.hydrate(...).json()), one text per case.

usage: /usr/bin/python3 nova_network_info.py recorded < input.json
  Neutron is a fake client answering from a recorded world:
  {"world": {"ports", "networks", "subnets", "floatingips", "extensions": [alias], "no_l3": bool},
   "cases": [{"instance": {"uuid", "project_id", "network_info": [...]}, "networks": [network id],
              "port_ids": [...], "preexisting_port_ids": [...], "options": {"flat_injected", "ovs_bridge"}}]}
  (or, instead of networks and port_ids, "refresh_vif_id": the one port network-changed names)
usage: /usr/bin/python3 nova_network_info.py live < input.json
  Neutron is a real neutron-server, called as Nova calls it ([neutron] admin_token at URL, the user's
  token TOKEN): {"url", "token", "cases": [{"instance", "networks", "port_ids", "preexisting_port_ids"}]}
  with networks as allocate_for_instance has them (the user's GET /v2.0/networks?id=... of those ids).
prints ["<network_info JSON>", ...]
usage: /usr/bin/python3 nova_network_info.py allocate < input.json
  Nova's allocate_for_instance, then deallocate_for_instance, against a real neutron-server ([neutron]
  admin_token ADMIN_TOKEN at URL, the user's token USER_TOKEN), the conductor's part (VirtualInterface rows,
  the info cache save) left out: {"url", "admin_token", "user_token", "instance": {"uuid", "project_id",
  "hostname", "availability_zone"}, "requested_networks": [{NetworkRequest fields}], "security_groups",
  "host"}; prints {"network_info": "<JSON>"} or {"error": "<exception class>"}.
"""
import json
import os
import sys
import tempfile
from unittest import mock

import nova.conf
from nova import context as nova_context
from nova import objects
from nova.network import model
from nova.network import neutron
from neutronclient.common import exceptions as neutron_client_exc

CONF = nova.conf.CONF
objects.register_all()


class RecordedNeutron:
    """neutronclient's Client, answering from a recorded world the way neutron-server filters."""

    def __init__(self, world):
        self.world = world

    @staticmethod
    def _match(item, filters):
        for key, wanted in filters.items():
            if key == 'fields':
                continue
            values = wanted if isinstance(wanted, list) else [wanted]
            if item.get(key) not in values:
                return False
        return True

    def _list(self, kind, filters):
        return [item for item in self.world.get(kind, []) if self._match(item, filters)]

    def list_ports(self, **filters):
        return {'ports': self._list('ports', filters)}

    def list_networks(self, **filters):
        return {'networks': self._list('networks', filters)}

    def list_subnets(self, **filters):
        return {'subnets': self._list('subnets', filters)}

    def list_floatingips(self, **filters):
        if self.world.get('no_l3'):
            raise neutron_client_exc.NotFound()
        return {'floatingips': self._list('floatingips', filters)}

    def show_network(self, network_id, **_fields):
        return {'network': self._list('networks', {'id': network_id})[0]}

    def list_extensions(self):
        return {'extensions': [{'alias': alias} for alias in self.world.get('extensions', [])]}


def instance_of(spec):
    return objects.Instance(
        uuid=spec['uuid'], project_id=spec['project_id'],
        info_cache=objects.InstanceInfoCache(network_info=model.NetworkInfo.hydrate(spec.get('network_info', []))))


def build(api, context, client, case, networks):
    if 'refresh_vif_id' in case:
        # network-changed: one port of the cache rebuilt (its network asked for as the service).
        nw_info = api._build_network_info_model(
            context, instance_of(case['instance']), admin_client=client, refresh_vif_id=case['refresh_vif_id'])
    else:
        nw_info = api._build_network_info_model(
            context, instance_of(case['instance']), networks=networks, port_ids=case['port_ids'],
            admin_client=client, preexisting_port_ids=case.get('preexisting_port_ids', []))
    return model.NetworkInfo.hydrate(nw_info).json()


def recorded(data):
    CONF([], project='nova', default_config_files=[])
    client = RecordedNeutron(data['world'])
    out = []
    for case in data['cases']:
        options = case.get('options', {})
        CONF.set_override('flat_injected', options.get('flat_injected', False))
        CONF.set_override('ovs_bridge', options.get('ovs_bridge', 'br-int'), group='neutron')
        api = neutron.API()
        networks = [client._list('networks', {'id': net_id})[0] for net_id in case.get('networks', [])]
        with mock.patch.object(neutron, 'get_client', lambda *args, **kwargs: client):
            out.append(build(api, nova_context.get_admin_context(), client, case, networks))
    return out


def configure_neutron(url, token):
    with tempfile.NamedTemporaryFile('w', suffix='.conf', delete=False) as conf:
        conf.write('[neutron]\nauth_type = admin_token\nendpoint = %s\ntoken = %s\n'
                   'endpoint_override = %s\n' % (url, token, url))
    CONF(['--config-file', conf.name], project='nova', default_config_files=[])
    os.remove(conf.name)


def allocate(data):
    configure_neutron(data['url'], data['admin_token'])
    spec = data['instance']
    instance = objects.Instance(
        uuid=spec['uuid'], project_id=spec['project_id'], hostname=spec['hostname'],
        availability_zone=spec['availability_zone'], deleted=False,
        info_cache=objects.InstanceInfoCache(network_info=model.NetworkInfo([])))
    context = nova_context.RequestContext(
        user_id='user', project_id=spec['project_id'], auth_token=data['user_token'], is_admin=False)
    requested = objects.NetworkRequestList(
        objects=[objects.NetworkRequest(**fields) for fields in data['requested_networks']])
    api = neutron.API()
    out = {}
    with mock.patch.object(objects.VirtualInterface, 'create'), \
            mock.patch.object(objects.VirtualInterface, 'destroy'), \
            mock.patch.object(objects.VirtualInterface, 'delete_by_instance_uuid'), \
            mock.patch.object(objects.InstanceInfoCache, 'refresh'), \
            mock.patch.object(objects.InstanceInfoCache, 'save'):
        try:
            nw_info = api.allocate_for_instance(
                context, instance, requested, security_groups=data['security_groups'],
                bind_host_id=data['host'])
            out['network_info'] = nw_info.json()
            instance.info_cache.network_info = nw_info
        except Exception as error:
            out['error'] = type(error).__name__
        api.deallocate_for_instance(context, instance, requested_networks=requested if 'error' in out else None)
    return out


def live(data):
    configure_neutron(data['url'], data['token'])
    out = []
    for case in data['cases']:
        neutron.reset_state()
        api = neutron.API()
        context = nova_context.RequestContext(
            user_id='user', project_id=case['instance']['project_id'], auth_token=data['token'], is_admin=False)
        user = neutron.get_client(context)
        admin = neutron.get_client(context, admin=True)
        networks = api._get_available_networks(context, case['instance']['project_id'], case['networks'], user)
        out.append(build(api, context, admin, case, networks))
    return out


if __name__ == '__main__':
    mode = sys.argv[1]
    result = {'recorded': recorded, 'live': live, 'allocate': allocate}[mode](json.load(sys.stdin))
    print(json.dumps(result))
