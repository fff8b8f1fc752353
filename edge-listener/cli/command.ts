/** One CLI command: its help text is printed for `--help` and on usage errors. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  /** Resolves with the exit code: 0 done, 1 a problem was found or the action failed. */
  run(argv: string[]): Promise<number>;
}

export const out = (text: string): void => void process.stdout.write(text);
export const err = (text: string): void => void process.stderr.write(text);

/** Options every command that reads settings accepts. */
export const CONFIG_OPTION_HELP = `  --config FILE      JSON settings file (same names as the environment variables);
                     default: $BRIDGE_CONFIG_FILE. The environment wins over the file.`;
