/**
 * The daemon's one way to libvirt: the few domain operations a spawn and an instance's later life need, over
 * @unraid/libvirt. Every failure leaves here as a LibvirtFailure subclass (classify-error.ts). When a call
 * finds the connection gone (LibvirtUnavailable), the connection is reopened on the next call; lookups,
 * which change nothing, are retried once on the new connection, and the rest (define, start, shutdown,
 * destroy, undefine) are left to the caller, who knows whether repeating them is safe. A start, shutdown or
 * destroy that finds the domain in the state it wants already has succeeded.
 */
import type { Domain, Hypervisor, NodeInfo } from '@unraid/libvirt';
import { CANONICAL_UUID } from '../nova/validate.js';
import { DomainNotFound } from './errors/domain-not-found.js';
import { InvalidDomainState } from './errors/invalid-domain-state.js';
import { LibvirtUnavailable } from './errors/libvirt-unavailable.js';
import { domainState, type DomainState } from './domain-state.js';
import { LibvirtSession } from './libvirt-session.js';
import { classifyLibvirtError } from './classify-error.js';

export interface DomainIdentity {
  name: string;
  uuid: string;
}

export interface DomainStatus extends DomainIdentity {
  state: DomainState;
}

/** A domain as the resource tracker counts it (listDomains). */
export interface DomainResources extends DomainStatus {
  vcpus: number;
  /** The domain's <memory> (virDomainInfo maxMem), KiB. */
  maxMemoryKiB: number;
  xml: string;
}

type Retry = 'retry-once' | 'no-retry';

/** For error messages: the name and uuid the XML defines, as far as a glance finds them (the XML may be what failed). */
function describeDomainXml(xml: string): string {
  const name = /<name>([^<]*)<\/name>/.exec(xml)?.[1];
  const uuid = /<uuid>([^<]*)<\/uuid>/.exec(xml)?.[1];
  return name === undefined ? 'domain XML without a <name>' : `domain "${name}"${uuid === undefined ? '' : ` (uuid ${uuid})`}`;
}

/**
 * The name and uuid a domain XML opens with, as libvirt will report them, when they can be read off without
 * parsing: a <name> with no white space, entity or character reference and a <uuid> already in libvirt's
 * spelling (renderDomainXml writes both first, like that). null for any other XML: then libvirt is asked.
 */
export function declaredIdentity(xml: string): DomainIdentity | null {
  const opening = /^\s*<domain\b[^>]*>\s*<name>([^<&\s]+)<\/name>\s*<uuid>([^<]*)<\/uuid>/.exec(xml);
  if (opening === null || !CANONICAL_UUID.test(opening[2]!)) return null;
  return { name: opening[1]!, uuid: opening[2]! };
}

/**
 * The binding's workers keep a raw pointer to a Domain's native object, not the object itself: a handle the
 * garbage collector reclaims while a call on it is in flight is freed under that call (the call then reads
 * freed memory: a garbage domain name, or a crash). Every handle is held here until the calls on it are done.
 */
const handlesInUse = new Map<symbol, Domain>();

async function holding<T>(domain: Domain, use: (domain: Domain) => Promise<T>): Promise<T> {
  const hold = Symbol('domain handle in use');
  handlesInUse.set(hold, domain);
  try {
    return await use(domain);
  } finally {
    handlesInUse.delete(hold);
  }
}

/**
 * The handle define() got for a domain, with the session it belongs to: start() uses it instead of looking
 * the domain up again while that session is the open one. Keyed by the identity define() returned, so a
 * handle lives as long as its caller keeps that object.
 */
const definedHandles = new WeakMap<DomainIdentity, { session: LibvirtSession; domain: Domain }>();

export class LibvirtConnection {
  private session: LibvirtSession | null = null;
  private opening: Promise<LibvirtSession> | null = null;

  constructor(readonly uri: string) {}

  /** Opens the connection unless it is open; throws the open's failure (LibvirtUnavailable while libvirtd is down). */
  async ensureConnected(): Promise<void> {
    if (this.session === null) await this.openSession();
  }

  /** The domain with this uuid and its state, null when there is none. */
  async lookupByUuid(uuid: string): Promise<DomainStatus | null> {
    try {
      return await this.call('domainLookupByUUIDString', `uuid ${uuid}`, 'retry-once', async (hypervisor) => {
        const [name, info] = await holding(await hypervisor.domainLookupByUUIDString(uuid), (domain) =>
          Promise.all([hypervisor.domainGetName(domain), hypervisor.domainGetInfo(domain)]),
        );
        return { name, uuid, state: domainState(info.state) };
      });
    } catch (error) {
      if (error instanceof DomainNotFound) return null;
      throw error;
    }
  }

