/**
 * The page's side of the layout worker (layout-worker.js): it sends the
 * graph a layout request measured (see layoutRequest in layout.js) and
 * answers a promise of its positions. Several may be on their way at once
 * (presenting compares two layouts); each answer finds its own by id.
 */

export class LayoutWorker {
  constructor(url = new URL('./layout-worker.js', import.meta.url)) {
    this.waiting = new Map();
    this.sent = 0;
    this.failure = null;
    this.worker = new Worker(url, { type: 'module' });
    this.worker.addEventListener('message', (event) => {
      const { id, positions, error } = event.data;
      const job = this.waiting.get(id);
      if (!job) return;
      this.waiting.delete(id);
      if (error === undefined) job.resolve(positions);
      else job.reject(new Error(`the graph could not be laid out: ${error}`));
    });
    // The worker's module failed to load or threw outside a message: nothing it was asked will come back.
    this.worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.failure = new Error('the graph could not be laid out: the layout worker failed');
      for (const job of this.waiting.values()) job.reject(this.failure);
      this.waiting.clear();
    });
  }

  /** The positions of a graph's boxes and wires (see positionGraph in layout.js). */
  position(graph) {
    if (this.failure) return Promise.reject(this.failure);
    this.sent += 1;
    const id = this.sent;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, graph });
    });
  }
}
