// A second module of the report project, bundled into the function at deploy.
export function title(kind: string, date: Date): string {
  return `${kind.charAt(0).toUpperCase()}${kind.slice(1)} report, ${date.toISOString().slice(0, 10)}`;
}
