/**
 * Runs fn over items with at most `limit` at once (Ansible's forks). Never rejects: fn handles
 * its own errors, and one it did not expect (a full disk here, a fault of the toolkit's) goes to
 * onError for that item alone, while the other items go on: one host's failure never stops the
 * others.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  onError: (item: T, error: unknown) => void,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        try {
          onError(item, error);
        } catch {
          // reporting it failed too (a closed stdout): nothing more can be done for this item
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
