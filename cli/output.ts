// All printing goes through here: results, tables, JSON, progress, the output of commands run
// in containers, and errors. Results go to stdout, everything else to stderr, so stdout stays
// parseable.
import { isSyscontainerError } from '../app/index.js';

/** The --json option of every command whose result a script may read; see Output.jsonOr. */
export const jsonOption = { json: { type: 'boolean', description: 'print JSON' } } as const;

/** log-update's renderer: redraws a block of lines in place, wrapped and clipped to the terminal. */
interface LiveBlock {
  (text: string): void;
  persist(text: string): void;
  clear(): void;
  done(): void;
}

export class Output {
  constructor(
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {}

  /** A result line: always printed, even with --quiet. */
  result(line: string): void {
    this.stdout.write(`${line}\n`);
  }

  /** A progress or informational line; dropped with --quiet. */
  info(line: string): void {
    if (!this.quiet) this.above(line);
  }

  warn(line: string): void {
    this.above(`warning: ${line}`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * A command's result: `value` as JSON when the command was given --json (jsonOption), else
   * what `present` prints for a person (a table, lines). The one place that chooses.
   */
  jsonOr(options: { readonly json?: unknown }, value: unknown, present: () => void): void {
    if (options.json === true) this.json(value);
    else present();
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

  /** What a command run in a container printed, as it printed it (a final newline added). */
  commandOutput(stdout: string, stderr: string): void {
    if (stdout) this.stdout.write(stdout.endsWith('\n') ? stdout : `${stdout}\n`);
    if (stderr) this.stderr.write(stderr.endsWith('\n') ? stderr : `${stderr}\n`);
  }

  /** A chunk of a stream that is followed (logs -f), untouched. */
  stream(chunk: string): void {
    this.stdout.write(chunk);
  }

  /**
   * Progress, one line per key: on a terminal (after enableLiveProgress) the lines in progress
   * are redrawn in place below everything else and a final line is printed once, above them;
   * elsewhere only the final line of each key is printed, so logs stay short.
   */
  status(key: string, line: string, final = false): void {
    if (this.quiet) return;
    if (this.live === undefined) {
      if (final) this.info(line);
      return;
    }
    if (final) {
      this.liveLines.delete(key);
      this.above(line);
    } else {
      this.liveLines.set(key, line);
      this.redraw();
    }
  }

  /** Loads the terminal renderer (only commands that draw progress pay for it). */
  async enableLiveProgress(): Promise<void> {
    if (this.quiet || !this.stderr.isTTY || this.live !== undefined) return;
    const { createLogUpdate } = await import('log-update');
    this.live = createLogUpdate(this.stderr) as LiveBlock;
  }

  /** Erases the lines still in progress (of a step that failed); later progress is drawn afresh. */
  dropProgress(): void {
    if (this.liveLines.size > 0) this.live?.clear();
    this.liveLines.clear();
  }

  /** Ends live progress: lines still in progress (a failed command's) are erased; the cursor is shown again. */
  close(): void {
    if (this.liveLines.size > 0) this.live?.clear();
    this.live?.done();
    this.live = undefined;
    this.liveLines.clear();
  }

  private live: LiveBlock | undefined;
  private readonly liveLines = new Map<string, string>();

  /** A line to stderr, above the live block when one is drawn. */
  private above(line: string): void {
    if (this.live === undefined || this.liveLines.size === 0) {
      if (this.live !== undefined) this.live.clear();
      this.stderr.write(`${line}\n`);
      return;
    }
    this.live.persist(line);
    this.redraw();
  }

  private redraw(): void {
    if (this.live === undefined) return;
    if (this.liveLines.size === 0) this.live.clear();
    else this.live([...this.liveLines.values()].join('\n'));
  }

  /** One line of a list of problems (apply's files): `error: LINE`, on stderr. */
  errorLine(line: string): void {
    this.above(`error: ${line}`);
  }

  /** The error's one line and hint; with `debug` the chain of causes, stacks included. */
  error(error: unknown, debug: boolean): void {
    this.above(`error: ${error instanceof Error ? error.message : String(error)}`);
    if (isSyscontainerError(error) && error.hint) this.above(`hint: ${error.hint}`);
    if (!debug) return;
    let cause: unknown = error;
    let prefix = '';
    while (cause) {
      this.above(`${prefix}${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
      cause = cause instanceof Error ? cause.cause : undefined;
      prefix = 'caused by: ';
    }
  }
}
