// Execs (POST /containers/{id}/exec, then /exec/{id}/start and /json): a record per exec,
// in memory, with the project of whoever made it. Finished ones go after `keepMs`, and at most
// `capacity` are kept, so a client that never starts or inspects its execs cannot grow this.
import { randomBytes } from 'node:crypto';

export interface ExecRecord {
  id: string;
  containerId: string;
  containerName: string;
  project: string | undefined;
  command: string[];
  attachStdout: boolean;
  attachStderr: boolean;
  attachStdin: boolean;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
}

export class ExecRegistry {
  private readonly records = new Map<string, ExecRecord>();

  constructor(
    private readonly capacity = 1000,
    private readonly keepMs = 10 * 60_000,
  ) {}

  create(fields: Omit<ExecRecord, 'id' | 'running' | 'started' | 'exitCode' | 'pid'>): ExecRecord {
    if (this.records.size >= this.capacity) {
      const oldest = [...this.records.values()].find((r) => !r.running);
      if (oldest !== undefined) this.records.delete(oldest.id);
    }
    const record: ExecRecord = { ...fields, id: randomBytes(32).toString('hex'), running: false, started: false, exitCode: null, pid: 0 };
    this.records.set(record.id, record);
    return record;
  }

  get(id: string): ExecRecord | undefined {
    return this.records.get(id);
  }

  finished(record: ExecRecord, exitCode: number): void {
    record.running = false;
    record.exitCode = exitCode;
    setTimeout(() => this.records.delete(record.id), this.keepMs).unref();
  }

  forContainer(containerId: string): string[] {
    return [...this.records.values()].filter((r) => r.containerId === containerId).map((r) => r.id);
  }
}
