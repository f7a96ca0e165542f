/**
 * The layout's worker: dagre positions a trace's boxes here, off the page's
 * thread, so the page answers keys and typing while a large graph is laid
 * out. A message is {id, graph} (see layoutRequest in layout.js); the answer
 * is {id, positions}, or {id, error} when the layout failed.
 */

import dagre from '/vendor/dagre/dagre.esm.js';
import { positionGraph } from './layout.js';

self.addEventListener('message', (event) => {
  const { id, graph } = event.data;
  try {
    self.postMessage({ id, positions: positionGraph(graph, dagre) });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
});
