/**
 * What By hand, Slope and Check say for a program whose output is a vector.
 * Each of them starts from one number (a gradient, a slope, a check of a
 * gradient), and a vector output has none: backpropagation starts from one
 * number. The view says so in the output's own name and offers the Jacobian
 * (All at once), where every output element gets its own backward pass.
 * Owns no state; the one intent is to open the Jacobian. Text via textContent only.
 */

import { shapeText } from '../format.js';
import { node as el } from '../render/panel.js';
import { displayName } from '../steps.js';

/** The note in place of the view's content; `title` is the view's name ("By hand"). */
export function renderNeedsOneNumber(container, model, title, intents) {
  container.replaceChildren();
  const wrap = el('section', 'one-number-view');
  wrap.setAttribute('aria-label', title);
  const out = model.nodeById.get(model.output);
  const name = out ? displayName(out) : 'the output';
  const shape = out && out.shape ? out.shape : [];
  const count = shape.reduce((a, b) => a * b, 1);
  wrap.append(el('h2', 'panel-head', title));
  wrap.append(el('p', 'note', `${name} holds ${count} numbers (${shapeText(shape)}), not one. ${title} starts from a one-number output, as backpropagation does.`));
  wrap.append(el('p', 'note', `Its whole Jacobian, one backward pass per element of ${name} (or one forward pass per input element), is under All at once; or wrap the output in sum(...) to trace one number.`));
  const open = el('button', 'one-number-open', 'Open the Jacobian');
  open.type = 'button';
  open.addEventListener('click', () => intents.openJacobian());
  wrap.append(open);
  container.append(wrap);
}
