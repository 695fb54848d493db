// CRD conversion between spice.ai/v1 (SpicepodSet), v1alpha1 (SpicepodCluster)
// and v2 (both): a pure function behind a ConversionReview fetch handler. The
// handlers never see v2: the operator reads the storage versions.
export { convertObject, keptAnnotation, ConversionError, KINDS, HUB_VERSION, type KubeObject } from '../../core/conversion/convert.ts';
export { answerConversionReview, createConversionHandler, CONVERT_PATH, type ConversionAnswer, type ConversionOutcome } from './review.ts';
export { splitRepository, joinRepository } from '../../core/conversion/spec-rules.ts';
export { rfc3339, epochSeconds } from '../../core/conversion/status-rules.ts';
