// Text from reports and live bodies on its way to a terminal: no escape sequences (a tag value can
// hold one that rewrites the screen or the window title), and never longer than the line needs.

/** The text with control characters shown as `?`, cut to `max` characters. */
export function plain(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const safe = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}
