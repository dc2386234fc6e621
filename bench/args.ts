/** The value after `--name` on the bench's command line, if given. */
export function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Whether `--name` is on the bench's command line. */
export const flag = (name: string): boolean => process.argv.includes(`--${name}`);
