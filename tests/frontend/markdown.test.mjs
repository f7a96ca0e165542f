import test from 'node:test';
import assert from 'node:assert/strict';
import { noteText, parseInline, parseNote, renderNote } from '../../frontend/js/markdown.js';

// A document of plain objects: enough to see what renderNote builds, and proof
// that it only ever creates elements and text nodes.
function fakeDocument() {
  const node = (tag) => ({
    tag,
    children: [],
    text: '',
    appendChild(child) {
      this.children.push(child);
      return child;
    },
    set textContent(value) {
      this.children = [{ tag: '#text', text: String(value), children: [] }];
    },
  });
  return {
    createElement: (tag) => node(tag),
    createTextNode: (text) => ({ tag: '#text', text, children: [] }),
    createDocumentFragment: () => node('#fragment'),
  };
}

const shape = (n) => (n.tag === '#text' ? n.text : { [n.tag]: n.children.map(shape) });

test('paragraphs split on blank lines; a single newline is a line break', () => {
  const blocks = parseNote('one\ntwo\n\nthree');
  assert.equal(blocks.length, 2);
  assert.deepEqual(blocks[0].lines.map((l) => l[0].text), ['one', 'two']);
  assert.deepEqual(shape(renderNote(fakeDocument(), 'one\ntwo\n\nthree')), {
    '#fragment': [{ p: ['one', { br: [] }, 'two'] }, { p: ['three'] }],
  });
});

test('bold, italic and code spans; the inside of code is literal', () => {
  assert.deepEqual(parseInline('a **b** *c* `d*e*` f'), [
    { type: 'text', text: 'a ' },
    { type: 'strong', text: 'b' },
    { type: 'text', text: ' ' },
    { type: 'em', text: 'c' },
    { type: 'text', text: ' ' },
    { type: 'code', text: 'd*e*' },
    { type: 'text', text: ' f' },
  ]);
  // A lone star (x * y) is text, not the start of italics.
  assert.deepEqual(parseInline('x * y * z'), [{ type: 'text', text: 'x * y * z' }]);
});

test('lines starting with "- " make one list', () => {
  const tree = shape(renderNote(fakeDocument(), 'Rules:\n- `+` distributes\n- **max** routes\n\nEnd'));
  assert.deepEqual(tree, {
    '#fragment': [
      { p: ['Rules:'] },
      { ul: [{ li: [{ code: ['+'] }, ' distributes'] }, { li: [{ strong: ['max'] }, ' routes'] }] },
      { p: ['End'] },
    ],
  });
});

test('markup in a note stays text: no element but p, br, ul, li, strong, em, code is ever made', () => {
  const made = new Set();
  const doc = fakeDocument();
  const create = doc.createElement;
  doc.createElement = (tag) => {
    made.add(tag);
    return create(tag);
  };
  const note = '<script>alert(1)</script> [link](javascript:alert(1)) <img src=x onerror=alert(1)>\n# heading\n- **<b>bold</b>**';
  const tree = shape(renderNote(doc, note));
  assert.ok([...made].every((tag) => ['p', 'br', 'ul', 'li', 'strong', 'em', 'code'].includes(tag)), [...made].join());
  assert.equal(tree['#fragment'][0].p[0], '<script>alert(1)</script> [link](javascript:alert(1)) <img src=x onerror=alert(1)>');
  assert.deepEqual(tree['#fragment'][1], { ul: [{ li: [{ strong: ['<b>bold</b>'] }] }] });
});

test('the plain text of a note, for previews', () => {
  assert.equal(noteText('At **4**: 48\n\n- one\n- two'), 'At 4: 48 • one • two');
  assert.equal(noteText(''), '');
});
