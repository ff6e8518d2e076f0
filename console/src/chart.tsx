// chart.tsx - one metric over time as inline SVG (no chart library, no CDN).

export interface Series {
  timestamps: Date[];
  values: number[];
}

const W = 420;
const H = 150;
const PAD_L = 46;
const PAD_B = 22;
const PAD_T = 10;
const PAD_R = 10;

function fmt(v: number): string {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (v >= 1e3) return (v / 1e3).toFixed(1) + "k";
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(v < 10 ? 2 : 1);
}

function hhmm(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

export function Chart(props: { title: string; unit: string; series: Series | null; from: number; to: number; id: string }) {
  const { title, unit, series, from, to } = props;
  const pts = series
    ? series.timestamps.map((t, i) => ({ t: t.getTime(), v: series.values[i] })).sort((a, b) => a.t - b.t)
    : [];
  const max = Math.max(1, ...pts.map((p) => p.v));
  const x = (t: number) => PAD_L + ((t - from) / Math.max(1, to - from)) * (W - PAD_L - PAD_R);
  const y = (v: number) => H - PAD_B - (v / max) * (H - PAD_B - PAD_T);
  const path = pts.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  const total = pts.reduce((a, p) => a + p.v, 0);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => from + f * (to - from));
  return (
    <figure class="chart" id={props.id} data-points={pts.length} data-total={total}>
      <figcaption>
        {title} <span class="muted">({unit})</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={title}>
        <line x1={PAD_L} y1={H - PAD_B} x2={W - PAD_R} y2={H - PAD_B} class="axis" />
        <line x1={PAD_L} y1={PAD_T} x2={PAD_L} y2={H - PAD_B} class="axis" />
        <text x={PAD_L - 4} y={PAD_T + 4} class="tick" text-anchor="end">{fmt(max)}</text>
        <text x={PAD_L - 4} y={H - PAD_B} class="tick" text-anchor="end">0</text>
        {ticks.map((t, i) => (
          <text x={x(t)} y={H - 6} class="tick" text-anchor={i === 0 ? "start" : i === ticks.length - 1 ? "end" : "middle"}>
            {hhmm(t)}
          </text>
        ))}
        {pts.length > 1 && <path d={path} class="line" />}
        {pts.map((p) => (
          <circle cx={x(p.t)} cy={y(p.v)} r={2.5} class="dot">
            <title>{`${new Date(p.t).toLocaleTimeString()}: ${fmt(p.v)} ${unit}`}</title>
          </circle>
        ))}
        {!pts.length && (
          <text x={(W + PAD_L) / 2} y={H / 2} class="tick" text-anchor="middle">no data points</text>
        )}
      </svg>
    </figure>
  );
}
