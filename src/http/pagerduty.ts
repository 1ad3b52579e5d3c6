import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { toAppError } from './problem.ts';
import { describeAjvError } from '../shared/validation.ts';

/**
 * PagerDuty's own answers, for the routes that emulate its Events API v2 and Change Events API, so a sender's
 * retry logic (retry 429 and 5xx, give up on 400) keeps working.
 */
export function pagerDutyReject(reply: FastifyReply, status: number, errors: string[], message = 'Event object is invalid'): FastifyReply {
  return reply.status(status).type('application/json').send({ status: 'invalid event', message, errors });
}

/** An error handler answering in PagerDuty's format; `maxBytes` is the route's body limit, `what` names it in logs. */
export function pagerDutyErrorHandler(maxBytes: number, what: string) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const validation = (error as FastifyError & { validation?: ErrorObject[] }).validation;
    if (validation?.length) {
      const { field, message } = describeAjvError(validation[0]!);
      return pagerDutyReject(reply, 400, [`${field}: ${message}`]);
    }
    const appError = toAppError(error);
    switch (appError.code) {
      case 'rate_limited':
        void reply.header('retry-after', String(appError.details.retry_after_seconds ?? 1));
        return reply.status(429).type('application/json').send({ status: 'throttle event', message: 'Requests for this integration are arriving too quickly. Please retry later.' });
      case 'payload_too_large':
        return pagerDutyReject(reply, 413, [`the event exceeds ${maxBytes / 1024} KiB`], 'Event object is too large');
      case 'validation_failed':
      case 'malformed_input':
      case 'unprocessable':
      case 'unauthorized':
        return pagerDutyReject(reply, 400, [appError.message]);
      default:
        request.log.error({ err: error }, `${what} request failed`);
        return reply.status(500).type('application/json').send({ status: 'error', message: 'internal error; retry later' });
    }
  };
}
