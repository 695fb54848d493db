// Zod schemas of the Kubernetes core types that a SpicepodSet embeds.
// They are written out (rather than left free-form) so that the API server
// validates them, `kubectl explain` documents them, and the handlers get
// real types. Only the fields a Spicepod workload can use are listed.
import { z } from 'zod';

/** Kubernetes' image pull policies: the one list (the CRD enum, the injector and `run` use it). */
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

/** The Kubernetes resource.Quantity grammar (same pattern controller-gen emits). */
export const QUANTITY_PATTERN =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** A Kubernetes quantity ("10Gi", "500m", or a plain integer). */
export const quantity = () =>
  z
    .union([z.int32(), z.string().regex(QUANTITY_PATTERN, 'must be a Kubernetes quantity such as 10Gi, 512Mi or 500m')])
    .meta({ 'x-kubernetes-int-or-string': true });

/** An integer or a percentage ("25%"), as Kubernetes uses for maxUnavailable. */
export const intOrPercent = () =>
  z
    .union([z.int32().min(0), z.string().regex(/^(100|[1-9]?[0-9])%$/, 'must be an integer or a percentage such as 25%')])
    .meta({ 'x-kubernetes-int-or-string': true });

export const port = () => z.int32().min(1).max(65535);

export const stringMap = (description: string) => z.record(z.string(), z.string()).describe(description);

export const labelSelectorRequirement = z.object({
  key: z.string().describe('The label key the selector applies to.'),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the key relates to the values.'),
  values: z.array(z.string()).optional().describe('Values for In and NotIn; empty for Exists and DoesNotExist.'),
});

export const labelSelector = z.object({
  matchLabels: stringMap('Labels that must all match exactly.').optional(),
  matchExpressions: z.array(labelSelectorRequirement).optional().describe('Set-based requirements, all of which must match.'),
});

const keySelector = (what: string) =>
  z.object({
    name: z.string().describe(`Name of the ${what}.`),
    key: z.string().describe(`Key inside the ${what}.`),
    optional: z.boolean().optional().describe(`Whether the ${what} or its key may be missing.`),
  });

export const envVar = z.object({
  name: z.string().min(1).describe('Name of the environment variable.'),
  value: z.string().optional().describe('Literal value; ignored when valueFrom is set.'),
  valueFrom: z
    .object({
      configMapKeyRef: keySelector('ConfigMap').optional().describe('Take the value from a ConfigMap key.'),
      secretKeyRef: keySelector('Secret').optional().describe('Take the value from a Secret key.'),
      fieldRef: z
        .object({
          apiVersion: z.string().optional().describe('Version of the schema the fieldPath is written in (default v1).'),
          fieldPath: z.string().describe('Path of the Pod field, e.g. metadata.name or status.podIP.'),
        })
        .optional()
        .describe('Take the value from a field of the Pod.'),
      resourceFieldRef: z
        .object({
          containerName: z.string().optional().describe('Container whose resource is read.'),
          resource: z.string().describe('Resource to read, e.g. limits.memory.'),
          divisor: quantity().optional().describe('Unit the value is expressed in.'),
        })
        .optional()
        .describe('Take the value from a resource limit or request of the container.'),
    })
    .optional()
    .describe('Where the value comes from, instead of a literal value.'),
});

export const envFromSource = z.object({
  prefix: z.string().optional().describe('Prefix added to every variable name.'),
  configMapRef: z
    .object({
      name: z.string().describe('Name of the ConfigMap.'),
      optional: z.boolean().optional().describe('Whether the ConfigMap may be missing.'),
    })
    .optional()
    .describe('Import every key of a ConfigMap.'),
  secretRef: z
    .object({
      name: z.string().describe('Name of the Secret.'),
      optional: z.boolean().optional().describe('Whether the Secret may be missing.'),
    })
    .optional()
    .describe('Import every key of a Secret.'),
});

export const resourceRequirements = z.object({
  limits: z.record(z.string(), quantity()).optional().describe('Maximum compute resources, e.g. cpu: "1", memory: 2Gi.'),
  requests: z.record(z.string(), quantity()).optional().describe('Compute resources the scheduler reserves.'),
});

export const toleration = z.object({
  key: z.string().optional().describe('Taint key the toleration applies to; empty matches all keys with operator Exists.'),
  operator: z.enum(['Exists', 'Equal']).optional().describe('Exists or Equal (default Equal).'),
  value: z.string().optional().describe('Taint value to match with operator Equal.'),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().describe('Taint effect to match; empty matches all effects.'),
  tolerationSeconds: z.int().optional().describe('For NoExecute, how long the pod stays bound after the taint appears.'),
});

const nodeSelectorTerm = z.object({
  matchExpressions: z
    .array(
      labelSelectorRequirement.extend({
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']).describe('How the key relates to the values.'),
      }),
    )
    .optional()
    .describe('Requirements on node labels.'),
  matchFields: z
    .array(
      labelSelectorRequirement.extend({
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']).describe('How the key relates to the values.'),
      }),
    )
    .optional()
    .describe('Requirements on node fields.'),
});

