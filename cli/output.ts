// All printing goes through here: tables, JSON, progress lines and errors.
import { isSyscontainerError } from '../common/errors.js';

export class Output {
  readonly isTTY: boolean;

  constructor(
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.isTTY = Boolean(stdout.isTTY);
  }

  /** A result line: always printed, even with --quiet. */
  result(line: string): void {
    this.stdout.write(`${line}\n`);
  }

  /** A progress or informational line; dropped with --quiet. Goes to stderr so stdout stays parseable. */
  info(line: string): void {
    if (!this.quiet) this.stderr.write(`${line}\n`);
  }

  warn(line: string): void {
    this.stderr.write(`warning: ${line}\n`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Columns padded to the widest cell; the header is printed even for an empty list. */
  table(headers: string[], rows: string[][]): void {
    const widths = headers.map((header, column) =>
      Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
    );
    const format = (cells: string[]) =>
      cells
        .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('   ')
        .trimEnd();
    this.result(format(headers));
    for (const row of rows) this.result(format(row));
  }

  /**
   * Progress: on a TTY one line per key, redrawn in place as it changes; elsewhere only the
   * final line of each key is printed, so logs stay short.
   */
  status(key: string, line: string, final = false): void {
    if (this.quiet) return;
    if (!this.stderr.isTTY) {
      if (final) this.info(line);
      return;
    }
    this.statusLines.set(key, line);
    if (this.drawn > 0) this.stderr.write(`\x1b[${this.drawn}A`);
    for (const current of this.statusLines.values()) this.stderr.write(`\x1b[2K${current}\n`);
    this.drawn = this.statusLines.size;
  }

  private readonly statusLines = new Map<string, string>();
  private drawn = 0;

  error(error: unknown, debug: boolean): void {
    if (isSyscontainerError(error)) {
      this.stderr.write(`error: ${error.message}\n`);
      if (error.hint) this.stderr.write(`hint: ${error.hint}\n`);
    } else {
      this.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    if (debug) {
      let cause: unknown = error;
      while (cause) {
        this.stderr.write(`${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`);
        cause = cause instanceof Error ? cause.cause : undefined;
        if (cause) this.stderr.write('caused by: ');
      }
    }
  }
}
