/**
 * get_console_output's answer as Nova's compute manager makes it from the driver's bytes: with a tail length,
 * the last that many lines (_tail_log: split on \n; 0 gives nothing), then decode('ascii', 'replace'): every
 * byte above 0x7f becomes U+FFFD, as the API has always shown it.
 */
export function consoleText(output: Buffer, tailLength: number | null): string {
  const bytes = tailLength === null ? output : tail(output, tailLength);
  let text = '';
  for (const byte of bytes) text += byte < 0x80 ? String.fromCharCode(byte) : '\ufffd';
  return text;
}

function tail(bytes: Buffer, lines: number): Buffer {
  if (lines === 0) return Buffer.alloc(0);
  // The start of the last `lines` lines: just after the lines-th \n from the end, or the whole log.
  let start = bytes.length;
  for (let found = 0; found < lines; found++) {
    start = start === 0 ? -1 : bytes.lastIndexOf(0x0a, start - 1);
    if (start === -1) return bytes;
  }
  return bytes.subarray(start + 1);
}
