// Test support: loads the kubectl-shaped JSON fixtures the way the watch layer hands objects
// over (client-node's ObjectSerializer: typed classes, Date fields), and checks that a converted
// struct shares no object or array with the API object it came from.
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { loadYaml } from "@kubernetes/client-node";
import { expect } from "vitest";
import { isSignpostError } from "../../errors/errors.ts";

export function loadFixture<T>(file: string): T {
  return loadYaml<T>(readFileSync(new URL(file, import.meta.url), "utf8"));
}

/** A fresh copy of a fixture, changed by `edit` before conversion. */
export function editedFixture<T>(file: string, edit: (object: T) => void): T {
  const object = loadFixture<T>(file);
  edit(object);
  return object;
}

/** JSON paths in `output` whose object or array is also reachable from `input`. */
export function sharedReferences(input: unknown, output: unknown): string[] {
  const seen = new Set<object>();
  const collect = (value: unknown): void => {
    if (typeof value !== "object" || value === null || seen.has(value)) return;
    seen.add(value);
    for (const child of Object.values(value)) collect(child);
  };
  collect(input);
  const shared: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value !== "object" || value === null) return;
    if (seen.has(value)) shared.push(path);
    for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
  };
  walk(output, "$");
  return shared;
}

/** Paths in `value` holding an object or array that is not frozen. */
export function unfrozenPaths(value: unknown, path = "$"): string[] {
  if (typeof value !== "object" || value === null) return [];
  const own = Object.isFrozen(value) ? [] : [path];
  return own.concat(...Object.entries(value).map(([key, child]) => unfrozenPaths(child, `${path}.${key}`)));
}

/** Asserts that `convert` throws SP_INVALID_OBJECT naming `where`, with a message containing `says`. */
export function expectInvalid(convert: () => unknown, where: string, says: string): void {
  let thrown: unknown;
  try {
    convert();
  } catch (err) {
    thrown = err;
  }
  if (!isSignpostError(thrown)) {
    throw new Error(`expected a SignpostError for ${where}, got ${thrown === undefined ? "no error" : inspect(thrown)}`);
  }
  expect(thrown.code).toBe("SP_INVALID_OBJECT");
  expect(thrown.where).toBe(where);
  expect(thrown.message).toContain(where);
  expect(thrown.message).toContain(says);
}
