// The apiextensions.k8s.io/v1 ConversionReview exchange: the API server sends
// objects and a desired version, and gets them back converted, or a Failure
// naming the object it could not convert (the API server then fails the
// request that needed it, so nothing is stored half-converted).
import { CONVERT_PATH } from '../../core/spec/crds.ts';
import { ConversionError, convertObject, type KubeObject } from '../../core/conversion/convert.ts';

export { CONVERT_PATH };

export interface ConversionAnswer {
  status: number;
  body: unknown;
}

export interface ConversionOutcome {
  result: 'converted' | 'failed' | 'error';
  objects: number;
  desiredApiVersion?: string;
  reason?: string;
}

const failure = (uid: string, message: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'ConversionReview',
  response: { uid, convertedObjects: [], result: { status: 'Failure', message } },
});

/** Answers one ConversionReview given as text; 400 for what is not one. */
export function answerConversionReview(text: string, onOutcome?: (o: ConversionOutcome) => void): ConversionAnswer {
  let review: { apiVersion?: string; kind?: string; request?: { uid?: string; desiredAPIVersion?: string; objects?: unknown[] } };
  try {
    review = JSON.parse(text);
  } catch {
    onOutcome?.({ result: 'error', objects: 0, reason: 'body is not JSON' });
    return { status: 400, body: { message: 'expected a ConversionReview (JSON)' } };
  }
  const request = review?.request;
  if (
    review?.kind !== 'ConversionReview' ||
    review.apiVersion !== 'apiextensions.k8s.io/v1' ||
    !request?.uid ||
    typeof request.desiredAPIVersion !== 'string' ||
    !Array.isArray(request.objects)
  ) {
    onOutcome?.({ result: 'error', objects: 0, reason: 'not an apiextensions.k8s.io/v1 ConversionReview request' });
    return {
      status: 400,
      body: { message: 'expected an apiextensions.k8s.io/v1 ConversionReview with request.uid, desiredAPIVersion and objects' },
    };
  }
  const converted: KubeObject[] = [];
  for (const object of request.objects as KubeObject[]) {
    try {
      converted.push(convertObject(object, request.desiredAPIVersion));
    } catch (error) {
      const where = `${object?.kind ?? '?'} ${(object?.metadata as { namespace?: string })?.namespace ?? ''}/${(object?.metadata as { name?: string })?.name ?? ''}`;
      const message = error instanceof ConversionError ? error.message : `internal error converting ${where}: ${(error as Error).message}`;
      onOutcome?.({ result: 'failed', objects: request.objects.length, desiredApiVersion: request.desiredAPIVersion, reason: message });
      return { status: 200, body: failure(request.uid, message) };
    }
  }
  onOutcome?.({ result: 'converted', objects: converted.length, desiredApiVersion: request.desiredAPIVersion });
  return {
    status: 200,
    body: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'ConversionReview',
      response: { uid: request.uid, convertedObjects: converted, result: { status: 'Success' } },
    },
  };
}

/** The same as a fetch handler (`POST /convert`), for any fetch runtime. */
export function createConversionHandler(onOutcome?: (o: ConversionOutcome) => void): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (request.method !== 'POST' || url.pathname !== CONVERT_PATH) return new Response('not found\n', { status: 404 });
    const answer = answerConversionReview(await request.text(), onOutcome);
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
  };
}
