import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerPortRequests } from '../src/context/docker-ports';
import type { DockerNetwork } from '../src/context/host-context';
import { unpublishedPort } from '../src/diagnose/unpublished-port';
import { makeContext } from './context-fixtures';

/** GET /containers/ID/json answers (the fields read), as Docker 20.10 gives them for -p 8080:80 on bridge and -p 8082:80 on an --internal network. */
const INSPECTED = JSON.stringify([
  {
    Name: '/web',
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } },
    NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] }, Networks: { bridge: {} } },
  },
  {
    Name: '/app',
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8082' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    NetworkSettings: { Ports: {}, Networks: { backend: {} } },
  },
  { Name: '/plain', HostConfig: { PortBindings: {} }, NetworkSettings: { Ports: {}, Networks: { bridge: {} } } },
  // Docker keeps -p of a container in another namespace, or restarting, but publishes nothing for it; a host port range is not read.
  { Name: '/hostnet', HostConfig: { NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8083' }] } }, NetworkSettings: { Ports: {}, Networks: { host: {} } } },
  { Name: '/again', State: { Restarting: true }, HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8084' }] } }, NetworkSettings: { Ports: {}, Networks: { bridge: {} } } },
  { Name: '/range', HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '9000-9010' }] } }, NetworkSettings: { Ports: {}, Networks: { bridge: {} } } },
]);

test('port requests: what each container asked for, whether Docker published it, and its networks', () => {
  assert.deepEqual(parseDockerPortRequests(INSPECTED), [
    { container: 'web', containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8080, published: true, networks: ['bridge'] },
    { container: 'app', containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8082, published: false, networks: ['backend'] },
    { container: 'app', containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 0, published: false, networks: ['backend'] },
  ]);
  assert.deepEqual(parseDockerPortRequests('[]'), []);
});

const network = (name: string, internal: boolean): DockerNetwork => ({ id: name, name, driver: 'bridge', scope: 'local', subnets: [], gateways: [], bridge: null, ingress: false, internal });

test('an unpublished TCP request for the SYN\'s port: on internal networks only, with a network to connect it to', () => {
  const ctx = makeContext({ dockerNetworks: [network('bridge', false), network('backend', true)], dockerPorts: parseDockerPortRequests(INSPECTED) });
  const u = unpublishedPort(ctx, '192.0.2.1', 8082);
  assert.deepEqual([u?.request.container, u?.internal.map((n) => n.name), u?.outside], ['app', ['backend'], 'bridge']);
  assert.equal(unpublishedPort(ctx, '192.0.2.1', 8080), null, 'published');
  assert.equal(unpublishedPort(ctx, '192.0.2.1', 53), null, 'a UDP request says nothing of a TCP SYN');
  const onBoth = makeContext({ dockerNetworks: [network('bridge', false), network('backend', true)], dockerPorts: parseDockerPortRequests(INSPECTED).map((p) => ({ ...p, networks: ['backend', 'bridge'] })) });
  assert.deepEqual(unpublishedPort(onBoth, '192.0.2.1', 8082)?.internal, [], 'not internal only: Docker failed to publish it for another reason');
  assert.equal(unpublishedPort(makeContext({}), '192.0.2.1', 8082), null, 'an older snapshot without dockerPorts');
  const v6only = makeContext({ dockerNetworks: [network('backend', true)], dockerPorts: parseDockerPortRequests(INSPECTED).map((p) => ({ ...p, hostIp: '::' })) });
  assert.equal(unpublishedPort(v6only, '192.0.2.1', 8082), null, ':: is every IPv6 address, not an IPv4 one');
  assert.equal(unpublishedPort(v6only, '2001:db8::1', 8082)?.request.container, 'app');
});
