// Polls a condition until it holds, the deadline passes, or `while` says to give up.
const POLL_MS = 100;

export async function waitFor(check: () => Promise<boolean>, o: { timeoutMs: number; while?: () => boolean; pollMs?: number }): Promise<boolean> {
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline && (o.while?.() ?? true)) {
    if (await check().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? POLL_MS));
  }
  return false;
}
