/**
 * The graph as plain shapes on a canvas: the minimap in the corner, and the
 * whole view when it is zoomed out past readable type on a graph too large
 * for the SVG to draw whole. A node is a rectangle coloured by what the step
 * shown knows of it (nothing yet, its value, its gradient), the current node
 * is orange with a ring that stays visible however small the boxes are, and
 * wires are thin lines. One path per colour, so a frame of 20,000 nodes is a
 * handful of canvas calls.
 */

const COLOURS = {
  wire: 'rgba(92, 92, 92, 0.35)',
  pending: '#d4d4d4',
  value: '#b9d3ec',
  grad: '#f3b99b',
  outline: '#5c5c5c',
  current: '#e69f00',
  ring: '#111111',
  view: '#0072b2',
};

/**
 * The shapes a layout draws as, built once per drawing: each node's box
 * and each wire's points as flat arrays (what a frame's paint reads), and
 * the layout's size.
 */
export function overviewShapes(model, layout) {
  const ids = model.nodes.map((n) => n.id);
  const boxes = new Float64Array(ids.length * 4);
  ids.forEach((id, i) => {
    const b = layout.nodes.get(id);
    boxes.set([b.x - b.width / 2, b.y - b.height / 2, b.width, b.height], i * 4);
  });
  const wires = [];
  for (const e of model.edges) {
    const w = layout.edges.get(e.id);
    if (w) wires.push(w.cut ? [w.points[0], w.points[1], null, w.points[2], w.points[3]] : w.points);
  }
  return { ids, boxes, wires, width: layout.width, height: layout.height };
}

/**
 * Paint `shapes` into a 2D context. `t` maps the layout to the canvas:
 * canvas = (layout - t.x) * t.k. `states` is the frame's map of node
 * states (value, grad, current), or null before the first step. The nodes
 * of closed groups in `hidden` are not painted, and `lit` (a closed group's
 * box, when the step is inside it) is painted as the current node.
 */
export function paintShapes(ctx, shapes, states, t, { wires = true, view = null, hidden = null, lit = null } = {}) {
  const { width, height } = ctx.canvas;
  ctx.clearRect(0, 0, width, height);
  const { k } = t;
  const X = (x) => (x - t.x) * k;
  const Y = (y) => (y - t.y) * k;
  if (wires && k > 0.004) {
    ctx.beginPath();
    for (const points of shapes.wires) {
      let move = true;
      for (const p of points) {
        if (p === null) {
          move = true;
          continue;
        }
        if (move) ctx.moveTo(X(p.x), Y(p.y));
        else ctx.lineTo(X(p.x), Y(p.y));
        move = false;
      }
    }
    ctx.strokeStyle = COLOURS.wire;
    ctx.lineWidth = 1;
    ctx.stroke();
  }
  const paths = { pending: new Path2D(), value: new Path2D(), grad: new Path2D() };
  let current = null;
  const { ids, boxes } = shapes;
  for (let i = 0; i < ids.length; i += 1) {
    const x = X(boxes[i * 4]);
    const y = Y(boxes[i * 4 + 1]);
    const w = Math.max(1, boxes[i * 4 + 2] * k);
    const h = Math.max(1, boxes[i * 4 + 3] * k);
    if (x > width || y > height || x + w < 0 || y + h < 0) continue;
    if (hidden && hidden.has(ids[i])) continue;
    const s = states ? states.get(ids[i]) : null;
    if ((s && s.current) || ids[i] === lit) current = [x, y, w, h];
    const kind = s && s.grad ? 'grad' : s && s.value ? 'value' : 'pending';
    paths[kind].rect(x, y, w, h);
  }
  for (const kind of ['pending', 'value', 'grad']) {
    ctx.fillStyle = COLOURS[kind];
    ctx.fill(paths[kind]);
    if (k > 0.08) {
      ctx.strokeStyle = COLOURS.outline;
      ctx.lineWidth = 1;
      ctx.stroke(paths[kind]);
    }
  }
  if (current) {
    const [x, y, w, h] = current;
    ctx.fillStyle = COLOURS.current;
    ctx.fillRect(x, y, w, h);
    // However small the boxes, the current node is found by its ring.
    ctx.strokeStyle = COLOURS.ring;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(x + w / 2, y + h / 2, Math.max(w, h) / 2 + 5, 0, 2 * Math.PI);
    ctx.stroke();
  }
  if (view) {
    ctx.strokeStyle = COLOURS.view;
    ctx.lineWidth = 2;
    ctx.strokeRect(X(view.x), Y(view.y), Math.max(4, view.w * k), Math.max(4, view.h * k));
  }
}

/** The transform that shows a whole layout of `width` x `height` in a canvas, centred. */
export function wholeTransform(width, height, cw, ch, pad = 4) {
  const k = Math.min((cw - 2 * pad) / Math.max(1, width), (ch - 2 * pad) / Math.max(1, height));
  return { k, x: -((cw / k - width) / 2), y: -((ch / k - height) / 2) };
}
