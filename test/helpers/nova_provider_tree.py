"""Runs Nova's own code on the inputs of our inventory and traits functions and prints what Nova would report:
LibvirtDriver.update_provider_tree (with the host's totals given instead of read from libvirt) and
ResourceTracker._get_traits (with the driver's capabilities given as trait -> supported).

usage: /usr/bin/python3 nova_provider_tree.py < cases.json
  cases.json: {"capability_traits": {TRAIT: bool}, "cases": [{"totals": {vcpus, memory_mb, local_gb},
  "options": {DEFAULT option: value}, "inventory": {...}, "traits": [...], "disabled": bool}]}
prints {"capability_traits": [every trait of CAPABILITY_TRAITS_MAP], "results": [{"inventory", "traits"}]}
"""
# As Nova's services run: the driver deep-copies the provider tree, whose lock only eventlet's can be copied.
import eventlet
eventlet.monkey_patch()

import json  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402
from unittest import mock  # noqa: E402

import nova.conf  # noqa: E402
from nova import objects  # noqa: E402
from nova.compute import provider_tree  # noqa: E402
from nova.compute import resource_tracker  # noqa: E402
from nova.virt import driver  # noqa: E402
from nova.virt.libvirt import driver as libvirt_driver  # noqa: E402

CONF = nova.conf.CONF
objects.register_all()
CONF([], project='nova', default_config_files=[])
NODE = 'node1'
UUID = '00000000-0000-0000-0000-000000000001'


def libvirt_with(totals):
    """A LibvirtDriver whose host facts are the given totals; everything it would read from libvirt else absent."""
    drv = object.__new__(libvirt_driver.LibvirtDriver)
    drv._get_local_gb_info = lambda: {'total': totals['local_gb']}
    drv._host = types.SimpleNamespace(get_memory_mb_total=lambda: totals['memory_mb'])
    drv._get_vcpu_available = lambda: set(range(totals['vcpus']))
    drv._get_pcpu_available = lambda: set()
    drv._get_memory_encrypted_slots = lambda: 0
    for name in ('_update_provider_tree_for_vgpu', '_update_provider_tree_for_pcpu', '_update_provider_tree_for_vpmems'):
        setattr(drv, name, lambda *args, **kwargs: None)
    drv._static_traits = {}
    return drv


def run(case, capability_traits):
    for name, value in case['options'].items():
        CONF.set_override(name, value)
    try:
        tree = provider_tree.ProviderTree()
        tree.new_root(NODE, UUID, generation=0)
        tree.update_inventory(NODE, case['inventory'])
        tree.update_traits(NODE, case['traits'])
        libvirt_with(case['totals']).update_provider_tree(tree, NODE)

        capabilities = {capability: capability_traits[trait] for capability, trait in driver.CAPABILITY_TRAITS_MAP.items()}
        compute_driver = types.SimpleNamespace(capabilities=capabilities)
        compute_driver.capabilities_as_traits = lambda: driver.ComputeDriver.capabilities_as_traits(compute_driver)
        tracker = object.__new__(resource_tracker.ResourceTracker)
        tracker.driver = compute_driver
        tracker.host = 'compute1'
        tracker.pci_tracker = None
        service = types.SimpleNamespace(disabled=case['disabled'])
        with mock.patch('nova.objects.Service.get_by_compute_host', return_value=service):
            traits = tracker._get_traits(None, NODE, tree)
        return {'inventory': tree.data(NODE).inventory, 'traits': sorted(traits)}
    finally:
        for name in case['options']:
            CONF.clear_override(name)


request = json.load(sys.stdin)
print(json.dumps({
    'capability_traits': sorted(driver.CAPABILITY_TRAITS_MAP.values()),
    'results': [run(case, request['capability_traits']) for case in request['cases']],
}))
