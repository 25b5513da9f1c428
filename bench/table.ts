// Rows of results and their printing: one table per section, medians with the ratio
// syscontainer / podman (below 1 means syscontainer is faster or smaller).
import { median } from './runner.js';

export interface Figure {
  median: number;
  samples: number[];
}

export interface Row {
  /** Groups rows into tables; the main comparison is 'pull'. */
  section: string;
  measurement: string;
  unit: 's' | 'MiB' | 'count';
  syscontainer?: Figure;
  podman?: Figure;
  /** The floor (skopeo, or the named reference in `note`). */
  floor?: Figure;
  /** syscontainer / podman run by run (the runs alternate, so run i of each saw the same moment). */
  pairRatios?: number[];
  note?: string;
}

export function figure(samples: number[]): Figure {
  return { median: median(samples), samples };
}

export const MiB = 1024 * 1024;

function cell(value: Figure | undefined, unit: Row['unit']): string {
  if (value === undefined || Number.isNaN(value.median)) return '-';
  if (unit === 'count') return String(Math.round(value.median));
  return unit === 's' ? value.median.toFixed(2) : value.median.toFixed(1);
}

/**
 * The tables as text, one per section in first-seen order. A section where podman has no
 * figure (a breakdown) gets two columns only: the value, and the floor it compares with.
 */
export function formatTables(rows: Row[], floorLabel = 'floor(skopeo)'): string {
  const sections = [...new Set(rows.map((row) => row.section))];
  const out: string[] = [];
  for (const section of sections) {
    const own = rows.filter((row) => row.section === section);
    const compared = own.some((row) => row.podman !== undefined);
    const names = own.map((row) => `${row.measurement} (${row.unit})`);
    const width = Math.max(24, ...names.map((name) => name.length)) + 2;
    out.push(`== ${section}`);
    out.push(
      compared
        ? `${'measurement'.padEnd(width)}${'syscontainer'.padStart(13)}${'podman'.padStart(10)}${'ratio'.padStart(8)}${floorLabel.padStart(16)}  note`
        : `${'measurement'.padEnd(width)}${'syscontainer'.padStart(13)}${'floor'.padStart(10)}  note`,
    );
    own.forEach((row, i) => {
      const name = (names[i] as string).padEnd(width);
      if (!compared) {
        out.push(`${name}${cell(row.syscontainer, row.unit).padStart(13)}${cell(row.floor, row.unit).padStart(10)}  ${row.note ?? ''}`.trimEnd());
        return;
      }
      const ratio =
        row.syscontainer !== undefined && row.podman !== undefined && row.podman.median > 0
          ? (row.syscontainer.median / row.podman.median).toFixed(2)
          : '-';
      out.push(
        `${name}${cell(row.syscontainer, row.unit).padStart(13)}${cell(row.podman, row.unit).padStart(10)}` +
          `${ratio.padStart(8)}${cell(row.floor, row.unit).padStart(16)}  ${row.note ?? ''}`.trimEnd(),
      );
    });
    out.push('');
  }
  return out.join('\n');
}
