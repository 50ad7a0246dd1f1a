import { isIP } from 'node:net';

/**
 * Kubernetes' service variables. In a pod, the kubelet sets variables for every Service of the
 * namespace, named after the Service (upper-cased, `-` as `_`), Docker-link style. A Service
 * named `logwharf` (or `logwharf-<anything>`) therefore puts `LOGWHARF_*` variables into
 * logwharf's own environment, which are not configuration and must not stop start-up:
 *
 *   LOGWHARF_SERVICE_HOST=10.0.0.11               the cluster IP
 *   LOGWHARF_SERVICE_PORT=8080                    the first port
 *   LOGWHARF_SERVICE_PORT_HTTP=8080               each named port
 *   LOGWHARF_PORT=tcp://10.0.0.11:8080            the first port, as a URL
 *   LOGWHARF_PORT_8080_TCP=tcp://10.0.0.11:8080   each port (TCP, UDP or SCTP), as a URL
 *   LOGWHARF_PORT_8080_TCP_PROTO=tcp
 *   LOGWHARF_PORT_8080_TCP_PORT=8080
 *   LOGWHARF_PORT_8080_TCP_ADDR=10.0.0.11
 *
 * (IPv6 cluster IPs come as `tcp://[fd00::1]:8080`.) A variable passes only when its name AND
 * its value have these shapes, so that a typo of a real setting (`LOGWHARF_HTTP_PORT=8080`, meant
 * as LOGWHARF_HTTP_LISTEN) is still reported: a mistyped setting rarely holds a cluster URL.
 */

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
// The Service's part of the name: LOGWHARF, or LOGWHARF_<rest of a Service name like logwharf-api>.
const SERVICE = 'LOGWHARF(?:_[A-Z0-9_]+?)?';
const HOST_RE = new RegExp(`^${SERVICE}_SERVICE_HOST$`);
const SERVICE_PORT_RE = new RegExp(`^${SERVICE}_SERVICE_PORT(?:_[A-Z0-9_]+)?$`);
const FIRST_PORT_RE = new RegExp(`^${SERVICE}_PORT$`);
const PORT_RE = new RegExp(`^${SERVICE}_PORT_(\\d{1,5})_(${PROTOCOLS.join('|')})(?:_(PROTO|PORT|ADDR))?$`);

/**
 * Whether `name=value` is a variable Kubernetes sets for a Service named logwharf(-*). A name
 * can have two readings (`LOGWHARF_PORT_8080_TCP_PORT` is also the first-port URL of a Service
 * named logwharf-port-8080-tcp): it passes when the value fits one of them.
 */
export function isServiceLinkVariable(name: string, value: string): boolean {
  if (HOST_RE.test(name) && isIP(value) !== 0) return true;
  if (SERVICE_PORT_RE.test(name) && isPort(value)) return true;
  if (FIRST_PORT_RE.test(name) && serviceUrl(value) !== null) return true;
  const m = PORT_RE.exec(name);
  if (!m) return false;
  const [, port, protocol, part] = m as unknown as [string, string, string, string | undefined];
  if (part === 'PROTO') return value === protocol.toLowerCase();
  if (part === 'PORT') return value === port;
  if (part === 'ADDR') return isIP(value) !== 0;
  const url = serviceUrl(value);
  return url !== null && url.protocol === protocol.toLowerCase() && url.port === port;
}

function isPort(value: string): boolean {
  return /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535;
}

/** `tcp://10.0.0.11:8080`, `udp://[fd00::1]:53` (or unbracketed, as older kubelets wrote). */
function serviceUrl(value: string): { protocol: string; port: string } | null {
  const m = /^(tcp|udp|sctp):\/\/(.+):(\d{1,5})$/.exec(value);
  if (!m || !isPort(m[3]!)) return null;
  const host = m[2]!.startsWith('[') && m[2]!.endsWith(']') ? m[2]!.slice(1, -1) : m[2]!;
  return isIP(host) !== 0 ? { protocol: m[1]!, port: m[3]! } : null;
}
