/** libvirt's own schema check: `virt-xml-validate FILE domain` (libvirt-clients, with xmllint from libxml2-utils). */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Resolves with virt-xml-validate's output when the XML validates; rejects with it when it does not. */
export async function virtXmlValidate(xml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'virt-xml-validate-'));
  try {
    const file = join(dir, 'domain.xml');
    await writeFile(file, xml);
    const { stdout, stderr } = await execFileAsync('virt-xml-validate', [file, 'domain']);
    return stdout + stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
