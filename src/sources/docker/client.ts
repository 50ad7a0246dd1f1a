import Docker from 'dockerode';
import { LogwharfError } from '../../core/errors.js';

/** Where the engine is, in a form a user can read back in an error message. */
export interface EngineAddress {
  display: string;
  options: Docker.DockerOptions;
}

/**
 * Resolves `sources.docker.host` (null: DOCKER_HOST, else the local socket) into dockerode
 * options. Parsed here rather than left to docker-modem so a bad value fails at start-up with
 * the config key in the message.
 */
export function engineAddress(host: string | null, env: NodeJS.ProcessEnv = process.env): EngineAddress {
  const value = host ?? env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length) || '/var/run/docker.sock';
    return { display: `unix://${socketPath}`, options: { socketPath } };
  }
  if (value.startsWith('npipe://')) {
    return { display: value, options: { socketPath: value.slice('npipe://'.length) } };
  }
  let url: URL;
  try {
    url = new URL(value.replace(/^tcp:\/\//, 'http://'));
  } catch {
    throw new LogwharfError(
      'LOGWHARF_ERR_CONFIG',
      `sources.docker.host: '${value}' is not an engine address; expected unix:///var/run/docker.sock or tcp://host:2375`,
    );
  }
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    display: value,
    options: { host: url.hostname, port: Number(url.port || (protocol === 'https' ? 2376 : 2375)), protocol },
  };
}

export function dockerClient(address: EngineAddress): Docker {
  return new Docker(address.options);
}

/** A user-facing explanation of why the engine cannot be reached. */
export function unreachableMessage(address: EngineAddress, err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);
  return `sources.docker.host: cannot reach ${address.display} (${code}) — is Docker running, or set DOCKER_HOST / sources.docker.host?`;
}
