"""Nova's databases (in the control plane's MariaDB), as the four nova-manage runs would make them (api_db
sync, cell_v2 map_cell0, cell_v2 create_cell --name cell1, db sync), in one process: each nova-manage run
spends about 10 s of this machine's time importing Nova before it does any work.

Usage: python3 nova_databases.py NOVA_CONF CELL0_CONNECTION
"""

import sys

from nova.cmd import manage
from nova import config
from nova import objects


def main(nova_conf, cell0_connection):
    config.parse_args(['nova-manage', '--config-file', nova_conf])
    objects.register_all()
    steps = [
        ('api_db sync', lambda: manage.ApiDbCommands().sync()),
        ('cell_v2 map_cell0', lambda: manage.CellV2Commands().map_cell0(database_connection=cell0_connection)),
        ('cell_v2 create_cell', lambda: manage.CellV2Commands().create_cell(name='cell1')),
        ('db sync', lambda: manage.DbCommands().sync()),
    ]
    for name, step in steps:
        # nova-manage's own convention: a non-zero return is a failure.
        if step():
            sys.exit('nova-manage %s failed' % name)


if __name__ == '__main__':
    main(*sys.argv[1:])
