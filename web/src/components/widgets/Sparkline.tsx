/** A small SVG line of recent values; no axes, scales to its box. */
export function Sparkline({ ts, vs, color = 'var(--accent)', height = 36 }: { ts: number[]; vs: number[]; color?: string; height?: number }) {
  if (vs.length < 2) return <div className="sparkline" style={{ height }} />;
  const W = 200;
  const H = height;
  const t0 = ts[0];
  const t1 = ts[ts.length - 1] || t0 + 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of vs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const x = (t: number) => ((t - t0) / (t1 - t0 || 1)) * W;
  const y = (v: number) => H - 2 - ((v - lo) / (hi - lo)) * (H - 4);
  let d = '';
  for (let i = 0; i < vs.length; i++) d += `${i ? 'L' : 'M'}${x(ts[i]).toFixed(1)},${y(vs[i]).toFixed(1)}`;
  const area = `${d}L${W},${H}L0,${H}Z`;
  return (
    <svg className="sparkline" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" style={{ height }} aria-hidden="true">
      <path d={area} fill={color} opacity="0.12" />
      <path d={d} fill="none" stroke={color} strokeWidth="1.6" vectorEffect="non-scaling-stroke" strokeLinejoin="round" />
    </svg>
  );
}
