// The GraphQL API's schema, written first (SDL): the contract. `npm run openapi` prints it to
// docs/graphql/schema.graphql and generates the resolvers' TypeScript types from it
// (types.generated.ts, graphql-codegen), so a resolver that does not fit the schema does not compile.
// Field names are GraphQL's camelCase; each field answers what the REST admin API answers.
export const SDL = /* GraphQL */ `
"""Any JSON value (maps of weights or labels, settings, a step's figures)."""
scalar JSON

"""What an operator looks at, in one round trip. Admin and read-only tokens read; predict needs an API key where the router has them."""
type Query {
  "Every environment: weight, live share, versions, replicas, stats over a window."
  environments: [Environment!]
  "Per environment, the controller's deployment (empty without a controller)."
  deployments: [Deployment!]
  "Every bundle the controller reported, with its stage (empty without a controller)."
  models: [Model!]
  "The A/B report since the experiment started."
  report(baseline: String): Report
  "The rollout in progress and the last one."
  rollouts: Rollouts
  "The decision trail, newest first, a page at a time (within its last 1,000 entries)."
  history(first: Int = 20, after: String, kind: DecisionKind, environment: String): DecisionPage
  "Drift per environment and version."
  drift: [Drift!]
  "The release in progress (npm run release) and the last one."
  releases: Releases
  "Which router runs rollouts and the guard."
  controller: Controller
  "One prediction, on the data path's rules (API keys, rate limit, routing, stickiness by X-User-Id)."
  predict(text: String!): Prediction
  "Several texts, each routed as its own prediction."
  predictBatch(texts: [String!]!): [Prediction!]
}

"""Changes: the admin token only."""
type Mutation {
  "Set weights (and backups, shadows) of some environments, as PUT /admin/weights."
  setWeights(weights: [WeightInput!]!): [Environment!]!
  "Start a rollout, as POST /admin/rollouts."
  startRollout(input: RolloutInput!): Rollout!
  "Hold the rollout at its step."
  pauseRollout: Rollout!
  "Go on from the step it was paused at."
  resumeRollout: Rollout!
  "Stop the rollout and put back the weights from before it."
  abortRollout: Rollout!
  "Back to safety in one call, as POST /admin/rollback: the weights now in force."
  rollback: JSON!
  "The true label of a recent prediction (by its request id), as POST /feedback."
  sendFeedback(requestId: String!, label: String!): FeedbackReceipt!
}

type Subscription {
  "Each decision as this router records it: weight changes, rollout steps, analyses, guard actions, stage moves, release steps."
  decisions: Decision!
  "Every second, each environment's stats over the last window seconds (1 to 60)."
  stats(window: Int = 10): [EnvironmentStats!]!
}

type Environment {
  name: String!
  weight: Float!
  "Fraction of traffic it gets now, over healthy environments."
  share: Float!
  backup: Boolean!
  "Percent of /predict requests mirrored here."
  shadow: Float!
  versions: [String!]!
  healthyReplicas: Int!
  replicas: [Replica!]!
  stats(window: Int = 60): Stats!
}

type Replica {
  url: String!
  modelVersion: String
  healthy: Boolean!
  available: Boolean!
  inFlight: Int!
  ejections: Int!
}

type Stats {
  windowSeconds: Int!
  requests: Int!
  rps: Float!
  errorRate: Float!
  p50Ms: Float
  p95Ms: Float
  p99Ms: Float
  meanConfidence: Float
}

type EnvironmentStats {
  environment: String!
  stats: Stats!
}

type Deployment {
  name: String!
  version: String!
  desiredReplicas: Int!
  readyReplicas: Int!
  versions: [String!]!
  update: String!
  lastError: String
}

type Model {
  name: String!
  version: String!
  stage: String
  runningIn: [String!]!
  metrics: JSON!
  lineage: JSON
  moves: JSON!
}

type Report {
  startedAt: String!
  baseline: String
  note: String!
  versions: [ReportRow!]!
  shadows: JSON!
}

type ReportRow {
  environment: String!
  modelVersion: String!
  requests: Int!
  errorRate: Float!
  p95Ms: Float
  meanConfidence: Float
  labelDistribution: JSON!
  feedback: Int!
  onlineAccuracy: Float
  "better, worse or inconclusive against the baseline (sequential test), null for the baseline itself."
  vsBaseline: String
  recommendation: String!
  reasons: [String!]!
}

type Rollouts {
  current: Rollout
  last: Rollout
}

type Rollout {
  id: String!
  state: String!
  target: String!
  baseline: String!
  steps: [Float!]!
  stepIndex: Int!
  stepPercent: Float!
  phase: String!
  message: String!
  startedAt: String!
  lastAnalysis: JSON
}

enum DecisionKind { weights rollout analysis guard bandit stage release }

type Decision {
  at: String!
  kind: DecisionKind!
  action: String!
  message: String!
  environment: String
  router: String
  rolloutId: String
  releaseId: String
  model: String
  modelVersion: String
  weightsBefore: JSON
  weightsAfter: JSON
  checks: [Check!]
}

type Check {
  metric: String!
  value: Float
  threshold: Float!
  windowSeconds: Float!
  sample: Int!
  passed: Boolean!
}

type DecisionPage {
  decisions: [Decision!]!
  "Pass as after for the next (older) page; null at the end."
  endCursor: String
  hasNextPage: Boolean!
}

type Drift {
  environment: String!
  modelVersion: String!
  requests: Int!
  drifted: Boolean!
  tests: JSON!
}

type Releases {
  current: JSON
  last: JSON
}

type Controller {
  routerId: String!
  leader: Boolean!
}

type Prediction {
  sentiment: String!
  confidence: Float!
  probabilities: JSON
  modelVersion: String!
  environment: String!
  "What POST /feedback (or sendFeedback) names."
  requestId: String!
}

type FeedbackReceipt {
  requestId: String!
  recorded: Boolean!
}

input WeightInput {
  environment: String!
  weight: Float!
  backup: Boolean
  "Percent of /predict requests mirrored to it (0 stops it)."
  shadow: Float
}

input RolloutInput {
  target: String!
  baseline: String
  steps: [Float!]
  pauseSeconds: Float
  "As POST /admin/rollouts' analysis (its field names), or false for none."
  analysis: JSON
  keepBackup: Boolean
}
`;
