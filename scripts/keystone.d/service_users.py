"""Creates, in a bootstrapped Keystone, the service project, service users with the admin role in it, and
placement's service and endpoints (public, internal; RegionOne). Skips what exists, so it may run again.

usage: service_users.py KEYSTONE_URL ADMIN_PASSWORD PLACEMENT_URL USER=PASSWORD...
"""
import sys

from keystoneauth1 import session
from keystoneauth1.identity import v3

keystone_url, admin_password, placement_url, *users = sys.argv[1:]
auth = v3.Password(auth_url=keystone_url, username='admin', password=admin_password, project_name='admin',
                   user_domain_id='default', project_domain_id='default')
api = session.Session(auth=auth)


def get(path, key):
    return api.get(keystone_url + path).json()[key]


def ensure(path, key, match, body):
    """The first entry of the collection matching `match`, created from `body` if there is none."""
    for entry in get(path, key):
        if all(entry.get(k) == v for k, v in match.items()):
            return entry
    return api.post(keystone_url + path, json={key[:-1]: body}).json()[key[:-1]]


project = ensure('/projects?name=service', 'projects', {'name': 'service'},
                 {'name': 'service', 'domain_id': 'default'})
admin_role = get('/roles?name=admin', 'roles')[0]
for user in users:
    name, password = user.split('=', 1)
    created = ensure('/users?name=' + name, 'users', {'name': name},
                     {'name': name, 'password': password, 'domain_id': 'default'})
    api.put('%s/projects/%s/users/%s/roles/%s' % (keystone_url, project['id'], created['id'], admin_role['id']))

service = ensure('/services?type=placement', 'services', {'type': 'placement'},
                 {'type': 'placement', 'name': 'placement'})
for interface in ('public', 'internal'):
    ensure('/endpoints?service_id=%s&interface=%s' % (service['id'], interface), 'endpoints',
           {'interface': interface},
           {'service_id': service['id'], 'interface': interface, 'region_id': 'RegionOne', 'url': placement_url})
print('service users and placement endpoints in place')
