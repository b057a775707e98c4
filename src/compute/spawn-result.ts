/** What one spawn did, for the caller's log line, ack and notification. */
export interface SpawnResult {
  uuid: string;
  /** The libvirt domain name (instance-%08x). */
  domain: string;
  /**
   * spawned: defined and started now; resumed: the domain existed but was shut off (a crash between define
   * and start), and was started; already-running: nothing to do, the same spawn was done before.
   */
  outcome: 'spawned' | 'resumed' | 'already-running';
  /** Whether the config drive was written now, already there, or not required. */
  drive: 'created' | 'exists' | 'none';
}
