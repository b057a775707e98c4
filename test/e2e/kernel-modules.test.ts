import { insmodOrder, KernelModuleError, moduleName, parseModuleIndex } from './kernel-modules.js';

// Shaped like Debian 12's modules.dep: a module's dependency list is the transitive closure, in no load order.
const MODULES_DEP = `kernel/drivers/scsi/scsi_common.ko:
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/drivers/cdrom/cdrom.ko:
kernel/drivers/scsi/sr_mod.ko.xz: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/cdrom/cdrom.ko
kernel/fs/isofs/isofs.ko: kernel/drivers/cdrom/cdrom.ko
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/ata/pata-acpi.ko:
`;
const MODULES_BUILTIN = 'kernel/drivers/virtio/virtio.ko\nkernel/fs/nls/nls_base.ko\n';
const index = parseModuleIndex(MODULES_DEP, MODULES_BUILTIN);

test('module names drop the directory and any compression suffix, with - folded to _', () => {
  expect(['kernel/fs/isofs/isofs.ko', 'kernel/drivers/scsi/sr_mod.ko.xz', 'a/pata-acpi.ko.zst'].map(moduleName)).toEqual(['isofs', 'sr_mod', 'pata_acpi']);
});

test('every module comes after all of its dependencies, each once', () => {
  expect(insmodOrder(index, ['sr_mod', 'isofs', 'scsi_mod'])).toEqual([
    'kernel/drivers/scsi/scsi_common.ko',
    'kernel/drivers/scsi/scsi_mod.ko',
    'kernel/drivers/cdrom/cdrom.ko',
    'kernel/drivers/scsi/sr_mod.ko.xz',
    'kernel/fs/isofs/isofs.ko',
  ]);
});

test('built-in modules need no insmod; names match with - or _', () => {
  expect(insmodOrder(index, ['virtio', 'nls_base', 'pata_acpi', 'virtio-pci'])).toEqual([
    'kernel/drivers/ata/pata-acpi.ko',
    'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
    'kernel/drivers/virtio/virtio_pci.ko',
  ]);
});

test('a module the kernel does not have is an error naming it', () => {
  expect(() => insmodOrder(index, ['isofs', 'btrfs'])).toThrow(KernelModuleError);
  expect(() => insmodOrder(index, ['btrfs'])).toThrow('kernel module "btrfs": not in modules.dep nor modules.builtin');
  const broken = parseModuleIndex('kernel/fs/vfat.ko: kernel/fs/fat.ko\n', '');
  expect(() => insmodOrder(broken, ['vfat'])).toThrow('kernel module "fat": not in modules.dep nor modules.builtin (needed by vfat)');
});
