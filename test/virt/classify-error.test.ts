import { classifyLibvirtError } from '../../src/virt/classify-error.js';
import { DomainExists } from '../../src/virt/errors/domain-exists.js';
import { StorageMissing } from '../../src/virt/errors/storage-missing.js';
import { ERROR_SAMPLES, LIBRARY_SAMPLES } from './error-samples.js';

/** What the binding throws: an Error subclass with the message and code -1. */
function bindingError(message: string): Error {
  return Object.assign(new Error(message), { name: 'LibvirtError', code: -1, domain: -1 });
}

describe.each([
  ['provoked', ERROR_SAMPLES],
  ['from libvirt.so', LIBRARY_SAMPLES],
])('libvirt messages (%s)', (_kind, samples) => {
  test.each(samples.map((sample) => [`${sample.where}: ${sample.provoked}`, sample] as const))('%s', (_label, sample) => {
    const failure = classifyLibvirtError(bindingError(sample.message), 'domainCreate', 'domain "instance-0000002a"');
    expect(failure.name).toBe(sample.expected);
    expect(failure.transient).toBe(sample.expected === 'LibvirtUnavailable');
    expect(failure.libvirtMessage).toBe(sample.message);
    expect(failure.message).toBe(`libvirt domainCreate on domain "instance-0000002a" failed: ${sample.message}`);
    if (sample.path !== undefined) expect((failure as StorageMissing).path).toBe(sample.path);
  });
});

test('DomainExists names the domain that holds the name or uuid', () => {
  const failure = classifyLibvirtError(
    bindingError("operation failed: domain 'instance-0000002a' is already defined with uuid 6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"),
    'domainDefineXML',
    'a new domain',
  ) as DomainExists;
  expect([failure.existingName, failure.existingUuid]).toEqual(['instance-0000002a', '6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b']);
});

test('a rejection that is not an Error is classified by its text', () => {
  expect(classifyLibvirtError('Domain not found', 'domainLookupByName', 'domain "x"').name).toBe('DomainNotFound');
});
