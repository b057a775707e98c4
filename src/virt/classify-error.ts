/**
 * The binding's LibvirtError carries only libvirt's message (its code and domain are always -1), so the
 * failure is classified by the message: libvirt prefixes each with its error code's description ("XML
 * error: ", "Domain not found: ", "operation failed: ", ...) and the connection errors come from a handful
 * of fixed texts in its RPC layer. The samples these rules are tested on were provoked on test:///default,
 * a real libvirtd (qemu:///system) and a libvirtd killed under a live connection (test/virt/error-samples.ts).
 */
import { DomainExists } from './errors/domain-exists.js';
import { DomainNotFound } from './errors/domain-not-found.js';
import { InvalidDomainConfig } from './errors/invalid-domain-config.js';
import { InvalidDomainState } from './errors/invalid-domain-state.js';
import type { LibvirtFailure } from './errors/libvirt-failure.js';
import { LibvirtOperationFailed } from './errors/libvirt-operation-failed.js';
import { LibvirtUnavailable } from './errors/libvirt-unavailable.js';
import { StorageMissing } from './errors/storage-missing.js';

type Classify = (operation: string, target: string, message: string) => LibvirtFailure;

const simple =
  (Failure: new (operation: string, target: string, message: string) => LibvirtFailure): Classify =>
  (operation, target, message) =>
    new Failure(operation, target, message);

/** The file is the first capture group of the pattern that matched. */
const storage =
  (pattern: RegExp): Classify =>
  (operation, target, message) =>
    new StorageMissing(operation, target, message, pattern.exec(message)?.[1] ?? null);

const STORAGE_PATTERNS = [
  // virStorageSource access check before QEMU starts (disk, cdrom): "Cannot access storage file '/x': No such file or directory"
  /^Cannot access storage file '([^']*)'/,
  // a kernel or initrd for direct boot: "unable to stat: /x: No such file or directory"
  /^unable to stat: (.*?): /,
  // the serial log file's directory: "Unable to open file: /x/console.log: No such file or directory"
  /^Unable to open file: (.*?): /,
  // QEMU itself, reported through "internal error: qemu unexpectedly closed the monitor: ...": "Could not open '/x': Permission denied"
  /Could not open '([^']*)': (?:No such file or directory|Permission denied)/,
];

/** First match wins: connection errors first, since some of them are also "internal error"s. */
const RULES: readonly (readonly [RegExp, Classify])[] = [
  [
    /^(?:Cannot write data|Cannot recv data|End of file while reading data|Failed to connect socket|unable to connect to server|internal error: client socket is closed|internal error: connection closed due to keepalive timeout)/,
    simple(LibvirtUnavailable),
  ],
  [/^Domain not found/, simple(DomainNotFound)],
  [/already exists with uuid|is already defined with uuid/, simple(DomainExists)],
  ...STORAGE_PATTERNS.map((pattern) => [pattern, storage(pattern)] as const),
  [/^(?:XML error|XML document failed to validate|unsupported configuration|\(domain_definition\))/, simple(InvalidDomainConfig)],
  [/is already running|domain is not running|domain '[^']*' not running|domain is already active|domain is not paused|domain is already paused/i, simple(InvalidDomainState)],
];

function libvirtMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : String(error);
}

/** Any failure of a libvirt call -> the typed error the rest of the daemon handles. */
export function classifyLibvirtError(error: unknown, operation: string, target: string): LibvirtFailure {
  const message = libvirtMessage(error);
  const rule = RULES.find(([pattern]) => pattern.test(message));
  return (rule?.[1] ?? simple(LibvirtOperationFailed))(operation, target, message);
}