export const nodeAffinity = z.object({
  requiredDuringSchedulingIgnoredDuringExecution: z
    .object({
      nodeSelectorTerms: z.array(nodeSelectorTerm).describe('A node must match at least one term.'),
    })
    .optional()
    .describe('Hard requirement a node must meet for the pod to be scheduled there.'),
  preferredDuringSchedulingIgnoredDuringExecution: z
    .array(
      z.object({
        weight: z.int32().min(1).max(100).describe('Weight of this preference, 1-100.'),
        preference: nodeSelectorTerm.describe('The node terms preferred.'),
      }),
    )
    .optional()
    .describe('Soft preferences, weighed by the scheduler.'),
});

const podAffinityTerm = z.object({
  labelSelector: labelSelector.optional().describe('Pods this term refers to.'),
  namespaces: z.array(z.string()).optional().describe("Namespaces the labelSelector applies to (default: the pod's own)."),
  namespaceSelector: labelSelector.optional().describe('Namespaces the labelSelector applies to, by label.'),
  topologyKey: z.string().describe('Node label that defines the topology domain, e.g. kubernetes.io/hostname.'),
});

export const podAntiAffinity = z.object({
  requiredDuringSchedulingIgnoredDuringExecution: z
    .array(podAffinityTerm)
    .optional()
    .describe('Pods matching these terms must not share a topology domain with this pod.'),
  preferredDuringSchedulingIgnoredDuringExecution: z
    .array(
      z.object({
        weight: z.int32().min(1).max(100).describe('Weight of this preference, 1-100.'),
        podAffinityTerm: podAffinityTerm.describe('The anti-affinity term.'),
      }),
    )
    .optional()
    .describe('Soft anti-affinity, weighed by the scheduler.'),
});

export const topologySpreadConstraint = z.object({
  maxSkew: z.int32().min(1).describe('Largest allowed difference in pod count between topology domains.'),
  topologyKey: z.string().describe('Node label that defines the topology domain.'),
  whenUnsatisfiable: z.enum(['DoNotSchedule', 'ScheduleAnyway']).describe('What to do when the constraint cannot be met.'),
  labelSelector: labelSelector.optional().describe("Pods counted for the spread (default: the workload's own pods)."),
  minDomains: z.int32().min(1).optional().describe('Minimum number of eligible domains.'),
});

export const probeTimings = z.object({
  initialDelaySeconds: z.int32().min(0).optional().describe('Seconds after start before the first probe.'),
  timeoutSeconds: z.int32().min(1).optional().describe('Seconds after which a probe times out.'),
  periodSeconds: z.int32().min(1).optional().describe('Seconds between probes.'),
  successThreshold: z.int32().min(1).optional().describe('Consecutive successes needed to count as healthy.'),
  failureThreshold: z.int32().min(1).optional().describe('Consecutive failures before the probe fails.'),
});

export const podDNSConfig = z.object({
  nameservers: z.array(z.string()).optional().describe('DNS server IPs.'),
  searches: z.array(z.string()).optional().describe('DNS search domains.'),
  options: z
    .array(
      z.object({
        name: z.string().describe('Resolver option name, e.g. ndots.'),
        value: z.string().optional().describe('Resolver option value.'),
      }),
    )
    .optional()
    .describe('Resolver options.'),
});

export const dnsPolicy = z.enum(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']);

const networkPolicyPort = z.object({
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional().describe('Protocol (default TCP).'),
  port: z
    .union([z.int32(), z.string().min(1)])
    .meta({ 'x-kubernetes-int-or-string': true })
    .optional()
    .describe('Port number (1-65535) or named port; all ports when omitted.'),
  endPort: z.int32().optional().describe('Last port of a range that starts at port.'),
});

const networkPolicyPeer = z.object({
  podSelector: labelSelector.optional().describe('Pods allowed, in the namespaces selected (default: this namespace).'),
  namespaceSelector: labelSelector.optional().describe('Namespaces allowed, by label.'),
  ipBlock: z
    .object({
      cidr: z.string().describe('Allowed CIDR, e.g. 10.0.0.0/8.'),
      except: z.array(z.string()).optional().describe('CIDRs inside cidr that are not allowed.'),
    })
    .optional()
    .describe('An IP range.'),
});

export const networkPolicyIngressRule = z.object({
  from: z.array(networkPolicyPeer).optional().describe('Sources allowed; any source when omitted.'),
  ports: z.array(networkPolicyPort).optional().describe('Ports allowed; all ports when omitted.'),
});

export const networkPolicyEgressRule = z.object({
  to: z.array(networkPolicyPeer).optional().describe('Destinations allowed; any destination when omitted.'),
  ports: z.array(networkPolicyPort).optional().describe('Ports allowed; all ports when omitted.'),
});

/** The standard metav1.Condition. */
export const condition = z.object({
  type: z.string().describe('Condition type: Ready, Progressing, Paused, Degraded.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
  reason: z.string().optional().describe('Machine-readable CamelCase reason for the last transition.'),
  message: z.string().optional().describe('Human-readable details.'),
  lastTransitionTime: z.string().optional().describe('When the status last changed (RFC 3339).'),
  observedGeneration: z.int().optional().describe('The .metadata.generation the condition was computed from.'),
});

export const conditions = () =>
  z
    .array(condition)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
    .describe('Standard Kubernetes conditions.');
