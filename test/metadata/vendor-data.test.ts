import { loads } from '../../src/metadata/python-json.js';
import { parseVendorDataFile, VendorDataFileError, vendorData2Json, vendorDataJson } from '../../src/metadata/vendor-data.js';

const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString());

describe('vendor_data.json and vendor_data2.json (StaticJSON)', () => {
  const vendor_data = loads('{"b": 1.0, "a": [1, 2]}');

  test('StaticJSON with a file: the file as is, and under "static"', () => {
    const options = { vendordata_providers: ['StaticJSON'], vendor_data };
    expect(text(vendorDataJson(options))).toBe('{"b": 1.0, "a": [1, 2]}');
    expect(text(vendorData2Json(options))).toBe('{"static": {"b": 1.0, "a": [1, 2]}}');
  });

  test('StaticJSON without a file: {}', () => {
    const options = { vendordata_providers: ['StaticJSON'], vendor_data: null };
    expect(text(vendorDataJson(options))).toBe('{}');
    expect(text(vendorData2Json(options))).toBe('{"static": {}}');
  });

  test('no providers: no vendor_data.json, and an empty vendor_data2.json', () => {
    const options = { vendordata_providers: [], vendor_data };
    expect(vendorDataJson(options)).toBeNull();
    expect(text(vendorData2Json(options))).toBe('{}');
  });

  test('a file that is not JSON names the option and the path', () => {
    expect(() => parseVendorDataFile('/etc/nova/vendor.json', '{"a": }')).toThrow(VendorDataFileError);
    expect(() => parseVendorDataFile('/etc/nova/vendor.json', '{"a": }')).toThrow(
      '[api] vendordata_jsonfile_path "/etc/nova/vendor.json": not JSON: Expecting value at char 6',
    );
  });
});
