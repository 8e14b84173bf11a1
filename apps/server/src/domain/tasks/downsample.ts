// Downsampling a metric series for a chart: largest-triangle-three-buckets
// (Steinarsson, 2013). The first and last points are always kept; between
// them the series is cut into equal buckets and from each the point that
// makes the largest triangle with the point kept before it and the average
// of the next bucket, so peaks and turns survive where a plain stride
// would skip them.

/** At most `max` of `points` (ordered by x), their shape kept; all of them when they fit. `max` below 3 keeps the ends. */
export function largestTriangleThreeBuckets<T>(points: readonly T[], max: number, x: (p: T) => number, y: (p: T) => number): T[] {
  const n = points.length;
  if (n <= max || n <= 2) return [...points];
  if (max < 3) return max <= 0 ? [] : max === 1 ? [points[0]!] : [points[0]!, points[n - 1]!];
  const every = (n - 2) / (max - 2);
  const kept: T[] = [points[0]!];
  let a = 0;
  for (let i = 0; i < max - 2; i++) {
    // The average of the next bucket (the last point alone for the last bucket).
    const nextFrom = Math.floor((i + 1) * every) + 1;
    const nextTo = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextFrom; j < nextTo; j++) {
      avgX += x(points[j]!);
      avgY += y(points[j]!);
    }
    avgX /= nextTo - nextFrom;
    avgY /= nextTo - nextFrom;
    const ax = x(points[a]!);
    const ay = y(points[a]!);
    let best = -1;
    let bestArea = -1;
    for (let j = Math.floor(i * every) + 1, to = Math.floor((i + 1) * every) + 1; j < to; j++) {
      const area = Math.abs((ax - avgX) * (y(points[j]!) - ay) - (ax - x(points[j]!)) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    kept.push(points[best]!);
    a = best;
  }
  kept.push(points[n - 1]!);
  return kept;
}
