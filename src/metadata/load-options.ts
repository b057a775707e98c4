import { readFileSync } from 'node:fs';
import type { NovaConfig } from '../config/schema.js';
import { DEFAULT_METADATA_OPTIONS, validateMetadataOptions, type MetadataOptions } from './options.js';
import { parseVendorDataFile, VendorDataFileError } from './vendor-data.js';

/**
 * The metadata settings from the configuration, read once at start: an unreadable or invalid vendor data
 * file stops the daemon with the option and path named (Nova only logs it and serves {} to every guest).
 */
export function loadMetadataOptions(config: NovaConfig): MetadataOptions {
  const path = config.api.vendordata_jsonfile_path;
  let vendorData = null;
  if (path !== null) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new VendorDataFileError(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message);
    }
    vendorData = parseVendorDataFile(path, text);
  }
  const options: MetadataOptions = {
    ...DEFAULT_METADATA_OPTIONS,
    dhcp_domain: config.api.dhcp_domain,
    config_drive_skip_versions: config.api.config_drive_skip_versions.split(/\s+/).filter((version) => version !== ''),
    vendordata_providers: config.api.vendordata_providers,
    vendor_data: vendorData,
  };
  validateMetadataOptions(options);
  return options;
}
