/**
 * oslo.messaging's version_is_compatible (oslo_messaging/_utils.py): a MAJOR.MINOR[.REV] that `requested`
 * names can be served by an implementation of `implemented` when the majors are equal and the requested
 * minor (and, on an equal minor, revision) is not newer. A version that is not dotted integers is never
 * compatible (oslo's int() would raise).
 */
export function versionIsCompatible(implemented: string, requested: string): boolean {
  const want = parseVersion(requested);
  const have = parseVersion(implemented);
  if (!want || !have) return false;
  if (want[0] !== have[0]) return false;
  if (want[1] !== have[1]) return want[1] < have[1];
  return want[2] <= have[2];
}

/** [major, minor, revision]; null unless the text is two or three dot-separated integers. */
export function parseVersion(text: string): [number, number, number] | null {
  if (!/^\d+\.\d+(\.\d+)?$/.test(text)) return null;
  const [major, minor, revision = 0] = text.split('.').map(Number);
  return [major!, minor!, revision];
}
