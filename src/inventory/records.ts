// Variable names come from files we do not control: `__proto__: x` must become a variable,
// not replace the prototype of the object that holds the variables.

export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment is the same for every other name (Object.prototype has no other setter)
  // and several times cheaper, which counts at 10,000 hosts x their variables.
  if (key !== '__proto__') {
    target[key] = value;
    return;
  }
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
