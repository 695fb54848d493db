// One copy of each string value the informers' caches hold many times. JSON.parse
// makes a new string for every value it reads (V8 shares only short ones), so
// 1,000 SpicepodSets and their children hold 4,000 copies of their namespace,
// of "spice.ai/v1" (in each owner reference), of the image, of condition
// reasons and messages and of the Deployment controller's defaults. The cache
// keeps the first copy it has seen and hands it out for every equal value.
//
// The table is bounded: when it holds `capacity` strings it starts over, so it
// keeps no string alive for long after the objects that held it are gone.
// Values that are unique by construction (uid, resourceVersion) and long ones
// are left as they are.

/** Keys whose values are unique per object. */
const UNIQUE = new Set(['uid', 'resourceVersion']);

export class StringInterner {
  private table = new Map<string, string>();

  constructor(
    /** Strings held before the table starts over. */
    private readonly capacity = 8192,
    /** Longer strings are not interned. */
    private readonly maxLength = 256,
  ) {}

  /** The table's copy of s (s itself the first time). */
  intern(s: string): string {
    if (s.length > this.maxLength) return s;
    const found = this.table.get(s);
    if (found !== undefined) return found;
    if (this.table.size >= this.capacity) this.table.clear();
    this.table.set(s, s);
    return s;
  }

  /** Replaces, in place, each string value in a parsed JSON value with its interned copy; returns the value. */
  internValues<T>(value: T): T {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (typeof v === 'string') value[i] = this.intern(v);
        else if (v !== null && typeof v === 'object') this.internValues(v);
      }
    } else if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      for (const key in obj) {
        const v = obj[key];
        if (typeof v === 'string') {
          if (!UNIQUE.has(key)) obj[key] = this.intern(v);
        } else if (v !== null && typeof v === 'object') this.internValues(v);
      }
    }
    return value;
  }

  /** Strings in the table (tests read it). */
  get size(): number {
    return this.table.size;
  }
}
