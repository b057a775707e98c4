/**
 * The request path as Nova's handler sees it: WSGI's PATH_INFO (the target without its query, its
 * percent-escapes decoded as UTF-8) put through Python's posixpath.normpath, which base.lookup() and the
 * handler's root check both apply. Nothing here touches the file system: every document is in memory, so
 * a "../" can only ever name another document of the same instance.
 */

const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** urllib's unquote for PATH_INFO: malformed escapes stay as they are; null when the bytes are not UTF-8. */
function unquote(text: string): string | null {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  let last = 0;
  for (const match of text.matchAll(ESCAPE)) {
    bytes.push(...Buffer.from(text.slice(last, match.index), 'utf8'), parseInt(match[1]!, 16));
    last = match.index + match[0].length;
  }
  bytes.push(...Buffer.from(text.slice(last), 'utf8'));
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** Python's posixpath.normpath, quirks included: exactly two leading slashes are kept ("//x" stays "//x"). */
export function normpath(path: string): string {
  if (path === '') return '.';
  const leading = path.startsWith('//') && !path.startsWith('///') ? 2 : path.startsWith('/') ? 1 : 0;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (leading === 0 && parts.length === 0) || parts[parts.length - 1] === '..') parts.push(part);
    else if (parts.length > 0) parts.pop();
  }
  return '/'.repeat(leading) + parts.join('/') || '.';
}

/**
 * The normalised path of a request target (`/openstack/latest/meta_data.json?x` -> `/openstack/latest/meta_data.json`),
 * or null when it names nothing we could serve: not origin-form (`*`, `http://host/...`) or not UTF-8.
 */
export function requestPath(target: string): string | null {
  if (!target.startsWith('/')) return null;
  const query = target.indexOf('?');
  const decoded = unquote(query === -1 ? target : target.slice(0, query));
  return decoded === null ? null : normpath(decoded);
}
