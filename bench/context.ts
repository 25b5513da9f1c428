// What every measurement gets: the registry with the test images, the tools' settings, a
// work dir for storages, and a place to leave samples for later measurements.
import type { BenchImages } from './bench-images.js';
import type { Row } from './table.js';
import type { Sample } from './runner.js';
import type { PodmanDriver } from './tools.js';

export interface BenchContext {
  /** Under /var/tmp; everything the bench writes goes here and is removed at the end. */
  workDir: string;
  registryHost: string;
  images: BenchImages;
  /** Pullable references of the images: HOST/bench/large:v1, HOST/bench/sibling:v1, HOST/bench/small:v1. */
  refs: { large: string; sibling: string; small: string };
  /** Container counts of the many-containers section (--many; default 1,10,100). */
  manyCounts: number[];
  /** Runs per contender (at least 3). */
  runs: number;
  quick: boolean;
  /** dist/syscontainer.mjs, the bundled CLI users run */
  cli: string;
  podmanDriver: PodmanDriver;
  log(line: string): void;
  /** Samples kept by earlier measurements, by key (e.g. 'cold-pull' → contender → samples). */
  shared: Map<string, Record<string, Sample[]>>;
}

/** One measurement: one file under bench/, registered in run.ts; returns table rows. */
export interface Measurement {
  /** Short name for --only. */
  name: string;
  /** The floor column's heading for sections of this measurement whose floor is not skopeo. */
  floorLabels?: Readonly<Record<string, string>>;
  /** Left out of a run unless asked for by name (--only) or by its own flag (--big). */
  optIn?: boolean;
  run(ctx: BenchContext): Promise<Row[]>;
}
