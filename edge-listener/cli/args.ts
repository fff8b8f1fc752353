/** A command's options: boolean flags and options that take one value. */
export interface OptionSpec {
  flags?: readonly string[];
  values?: readonly string[];
}

export interface ParsedArgs {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

/** A mistake in how the command was called: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {}

/**
 * `--name value`, `--name=value` and `--flag`; `--` ends the options. `--help`/`-h` is always a flag.
 * Unknown options are errors rather than ignored, so a typo never runs an admin action with defaults.
 */
export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const positionals: string[] = [];
  const knownFlags = new Set(['help', ...(spec.flags ?? [])]);
  const knownValues = new Set(spec.values ?? []);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      flags.add('help');
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    if (knownFlags.has(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (knownValues.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positionals, flags, values };
}

export function intValue(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}
