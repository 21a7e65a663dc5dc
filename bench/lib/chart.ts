import type { VariantSummary } from './results.js';

/**
 * A horizontal bar chart of median req/s, as a hand-written SVG. Reads and logins differ by
 * three orders of magnitude, so each group gets a panel with its own scale.
 */
const WIDTH = 900;
const LABEL_WIDTH = 170;
const VALUE_WIDTH = 270;
const BAR_HEIGHT = 26;
const BAR_GAP = 12;
const PANEL_TITLE_HEIGHT = 34;
const AXIS_HEIGHT = 44;
const PANEL_GAP = 22;
const TITLE_HEIGHT = 44;
const SUBTITLE_LINE_HEIGHT = 18;

const COLOURS: Record<string, string> = {
  reference: '#8c8c8c',
  'reference-login': '#8c8c8c',
  login: '#d9822b',
};
const SERVICE_COLOUR = '#2b6cb0';

// Presentation attributes rather than CSS, which some SVG renderers ignore.
const STYLE = {
  title: 'font-size="20" font-weight="bold" fill="#1a202c"',
  subtitle: 'font-size="13" fill="#4a5568"',
  panel: 'font-size="15" font-weight="bold" fill="#2d3748"',
  label: 'font-size="14" fill="#1a202c" text-anchor="end"',
  value: 'font-size="13" fill="#1a202c"',
  tick: 'font-size="12" fill="#4a5568" text-anchor="middle"',
  axisLabel: 'font-size="13" fill="#2d3748" text-anchor="middle"',
  grid: 'stroke="#e2e8f0" stroke-width="1"',
  axis: 'stroke="#4a5568" stroke-width="1"',
};

export interface ChartPanel {
  title: string;
  variants: VariantSummary[];
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A round tick step: 1, 2 or 5 times a power of ten, giving about five ticks. */
function tickStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step ?? 10 * power;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 100
    ? Math.round(perSecond).toLocaleString('en-US')
    : perSecond.toFixed(1);
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x}" y="${y}" ${attributes}>${escapeXml(content)}</text>`;
}

function panelHeight(panel: ChartPanel): number {
  const bars = panel.variants.length;
  return PANEL_TITLE_HEIGHT + bars * (BAR_HEIGHT + BAR_GAP) + AXIS_HEIGHT;
}

function renderPanel(panel: ChartPanel, top: number): string {
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const maxRate = Math.max(...panel.variants.map((v) => v.requestsPerSecond));
  const step = tickStep(maxRate);
  const scaleMax = Math.ceil(maxRate / step) * step;
  const x = (value: number) =>
    Math.round((LABEL_WIDTH + (value / scaleMax) * plotWidth) * 10) / 10;
  const barsTop = top + PANEL_TITLE_HEIGHT;
  const barsBottom = barsTop + panel.variants.length * (BAR_HEIGHT + BAR_GAP);
  const parts = [text(20, top + 20, panel.title, STYLE.panel)];

  for (let tick = 0; tick <= scaleMax + step / 2; tick += step) {
    parts.push(
      `<line x1="${x(tick)}" y1="${barsTop - 4}" x2="${x(tick)}" y2="${barsBottom}" ${STYLE.grid}/>`,
      text(x(tick), barsBottom + 16, tick.toLocaleString('en-US'), STYLE.tick),
    );
  }
  panel.variants.forEach((variant, i) => {
    const y = barsTop + i * (BAR_HEIGHT + BAR_GAP);
    const end = x(variant.requestsPerSecond);
    const colour = COLOURS[variant.name] ?? SERVICE_COLOUR;
    parts.push(
      text(LABEL_WIDTH - 10, y + BAR_HEIGHT / 2 + 5, variant.name, STYLE.label),
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${Math.max(1, end - LABEL_WIDTH)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
      text(
        end + 8,
        y + BAR_HEIGHT / 2 + 5,
        `${formatRate(variant.requestsPerSecond)} req/s (ratio ${variant.ratio.toFixed(2)}${variant.healthRatio === null ? '' : `; ${variant.healthRatio.toFixed(2)}× /health`})`,
        STYLE.value,
      ),
    );
  });
  const middle = (barsTop + barsBottom) / 2;
  parts.push(
    text(
      28,
      middle,
      'variant',
      `${STYLE.axisLabel} transform="rotate(-90 28 ${middle})"`,
    ),
    `<line x1="${LABEL_WIDTH}" y1="${barsBottom}" x2="${LABEL_WIDTH + plotWidth}" y2="${barsBottom}" ${STYLE.axis}/>`,
    text(
      LABEL_WIDTH + plotWidth / 2,
      barsBottom + 36,
      'median requests per second',
      STYLE.axisLabel,
    ),
  );
  return parts.join('\n  ');
}

export function renderChart(
  title: string,
  subtitleLines: string[],
  panels: ChartPanel[],
): string {
  const headerHeight =
    TITLE_HEIGHT + SUBTITLE_LINE_HEIGHT * subtitleLines.length;
  const height =
    headerHeight +
    panels.reduce((sum, p) => sum + panelHeight(p), 0) +
    PANEL_GAP * (panels.length - 1) +
    10;
  let top = headerHeight;
  const rendered = panels.map((panel) => {
    const svg = renderPanel(panel, top);
    top += panelHeight(panel) + PANEL_GAP;
    return svg;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">
  <rect width="100%" height="100%" fill="#ffffff"/>
  ${text(20, 30, title, STYLE.title)}
  ${subtitleLines
    .map((line, i) =>
      text(20, 50 + i * SUBTITLE_LINE_HEIGHT, line, STYLE.subtitle),
    )
    .join('\n  ')}
  ${rendered.join('\n  ')}
</svg>
`;
}
