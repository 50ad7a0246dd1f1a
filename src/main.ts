import { parseArgs } from 'node:util';
import { LogwharfError } from './core/errors.js';

/**
 * Entry point: argv -> command -> exit code. The only module that exits the process
 * (STYLE.md), so every command stays testable as a function.
 */

const USAGE = `usage:
  logwharf run [--config FILE]
  logwharf query QUERY [--since 1h] [--from T] [--to T] [--limit N] [--json] [--config FILE]
  logwharf query QUERY [...] --server URL [--token-file FILE]
  logwharf check-config [--config FILE] [--json]

  query --server asks a running logwharf; one with http.auth.tokens needs a token, read from
  --token-file FILE or the LOGWHARF_TOKEN environment variable (there is no --token option, so
  that a token never lands in shell history).
`;

const out = {
  stdout: (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  stderr: (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } }, strict: true });
      const { runCommand } = await import('./cli/run.js');
      // Exits here rather than when the event loop empties: a stop that ran out of time, or was
      // cut short by a second signal, leaves handles open (a store write, a socket), and a
      // daemon must end when its signal contract says so. A start-up that failed undid its
      // steps, but a library may still hold a handle: it ends too, with the error.
      const code = await runCommand({ config: values.config }).catch(report);
      return process.exit(code);
    }
    case 'query': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        strict: true,
        options: {
          config: { type: 'string' },
          since: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          limit: { type: 'string' },
          json: { type: 'boolean' },
          server: { type: 'string' },
          'token-file': { type: 'string' },
        },
      });
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
        throw new LogwharfError(
          'LOGWHARF_ERR_USAGE',
          `--limit: expected a whole number of at least 1, got '${values.limit}'`,
        );
      }
      const { queryCommand } = await import('./cli/query.js');
      const { openReaderFromConfig } = await import('./cli/open-reader.js');
      return queryCommand(
        {
          query: positionals.join(' '),
          since: values.since,
          from: values.from,
          to: values.to,
          limit,
          json: values.json ?? false,
          server: values.server,
          tokenFile: values['token-file'],
        },
        {
          openReader: () => openReaderFromConfig(values.config),
          ...out,
          isTTY: Boolean(process.stdout.isTTY),
        },
      );
    }
    case 'check-config': {
      const { values } = parseArgs({
        args: rest,
        options: { config: { type: 'string' }, json: { type: 'boolean' } },
        strict: true,
      });
      const { checkConfigCommand } = await import('./cli/check-config.js');
      return checkConfigCommand({ config: values.config, json: values.json ?? false }, out);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      out.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new LogwharfError('LOGWHARF_ERR_USAGE', `unknown command '${command}'\n${USAGE}`);
  }
}

/** Prints a command's error on stderr; returns the exit code for it. */
function report(err: unknown): number {
  if (err instanceof LogwharfError) {
    process.stderr.write(`logwharf: ${err.message} [${err.code}]\n`);
    return err.code === 'LOGWHARF_ERR_USAGE' || err.code === 'LOGWHARF_ERR_CONFIG' ? 2 : 1;
  }
  if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`logwharf: ${err.message}\n${USAGE}`);
    return 2;
  }
  process.stderr.write(
    `logwharf: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = report(err);
  },
);
