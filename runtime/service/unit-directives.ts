// Small, exact edits of a systemd unit file's text: set a directive in a section (replacing
// what the section had for it) or add values to a list directive. Used to lay restart
// policy, ordering, notify and the health timer over a unit, ours or an image's own
// service.template, without re-rendering it. Comments, blank lines and the order of
// everything else are kept.

interface Line {
  text: string;
  /** The section this line is in ('' before the first header). */
  section: string;
  /** The directive's key, for assignment lines (continuations are folded into the first line). */
  key?: string;
}

function parse(unit: string): Line[] {
  const lines: Line[] = [];
  let section = '';
  const raw = unit.split('\n');
  for (let i = 0; i < raw.length; i++) {
    let text = raw[i] as string;
    // A trailing backslash continues the value on the next line: keep them together.
    while (text.endsWith('\\') && i + 1 < raw.length) text += `\n${raw[++i] as string}`;
    const trimmed = text.trim();
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      section = header[1] as string;
      lines.push({ text, section });
      continue;
    }
    const assignment = /^([A-Za-z0-9_-]+)\s*=/.exec(trimmed);
    if (assignment && !trimmed.startsWith('#') && !trimmed.startsWith(';')) lines.push({ text, section, key: assignment[1] as string });
    else lines.push({ text, section });
  }
  return lines;
}

function format(lines: Line[]): string {
  return lines.map((l) => l.text).join('\n');
}

/** Index after the last non-blank line of `section`, or -1 when the section is missing. */
function sectionEnd(lines: Line[], section: string): number {
  let end = -1;
  lines.forEach((line, index) => {
    if (line.section === section && line.text.trim() !== '') end = index + 1;
  });
  return end;
}

function insert(lines: Line[], section: string, entries: string[]): Line[] {
  const added = entries.map((text) => ({ text, section, key: text.slice(0, text.indexOf('=')) }));
  const end = sectionEnd(lines, section);
  if (end === -1) {
    // A missing section goes at the end, or before [Install] for [Unit]/[Service] order's sake.
    const install = lines.findIndex((l) => l.section === 'Install' && l.key === undefined && l.text.trim() === '[Install]');
    const block = [{ text: `[${section}]`, section }, ...added, { text: '', section }];
    if (install !== -1 && section !== 'Install') return [...lines.slice(0, install), ...block, ...lines.slice(install)];
    const trimmedEnd = lines.length > 0 && (lines[lines.length - 1] as Line).text === '' ? lines.length - 1 : lines.length;
    const separator = trimmedEnd > 0 && (lines[trimmedEnd - 1] as Line).text.trim() !== '' ? [{ text: '', section: '' }] : [];
    return [...lines.slice(0, trimmedEnd), ...separator, ...block.slice(0, -1), ...lines.slice(trimmedEnd)];
  }
  return [...lines.slice(0, end), ...added, ...lines.slice(end)];
}

/**
 * Sets `key` in `section` to `values` (one line each; [] removes it): replaces every line the
 * section had for `key`, in place of the first. Adds the section when missing. Pure.
 */
export function setDirective(unit: string, section: string, key: string, values: readonly string[]): string {
  const lines = parse(unit);
  const first = lines.findIndex((l) => l.section === section && l.key === key);
  const kept = lines.filter((l) => !(l.section === section && l.key === key));
  const entries = values.map((v) => `${key}=${v}`);
  if (entries.length === 0) return format(kept);
  if (first === -1) return format(insert(kept, section, entries));
  const added = entries.map((text) => ({ text, section, key }));
  return format([...kept.slice(0, first), ...added, ...kept.slice(first)]);
}

/** Adds `values` to list directive `key` of `section` (Requires=, After=, …), skipping ones already there. Pure. */
export function addToDirective(unit: string, section: string, key: string, values: readonly string[]): string {
  const present = new Set(directiveValues(unit, section, key).flatMap((v) => v.split(/\s+/)));
  const missing = values.filter((v) => !present.has(v));
  if (missing.length === 0) return unit;
  return format(insert(parse(unit), section, missing.map((v) => `${key}=${v}`)));
}

/** The values `key` has in `section`, in order (an empty assignment resets the list, as systemd reads it). Pure. */
export function directiveValues(unit: string, section: string, key: string): string[] {
  let values: string[] = [];
  for (const line of parse(unit)) {
    if (line.section !== section || line.key !== key) continue;
    const value = line.text.slice(line.text.indexOf('=') + 1).replace(/\\\n/g, ' ').trim();
    if (value === '') values = [];
    else values.push(value);
  }
  return values;
}
