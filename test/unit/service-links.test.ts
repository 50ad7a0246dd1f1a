import { describe, expect, it } from 'vitest';
import { envNameFor, readEnvOverrides } from '../../src/config/env.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { propertyPaths } from '../../src/config/schema-walk.js';
import { isServiceLinkVariable } from '../../src/config/service-links.js';
import { KUBERNETES_SERVICE_LOGWHARF } from '../helpers/kubernetes-env.js';

/**
 * The variables the kubelet sets for a Service named logwharf (or logwharf-*) in a pod's
 * environment pass the unknown-variable check; typos of real settings still do not.
 */

/** `Service logwharf-metrics` on an IPv6 cluster, one SCTP port (unnamed). */
const METRICS_V6 = {
  LOGWHARF_METRICS_SERVICE_HOST: 'fd00:10:96::a',
  LOGWHARF_METRICS_SERVICE_PORT: '9100',
  LOGWHARF_METRICS_PORT: 'sctp://[fd00:10:96::a]:9100',
  LOGWHARF_METRICS_PORT_9100_SCTP: 'sctp://[fd00:10:96::a]:9100',
  LOGWHARF_METRICS_PORT_9100_SCTP_PROTO: 'sctp',
  LOGWHARF_METRICS_PORT_9100_SCTP_PORT: '9100',
  LOGWHARF_METRICS_PORT_9100_SCTP_ADDR: 'fd00:10:96::a',
};

describe('Kubernetes service variables', () => {
  it.each(Object.entries({ ...KUBERNETES_SERVICE_LOGWHARF, ...METRICS_V6 }))(
    '%s=%s passes',
    (name, value) => {
      expect(isServiceLinkVariable(name, value)).toBe(true);
    },
  );

  it('takes an unbracketed IPv6 URL, as older kubelets wrote it', () => {
    expect(isServiceLinkVariable('LOGWHARF_PORT', 'tcp://fd00::1:8080')).toBe(true);
  });

  it.each([
    // The right name with a value Kubernetes would not set: a mistyped setting.
    ['LOGWHARF_SERVICE_HOST', 'logwharf.example.net'],
    ['LOGWHARF_SERVICE_PORT', '0'],
    ['LOGWHARF_SERVICE_PORT', '65536'],
    ['LOGWHARF_SERVICE_PORT_HTTP', 'http'],
    ['LOGWHARF_PORT', '8080'],
    ['LOGWHARF_PORT', 'http://10.0.0.1:8080'],
    ['LOGWHARF_PORT', 'tcp://10.0.0.1'],
    ['LOGWHARF_PORT', 'tcp://host:8080'],
    ['LOGWHARF_PORT_8080_TCP', 'tcp://10.0.0.1:9090'],
    ['LOGWHARF_PORT_8080_TCP', 'udp://10.0.0.1:8080'],
    ['LOGWHARF_PORT_8080_TCP_PROTO', 'udp'],
    ['LOGWHARF_PORT_8080_TCP_PORT', '9090'],
    ['LOGWHARF_PORT_8080_TCP_ADDR', 'localhost'],
    // Names Kubernetes never makes.
    ['LOGWHARF_HTTP_PORT', '8080'],
    ['LOGWHARF_PORT_8080_HTTP', 'tcp://10.0.0.1:8080'],
    ['LOGWHARF_PORT_8080_TCP_HOST', '10.0.0.1'],
    ['LOGWHARF_SERVICE_ADDR', '10.0.0.1'],
    ['LOGWHARFX_SERVICE_HOST', '10.0.0.1'],
    ['LOGWHARF__SERVICE_HOST', '10.0.0.1'],
    ['OTHER_SERVICE_HOST', '10.0.0.1'],
  ])('%s=%s does not', (name, value) => {
    expect(isServiceLinkVariable(name, value)).toBe(false);
  });

  it('never takes the variable of a config key for a service variable', () => {
    const shaped = ['10.0.0.1', '8080', 'tcp://10.0.0.1:8080', 'tcp', 'udp'];
    for (const path of propertyPaths(ConfigSchema)) {
      for (const value of shaped) expect(isServiceLinkVariable(envNameFor(path), value)).toBe(false);
    }
  });

  it('are passed over and listed, while overrides and typos next to them work as before', () => {
    const { overrides, problems, serviceLinks } = readEnvOverrides({
      ...KUBERNETES_SERVICE_LOGWHARF,
      ...METRICS_V6,
      LOGWHARF_HTTP_LISTEN: '127.0.0.1:9000',
      LOGWHARF_HTTP_PORT: '8080',
      LOGWHARF_HTTP_LISTN: 'tcp://10.96.12.7:8080',
      LOGWHARF_TOKEN: 'a-token-for-logwharf-query',
    });
    expect(serviceLinks.sort()).toEqual(
      Object.keys({ ...KUBERNETES_SERVICE_LOGWHARF, ...METRICS_V6 }).sort(),
    );
    expect(overrides).toEqual([
      { variable: 'LOGWHARF_HTTP_LISTEN', segments: ['http', 'listen'], value: '127.0.0.1:9000' },
    ]);
    expect(problems).toEqual([
      {
        path: '',
        message: 'unknown configuration variable; did you mean LOGWHARF_HTTP_LISTEN?',
        file: 'LOGWHARF_HTTP_LISTN',
        source: 'env',
      },
      {
        path: '',
        message: expect.stringMatching(/^unknown configuration variable; did you mean /),
        file: 'LOGWHARF_HTTP_PORT',
        source: 'env',
      },
    ]);
  });
});
