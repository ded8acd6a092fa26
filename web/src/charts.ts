// uPlot in the dashboard's colours, sized to its container (and resized with it).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const colours = {
  axis: '#8b949e',
  grid: '#222a35',
  bid: '#3fb950',
  bidFill: 'rgba(63, 185, 80, 0.22)',
  ask: '#ff6b6b',
  askFill: 'rgba(255, 107, 107, 0.22)',
  mark: '#e6edf3',
  curve: '#f0b429',
  accent: '#58a6ff',
};

export function axis(label: string, values?: uPlot.Axis['values'], size?: number): uPlot.Axis {
  // Only what is given: an explicit `undefined` would replace uPlot's own default.
  const extra: Partial<uPlot.Axis> = {};
  if (values) extra.values = values;
  if (size !== undefined) extra.size = size;
  return {
    ...extra,
    label,
    labelSize: 14,
    labelFont: '11px system-ui, sans-serif',
    font: '11px system-ui, sans-serif',
    stroke: colours.axis,
    grid: { stroke: colours.grid, width: 1 },
    ticks: { stroke: colours.grid, width: 1, size: 4 },
  };
}

// A chart that fills `container`; `options` without width and height.
export function makeChart(
  container: HTMLElement,
  options: Omit<uPlot.Options, 'width' | 'height'>,
  data: uPlot.AlignedData,
): uPlot {
  const size = () => ({
    width: Math.max(120, container.clientWidth),
    height: Math.max(80, container.clientHeight),
  });
  const chart = new uPlot({ ...options, ...size() } as uPlot.Options, data, container);
  new ResizeObserver(() => chart.setSize(size())).observe(container);
  return chart;
}

// Axis values with thousands separators ("65,000").
export function grouped(digits = 0): uPlot.Axis['values'] {
  const f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits });
  return (_u, values) => values.map((v) => (v === null ? '' : f.format(v)));
}
