// Shares one copy of strings that repeat across many objects (node names, zones, namespaces,
// port names), so that 100,000 endpoints on 100 nodes hold 100 node-name strings, not 100,000.
// Bounded: two generations of at most `capacity` entries; a string still in use is promoted
// back into the current generation, so the live working set survives each rotation.

export interface Interner {
  /** The canonical copy of `value`: equal to it, and shared with earlier callers. */
  intern(value: string): string;
  /** Number of strings held, at most twice the capacity. */
  readonly size: number;
}

/** Names worth sharing are DNS names or labels, at most 253 characters; longer ones pass through. */
const maxInternedLength = 253;

class GenerationalInterner implements Interner {
  readonly #capacity: number;
  #current = new Map<string, string>();
  #previous = new Map<string, string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  intern(value: string): string {
    if (value.length > maxInternedLength) return value;
    const hit = this.#current.get(value);
    if (hit !== undefined) return hit;
    const canonical = this.#previous.get(value) ?? value;
    if (this.#current.size >= this.#capacity) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(canonical, canonical);
    return canonical;
  }
}

export function createInterner(capacity = 16_384): Interner {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`interner capacity must be a positive integer, got ${String(capacity)}`);
  }
  return new GenerationalInterner(capacity);
}

/** The interner converters use unless handed another: sharing only pays when it is shared. */
export const sharedInterner: Interner = createInterner();
