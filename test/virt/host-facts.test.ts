/** Architectures and the host probe against Nova's own (nova.objects.fields.Architecture, supports_direct_io). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalizeArchitecture } from '../../src/virt/arch.js';
import { probeHost } from '../../src/virt/host-facts.js';
import { runPython } from '../metadata/python.js';

const NOVA = `
import json, sys
from nova import exception
from nova.objects import fields
from nova.privsep import utils
request = json.load(sys.stdin)
def canonical(name):
    try:
        return fields.Architecture.canonicalize(name)
    except exception.InvalidArchitectureName:
        return None
json.dump({
    'canonical': [canonical(name) for name in request['names']],
    'host': {'arch': fields.Architecture.from_host(), 'directIo': utils.supports_direct_io(request['dir'])},
}, sys.stdout)
`;

const SPELLINGS = ['x86_64', 'X86_64', 'amd64', 'AMD64', 'i386', 'i486', 'i586', 'i686', 'x86_32', 'x86_32p', 'aarch64', 'arm64', 'armv7l', 'ppc64le', 'PPC64', 's390x', 'mips64el', 'sparc', 'vax', 'x86-64', ''];

test('same canonical names, same host facts as Nova', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'host-facts-'));
  try {
    const nova = JSON.parse(await runPython(['-c', NOVA], { names: SPELLINGS, dir })) as { canonical: (string | null)[]; host: unknown };
    expect(SPELLINGS.map(canonicalizeArchitecture)).toEqual(nova.canonical);
    expect(nova.canonical.filter((name) => name === null)).toHaveLength(4);
    await expect(probeHost(dir)).resolves.toEqual(nova.host);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
