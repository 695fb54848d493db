// Preloaded into an operator process by integration tests
// (NODE_OPTIONS=--import <this file>): its fetch may reach loopback addresses
// only. Pods on kwok's fake nodes get IPs from 10.0.0.0/16 that belong to
// nothing here, and tests must not send traffic to addresses outside this
// machine; a blocked probe fails the way a refused connection does, so the
// status API reports the pod as unreachable. Tests that want a real probe give
// the pod a loopback IP where a fake spiced listens.
const realFetch = globalThis.fetch;

const isLoopback = (host) => host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';

globalThis.fetch = function guardedFetch(input, init) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (!isLoopback(url.hostname)) {
    return Promise.reject(new TypeError('fetch failed', { cause: new Error(`blocked by the test harness: ${url.hostname} is not a loopback address`) }));
  }
  return realFetch(input, init);
};
