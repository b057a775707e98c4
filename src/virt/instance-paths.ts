/** Files of an instance in its directory, `$instances_path/<uuid>/` (libvirt_utils.get_instance_path). */
import { join } from 'node:path';

export function instanceDir(instancesPath: string, uuid: string): string {
  return join(instancesPath, uuid);
}

export function configDrivePath(instancesPath: string, uuid: string): string {
  return join(instanceDir(instancesPath, uuid), 'disk.config');
}

export function consoleLogPath(instancesPath: string, uuid: string): string {
  return join(instanceDir(instancesPath, uuid), 'console.log');
}
