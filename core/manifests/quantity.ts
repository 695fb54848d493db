// Kubernetes quantities as numbers, to compare sizes ("10Gi" > "5000Mi").
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function parseQuantity(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(value.trim());
  if (!match) throw new Error(`${JSON.stringify(value)} is not a Kubernetes quantity`);
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  return number * SUFFIX[match[3] ?? '']!;
}
