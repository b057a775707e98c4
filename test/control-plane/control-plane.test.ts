/**
 * scripts/control-plane brings up a real Nova 26 control plane that answers as one: nova-api lists its
 * conductor and scheduler up (they heartbeat through the conductor over the vhost's RabbitMQ), Glance serves
 * the image it was given, placement answers as an admin, nova-api reaches Neutron (neutron.test.ts tests it).
 */
import { CONTROL_PLANE_START_MS, getJson, openstack, startControlPlane, type ControlPlane } from './control-plane.js';

let plane: ControlPlane;

beforeAll(async () => {
  plane = await startControlPlane();
}, CONTROL_PLANE_START_MS);

test('openstack compute service list shows nova-conductor and nova-scheduler up', async () => {
  const services = (await openstack(plane, 'compute', ['--os-compute-api-version', '2.latest', 'compute', 'service', 'list'])) as {
    Binary: string;
    State: string;
    Status: string;
  }[];
  const byBinary = new Map(services.map((service) => [service.Binary, service]));
  for (const binary of ['nova-conductor', 'nova-scheduler']) {
    expect(byBinary.get(binary)).toMatchObject({ State: 'up', Status: 'enabled' });
  }
});

test('Glance holds the image, active, as Glance itself and the openstack CLI list it', async () => {
  const image = (await getJson(`${plane.glance_url}/v2/images/${plane.image_id}`, plane)) as Record<string, unknown>;
  expect(image).toMatchObject({ status: 'active', disk_format: 'qcow2', container_format: 'bare', virtual_size: 1024 ** 3 });
  const listed = (await openstack(plane, 'image', ['image', 'list'])) as { ID: string; Status: string }[];
  expect(listed).toContainEqual(expect.objectContaining({ ID: plane.image_id, Status: 'active' }));
});

test('placement answers GET /resource_providers for an admin', async () => {
  const body = (await getJson(`${plane.placement_url}/resource_providers`, plane, { 'OpenStack-API-Version': 'placement 1.14' })) as Record<string, unknown>;
  expect(Array.isArray(body['resource_providers'])).toBe(true);
});

test('nova-api reaches Neutron and Glance with the caller\'s token (GET /os-security-groups, GET /images)', async () => {
  // Both proxies are answered by nova-api from Neutron and Glance with the token noauth2 leaves in the context;
  // Neutron makes a project's default group when the project first lists its groups.
  const groups = (await getJson(`${plane.compute_url}/os-security-groups`, plane)) as { security_groups: unknown[] };
  expect(groups.security_groups).toContainEqual(expect.objectContaining({ name: 'default', tenant_id: 'admin' }));
  const images = (await getJson(`${plane.compute_url}/images`, plane)) as { images: { id: string }[] };
  expect(images.images.map((image) => image.id)).toContain(plane.image_id);
});
