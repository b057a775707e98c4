/** consoleText against Nova's own _tail_log and decode('ascii', 'replace'), run by Debian's python3-nova. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { consoleText } from '../../src/compute/console-output.js';

const NOVA = fileURLToPath(new URL('../helpers/nova_console_tail.py', import.meta.url));

test("the last lines and the text, as Nova's compute manager gives them", () => {
  const logs = ['', '\n', 'a', 'a\n', 'a\nb', 'a\nb\n', '\n\nx\n\n', 'boot\r\nlogin: \u00e9t\u00e9\n\xff\x00end'].map((text) => Buffer.from(text, 'latin1'));
  logs.push(Buffer.from('line\n'.repeat(50) + 'caf\u00e9', 'utf8'));
  const cases: [Buffer, number | null][] = logs.flatMap((log) => [null, 0, 1, 2, 3, 49, 51, 100].map((length): [Buffer, number | null] => [log, length]));
  const nova = JSON.parse(execFileSync('/usr/bin/python3', [NOVA], { input: JSON.stringify(cases.map(([log, length]) => [log.toString('hex'), length])) }).toString()) as string[];
  expect(cases.map(([log, length]) => consoleText(log, length))).toEqual(nova);
});
