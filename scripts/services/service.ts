/**
 * A service the tests need (a Docker engine, later Elasticsearch, ...). `scripts/services.ts`
 * runs each one's `ensure` in order; adding a service is one module exporting a `Service`.
 */
export interface ServiceContext {
  /** Progress for people, on stderr: stdout carries only the KEY=value lines. */
  log(line: string): void;
}

export interface Service {
  /** Short name used in messages: "docker", "elasticsearch". */
  readonly name: string;
  /**
   * Makes the service answer (installing and starting it where this machine allows) and returns
   * the variables through which tests reach it, e.g. `{ DOCKER_HOST: 'unix:///var/run/docker.sock' }`.
   * Fast when it already runs. Throws with a message that names the service and how to provide it.
   */
  ensure(ctx: ServiceContext): Promise<Record<string, string>>;
}
