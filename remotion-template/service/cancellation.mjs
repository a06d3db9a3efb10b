// The requests under way, and the cancelling of one. A cancel may arrive before the request has a
// canceller (it is still selecting the composition): it is remembered, and the request cancels
// itself as soon as it makes one.

// `makeCancelSignal`: Remotion's (renderer.makeCancelSignal), {cancelSignal, cancel}.
export const cancellation = (makeCancelSignal) => {
  const cancellers = new Map(); // id -> cancel()
  const cancelled = new Set();
  const running = new Set();

  return {
    started: (id) => running.add(id),
    ended: (id) => {
      running.delete(id);
      cancellers.delete(id);
      cancelled.delete(id);
    },
    // A cancel signal for request `id`'s Remotion calls (already cancelled if a cancel came first).
    signal: (id) => {
      const {cancelSignal, cancel} = makeCancelSignal();
      cancellers.set(id, cancel);
      if (cancelled.has(id)) cancel();
      return cancelSignal;
    },
    isCancelled: (id) => cancelled.has(id),
    // Whether `target` was running, and so is now cancelled.
    cancel: (target) => {
      if (!running.has(target)) return false;
      cancelled.add(target);
      cancellers.get(target)?.();
      return true;
    },
  };
};
