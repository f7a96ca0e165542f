/**
 * A slide note's small Markdown subset (docs/lessons.md): paragraphs, line
 * breaks, **bold**, *italic*, `code` and "- " lists. `parseNote` is pure;
 * `renderNote` builds the DOM nodes from that tree with createElement and
 * textContent only, so a note can never carry markup, a link or a script.
 */

/**
 * The blocks of a note: [{type: 'p', lines: [spans]}, {type: 'ul', items: [spans]}],
 * where spans are [{type: 'text' | 'strong' | 'em' | 'code', text}].
 */
export function parseNote(text) {
  const blocks = [];
  let paragraph = null;
  let list = null;
  for (const raw of String(text ?? '').replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim()) {
      paragraph = null;
      list = null;
      continue;
    }
    const item = /^\s*[-*] (.*)$/.exec(line);
    if (item) {
      paragraph = null;
      if (!list) {
        list = { type: 'ul', items: [] };
        blocks.push(list);
      }
      list.items.push(parseInline(item[1]));
      continue;
    }
    list = null;
    if (!paragraph) {
      paragraph = { type: 'p', lines: [] };
      blocks.push(paragraph);
    }
    paragraph.lines.push(parseInline(line.trim()));
  }
  return blocks;
}

/** The spans of one line: code first (its inside is literal), then bold, then italic. */
export function parseInline(line) {
  const spans = [];
  const push = (type, text) => {
    if (!text) return;
    const last = spans[spans.length - 1];
    if (type === 'text' && last && last.type === 'text') last.text += text;
    else spans.push({ type, text });
  };
  const pattern = /`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s](?:[^*]*[^*\s])?)\*/g;
  let at = 0;
  for (const m of line.matchAll(pattern)) {
    push('text', line.slice(at, m.index));
    if (m[1] !== undefined) push('code', m[1]);
    else if (m[2] !== undefined) push('strong', m[2]);
    else push('em', m[3]);
    at = m.index + m[0].length;
  }
  push('text', line.slice(at));
  return spans;
}

const TAGS = { strong: 'strong', em: 'em', code: 'code' };

function appendSpans(doc, parent, spans) {
  for (const span of spans) {
    if (span.type === 'text') {
      parent.appendChild(doc.createTextNode(span.text));
    } else {
      const el = doc.createElement(TAGS[span.type]);
      el.textContent = span.text;
      parent.appendChild(el);
    }
  }
}

/** The note as a DocumentFragment of <p> and <ul> elements, built from text nodes. */
export function renderNote(doc, text) {
  const fragment = doc.createDocumentFragment();
  for (const block of parseNote(text)) {
    if (block.type === 'p') {
      const p = doc.createElement('p');
      block.lines.forEach((spans, i) => {
        if (i > 0) p.appendChild(doc.createElement('br'));
        appendSpans(doc, p, spans);
      });
      fragment.appendChild(p);
    } else {
      const ul = doc.createElement('ul');
      for (const spans of block.items) {
        const li = doc.createElement('li');
        appendSpans(doc, li, spans);
        ul.appendChild(li);
      }
      fragment.appendChild(ul);
    }
  }
  return fragment;
}

/** The note as plain text (for a slide list's preview or a title attribute). */
export function noteText(text) {
  return parseNote(text)
    .map((block) =>
      block.type === 'p'
        ? block.lines.map((spans) => spans.map((s) => s.text).join('')).join(' ')
        : block.items.map((spans) => `• ${spans.map((s) => s.text).join('')}`).join(' '),
    )
    .join(' ');
}
