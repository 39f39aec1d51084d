// Small statistics helpers: percentiles over sample arrays, medians over repeats.

export function percentile (sorted, p) {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export function sortedCopy (samples) {
  const out = Float64Array.from(samples)
  out.sort()
  return out
}

export function summarize (samples) {
  const s = sortedCopy(samples)
  return {
    n: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1] : NaN
  }
}

export function median (values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

export function concatFloat64 (arrays) {
  let n = 0
  for (const a of arrays) n += a.length
  const out = new Float64Array(n)
  let off = 0
  for (const a of arrays) { out.set(a, off); off += a.length }
  return out
}

/** A growable Float64Array for latency samples. */
export class Samples {
  constructor (capacity = 4096) {
    this.buf = new Float64Array(capacity)
    this.length = 0
  }

  push (x) {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2)
      next.set(this.buf)
      this.buf = next
    }
    this.buf[this.length++] = x
  }

  toArray () {
    return this.buf.slice(0, this.length)
  }
}
