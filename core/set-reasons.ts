// Reasons a SpicepodSet's status carries that more than one handler reads:
// the workloads handler writes them, the cluster handler passes them on for
// its child sets, and the status API reports them. One home, so a reader
// cannot drift from the writer.

/** status.pauseReason and Paused reason: the spec asks for replicas: 0 (supporting objects are kept). */
export const PAUSE_SCALED = 'ScaledToZero';
/** status.pauseReason and Paused reason: crashloop protection scaled the set to zero until it is resumed. */
export const PAUSE_CRASHLOOPING = 'CrashLooping';
/** Ready=False: the spec cannot be acted on; the message names each field; nothing is written. */
export const REASON_INVALID_SPEC = 'InvalidSpec';
/** Ready=False: the API server refused to write a child object; the message is the server's. */
export const REASON_CHILD_REFUSED = 'ChildRefused';
/** Ready=False: the cluster refuses to create the pods (Pod Security, a quota, a webhook), in the controllers' words. */
export const REASON_PODS_REFUSED = 'PodsRefused';
