import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compressionOf, decompress } from './decompress.js';

export class KernelModuleError extends Error {
  override readonly name = 'KernelModuleError';
  constructor(readonly module: string, reason: string) {
    super(`kernel module ${JSON.stringify(module)}: ${reason}`);
  }
}

/** A module to insmod: its name and its uncompressed .ko bytes. */
export interface LoadableModule {
  name: string;
  ko: Buffer;
}

/** "kernel/fs/isofs/isofs.ko.xz" -> "isofs". Names are compared with '-' folded to '_', as modprobe does. */
export function moduleName(path: string): string {
  const file = path.slice(path.lastIndexOf('/') + 1);
  return file.replace(/\.ko(\.\w+)?$/, '').replaceAll('-', '_');
}

interface ModuleIndex {
  /** name -> path relative to /lib/modules/<kver>, and that module's dependencies (paths). */
  readonly modules: ReadonlyMap<string, { path: string; dependencies: readonly string[] }>;
  readonly builtin: ReadonlySet<string>;
}

export function parseModuleIndex(modulesDep: string, modulesBuiltin: string): ModuleIndex {
  const modules = new Map<string, { path: string; dependencies: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon);
    modules.set(moduleName(path), { path, dependencies: line.slice(colon + 1).trim().split(/\s+/).filter(Boolean) });
  }
  const builtin = new Set(modulesBuiltin.split('\n').filter(Boolean).map(moduleName));
  return { modules, builtin };
}

/**
 * The .ko paths to insmod, in an order where each module comes after everything it depends on (modules.dep's
 * own lists are unordered for this purpose, so this walks them depth-first). Built-in modules need nothing.
 */
export function insmodOrder(index: ModuleIndex, wanted: readonly string[]): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string, neededBy: string | undefined): void => {
    if (order.some((path) => moduleName(path) === name) || index.builtin.has(name)) return;
    const module = index.modules.get(name);
    if (!module) {
      throw new KernelModuleError(name, `not in modules.dep nor modules.builtin${neededBy ? ` (needed by ${neededBy})` : ''}`);
    }
    if (visiting.has(name)) throw new KernelModuleError(name, 'circular dependency in modules.dep');
    visiting.add(name);
    for (const dependency of module.dependencies) visit(moduleName(dependency), name);
    visiting.delete(name);
    order.push(module.path);
  };
  for (const name of wanted) visit(name.replaceAll('-', '_'), undefined);
  return order;
}

/** Reads `wanted` and their dependencies from /lib/modules/<kernelVersion>, decompressed, in insmod order. */
export async function loadModules(kernelVersion: string, wanted: readonly string[]): Promise<LoadableModule[]> {
  const root = join('/lib/modules', kernelVersion);
  const index = parseModuleIndex(
    await readFile(join(root, 'modules.dep'), 'utf8'),
    await readFile(join(root, 'modules.builtin'), 'utf8'),
  );
  return Promise.all(
    insmodOrder(index, wanted).map(async (path) => {
      const bytes = await readFile(join(root, path));
      const compression = compressionOf(bytes);
      return { name: moduleName(path), ko: compression ? await decompress(bytes, compression) : bytes };
    }),
  );
}
