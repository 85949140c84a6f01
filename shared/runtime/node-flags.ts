// The Node/V8 flags each entry point runs with, wherever it runs: npm start's controller, the
// container images (their CMD; a test keeps them the same), and the processes tests and benchmarks
// start. V8 sizes its heap when the process starts, so these cannot be set from inside it.

// The router allocates about 35 KB a request (Node's HTTP server, undici, fastify), all of it
// short-lived. With V8's default young generation (16 MB semi-spaces) a request in flight at a
// scavenge is copied, and at the next promoted: at 250 requests/s each scavenge took 3.8 ms and
// the old space grew until a mark-compact. With 64 MB semi-spaces scavenges run half as often and
// take 2.1 ms, and the P99 the router adds at 250 requests/s is 0.78 against 1.52 ms
// (bench/RESULTS.md, `npm run bench:router-flags`). The price: up to 3 × 64 MB of young generation.
//
// Page promotion moves a whole young page to the old space when most of it is live (V8's shortcut
// for copying the survivors). With it, under load, the Buffers of answers already sent (a
// replica's batch answer as read from its socket, about 600 bytes each) piled up until a major
// collection: heaptrack saw 46,000 of them (28 MB) and 20,000 other Buffers (30 MB) alive at
// once, and the C allocator's heap, where they live, stayed at that high mark: 29 → 75 MB within
// 500,000 requests, RSS 1.24× the 50,000 figure after 2,000,000. Without page promotion survivors
// are copied one by one: that heap ended at 37–59 MB in three runs, and RSS at 1.06× and 1.18×
// the 50,000 figure after 1,000,000 in two (`npm run bench:flat`), with no cost seen in CPU
// (bench:compare 1.05×) or tail latency. Some bursts still pass: what is left to win is there.
//
// V8 optimizes a function once it has run enough of its bytecode (the interrupt budget, 66 KB by
// default), counted by the traffic this process has seen. A router started afresh ran much of
// Fastify's request pipeline unoptimized through the seed's 10,000 requests, and each of two
// routers, seeing half the traffic, longer still (perf: 322 against 194 µs a request on the main
// threads). At a quarter of the budget the router is optimized sooner: the seed's load test served
// 1.12× and 1.15× in two runs (bench:compare, six rounds each), and two routers 0.75–0.80× one
// router's rate fresh against 0.65–0.70× (bench:routers). The price is at the tail while a fresh
// router is being optimized: P99 added at 250 requests/s a few tenths of a millisecond higher
// (bench:router-flags against the same flags without it). An eighth measured no better. The
// replicas stay on V8's default: they see a batch where the router sees a request, and there it
// cost them more CPU.
const FLAGS: Record<string, readonly string[]> = {
  'router/src/server': ['--max-semi-space-size=64', '--no-page-promotion', '--interrupt-budget=16384'],
};

/** The flags for an entry point named as 'router/src/server' (no extension, relative to the root). */
export function nodeFlags(entry: string): readonly string[] {
  return FLAGS[entry] ?? [];
}
