/**
 * Where formatted records go, as oslo.log's handlers: a stream (stderr), a watched file (log_file), the
 * journal (use_journal). Logging never stops the daemon: a handler that fails writes to stderr instead.
 */
import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { errorTraceback, type LogRecord } from './record.js';
import { encodeJournalEntry, journalFields, syslogPriority } from './journal-entry.js';

export interface Handler {
  emit(record: LogRecord, text: string): void;
  close(): void;
}

/**
 * True when `fd` is a stream systemd connected to the journal: $JOURNAL_STREAM names its device and inode
 * (systemd.exec(5)). Compared, not just present: a child the daemon runs may inherit the variable with other fds.
 */
export function connectedToJournal(fd: number, journalStream = process.env['JOURNAL_STREAM']): boolean {
  const match = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  if (!match) return false;
  try {
    const stat = fstatSync(fd, { bigint: true });
    return stat.dev === BigInt(match[1]!) && stat.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/** `<N>` before every line, so that journald files each at the record's syslog priority (sd-daemon(3)). */
export function withPriorityPrefix(text: string, levelno: number): string {
  const prefix = `<${syslogPriority(levelno)}>`;
  return prefix + text.replace(/\n/g, `\n${prefix}`);
}

/** logging.StreamHandler on stderr; under systemd's journal, each line with its priority prefix. */
export class StderrHandler implements Handler {
  private readonly prefixed = connectedToJournal(2);

  emit(record: LogRecord, text: string): void {
    process.stderr.write(`${this.prefixed ? withPriorityPrefix(text, record.levelno) : text}\n`);
  }

  close(): void {}
}

/** Lines to a function, for tests that read what an operator would. */
export class SinkHandler implements Handler {
  constructor(private readonly write: (line: string) => void) {}

  emit(_record: LogRecord, text: string): void {
    this.write(`${text}\n`);
  }

  close(): void {}
}

/**
 * logging.handlers.WatchedFileHandler, oslo.log's handler for log_file: before each record the path is
 * checked, and a file that logrotate moved or removed is reopened, so rotation needs no signal and no
 * copytruncate. SIGHUP also reopens it (the daemon reconfigures logging).
 */
export class WatchedFileHandler implements Handler {
  private fd: number;
  private dev = 0;
  private ino = 0;

  constructor(readonly path: string) {
    this.fd = this.open();
  }

  private open(): number {
    const fd = openSync(this.path, 'a', 0o644);
    const stat = fstatSync(fd);
    this.dev = stat.dev;
    this.ino = stat.ino;
    return fd;
  }

  emit(_record: LogRecord, text: string): void {
    const stat = statSync(this.path, { throwIfNoEntry: false });
    if (!stat || stat.dev !== this.dev || stat.ino !== this.ino) {
      closeSync(this.fd);
      this.fd = this.open();
    }
    writeSync(this.fd, `${text}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Sends one datagram: the journal socket, as the systemd module connects it. */
export interface DatagramSender {
  send(datagram: Buffer): void;
  close(): void;
}

/** oslo.log's OSJournalHandler: the record's fields in journald's native protocol. */
export class JournalHandler implements Handler {
  constructor(
    private readonly socket: DatagramSender,
    private readonly identifier: string,
  ) {}

  emit(record: LogRecord, text: string): void {
    const traceback = record.error === undefined ? null : errorTraceback(record.error);
    this.socket.send(encodeJournalEntry(journalFields(record, text, this.identifier, traceback)));
  }

  close(): void {
    this.socket.close();
  }
}
