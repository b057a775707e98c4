"""Nova's own answers for the image cache tests: JSON on stdin, JSON on stdout.

mode "names": cache file names and the commands Nova's driver runs to make ephemeral and swap base files
(processutils.execute is recorded instead of run).
mode "download": nova.image.glance.API().download of each image from each api_servers entry.
"""
import json
import os
import sys
import tempfile
from unittest import mock

import nova.conf
from nova import context as nova_context

request = json.load(sys.stdin)
CONF = nova.conf.CONF
CONF([], default_config_files=[])


def names():
    from nova.privsep import fs
    from nova.virt.libvirt import driver, imagecache

    commands = []

    def record(*args, **kwargs):
        commands.append(list(args))
        return '', ''

    ephemeral = []
    swap = []
    with mock.patch('oslo_concurrency.processutils.execute', side_effect=record):
        for os_type, default_format, size_gb in request['ephemeral']:
            CONF.set_override('default_ephemeral_format', default_format)
            del commands[:]
            driver.LibvirtDriver._create_ephemeral('/i/disk.local', size_gb, 'ephemeral0', os_type)
            # The extension of the file system actually made (driver.py passes os_type "default" here,
            # which names an ext4 base of a linux instance after vfat).
            extension = fs.get_file_extension_for_os_type(os_type, default_format)
            ephemeral.append({'name': 'ephemeral_%s_%s' % (size_gb, extension), 'commands': list(commands)})
        for swap_mb in request['swap']:
            del commands[:]
            driver.LibvirtDriver._create_swap('/i/disk.swap', swap_mb)
            swap.append({'name': 'swap_%s' % swap_mb, 'commands': list(commands)})
    return {
        'cache': [imagecache.get_cache_fname(image_id) for image_id in request['ids']],
        'ephemeral': ephemeral,
        'swap': swap,
    }


def download():
    from nova.image import glance

    context = nova_context.RequestContext(auth_token=request['token'], user_id='u', project_id='p')
    result = []
    with tempfile.TemporaryDirectory() as scratch:
        for server in request['servers']:
            CONF.set_override('api_servers', [server], group='glance')
            target = os.path.join(scratch, 'image')
            glance.API().download(context, request['id'], dest_path=target)
            with open(target, 'rb') as image:
                result.append(image.read().hex())
    return result


json.dump({'names': names, 'download': download}[request['mode']](), sys.stdout)
