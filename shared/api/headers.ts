// The header names the router, the replicas and their clients speak, in one place: what a request
// may carry (its id, an API key, an environment it forces) and what an answer says about where it
// was served. gRPC metadata uses the same names.
export const REQUEST_ID_HEADER = 'x-request-id';
export const API_KEY_HEADER = 'x-api-key';
/** Forces an environment (admins and allow-listed addresses only). */
export const OVERRIDE_HEADER = 'x-route-to';
/** On every routed answer: the environment that answered… */
export const ENVIRONMENT_HEADER = 'x-environment';
/** …and the model version of the replica that did. */
export const MODEL_VERSION_HEADER = 'x-model-version';
