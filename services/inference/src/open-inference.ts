// The Open Inference Protocol's model side, free of any transport: readiness, model metadata and
// inference over this replica's bundle. The REST routes (routes/v2.ts) and the gRPC service
// (plugins/grpc.ts) both answer through it, so the two protocols cannot drift apart.
import { InvalidInferInputError, ModelNotFoundError } from '../../../shared/errors.ts';
import { NON_BLANK_MESSAGE } from '../../../shared/http/schemas.ts';
import type { InferBody, ModelRef } from '../../../shared/api/v2.ts';
import type { Lifecycle } from '../../../shared/http/lifecycle.ts';
import type { Predictor } from './predictor.ts';

export type OpenInference = ReturnType<typeof createOpenInference>;

export function createOpenInference(predictor: Predictor, state: Lifecycle) {
  const { bundle } = predictor;
  return {
    ready: () => state.ready && !state.draining,

    /** The model this service serves, named (and versioned) by the caller; anything else is a 404. */
    check(model: ModelRef): void {
      if (model.name !== bundle.name || (model.version !== undefined && model.version !== bundle.version)) {
        throw new ModelNotFoundError(model.version === undefined ? model.name : `${model.name} version ${model.version}`, `${bundle.name} version ${bundle.version}`);
      }
    },

    metadata: () => ({
      name: bundle.name,
      versions: [bundle.version],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, bundle.labels.length] },
      ],
    }),

    /** Runs a request already valid against inferBody's schema; the model takes one BYTES input named "text". */
    async infer(body: InferBody) {
      const [input] = body.inputs;
      // Triton's binary tensor data extension is not spoken here: say so rather than misread it.
      const binary = [body.parameters, input.parameters, ...(body.outputs ?? []).map((o) => o.parameters)].some((p) => p && Object.keys(p).some((k) => k.startsWith('binary_data')));
      if (binary) throw new InvalidInferInputError('the binary tensor data extension (binary_data*) is not supported: send tensor data as JSON');
      if (input.name !== 'text') throw new InvalidInferInputError(`unknown input "${input.name}": this model takes one BYTES input named "text"`);
      const texts = input.data.flat();
      const count = input.shape.reduce((a, b) => a * b, 1);
      if (count !== texts.length) throw new InvalidInferInputError(`input "text" has shape [${input.shape.join(', ')}] but ${texts.length} elements`);
      const rows = input.data.filter(Array.isArray);
      if (rows.length > 0 && (rows.length !== input.data.length || input.shape.length !== 2 || rows.some((r) => r.length !== input.shape[1]))) {
        throw new InvalidInferInputError(`input "text": nested data must be rows of shape [${input.shape.join(', ')}]`);
      }
      if (texts.some((t) => t.trim() === '')) throw new InvalidInferInputError(`input "text" elements ${NON_BLANK_MESSAGE}`);
      const wanted = new Set((body.outputs ?? [{ name: 'label' }, { name: 'probabilities' }]).map((o) => o.name));
      if (!wanted.has('label') && !wanted.has('probabilities')) throw new InvalidInferInputError('requested outputs must include "label" or "probabilities"');
      const predictions = await predictor.predict(texts);
      const outputs = [];
      if (wanted.has('label')) outputs.push({ name: 'label', datatype: 'BYTES', shape: [count], data: predictions.map((p) => p.sentiment) });
      if (wanted.has('probabilities')) {
        outputs.push({
          name: 'probabilities',
          datatype: 'FP32',
          shape: [count, bundle.labels.length],
          data: predictions.flatMap((p) => bundle.labels.map((l) => p.probabilities[l])),
        });
      }
      return { model_name: bundle.name, model_version: bundle.version, id: body.id, outputs };
    },
  };
}