  /**
   * Defines (or, for the same name and uuid, redefines) a persistent domain; does not start it. Its identity
   * is read off the XML when that is certain (declaredIdentity), else asked of libvirt.
   */
  async define(xml: string): Promise<DomainIdentity> {
    return this.call('domainDefineXML', describeDomainXml(xml), 'no-retry', async (hypervisor, session) => {
      const domain = await hypervisor.domainDefineXML(xml);
      const identity =
        declaredIdentity(xml) ??
        (await holding(domain, async () => {
          const [name, uuid] = await Promise.all([hypervisor.domainGetName(domain), hypervisor.domainGetUUIDString(domain)]);
          return { name, uuid };
        }));
      definedHandles.set(identity, { session, domain });
      return identity;
    });
  }

  /**
   * Starts a defined domain: one this connection's define() returned through its handle, any other by name.
   * Succeeds when the domain turns out to be running already (settled()).
   */
  async start(domain: DomainIdentity): Promise<void> {
    const defined = definedHandles.get(domain);
    definedHandles.delete(domain);
    await this.settled(domain.name, 'running', async () => {
      if (defined !== undefined && defined.session === this.session && defined.session.reserve()) {
        const target = `domain "${domain.name}"`;
        await holding(defined.domain, (handle) => this.runReserved(defined.session, 'domainCreate', target, (hypervisor) => hypervisor.domainCreate(handle)));
        return;
      }
      await this.onDomain('domainCreate', domain.name, (hypervisor, handle) => hypervisor.domainCreate(handle));
    });
  }

  /** Pauses the running domain's vCPUs (virDomainSuspend). Succeeds when it turns out to be paused already. */
  async suspend(name: string): Promise<void> {
    await this.settled(name, 'paused', () => this.onDomain('domainSuspend', name, (hypervisor, domain) => hypervisor.domainSuspend(domain)));
  }

  /** Lets a paused domain run on (virDomainResume). Succeeds when it turns out to be running already. */
  async resume(name: string): Promise<void> {
    await this.settled(name, 'running', () => this.onDomain('domainResume', name, (hypervisor, domain) => hypervisor.domainResume(domain)));
  }

  /** Stops the domain at once (power off), keeping its definition. Succeeds when it turns out to be shut off already (settled()). */
  async destroy(name: string): Promise<void> {
    await this.settled(name, 'shutoff', () => this.onDomain('domainDestroy', name, (hypervisor, domain) => hypervisor.domainDestroy(domain)));
  }

  /**
   * Asks the guest to shut itself down (virDomainShutdown: an ACPI power button press) and returns; the guest
   * may take its time, or ignore it. Succeeds when the domain turns out to be shut off already (settled()).
   */
  async shutdown(name: string): Promise<void> {
    await this.settled(name, 'shutoff', () => this.onDomain('domainShutdown', name, (hypervisor, domain) => hypervisor.domainShutdown(domain)));
  }

  /** The id of the running domain (virDomainGetID), a new one at each start; null while it is not running. */
  async domainId(name: string): Promise<number | null> {
    return (await this.read('domainGetID', name, (hypervisor, domain) => hypervisor.domainGetID(domain))) ?? null;
  }

  /**
   * The domain with this uuid gone from libvirt: powered off unless shut off (undefining an active domain,
   * paused say, would only make it transient and leave it running), then undefined. Resolves with the name
   * it had, null when there was none.
   */
  async removeDomain(uuid: string): Promise<string | null> {
    const status = await this.lookupByUuid(uuid);
    if (status === null) return null;
    if (status.state !== 'shutoff') await this.destroy(status.name);
    await this.undefine(status.name);
    return status.name;
  }

  async undefine(name: string): Promise<void> {
    await this.onDomain('domainUndefine', name, (hypervisor, domain) => hypervisor.domainUndefine(domain));
  }

  /** The domain's live XML as libvirt completed it (addresses, controllers, defaults filled in). */
  async getXml(name: string): Promise<string> {
    return this.read('domainGetXMLDesc', name, (hypervisor, domain) => hypervisor.domainGetXMLDesc(domain));
  }

  /** virNodeGetInfo: the host's CPUs, memory (KiB), NUMA cells, as libvirt sees them (the resource tracker's totals). */
  async nodeInfo(): Promise<NodeInfo> {
    return this.call('nodeGetInfo', this.uri, 'retry-once', (hypervisor) => hypervisor.nodeGetInfo());
  }

  /** virConnectGetHostname: Nova's hypervisor_hostname for a libvirt host. */
  async hostname(): Promise<string> {
    return this.call('connectGetHostname', this.uri, 'retry-once', (hypervisor) => hypervisor.connectGetHostname());
  }

  /**
   * The uuid of every domain libvirt has, running or only defined. A domain handle carries its uuid, so this
   * is one call to libvirtd whatever the number of domains (listDomains adds two per domain: info and XML).
   */
  async listUuids(): Promise<string[]> {
    return this.call('connectListAllDomains', this.uri, 'retry-once', async (hypervisor) => {
      const domains = await hypervisor.connectListAllDomains();
      return Promise.all(domains.map((domain) => holding(domain, (handle) => hypervisor.domainGetUUIDString(handle))));
    });
  }

