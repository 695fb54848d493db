// A tiny CRD of the tests' own, with a status subresource, so shim tests do not
// depend on the project's CRDs; its watch cache starts with the CRD, so
// resourceVersion 1 is refused with 410 Gone on any cluster, however young.
import type { KObject } from '../../shim/kube/client.ts';
import { registerResource } from '../../shim/kube/resources.ts';

export const WIDGET_API = 'shimtest.spice.ai/v1';
registerResource(WIDGET_API, 'Widget', 'widgets', true);
export const widgetCrd: KObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.shimtest.spice.ai' },
  spec: {
    group: 'shimtest.spice.ai',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: { type: 'object', properties: { observedGeneration: { type: 'integer' }, phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};
