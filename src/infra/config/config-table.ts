import { envVariables } from './env.decorator.js';
import { EnvironmentVariables } from './environment.schema.js';

/** One row of the README's configuration table: variable, default, meaning. */
export type ConfigRow = [variable: string, fallback: string, meaning: string];

const HEADING = '## Configuration';
const HEADER: ConfigRow = ['variable', 'default', 'meaning'];

const normalise = (cell: string) => cell.trim().replace(/\s+/g, ' ');

/** The rows the schema declares; neighbours with the same default and doc share a row. */
export function configTableRows(): ConfigRow[] {
  const rows: ConfigRow[] = [];
  for (const variable of envVariables(EnvironmentVariables)) {
    const fallback = [
      variable.default === undefined ? '–' : `\`${variable.default}\``,
      variable.note && `(${variable.note})`,
    ]
      .filter(Boolean)
      .join(' ');
    const last = rows.at(-1);
    if (last && last[1] === fallback && last[2] === variable.doc)
      last[0] += `, \`${variable.name}\``;
    else rows.push([`\`${variable.name}\``, fallback, variable.doc]);
  }
  return rows.map((row) => row.map(normalise) as ConfigRow);
}

/** Where the table under the README's configuration heading starts and ends, in lines. */
function tableSpan(lines: string[]): [start: number, end: number] {
  const heading = lines.indexOf(HEADING);
  const start = lines.findIndex(
    (line, i) => i > heading && line.startsWith('|'),
  );
  if (
    heading < 0 ||
    start < 0 ||
    lines.slice(heading + 1, start).some((line) => line.startsWith('## '))
  )
    throw new Error(`README.md has no table under "${HEADING}"`);
  let end = start;
  while (lines[end]?.startsWith('|')) end++;
  return [start, end];
}

/** The README table's rows below its header, cells trimmed and whitespace collapsed. */
export function readmeConfigRows(readme: string): ConfigRow[] {
  const lines = readme.split('\n');
  const [start, end] = tableSpan(lines);
  return lines
    .slice(start + 2, end)
    .map((line) => line.slice(1, -1).split('|').map(normalise) as ConfigRow);
}

/** `readme` with its configuration table rendered anew from the schema, padded as prettier pads it. */
export function withConfigTable(readme: string): string {
  const lines = readme.split('\n');
  const [start, end] = tableSpan(lines);
  const rows = [HEADER, ...configTableRows()];
  const widths = HEADER.map((_, i) =>
    Math.max(...rows.map((row) => row[i].length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  const table = [
    line(HEADER),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.slice(1).map(line),
  ];
  return [...lines.slice(0, start), ...table, ...lines.slice(end)].join('\n');
}
