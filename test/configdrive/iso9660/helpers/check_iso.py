"""Reads an ISO image with independent readers and reports what each sees, as JSON on stdout.

Usage: /usr/bin/python3 check_iso.py IMAGE < request.json
request: {"rr": [file paths], "joliet": [file paths]} (absolute, as the tree's real / Joliet names).
reply: {
  "pycdlib": {"rr": {path: sha256}, "joliet": {path: sha256}, "iso": {path: sha256}},  # every file a walk finds
  "isoinfo": {"rr": {path: sha256}, "joliet": {path: sha256}},  # `isoinfo -R|-J -x` of each requested path
  "isoinfoFind": {"rr": [paths], "joliet": [paths]}  # `isoinfo -R|-J -f` (Joliet shown in ISO-8859-1)
}
One process per image, so a test of hundreds of files pays Python's start-up once.
"""
import hashlib
import io
import json
import subprocess
import sys

import pycdlib


def sha(data):
    return hashlib.sha256(data).hexdigest()


def pycdlib_files(iso, kind):
    out = {}
    for dirpath, _dirs, files in iso.walk(**{kind + '_path': '/'}):
        for name in files:
            path = dirpath.rstrip('/') + '/' + name
            buf = io.BytesIO()
            iso.get_file_from_iso_fp(buf, **{kind + '_path': path})
            out[path] = sha(buf.getvalue())
    return out


def isoinfo_joliet_bytes(path):
    # isoinfo prints and matches Joliet names in ISO-8859-1, with "_" for every UTF-16 unit beyond it.
    units = path.encode('utf-16-be')
    return bytes(units[i + 1] if units[i] == 0 else ord('_') for i in range(0, len(units), 2))


def isoinfo(image, flag, path_bytes):
    return subprocess.run(['isoinfo', flag, '-i', image, '-x', path_bytes], check=True, capture_output=True).stdout


def isoinfo_find(image, flag, encoding):
    out = subprocess.run(['isoinfo', flag, '-f', '-i', image], check=True, capture_output=True).stdout
    return [line.decode(encoding, 'surrogateescape') for line in out.split(b'\n') if line]


def main():
    image = sys.argv[1]
    request = json.load(sys.stdin)
    iso = pycdlib.PyCdlib()
    iso.open(image)
    try:
        report = {
            'pycdlib': {kind: pycdlib_files(iso, kind) for kind in ('rr', 'joliet', 'iso')},
            'isoinfo': {
                'rr': {p: sha(isoinfo(image, '-R', p.encode('utf-8'))) for p in request['rr']},
                'joliet': {p: sha(isoinfo(image, '-J', isoinfo_joliet_bytes(p))) for p in request['joliet']},
            },
            'isoinfoFind': {
                'rr': isoinfo_find(image, '-R', 'utf-8'),
                'joliet': isoinfo_find(image, '-J', 'latin-1'),
            },
        }
    finally:
        iso.close()
    json.dump(report, sys.stdout)


main()
