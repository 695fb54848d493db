// The sidecar injector as a fetch handler: `POST /mutate` answers an
// admission.k8s.io/v1 AdmissionReview for Pod CREATE with a JSONPatch adding
// spiced as a native sidecar, or with a denial that says what to change
// (admission-decision.ts decides); `GET /health` answers OK. Runs on any
// fetch runtime.
import { Router } from 'itty-router';
import { createAdmission, type InjectionHandlerOptions } from './admission-decision.ts';
import { AdmissionReason } from './reasons.ts';

export const MUTATE_PATH = '/mutate';

/** The injector as a fetch handler: `POST /mutate` (and `GET /health`) on any fetch runtime. */
export function createInjectionHandler(options: InjectionHandlerOptions): (request: Request) => Promise<Response> {
  const admit = createAdmission(options);
  const report = (reason: string) => {
    try {
      options.onAdmission?.({ result: 'error', code: AdmissionReason.InternalError, reason });
    } catch {
      // observers must never change an answer
    }
  };
  const router = Router({
    catch: (error: unknown) => {
      report(`internal error: ${(error as Error)?.message ?? String(error)}`);
      return Response.json({ error: `internal error: ${(error as Error)?.message ?? String(error)}` }, { status: 500 });
    },
  });
  router
    .post(MUTATE_PATH, async (request: Request) => {
      const answer = await admit(await request.text());
      return Response.json(answer.body, { status: answer.status });
    })
    .get('/health', () => new Response('OK', { headers: { 'content-type': 'text/plain' } }))
    .all('*', (request: Request) =>
      Response.json(
        { error: `no route for ${request.method} ${new URL(request.url).pathname}: the injector serves POST ${MUTATE_PATH}` },
        { status: 404 },
      ),
    );
  return (request: Request) => router.fetch(request) as Promise<Response>;
}
