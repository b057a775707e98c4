/**
 * A config drive's content, independent of the image format: relative POSIX paths
 * ("openstack/latest/meta_data.json") to file bytes. Directories are implied by the paths, so a tree
 * cannot hold an empty directory (Nova's never does).
 */
export type DriveTree = ReadonlyMap<string, Uint8Array>;

export interface FileNode {
  kind: 'file';
  name: string;
  data: Uint8Array;
}

export interface DirectoryNode {
  kind: 'directory';
  /** '' for the root. */
  name: string;
  /** Sorted by name (UTF-16 code unit order), so every writer walks the tree in one deterministic order. */
  children: (FileNode | DirectoryNode)[];
}

export class InvalidDrivePathError extends Error {
  override readonly name = 'InvalidDrivePathError';
  constructor(readonly path: string, reason: string) {
    super(`invalid config drive path ${JSON.stringify(path)}: ${reason}`);
  }
}

function splitPath(path: string): string[] {
  if (path.startsWith('/')) throw new InvalidDrivePathError(path, 'must be relative');
  const parts = path.split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') throw new InvalidDrivePathError(path, `bad component "${part}"`);
    if (part.includes('\0')) throw new InvalidDrivePathError(path, 'contains NUL');
  }
  return parts;
}

/** Turns the flat tree into a sorted hierarchy; a path that is both a file and a directory is an error. */
export function toDirectoryTree(tree: DriveTree): DirectoryNode {
  const root: DirectoryNode = { kind: 'directory', name: '', children: [] };
  const directories = new Map<string, DirectoryNode>([['', root]]);
  const files = new Set<string>();

  for (const [path, data] of tree) {
    const parts = splitPath(path);
    let parent = root;
    let prefix = '';
    for (const part of parts.slice(0, -1)) {
      prefix = prefix ? `${prefix}/${part}` : part;
      if (files.has(prefix)) throw new InvalidDrivePathError(path, `"${prefix}" is a file`);
      let directory = directories.get(prefix);
      if (!directory) {
        directory = { kind: 'directory', name: part, children: [] };
        directories.set(prefix, directory);
        parent.children.push(directory);
      }
      parent = directory;
    }
    if (directories.has(path)) throw new InvalidDrivePathError(path, 'is also a directory');
    files.add(path);
    parent.children.push({ kind: 'file', name: parts[parts.length - 1]!, data });
  }

  for (const directory of directories.values()) {
    directory.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return root;
}
