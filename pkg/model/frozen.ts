// Frozen lists for the converted structs: one shared empty list, so the many objects with no
// external IPs, hints or ports do not each hold an empty array of their own.

export const emptyList: readonly never[] = Object.freeze([]);

export function frozenList<T>(items: T[]): readonly T[] {
  return items.length === 0 ? emptyList : Object.freeze(items);
}
