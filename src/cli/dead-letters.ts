import { parseArgs } from 'node:util';
import type { Channel, GetMessage } from 'amqplib';
import { BrokerConnection, DEFAULT_RECONNECT, type BrokerSession } from '../bus/broker-connection.js';
import { readBusOptions } from '../bus/bus-options.js';
import { publishConfirmed } from '../bus/confirmed-publish.js';
import { ConnectionLost } from '../bus/connection-lost.js';
import { replayOf, summarize, type DeadLetterSummary } from '../bus/dead-letter.js';
import { DEAD_LETTER_QUEUE } from '../bus/topology.js';
import { getLogger } from '../log.js';
import { configFileOption, loadFromArgs } from './config-options.js';
import { EX_DATAERR, EX_OK } from './exit-codes.js';
import { UsageError } from './usage-error.js';

export const deadLettersHelp = `usage: nova-spawnd dead-letters list [--json] [--config-file FILE]... [--config-dir DIR]...
       nova-spawnd dead-letters replay (--all | ID...) [--config-file FILE]... [--config-dir DIR]...

The messages in the dead-letter queue ${DEAD_LETTER_QUEUE} on [DEFAULT] transport_url (every host's).
list    one line each: ID, when it was rejected, by which host, why, the method and instance it asked for
        (never its body, admin_password or the request's token); --json: one JSON object per line.
replay  publishes the messages named (or all of them) again to where they were first sent (their
        compute queue), as sent, and removes each from the dead-letter queue once the broker has
        confirmed the copy. Exits 65 when a message named is not there or could not be replayed.
The others stay in the queue, in their order.`;

/** How long to try reaching the broker before giving up (the daemon itself retries forever). */
const CONNECT_TIMEOUT_MS = 20_000;

export async function deadLetters(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'list') {
    const { values } = parseArgs({ args: rest, options: { ...configFileOption, json: { type: 'boolean' } }, strict: true });
    return withDeadLetters(rest, async (_session, held) => {
      for (const { summary } of held) process.stdout.write(`${values.json ? JSON.stringify(summary) : line(summary)}\n`);
      if (!values.json) process.stdout.write(`${held.length} message(s) in ${DEAD_LETTER_QUEUE}\n`);
      return EX_OK;
    });
  }
  if (action === 'replay') {
    const { values, positionals } = parseArgs({ args: rest, options: { ...configFileOption, all: { type: 'boolean' } }, strict: true, allowPositionals: true });
    if (!values.all === (positionals.length === 0)) throw new UsageError(`dead-letters replay needs --all or the IDs of the messages to replay, not both\n\n${deadLettersHelp}`);
    return withDeadLetters(rest, (session, held, channel) => replay(session, channel, values.all ? held : held.filter(({ summary }) => positionals.includes(summary.id)), positionals));
  }
  throw new UsageError(`dead-letters needs list or replay\n\n${deadLettersHelp}`);
}

interface Held {
  message: GetMessage;
  summary: DeadLetterSummary;
}

/**
 * Connects with the configuration of `args`, takes every message of the dead-letter queue without acking
 * it, hands them to `work`, then closes: whatever `work` did not ack goes back to the queue, in its order.
 */
async function withDeadLetters(args: string[], work: (session: BrokerSession, held: Held[], channel: Channel) => Promise<number>): Promise<number> {
  const bus = readBusOptions(loadFromArgs(args).config);
  const log = getLogger('nova_spawnd.dead_letters');
  const connection = new BrokerConnection({ ...bus.rpc, reconnect: DEFAULT_RECONNECT, connectTimeoutMs: 10_000, name: `nova-spawnd:${bus.host}:dead-letters`, log, setup: async () => undefined });
  connection.start();
  try {
    let timer: NodeJS.Timeout | undefined;
    const session = await Promise.race([
      connection.connected(),
      new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new ConnectionLost('dead-letters', `could not reach the broker in ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer));
    const channel = await session.model.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.checkQueue(DEAD_LETTER_QUEUE);
    } catch {
      process.stderr.write(`no queue ${DEAD_LETTER_QUEUE} on the broker: nothing was ever dead-lettered there\n`);
      return work(session, [], await session.model.createChannel());
    }
    const held: Held[] = [];
    for (let message = await channel.get(DEAD_LETTER_QUEUE); message !== false; message = await channel.get(DEAD_LETTER_QUEUE)) {
      held.push({ message, summary: summarize(message) });
    }
    try {
      return await work(session, held, channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}

function line(summary: DeadLetterSummary): string {
  const fields: [string, string | number | null][] = [
    ['host', summary.host],
    ['reason', summary.reason],
    ['method', summary.method],
    ['instance', summary.instance],
    ['request', summary.requestId],
    ['attempts', summary.attempts],
    ['to', summary.routingKey],
  ];
  const shown = fields.filter(([, value]) => value !== null).map(([name, value]) => `${name}=${value}`);
  const why = [summary.error, summary.detail].filter((part) => part !== null).join(': ');
  return `${summary.id} ${summary.rejectedAt ?? '-'} ${shown.join(' ')}${why ? ` -- ${why}` : ''}`;
}

async function replay(session: BrokerSession, channel: Channel, chosen: Held[], named: string[]): Promise<number> {
  let failed = 0;
  for (const id of named.filter((wanted) => !chosen.some(({ summary }) => summary.id === wanted))) {
    process.stderr.write(`${id}: no such message in ${DEAD_LETTER_QUEUE}\n`);
    failed++;
  }
  for (const { message, summary } of chosen) {
    const target = replayOf(message);
    if (target === null) {
      process.stderr.write(`${summary.id}: not replayed: its headers do not say where it was sent\n`);
      failed++;
      continue;
    }
    try {
      await publishConfirmed(session.publisher, target.exchange, target.routingKey, message.content, target.properties);
    } catch (error) {
      process.stderr.write(`${summary.id}: not replayed, kept: ${(error as Error).message}\n`);
      failed++;
      continue;
    }
    // Only once the broker has the copy: a crash in between leaves both, never neither.
    channel.ack(message);
    process.stdout.write(`${summary.id}: replayed to ${target.exchange || '(default exchange)'} ${target.routingKey}\n`);
  }
  return failed > 0 ? EX_DATAERR : EX_OK;
}
