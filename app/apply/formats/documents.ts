// YAML (and JSON, which is YAML) documents of the files given to apply, parsed with eemeli's
// `yaml`: several documents per file, duplicate keys refused, aliases bounded (no "billion
// laughs"). Each document keeps where it came from, for error lines.
import { parseAllDocuments } from 'yaml';
import type { SourceFile } from './source-files.js';

export interface SourceDocument {
  file: SourceFile;
  /** 1-based position in the file. */
  index: number;
  /** How many documents the file has (error lines name the document only when there are several). */
  count: number;
  value: unknown;
}

export interface ParseProblem {
  where: string;
  message: string;
}

const maxDocuments = 1000;

/** Parses every document of `file`; empty documents (a trailing `---`) are skipped. Pure. */
export function parseDocuments(file: SourceFile): { documents: SourceDocument[]; problems: ParseProblem[] } {
  const problems: ParseProblem[] = [];
  const parsed = parseAllDocuments(file.text, { prettyErrors: true, uniqueKeys: true, strict: true });
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const values: unknown[] = [];
  list.forEach((doc, i) => {
    for (const error of doc.errors) {
      const at = error.linePos?.[0];
      problems.push({ where: `${file.display}${at ? `:${at.line}:${at.col}` : ''}`, message: error.message.split('\n')[0] ?? 'not valid YAML' });
    }
    if (doc.errors.length > 0) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push({ where: `${file.display} document ${i + 1}`, message: (error as Error).message });
      return;
    }
    if (value !== null && value !== undefined) values.push(value);
  });
  if (values.length > maxDocuments) problems.push({ where: file.display, message: `more than ${maxDocuments} documents` });
  if (values.length === 0 && problems.length === 0) problems.push({ where: file.display, message: 'no documents in this file' });
  return { documents: values.map((value, i) => ({ file, index: i + 1, count: values.length, value })), problems };
}
