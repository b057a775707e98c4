/**
 * Characters XML 1.0 cannot carry at all, not even escaped: C0 controls other than tab, newline and carriage
 * return, U+FFFE/U+FFFF, and unpaired surrogates. xmlbuilder throws on them; a display_name is free text
 * from the API, so they become U+FFFD instead of failing the spawn.
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function xmlSafe(text: string): string {
  return text.replace(NOT_XML, '\uFFFD');
}

/** xmlSafe() on every string of an xml2js object tree (text and attribute values; keys are ours). */
export function xmlSafeTree<T>(node: T): T {
  if (typeof node === 'string') return xmlSafe(node) as T;
  if (Array.isArray(node)) return node.map(xmlSafeTree) as T;
  if (typeof node === 'object' && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, xmlSafeTree(value)])) as T;
  }
  return node;
}
