import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
}

/**
 * A time-series chart (uPlot, ADR 14): bars for counts side by side, lines for durations. Time on the x axis in the
 * browser's time zone. The canvas is hidden from assistive technology; the caption says what it shows and the tables
 * of the page carry the same figures.
 */
export function TimeChart({
  title,
  summary,
  data,
  series,
  kind,
  unit,
  interval,
}: {
  title: string;
  summary: string;
  data: uPlot.AlignedData;
  series: ChartSeries[];
  kind: 'bars' | 'lines';
  unit?: string;
  interval: 'hour' | 'day';
}) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const bars = (index: number) => {
      const builder = uPlot.paths.bars;
      if (!builder) return undefined;
      const size = 0.8 / series.length;
      return builder({ size: [size, 40], align: series.length === 1 ? 0 : index === 0 ? -1 : 1 });
    };
    const options: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 220,
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.15 : 1] } },
      series: [
        {
          value: (_u, v) =>
            v === null ? '—' : interval === 'hour' ? new Date(v * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : new Date(v * 1000).toLocaleDateString(),
        },
        ...series.map((s, index) => ({
          label: s.label,
          stroke: s.color,
          width: kind === 'bars' ? 0 : 2,
          fill: kind === 'bars' ? s.color : undefined,
          spanGaps: kind === 'lines',
          points: { show: kind === 'lines', size: 5, fill: s.color },
          paths: kind === 'bars' ? bars(index) : undefined,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${v}${unit ? ` ${unit}` : ''}`),
        })),
      ],
      axes: [
        { stroke: '#5b6577', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e6ed' } },
        { stroke: '#5b6577', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e6ed' }, size: 48, values: (_u, ticks) => ticks.map((t) => (unit ? `${t}` : Number.isInteger(t) ? `${t}` : '')) },
      ],
      cursor: { points: { show: kind === 'lines' } },
      // The legend names the series; values under the cursor would only repeat the tables.
      legend: { show: true, live: false },
    };
    const chart = new uPlot(options, data, el);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(280, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [data, series, kind, unit, interval]);

  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="sr-only"> {summary}</span>
      </figcaption>
      <div ref={host} className="chart-canvas" aria-hidden="true" />
    </figure>
  );
}
