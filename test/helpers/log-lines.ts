/**
 * Reading nova-spawnd's log lines as an operator's tools would: oslo.log's format,
 *   <local date> <time>.<ms> <pid> <LEVEL> <logger> [<request context> or -] [instance: <uuid>] <message> key=value...
 */

/** What marks a line about an instance (oslo's instance_uuid_format). */
export function instanceMark(uuid: string): string {
  return `[instance: ${uuid}] `;
}

/** Whether a line is about the instance. */
export function isAbout(line: string, uuid: string): boolean {
  return line.includes(instanceMark(uuid));
}

/** The line's time in ms since the epoch: oslo prints local time without an offset, as Date reads it. */
export function logTime(line: string): number {
  return new Date(line.slice(0, 23).replace(' ', 'T')).getTime();
}
