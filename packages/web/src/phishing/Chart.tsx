import { useEffect, useRef } from 'react';
import type { Chart as ChartInstance, ChartData } from 'chart.js';

// chart.js is loaded on first use (only the dashboard draws charts), with tree-shaken
// registration of what it draws. Chart.js 4 draws on a canvas and sets sizes through the CSSOM,
// which the strict CSP (style-src 'self', no inline style attributes in markup) allows; it injects
// no <style> element.
let loading: Promise<typeof ChartInstance> | null = null;
function loadChart(): Promise<typeof ChartInstance> {
  loading ??= import('chart.js').then((m) => {
    m.Chart.register(m.BarController, m.BarElement, m.CategoryScale, m.LinearScale, m.LineController, m.LineElement, m.PointElement, m.Legend, m.Tooltip);
    return m.Chart;
  });
  return loading;
}

export interface Series {
  label: string;
  /** Rates in 0..1, shown as percentages; null where a group is hidden (privacy) or empty. */
  values: (number | null)[];
}

const COLOURS = ['#1f5fbf', '#c2410c', '#7c3aed', '#15803d'];

/**
 * A rate chart (0-100%) over labelled groups. `summary` is the accessible text of the chart (the
 * same numbers are also printed next to it for screen readers and for copying).
 */
export function RateChart({ kind, labels, series, summary }: { kind: 'bar' | 'line'; labels: string[]; series: Series[]; summary: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let chart: ChartInstance | null = null;
    let gone = false;
    const data: ChartData<'bar' | 'line', (number | null)[], string> = {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.values.map((v) => (v === null ? null : Math.round(v * 1000) / 10)),
        backgroundColor: COLOURS[i % COLOURS.length],
        borderColor: COLOURS[i % COLOURS.length],
      })),
    };
    void loadChart().then((Chart) => {
      if (gone || !canvas.current) return;
      chart = new Chart(canvas.current, {
        type: kind,
        data,
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
          plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y ?? '–'}%` } } },
        },
      });
    });
    return () => {
      gone = true;
      chart?.destroy();
    };
  }, [kind, JSON.stringify(labels), JSON.stringify(series)]);
  return (
    <div className="chart-box">
      <canvas ref={canvas} role="img" aria-label={summary} />
    </div>
  );
}
