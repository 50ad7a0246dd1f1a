/**
 * What the kubelet puts into a pod's environment for `Service logwharf` with ports http
 * 8080/TCP and syslog 5514/UDP (Docker-link style service variables).
 */
export const KUBERNETES_SERVICE_LOGWHARF: Readonly<Record<string, string>> = {
  LOGWHARF_SERVICE_HOST: '10.96.12.7',
  LOGWHARF_SERVICE_PORT: '8080',
  LOGWHARF_SERVICE_PORT_HTTP: '8080',
  LOGWHARF_SERVICE_PORT_SYSLOG: '5514',
  LOGWHARF_PORT: 'tcp://10.96.12.7:8080',
  LOGWHARF_PORT_8080_TCP: 'tcp://10.96.12.7:8080',
  LOGWHARF_PORT_8080_TCP_PROTO: 'tcp',
  LOGWHARF_PORT_8080_TCP_PORT: '8080',
  LOGWHARF_PORT_8080_TCP_ADDR: '10.96.12.7',
  LOGWHARF_PORT_5514_UDP: 'udp://10.96.12.7:5514',
  LOGWHARF_PORT_5514_UDP_PROTO: 'udp',
  LOGWHARF_PORT_5514_UDP_PORT: '5514',
  LOGWHARF_PORT_5514_UDP_ADDR: '10.96.12.7',
};
