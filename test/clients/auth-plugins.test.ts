import { authPlugin, tokensUrl } from '../../src/clients/auth-plugins.js';
import { describeFilter, selectEndpoint, type ServiceCatalog } from '../../src/clients/catalog.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load.js';
import type { KsaAuthOptions } from '../../src/config/schema.js';

const unset = loadConfig([]).config.placement;

function auth(options: Partial<KsaAuthOptions>): ReturnType<typeof authPlugin> {
  return authPlugin('placement', { ...unset, ...options });
}

function problems(options: Partial<KsaAuthOptions>): { option: string; reason: string }[] {
  try {
    auth(options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(({ option, reason }) => ({ option, reason }));
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('auth plugins from a section', () => {
  test('no auth_type: no credentials', () => {
    expect(auth({})).toBeNull();
  });

  test.each([
    ['http://keystone:5000', 'http://keystone:5000/v3/auth/tokens'],
    ['http://keystone:5000/', 'http://keystone:5000/v3/auth/tokens'],
    ['https://cloud/identity/v3', 'https://cloud/identity/v3/auth/tokens'],
    ['https://cloud/identity/v3/', 'https://cloud/identity/v3/auth/tokens'],
  ])('auth_url %s: tokens from %s', (authUrl, url) => {
    expect(tokensUrl(authUrl)).toBe(url);
  });

  test('password: user and project by name in domains given by name or id; ids win over names', () => {
    const byName = auth({
      auth_type: 'password',
      auth_url: 'http://k:5000/v3',
      username: 'nova',
      user_domain_name: 'Default',
      password: 'p',
      project_name: 'service',
      project_domain_id: 'default',
    });
    expect(byName).toEqual({
      kind: 'password',
      tokensUrl: 'http://k:5000/v3/auth/tokens',
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'nova', domain: { name: 'Default' }, password: 'p' } } },
          scope: { project: { name: 'service', domain: { id: 'default' } } },
        },
      },
    });
    const byId = auth({ auth_type: 'v3password', auth_url: 'http://k:5000', user_id: 'u1', username: 'nova', password: 'p', project_id: 'p1' });
    expect(byId).toMatchObject({ body: { auth: { identity: { password: { user: { id: 'u1', password: 'p' } } }, scope: { project: { id: 'p1' } } } } });
  });

  test('password with options missing: one problem per option, none showing a value', () => {
    expect(problems({ auth_type: 'password', username: 'nova', project_name: 'service' }).map((p) => p.option)).toEqual([
      'auth_url',
      'password',
      'username',
      'project_name',
    ]);
  });

  test('admin_token needs endpoint and token', () => {
    expect(auth({ auth_type: 'admin_token', endpoint: 'http://placement:8778', token: 't' })).toEqual({
      kind: 'admin_token',
      endpoint: 'http://placement:8778',
      token: 't',
    });
    expect(problems({ auth_type: 'admin_token' }).map((p) => p.option)).toEqual(['endpoint', 'token']);
  });
});

describe('endpoint selection from the catalog', () => {
  const catalog: ServiceCatalog = [
    {
      type: 'placement',
      name: 'placement',
      endpoints: [
        { interface: 'public', region_id: 'RegionOne', url: 'https://public-one/placement' },
        { interface: 'internal', region_id: 'RegionTwo', url: 'http://internal-two:8778' },
        { interface: 'public', region_id: 'RegionTwo', url: 'https://public-two/placement' },
      ],
    },
    { type: 'image', name: 'glance', endpoints: [{ interface: 'internal', region_id: 'RegionOne', url: 'http://glance:9292' }] },
    { type: 'image', name: 'other-glance', endpoints: [{ interface: 'internal', region_id: 'RegionOne', url: 'http://other:9292' }] },
  ];
  const filter = { service_type: 'placement', service_name: null, valid_interfaces: ['internal', 'public'], region_name: null };

  test.each([
    ['internal first, any region', filter, 'http://internal-two:8778'],
    ['internal missing in the region: public', { ...filter, region_name: 'RegionOne' }, 'https://public-one/placement'],
    ['public only', { ...filter, valid_interfaces: ['public'], region_name: 'RegionTwo' }, 'https://public-two/placement'],
    ['by service name', { ...filter, service_type: 'image', service_name: 'other-glance' }, 'http://other:9292'],
    ['no such interface', { ...filter, valid_interfaces: ['admin'] }, null],
    ['no such type', { ...filter, service_type: 'network' }, null],
  ])('%s', (_name, wanted, url) => {
    expect(selectEndpoint(catalog, wanted)).toBe(url);
  });

  test('the filter described for an error', () => {
    expect(describeFilter({ ...filter, service_name: 'placement', region_name: 'RegionOne' })).toBe(
      'service_type placement, service_name placement, interfaces internal,public, region RegionOne',
    );
  });
});
