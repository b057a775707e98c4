/**
 * Identifiers of the primary (ISO 9660) and Joliet trees. Rock Ridge carries the real names, so these only
 * have to be valid and unique among siblings; they follow genisoimage's `-l -ldots -allow-lowercase
 * -allow-multidot -J` choices where those are valid.
 *
 * - Primary: up to 31 characters of [A-Za-z0-9_.] (anything else becomes "_"); files always carry a "." and,
 *   once written, the version ";1" ("user_data" -> "user_data.;1", "meta-data.json" -> "meta_data.json;1").
 * - Joliet: up to 64 UTF-16 code units, "* / : ; ? \" and control characters become "_", no version.
 * - A name over the limit keeps its extension (if that is at most half the limit) and loses the end of its
 *   stem, as genisoimage does for the primary tree; genisoimage simply cuts Joliet names, losing extensions.
 * - Collisions (after mapping or truncation; case-insensitive in the primary tree, whose readers often fold
 *   case) are settled by "_N" before the extension, N counting from 1. Names that need no change claim their
 *   identifier first, then the others in name order, so the result depends only on the set of names.
 */
import type { DirectoryNode, FileNode } from '../tree.js';

export const PRIMARY_NAME_MAX = 31;
export const JOLIET_NAME_MAX = 64;

type Node = FileNode | DirectoryNode;

/** Cuts to `max` UTF-16 code units without splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** `name` cut to `max` with `suffix` before its extension; see the module comment for which extension is kept. */
function fitName(name: string, max: number, suffix = ''): string {
  if (!suffix && name.length <= max) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= max / 2 ? name.slice(dot) : '';
  const stem = extension ? name.slice(0, dot) : name;
  return truncate(stem, max - extension.length - suffix.length) + suffix + extension;
}

interface NamingRules {
  /** Maps a real name to the characters this tree allows. */
  map(name: string): string;
  /** Fits a mapped name (with an optional collision suffix) into the tree's identifier. */
  fit(mapped: string, node: Node, suffix: string): string;
  /** Two identifiers with the same key collide. */
  key(identifier: string): string;
}

/**
 * One identifier per child, unique by `rules.key`: the shared core of both trees' naming. Children whose
 * identifier is their name (up to the key) claim it first, then the others in name order, so the result
 * depends only on the set of names, not on their order.
 */
function uniqueIdentifiers(children: readonly Node[], rules: NamingRules): string[] {
  const mapped = children.map((child) => rules.map(child.name));
  const candidates = children.map((child, index) => rules.fit(mapped[index]!, child, ''));
  const faithful = children.map((child, index) => rules.key(candidates[index]!) === rules.key(child.name));
  const byName = (a: number, b: number): number => {
    const [x, y] = [children[a]!.name, children[b]!.name];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const order = children.map((_, index) => index).sort((a, b) => Number(faithful[b]) - Number(faithful[a]) || byName(a, b));

  const taken = new Set<string>();
  const identifiers: string[] = new Array<string>(children.length);
  const collided: number[] = [];
  for (const index of order) {
    const key = rules.key(candidates[index]!);
    if (taken.has(key)) {
      collided.push(index);
    } else {
      taken.add(key);
      identifiers[index] = candidates[index]!;
    }
  }
  for (const index of collided) {
    for (let n = 1; ; n++) {
      const candidate = rules.fit(mapped[index]!, children[index]!, `_${n}`);
      const key = rules.key(candidate);
      if (!taken.has(key)) {
        taken.add(key);
        identifiers[index] = candidate;
        break;
      }
    }
  }
  return identifiers;
}

const primaryRules: NamingRules = {
  // One "_" per code point (the u flag keeps a surrogate pair together).
  map: (name) => name.replace(/[^A-Za-z0-9_.]/gu, '_'),
  fit: (mapped, node, suffix) => {
    if (node.kind === 'directory') return fitName(mapped, PRIMARY_NAME_MAX, suffix);
    const withDot = fitName(mapped, PRIMARY_NAME_MAX, suffix);
    // ECMA-119 7.5.1: a file identifier always has the separator, so an extensionless name ends in ".".
    return withDot.includes('.') ? withDot : `${fitName(mapped, PRIMARY_NAME_MAX - 1, suffix)}.`;
  },
  key: (identifier) => identifier.toUpperCase().replace(/\.$/, ''),
};

const JOLIET_FORBIDDEN = /[\u0000-\u001f*/:;?\\]/g;

const jolietRules: NamingRules = {
  map: (name) => name.replace(JOLIET_FORBIDDEN, '_'),
  fit: (mapped, _node, suffix) => fitName(mapped, JOLIET_NAME_MAX, suffix),
  key: (identifier) => identifier,
};

/** Primary-tree identifiers of `children`, without the ";1" that files get when written. */
export function primaryIdentifiers(children: readonly Node[]): string[] {
  return uniqueIdentifiers(children, primaryRules);
}

/** Joliet identifiers of `children` (JavaScript strings; written as UCS-2BE). */
export function jolietIdentifiers(children: readonly Node[]): string[] {
  return uniqueIdentifiers(children, jolietRules);
}
