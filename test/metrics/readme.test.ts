/** The README's "Metrics and health": its scrape job and alerts pass promtool, its table names every metric. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PrometheusMetrics } from '../../src/metrics/prometheus.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### Metrics and health'), readme.indexOf('\n## ', readme.indexOf('### Metrics and health')));
const yamlBlocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);

test('the section has a scrape job and alerting rules', () => {
  expect(section.length).toBeGreaterThan(100);
  expect(yamlBlocks).toHaveLength(2);
});

test('promtool accepts the scrape job as a configuration and the alerts as rules', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-promtool-'));
  try {
    writeFileSync(join(dir, 'prometheus.yml'), yamlBlocks[0]!);
    writeFileSync(join(dir, 'rules.yml'), yamlBlocks[1]!);
    expect(execFileSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')]).toString()).toMatch(/SUCCESS/);
    expect(execFileSync('promtool', ['check', 'rules', join(dir, 'rules.yml')]).toString()).toMatch(/SUCCESS: 5 rules found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every nova_spawnd_ metric is in the table, and the table names no other', async () => {
  const registered = (await new PrometheusMetrics({ version: '0', controlPlane: true }).registry.getMetricsAsJSON()).map((metric) => metric.name).filter((name) => name.startsWith('nova_spawnd_'));
  const table = section.split('\n').filter((line) => line.startsWith('| `'));
  const documented = table.flatMap((line) => [...line.split(' | ')[0]!.matchAll(/`(nova_spawnd_[a-z_]+)/g)].map((match) => match[1]!));
  expect([...documented].sort()).toEqual([...registered].sort());
});
