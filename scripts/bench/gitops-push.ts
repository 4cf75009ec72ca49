export async function benchPushToApplied(log: (m: string) => void): Promise<unknown> {
  log('push to applied: not yet');
  return undefined;
}
