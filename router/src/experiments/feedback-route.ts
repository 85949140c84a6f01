// POST /feedback: ground truth for a recent prediction, by its X-Request-Id, on the public side
// (the data path's API keys and rate limit apply), attributed to the environment and version that
// answered it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { FeedbackExistsError, PredictionNotFoundError } from '../../../shared/errors.ts';
import { ErrorResponse } from '../../../shared/http/schemas.ts';
import { PUBLIC_SECURITY } from '../proxy/routes.ts';
import type { Experiment } from './experiment.ts';
import { FeedbackBody } from './schema.ts';

export const feedbackRoutes: FastifyPluginAsyncTypebox<{ experiment: Experiment }> = async (app, { experiment }) => {
  app.post('/feedback', {
    schema: {
      tags: ['predict'],
      operationId: 'feedback',
      security: PUBLIC_SECURITY,
      summary: 'The true label of a recent prediction (by its X-Request-Id), for the A/B report\'s online accuracy',
      body: FeedbackBody,
      response: { 202: Type.Object({ request_id: Type.String(), recorded: Type.Boolean() }), 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse },
    },
  }, async (request, reply) => {
    const { request_id, label } = request.body;
    const result = await experiment.feedback(request_id, label);
    if (result === 'unknown') throw new PredictionNotFoundError(request_id);
    if (result === 'duplicate') throw new FeedbackExistsError(request_id);
    return reply.code(202).send({ request_id, recorded: true });
  });
};
