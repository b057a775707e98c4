/** Long enough to recognise a value in a log line, short enough that a 64 KiB user_data cannot flood it. */
const SHOWN_CHARACTERS = 80;

/**
 * How an error message shows an offending value: as JSON (so "", null and "1" stay distinguishable and
 * control characters and lone surrogates are escaped), cut at SHOWN_CHARACTERS with the full length noted.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  const text = JSON.stringify(value) ?? String(value);
  if (text.length <= SHOWN_CHARACTERS) return text;
  return `${text.slice(0, SHOWN_CHARACTERS)}… (${text.length} characters)`;
}
