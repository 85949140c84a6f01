// Drift per environment and model version, free of HTTP: the last `windowRequests` predictions of
// each (their label, confidence, length in word pieces and unknown pieces, kept as fixed-bin
// counts updated as requests come and go) tested against two references:
//   - the bundle's own profile on SST dev (metadata drift_reference, read from the replica's
//     /info): label mix (chi-squared), confidence and length (Kolmogorov–Smirnov on the bins), the
//     share of unknown word pieces (exact conditional binomial);
//   - the control arm (the heaviest environment) over the same requests' span: length and unknown
//     pieces only. A random split sends every arm the same kind of text, so a difference there
//     means a segment reaches one arm only; outputs (labels, confidence) differ between versions
//     by design and are not compared across arms.
// The tests of one environment share its α (Bonferroni: each at α / tests). A window with fewer
// than `minRequests` predictions is not tested. Each router tests the traffic it answered.
import { CONFIDENCE_EDGES, confidenceBin, LENGTH_EDGES, lengthBin, type DriftProfile } from '../../../shared/drift/profile.ts';
import { chiSquaredTwoSample, ksTwoSampleBinned, rareRateTwoSample, type TestResult } from '../stats/distribution-tests.ts';
import type { DriftView } from './schema.ts';
import { PairMap } from '../stats/pair-map.ts';

export interface DriftSettings {
  windowRequests: number;
  minRequests: number;
  /** The chance, per environment and look, of flagging drift that is not there. */
  alpha: number;
}

const MAX_LABELS = 16;

/** The last `size` predictions of one environment and version, and their bin counts. */
class Window {
  private readonly labelOf: Uint8Array;
  private readonly confidenceOf: Uint8Array;
  private readonly lengthOf: Uint8Array;
  private readonly piecesOf: Uint32Array;
  private readonly unknownOf: Uint32Array;
  private next = 0;
  count = 0;
  readonly labelNames: string[] = [];
  readonly labels = new Array<number>(MAX_LABELS).fill(0);
  readonly confidence = new Array<number>(CONFIDENCE_EDGES.length).fill(0);
  readonly length = new Array<number>(LENGTH_EDGES.length).fill(0);
  pieces = 0;
  unknown = 0;

  constructor(private readonly size: number) {
    this.labelOf = new Uint8Array(size);
    this.confidenceOf = new Uint8Array(size);
    this.lengthOf = new Uint8Array(size);
    this.piecesOf = new Uint32Array(size);
    this.unknownOf = new Uint32Array(size);
  }

  add(label: string, confidence: number, pieces: number, unknown: number): void {
    let l = this.labelNames.indexOf(label);
    if (l < 0) {
      if (this.labelNames.length >= MAX_LABELS) return;
      l = this.labelNames.push(label) - 1;
    }
    const i = this.next;
    if (this.count === this.size) {
      this.labels[this.labelOf[i]]--;
      this.confidence[this.confidenceOf[i]]--;
      this.length[this.lengthOf[i]]--;
      this.pieces -= this.piecesOf[i];
      this.unknown -= this.unknownOf[i];
    } else this.count++;
    this.labelOf[i] = l;
    this.confidenceOf[i] = confidenceBin(confidence);
    this.lengthOf[i] = lengthBin(pieces);
    this.piecesOf[i] = pieces;
    this.unknownOf[i] = unknown;
    this.labels[l]++;
    this.confidence[this.confidenceOf[i]]++;
    this.length[this.lengthOf[i]]++;
    this.pieces += pieces;
    this.unknown += unknown;
    this.next = (i + 1) % this.size;
  }
}

type Test = DriftView['environments'][number]['tests'][number];

export class DriftMonitor {
  private readonly windows = new PairMap<{ environment: string; version: string; window: Window }>();

  constructor(readonly settings: DriftSettings) {}

  /** One answered prediction (from a replica that reports its word pieces). */
  record(environment: string, version: string, label: string | null, confidence: number, pieces: number | null, unknownPieces: number | null): void {
    if (label === null || pieces === null || this.settings.windowRequests === 0) return;
    let w = this.windows.get(environment, version);
    if (!w) this.windows.set(environment, version, (w = { environment, version, window: new Window(this.settings.windowRequests) }));
    w.window.add(label, confidence, pieces, unknownPieces ?? 0);
  }

  /** Forgets every window (an experiment reset starts them again). */
  reset(): void {
    this.windows.clear();
  }

  /**
   * Every window tested. `reference` gives a version's bundle profile (null: none recorded);
   * `control` names the control arm (null: none).
   */
  evaluate(reference: (environment: string, version: string) => DriftProfile | null, control: string | null): DriftView {
    const { minRequests, alpha, windowRequests } = this.settings;
    // The control arm's window: its busiest version's.
    const controlWindow = [...this.windows.values()].filter((w) => w.environment === control).sort((a, b) => b.window.count - a.window.count)[0];
    const environments = [...this.windows.values()]
      .sort((a, b) => a.environment.localeCompare(b.environment) || a.version.localeCompare(b.version))
      .map(({ environment, version, window }) => {
        const ref = reference(environment, version);
        const results: Omit<Test, 'threshold' | 'passed'>[] = [];
        const add = (name: string, against: 'reference' | 'control', method: string, r: TestResult, compared: number) => results.push({ name, against, method, statistic: r.statistic, p_value: Number(r.p_value.toPrecision(4)), window: window.count, compared_with: compared });
        if (window.count >= minRequests && ref) {
          const refLabels = window.labelNames.map((l) => ref.labels[l] ?? 0);
          const unseen = Object.entries(ref.labels).filter(([l]) => !window.labelNames.includes(l)).map(([, n]) => n);
          add('label_mix', 'reference', 'chi-squared', chiSquaredTwoSample([...window.labels.slice(0, window.labelNames.length), ...unseen.map(() => 0)], [...refLabels, ...unseen]), ref.examples);
          add('confidence', 'reference', 'Kolmogorov-Smirnov (binned)', ksTwoSampleBinned(window.confidence, ref.confidence), ref.examples);
          add('length', 'reference', 'Kolmogorov-Smirnov (binned)', ksTwoSampleBinned(window.length, ref.length), ref.examples);
          add('unknown_pieces', 'reference', 'exact conditional binomial', rareRateTwoSample(window.unknown, window.pieces, ref.unknown_pieces, ref.pieces), ref.examples);
        }
        const c = controlWindow?.window;
        if (c && environment !== control && window.count >= minRequests && c.count >= minRequests) {
          add('length', 'control', 'Kolmogorov-Smirnov (binned)', ksTwoSampleBinned(window.length, c.length), c.count);
          add('unknown_pieces', 'control', 'exact conditional binomial', rareRateTwoSample(window.unknown, window.pieces, c.unknown, c.pieces), c.count);
        }
        const threshold = results.length ? Number((alpha / results.length).toPrecision(4)) : alpha;
        const tests = results.map((r) => ({ ...r, threshold, passed: r.p_value >= threshold }));
        return {
          environment,
          model_version: version,
          requests: window.count,
          reference: ref ? `${ref.dataset} (${ref.examples} predictions)` : null,
          drifted: tests.some((t) => !t.passed),
          tests,
          note: window.count < minRequests ? `${window.count} prediction${window.count === 1 ? '' : 's'} in the window, fewer than the ${minRequests} needed to test` : ref ? null : 'no drift reference in the bundle metadata (npm run evaluate records one): tested against the control arm only',
        };
      });
    return { window_requests: windowRequests, min_requests: minRequests, alpha, control, environments };
  }
}
