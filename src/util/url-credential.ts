// How facts-service-url holds a username or password (settings/validate.ts writes it, the
// secret set masks it in that spelling too): a value whose every "%" starts an escape is taken as
// already encoded the official template's way ("p%40ss" for "p@ss"), and only what it still holds
// that a URL cannot is encoded; any other value is encoded whole.
export function urlCredential(value: string): string {
  return /%(?![0-9A-Fa-f]{2})/u.test(value) ? encodeURIComponent(value) : value.replace(/[^%]+/gu, (run) => encodeURIComponent(run));
}
