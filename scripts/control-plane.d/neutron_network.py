"""The control plane's one shared network, made once: a flat network on a physical network and an IPv4 subnet
without DHCP (guests take their static addresses from the config drive's network_data.json). Found again by
name at every start; prints what the tests need to know of it (JSON).

The allocation pool leaves the bottom of the subnet free (gateway, DNS server, the host's own address).

Usage: python3 neutron_network.py NEUTRON_URL NAME PHYSICAL_NETWORK CIDR GATEWAY DNS POOL_START POOL_END
"""

import json
import sys
import urllib.request

# noauth: every request is an admin; the network belongs to noauth2's admin project, as nova-api's admin.
PROJECT = 'admin'


def call(url, method='GET', body=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json', 'Accept': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit('neutron_network: %s %s: HTTP %s %s' % (method, url, error.code, error.read().decode(errors='replace')))


def ensure(neutron, name, physical_network, cidr, gateway, dns, pool_start, pool_end):
    v2 = neutron + '/v2.0'
    networks = call('%s/networks?name=%s' % (v2, name))['networks']
    network = networks[0] if networks else call(v2 + '/networks', 'POST', {'network': {
        'name': name, 'project_id': PROJECT, 'shared': True,
        'provider:network_type': 'flat', 'provider:physical_network': physical_network}})['network']
    subnets = call('%s/subnets?network_id=%s' % (v2, network['id']))['subnets']
    subnet = subnets[0] if subnets else call(v2 + '/subnets', 'POST', {'subnet': {
        'name': name + '-v4', 'network_id': network['id'], 'project_id': PROJECT, 'ip_version': 4,
        'cidr': cidr, 'gateway_ip': gateway, 'dns_nameservers': [dns], 'enable_dhcp': False,
        'allocation_pools': [{'start': pool_start, 'end': pool_end}]}})['subnet']
    return {
        'id': network['id'],
        'name': network['name'],
        'physical_network': network['provider:physical_network'],
        'mtu': network['mtu'],
        'subnet_id': subnet['id'],
        'cidr': subnet['cidr'],
        'gateway_ip': subnet['gateway_ip'],
        'dns_nameservers': subnet['dns_nameservers'],
    }


if __name__ == '__main__':
    print(json.dumps(ensure(*sys.argv[1:])))
