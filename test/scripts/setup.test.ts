/**
 * scripts/setup's plan per mode, with the commands that would change the machine (apt-get, the broker,
 * npm) replaced by recorders on PATH: what a compute node gets installed and started, without installing
 * anything here. Everything else in the script runs for real.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const setup = new URL('../../scripts/setup', import.meta.url).pathname;

interface Run {
  status: number | null;
  /** Each recorded command line. */
  commands: string[];
}

function runSetup(args: string[]): Run {
  const bin = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-setup-'));
  const record = join(bin, 'commands.log');
  const brokerUp = join(bin, 'broker-up');
  const recorder = (name: string, body = '') => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${record}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  try {
    // Nothing is installed and no broker runs: the script must do all it would on a fresh machine.
    recorder('dpkg-query', 'exit 1');
    recorder('apt-get');
    recorder('rabbitmq-server', `touch ${brokerUp}`);
    recorder('rabbitmqctl', `test -e ${brokerUp}`);
    recorder('npm');
    const result = spawnSync('bash', [setup, ...args], { env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` }, encoding: 'utf8' });
    let commands: string[] = [];
    try {
      commands = readFileSync(record, 'utf8').trim().split('\n');
    } catch {}
    return { status: result.status, commands };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

const installed = (run: Run): string[] => run.commands.find((line) => line.startsWith('apt-get install'))?.split(' ') ?? [];

test('--compute-node installs and starts no message broker: a compute node uses the cloud\'s', () => {
  const run = runSetup(['--compute-node']);
  expect(run.status).toBe(0);
  expect(installed(run)).toEqual(expect.arrayContaining(['libvirt-dev', 'qemu-utils']));
  expect(installed(run)).not.toContain('rabbitmq-server');
  expect(run.commands.filter((line) => line.startsWith('rabbitmq'))).toEqual([]);
  expect(run.commands).toContain('npm run -s build');
});

test('the embedded default (README command 1) installs and starts a local RabbitMQ', () => {
  const run = runSetup([]);
  expect(run.status).toBe(0);
  expect(installed(run)).toContain('rabbitmq-server');
  expect(run.commands).toContain('rabbitmq-server -detached');
});

test('an unknown mode is a usage error that changes nothing', () => {
  const run = runSetup(['--compute']);
  expect(run.status).toBe(64);
  expect(run.commands).toEqual([]);
});
