// Volumes of the spiced pods beyond the Spicepod: PersistentVolumeClaim
// templates (one claim per replica each) and the spiced container's mounts of
// them. spice.ai/v2 names them volumeClaimTemplates[] and volumeMounts (facts
// §1.6, §10.4: "the template named data (the name defaults to data) is
// auto-mounted at /data with no volumeMounts entry required; any other
// template must be paired with an explicit volumeMounts entry of the same
// name"). v1 and v1alpha1 carry the same two fields as the storage form of
// v2's, next to their older `volume`, which is the template data alone.
import { z } from 'zod';
import { labelSelector, quantity, stringMap } from './kubernetes.ts';

/** The volumeClaimTemplate mounted at /data without a volumeMounts entry. */
export const DATA_VOLUME = 'data';
export const DATA_MOUNT_PATH = '/data';
export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;
/** Bounds that keep the CRD's CEL rules (pairs of entries) within the API server's cost budget. */
export const MAX_CLAIM_TEMPLATES = 16;
export const MAX_VOLUME_MOUNTS = 32;
/** A template's name is a pod volume name: a DNS-1123 label (Kubernetes' ValidateVolumes). */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A template's name as the operator reads it: data when not given. */
export const CEL_TEMPLATE_NAME = (v: string) => `(has(${v}.metadata) && has(${v}.metadata.name) ? ${v}.metadata.name : '${DATA_VOLUME}')`;

export const pvcResources = z
  .object({
    requests: z
      .record(z.string(), quantity())
      .optional()
      .describe('Minimum resources, e.g. storage: 10Gi (default 1Gi). Raising storage resizes existing claims; lowering it has no effect.'),
    limits: z.record(z.string(), quantity()).optional().describe('Maximum resources.'),
  })
  .describe('Resources of the claim.');

export const volumeClaimTemplate = z
  .object({
    metadata: z
      .object({
        name: z
          .string()
          .max(63)
          .regex(DNS1123_LABEL, 'must be a DNS-1123 label (lower case letters, digits and -), as a pod volume name is')
          .optional()
          .describe(
            `Name of the claim template and of its volume, a DNS-1123 label (default ${DATA_VOLUME}). Claims are named <name>-<statefulset>-0.`,
          ),
        labels: stringMap('Labels of the claims (the operator adds spice.ai/app).').optional(),
        annotations: stringMap('Annotations of the claims.').optional(),
      })
      .optional()
      .describe('Name, labels and annotations of the claims.'),
    spec: z
      .object({
        accessModes: z.array(z.enum(ACCESS_MODES)).optional().describe('Access modes of the volume (default ReadWriteOnce).'),
        storageClassName: z.string().optional().describe('StorageClass of the claims (default: the cluster default).'),
        resources: pvcResources.optional(),
        volumeMode: z.enum(['Filesystem', 'Block']).optional().describe('Filesystem (default) or Block.'),
        selector: labelSelector.optional().describe('Labels of the PersistentVolumes the claims may bind to.'),
        volumeName: z.string().optional().describe('A PersistentVolume to bind to.'),
      })
      .describe('The PersistentVolumeClaim spec.'),
  })
  .describe('A PersistentVolumeClaim template; each replica gets its own claim.');

export const volumeMount = z
  .object({
    name: z
      .string()
      .min(1)
      .describe(
        `Name of the volume to mount: a volumeClaimTemplate (an entry for ${DATA_VOLUME} replaces its mount at ${DATA_MOUNT_PATH}).`,
      ),
    mountPath: z
      .string()
      .min(1)
      .max(1024)
      .describe("Where the volume appears in the spiced container; unique among the container's mounts."),
    subPath: z.string().optional().describe('Sub-path of the volume to mount.'),
    readOnly: z.boolean().optional().describe('Mount read-only.'),
  })
  .describe('A volume mount of the spiced container.');

export const volumeClaimTemplates = () =>
  z
    .array(volumeClaimTemplate)
    .max(MAX_CLAIM_TEMPLATES)
    .meta({
      // No reason: with FieldValueDuplicate the API server prints `Duplicate value: "array"` and drops the message.
      'x-kubernetes-validations': [
        {
          rule: `self.all(t, self.filter(u, ${CEL_TEMPLATE_NAME('u')} == ${CEL_TEMPLATE_NAME('t')}).size() == 1)`,
          message: `volumeClaimTemplates must have unique names (metadata.name, default ${DATA_VOLUME}): each is a volume of the pods`,
        },
      ],
    })
    .describe(
      `PersistentVolumeClaim templates, one claim per replica each; setting any deploys per-replica StatefulSets. The one named ${DATA_VOLUME} is mounted at ${DATA_MOUNT_PATH}; others need a volumeMounts entry of the same name. StatefulSets keep the templates they were created with: a change of storage resizes the existing claims, other changes apply to new StatefulSets only.`,
    );

export const volumeMounts = () =>
  z
    .array(volumeMount)
    .max(MAX_VOLUME_MOUNTS)
    .meta({
      'x-kubernetes-validations': [
        {
          rule: 'self.all(m, self.filter(n, n.mountPath == m.mountPath).size() == 1)',
          message: 'volumeMounts must have unique mountPath values: the container can mount one volume at a path',
        },
      ],
    })
    .describe(
      `Mounts of the spiced container: volumeClaimTemplates other than ${DATA_VOLUME} (which is mounted at ${DATA_MOUNT_PATH} unless an entry names it).`,
    );

/** The fields both v1 (and v1alpha1 nodes) and v2 have, spelled alike. */
export const volumeFields = {
  volumeClaimTemplates: volumeClaimTemplates().optional(),
  volumeMounts: volumeMounts().optional(),
};

export type VolumeClaimTemplate = z.output<typeof volumeClaimTemplate>;
export type VolumeMount = z.output<typeof volumeMount>;

/** A template's name as the operator reads it (data when not given). */
export const templateName = (t: { metadata?: { name?: string } }) => t.metadata?.name ?? DATA_VOLUME;

/** v1 / v1alpha1: `volume` is the template data; both at once would name it twice. */
export const VOLUME_EXCLUSIVE_RULE = {
  rule: '!(has(self.volume) && has(self.volumeClaimTemplates))',
  message: 'set volume or volumeClaimTemplates, not both: volume is the volumeClaimTemplate data',
  fieldPath: '.volumeClaimTemplates',
  reason: 'FieldValueForbidden',
};
