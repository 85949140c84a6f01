// The Node/V8 flags each entry point runs with, wherever it runs: npm start's controller, the
// container images (their CMD), and the processes tests and benchmarks start. V8 sizes its heap
// when the process starts, so these cannot be set from inside it.
//
// The router allocates about 35 KB a request (Node's HTTP server, undici, fastify), all of it
// short-lived. With V8's default young generation (16 MB semi-spaces) a request in flight at a
// scavenge is copied, and at the next promoted: at 250 requests/s each scavenge promoted about
// 3 MB and took 5-10 ms, and the old space grew until a mark-compact. With 64 MB semi-spaces
// scavenges run a quarter as often, promote about a tenth as much and take 1.5-2 ms (bench/RESULTS.md,
// "The router's young generation"). The price: up to 3 x 64 MB of young generation, touched only
// as far as the router allocates between scavenges.
const FLAGS: Record<string, readonly string[]> = {
  'router/src/server': ['--max-semi-space-size=64'],
};

/** The flags for an entry point named as 'router/src/server' (no extension, relative to the root). */
export function nodeFlags(entry: string): readonly string[] {
  return FLAGS[entry] ?? [];
}
