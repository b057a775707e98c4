/**
 * vendor_data.json and vendor_data2.json (base.py _vendor_data / _vendor_data2) with the StaticJSON
 * provider (vendordata_json.JsonFileVendorData).
 */
import { dumpAsBytes, loads, PythonJsonError, type JsonValue } from './python-json.js';
import type { MetadataOptions } from './options.js';

export class VendorDataFileError extends Error {
  override readonly name = 'VendorDataFileError';
  constructor(readonly path: string, reason: string) {
    super(`[api] vendordata_jsonfile_path ${JSON.stringify(path)}: ${reason}`);
  }
}

/** jsonutils.load() of the file's text, so that its numbers and key order survive as Nova would keep them. */
export function parseVendorDataFile(path: string, text: string): JsonValue {
  try {
    return loads(text);
  } catch (error) {
    if (error instanceof PythonJsonError) throw new VendorDataFileError(path, `not JSON: ${error.message}`);
    throw error;
  }
}

type VendorDataOptions = Pick<MetadataOptions, 'vendordata_providers' | 'vendor_data'>;

function staticVendorData(options: VendorDataOptions): JsonValue {
  // JsonFileVendorData gives {} when no file is configured.
  return options.vendor_data ?? {};
}

/**
 * vendor_data.json: the StaticJSON data, or null when StaticJSON is not enabled (Nova then answers 404 on
 * the metadata service, and fails the whole config drive; we leave the file out instead).
 */
export function vendorDataJson(options: VendorDataOptions): Uint8Array | null {
  return options.vendordata_providers.includes('StaticJSON') ? dumpAsBytes(staticVendorData(options)) : null;
}

/** vendor_data2.json: one key per provider, StaticJSON's is "static". */
export function vendorData2Json(options: VendorDataOptions): Uint8Array {
  const providers = new Map<string, JsonValue>();
  for (const provider of options.vendordata_providers) {
    if (provider === 'StaticJSON') providers.set('static', staticVendorData(options));
  }
  return dumpAsBytes(providers);
}