  /**
   * Every domain libvirt has (running or only defined) with what it holds: vCPUs, memory, and its XML (the
   * persistent definition's metadata and disks), for the resource tracker. A domain that goes away while
   * it is read is left out.
   */
  async listDomains(): Promise<DomainResources[]> {
    return this.call('connectListAllDomains', this.uri, 'retry-once', async (hypervisor) => {
      const domains = await hypervisor.connectListAllDomains();
      const read = await Promise.all(
        domains.map((domain) =>
          holding(domain, async (handle) => {
            try {
              const [name, uuid, info, xml] = await Promise.all([
                hypervisor.domainGetName(handle),
                hypervisor.domainGetUUIDString(handle),
                hypervisor.domainGetInfo(handle),
                hypervisor.domainGetXMLDesc(handle),
              ]);
              return { name, uuid, state: domainState(info.state), vcpus: info.nrVirtCpu, maxMemoryKiB: info.maxMem, xml };
            } catch (error) {
              const failure = classifyLibvirtError(error, 'domainGetInfo', 'a listed domain');
              if (failure instanceof DomainNotFound) return null;
              throw failure;
            }
          }),
        ),
      );
      return read.filter((domain): domain is DomainResources => domain !== null);
    });
  }

  /** Closes the connection once the calls on it have returned; a later call opens a new one. */
  async close(): Promise<void> {
    const session = this.session ?? (await this.opening?.catch(() => null)) ?? null;
    this.session = null;
    await session?.retire();
  }

  /**
   * Runs a state change; when libvirt refuses it for the domain's state (InvalidDomainState), reads the state
   * again and takes the one the change wants as its success: someone else got there first. A daemon killed
   * while libvirt starts its guest leaves that start to finish; the redelivered spawn's lookup still sees the
   * domain shut off, and its own start is refused as "already running". Nova's _destroy takes "not running"
   * so too when the domain is shut off. Any other state, or none readable, keeps the refusal.
   */
  private async settled(name: string, wanted: DomainState, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      if (!(error instanceof InvalidDomainState) || (await this.stateOf(name).catch(() => null)) !== wanted) throw error;
    }
  }

  private async stateOf(name: string): Promise<DomainState> {
    return domainState((await this.read('domainGetInfo', name, (hypervisor, domain) => hypervisor.domainGetInfo(domain))).state);
  }

  /** Looks the domain up by name and reads from it; both change nothing, so both are retried once together. */
  private read<T>(operation: string, name: string, reader: (hypervisor: Hypervisor, domain: Domain) => Promise<T>): Promise<T> {
    return this.call(operation, `domain "${name}"`, 'retry-once', async (hypervisor) =>
      holding(await hypervisor.domainLookupByName(name), (domain) => reader(hypervisor, domain)),
    );
  }

  /** Looks the domain up by name (retried once), then acts on it (not retried). */
  private async onDomain(operation: string, name: string, action: (hypervisor: Hypervisor, domain: Domain) => Promise<void>): Promise<void> {
    const target = `domain "${name}"`;
    const found = await this.call('domainLookupByName', target, 'retry-once', (hypervisor) => hypervisor.domainLookupByName(name));
    await holding(found, (domain) => this.call(operation, target, 'no-retry', (hypervisor) => action(hypervisor, domain)));
  }

  private async call<T>(operation: string, target: string, retry: Retry, action: (hypervisor: Hypervisor, session: LibvirtSession) => Promise<T>): Promise<T> {
    const session = await this.reservedSession();
    try {
      return await this.runReserved(session, operation, target, action);
    } catch (error) {
      if (!(error instanceof LibvirtUnavailable) || retry === 'no-retry') throw error;
      return this.runReserved(await this.reservedSession(), operation, target, action);
    }
  }

  /** The call on a session reserved for it; a session the call finds gone is dropped. */
  private async runReserved<T>(session: LibvirtSession, operation: string, target: string, action: (hypervisor: Hypervisor, session: LibvirtSession) => Promise<T>): Promise<T> {
    try {
      return await session.run(operation, target, (hypervisor) => action(hypervisor, session));
    } catch (error) {
      if (error instanceof LibvirtUnavailable) this.drop(session);
      throw error;
    }
  }

  /** The open session (opened if need be; concurrent callers share one open), reserved for one call. */
  private async reservedSession(): Promise<LibvirtSession> {
    for (;;) {
      const session = this.session ?? (await this.openSession());
      if (session.reserve()) return session;
      // close() got to it first: nothing was sent on it, so the call goes to a new one.
      if (this.session === session) this.session = null;
    }
  }

  private openSession(): Promise<LibvirtSession> {
    this.opening ??= LibvirtSession.open(this.uri)
      .then((session) => (this.session = session))
      .finally(() => (this.opening = null));
    return this.opening;
  }

  /** Forgets a broken session (unless a newer one replaced it already), releasing it once idle. */
  private drop(session: LibvirtSession): void {
    if (this.session === session) this.session = null;
    void session.retire();
  }
}
