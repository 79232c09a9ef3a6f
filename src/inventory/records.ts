// Variable names come from files we do not control: `__proto__: x` must become a variable,
// not replace the prototype of the object that holds the variables.

export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
