import { useEffect, useRef } from 'react';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
  type ChartData,
} from 'chart.js';

// Tree-shaken registration: only what the dashboard draws. Chart.js 4 draws on a canvas and sets
// sizes through the CSSOM, which the strict CSP (style-src 'self', no inline style attributes in
// markup) allows; it injects no <style> element.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

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
    if (!canvas.current) return;
    const data: ChartData<'bar' | 'line', (number | null)[], string> = {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.values.map((v) => (v === null ? null : Math.round(v * 1000) / 10)),
        backgroundColor: COLOURS[i % COLOURS.length],
        borderColor: COLOURS[i % COLOURS.length],
      })),
    };
    const chart = new Chart(canvas.current, {
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
    return () => chart.destroy();
  }, [kind, JSON.stringify(labels), JSON.stringify(series)]);
  return (
    <div className="chart-box">
      <canvas ref={canvas} role="img" aria-label={summary} />
    </div>
  );
}
