/**
 * The compute node's traits, as Nova's resource tracker syncs them (_get_traits): each capability trait of
 * nova/virt/driver.py CAPABILITY_TRAITS_MAP added when the driver supports it and removed when not, COMPUTE_NODE
 * always, COMPUTE_STATUS_DISABLED while the service is disabled; any other trait (an operator's) kept.
 */

/**
 * Every trait of Nova 26's CAPABILITY_TRAITS_MAP, and whether nova-spawnd really does it. Only the image types
 * it boots: qcow2 and raw (src/virt/imagecache, image-inspection's usable formats). No attach or detach of
 * interfaces or volumes, no device tags written from the request, no trusted certificates, no rescue.
 */
export const CAPABILITY_TRAITS: Readonly<Record<string, boolean>> = {
  COMPUTE_NET_ATTACH_INTERFACE: false,
  COMPUTE_DEVICE_TAGGING: false,
  COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG: false,
  COMPUTE_VOLUME_ATTACH_WITH_TAG: false,
  COMPUTE_VOLUME_EXTEND: false,
  COMPUTE_VOLUME_MULTI_ATTACH: false,
  COMPUTE_TRUSTED_CERTS: false,
  COMPUTE_ACCELERATORS: false,
  COMPUTE_IMAGE_TYPE_AKI: false,
  COMPUTE_IMAGE_TYPE_AMI: false,
  COMPUTE_IMAGE_TYPE_ARI: false,
  COMPUTE_IMAGE_TYPE_ISO: false,
  COMPUTE_IMAGE_TYPE_QCOW2: true,
  COMPUTE_IMAGE_TYPE_RAW: true,
  COMPUTE_IMAGE_TYPE_VDI: false,
  COMPUTE_IMAGE_TYPE_VHD: false,
  COMPUTE_IMAGE_TYPE_VHDX: false,
  COMPUTE_IMAGE_TYPE_VMDK: false,
  COMPUTE_IMAGE_TYPE_PLOOP: false,
  COMPUTE_SAME_HOST_COLD_MIGRATE: false,
  COMPUTE_RESCUE_BFV: false,
  COMPUTE_SECURITY_UEFI_SECURE_BOOT: false,
  COMPUTE_SOCKET_PCI_NUMA_AFFINITY: false,
  COMPUTE_REMOTE_MANAGED_PORTS: false,
  COMPUTE_EPHEMERAL_ENCRYPTION: false,
  COMPUTE_EPHEMERAL_ENCRYPTION_LUKS: false,
  COMPUTE_EPHEMERAL_ENCRYPTION_PLAIN: false,
};

/** The provider's traits to set, from what placement has now. */
export function computeNodeTraits(current: readonly string[], serviceDisabled: boolean): string[] {
  const traits = new Set(current);
  for (const [trait, supported] of Object.entries(CAPABILITY_TRAITS)) {
    if (supported) traits.add(trait);
    else traits.delete(trait);
  }
  traits.add('COMPUTE_NODE');
  if (serviceDisabled) traits.add('COMPUTE_STATUS_DISABLED');
  else traits.delete('COMPUTE_STATUS_DISABLED');
  return [...traits].sort();
}
