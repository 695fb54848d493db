// Which contender runs when, in each round of a bench with several (scale.ts, hooks.ts,
// workloads.ts): on this machine the order within a round moves a run's time by as much as the
// contenders differ (cluster-bench.ts, orderBalancedRatio), so over every two rounds each pair of
// contenders must run once in each order. Odd rounds rotate the list (round 1 as given, round 3
// from the second contender, ...), and each even round runs the round before it backwards, which
// turns every pair around.

/** The contenders in the order they run in round `round` (from 1). */
export function roundOrder<T>(contenders: readonly T[], round: number): T[] {
  const pair = Math.floor((round - 1) / 2);
  const rotated = contenders.map((_, i) => contenders[(i + pair) % contenders.length]!);
  return round % 2 ? rotated : rotated.reverse();
}
