/**
 * The picker of one number of a program: a menu of its variables (a
 * tensor's with its shape) and, for a tensor, a menu of its elements in
 * row-major order. The Slope view moves the number picked; All at once seeds
 * a forward-mode pass at it. Labels through textContent only.
 */

import { shapeText, sizeOf } from '../format.js';
import { elementName } from '../modes.js';
import { node as el } from './panel.js';

// A tensor larger than this offers its first elements only: a menu is not a table.
const MAX_ELEMENTS = 256;

/**
 * variables: [{name, shape}]; chosen: {of, element}; words: {lead, name, element} (the lead
 * text and the two menus' accessible names); intents: {pick(name), element(k)}.
 */
export function numberPicker(className, variables, chosen, words, intents) {
  const pick = el('div', className);
  const label = el('label');
  label.append(el('span', null, words.lead));
  const select = el('select');
  select.setAttribute('aria-label', words.name);
  for (const v of variables) {
    const option = el('option', null, v.shape.length ? `${v.name} (${shapeText(v.shape)})` : v.name);
    option.value = v.name;
    option.selected = v.name === chosen.of;
    select.append(option);
  }
  select.addEventListener('change', () => intents.pick(select.value));
  label.append(select);
  pick.append(label);
  const variable = variables.find((v) => v.name === chosen.of);
  if (variable && variable.shape.length) {
    // A tensor moves (or is seeded) one element at a time.
    const elementLabel = el('label');
    elementLabel.append(el('span', null, ' element '));
    const elements = el('select');
    elements.setAttribute('aria-label', words.element);
    for (let k = 0; k < Math.min(sizeOf(variable.shape), MAX_ELEMENTS); k += 1) {
      const option = el('option', null, elementName('', variable.shape, k));
      option.value = String(k);
      option.selected = k === chosen.element;
      elements.append(option);
    }
    elements.addEventListener('change', () => intents.element(Number(elements.value)));
    elementLabel.append(elements);
    pick.append(elementLabel);
  }
  return pick;
}
