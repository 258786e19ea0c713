// Promise.all for calls run side by side whose failures are not equal: it waits for every call
// (none is left running unawaited), then throws the failure of the first call in argument order
// that failed, the one the caller put first because its error says most.

/** Every value, once all have settled; else the first failure in argument order. */
export async function allInOrder<T extends readonly unknown[]>(promises: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  for (const s of settled) if (s.status === "rejected") throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
