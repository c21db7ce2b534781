/**
 * The longest `flotilla serve` drains after SIGTERM (answering what it accepted, then unloading its
 * models) before it exits anyway, in seconds. A rendered pod's terminationGracePeriodSeconds must be
 * longer than this, so the kubelet's SIGKILL never cuts a drain short: render takes it from here.
 */
export const DRAIN_LIMIT_S = 30;
