/**
 * The slide view: while a lesson runs, the slide's title, its note (the
 * Markdown subset, built from text nodes), the slide counter, and, when asked
 * for, the QR code and the short link of the slide, large enough to scan from
 * the back of a hall. Renders from the state; owns no state of its own.
 */

import qrcode from '/vendor/qrcode/qrcode.mjs';
import { slideCounter } from '../lesson.js';
import { renderNote } from '../markdown.js';

const SVG = 'http://www.w3.org/2000/svg';
// Four modules of light margin all round: the quiet zone that QR readers expect.
const QUIET = 4;

/** The QR code of `text` as one SVG path of its dark modules (error correction M). */
export function qrSvg(doc, text) {
  const code = qrcode(0, 'M');
  code.addData(text);
  code.make();
  const n = code.getModuleCount();
  const size = n + 2 * QUIET;
  const svg = doc.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `QR code of ${text}`);
  const back = doc.createElementNS(SVG, 'rect');
  back.setAttribute('width', String(size));
  back.setAttribute('height', String(size));
  back.setAttribute('fill', '#fff');
  svg.appendChild(back);
  let d = '';
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < n; c += 1) {
      if (code.isDark(r, c)) d += `M${c + QUIET} ${r + QUIET}h1v1h-1z`;
    }
  }
  const path = doc.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.appendChild(path);
  return svg;
}

export class SlideView {
  /** `root` holds the view; `intents.toggleNote` and `intents.toggleQr` are its buttons'. */
  constructor(root, intents) {
    this.root = root;
    const doc = root.ownerDocument;
    const make = (tag, className, parent = root) => {
      const el = doc.createElement(tag);
      if (className) el.className = className;
      parent.appendChild(el);
      return el;
    };
    this.head = make('div', 'slide-head');
    this.counter = make('span', 'slide-counter', this.head);
    this.counter.setAttribute('aria-label', 'Slide');
    this.title = make('h2', 'slide-title', this.head);
    this.note = make('div', 'slide-note');
    this.qr = make('figure', 'slide-qr');
    this.qr.hidden = true;
    this.qrImage = make('div', 'slide-qr-image', this.qr);
    this.qrLink = make('figcaption', 'slide-qr-link', this.qr);
    this.shown = { note: null, qr: null };
    this.intents = intents;
  }

  /**
   * Show the state's slide: `state.lesson`, `state.slide`, `state.showNote`,
   * `state.showQr`, and `link` (the slide's short link, absolute) when there is one.
   */
  render(state, link) {
    const lesson = state.lesson;
    this.root.hidden = !lesson;
    if (!lesson) return;
    const slide = lesson.slides[state.slide];
    this.counter.textContent = `Slide ${slideCounter(lesson, state.slide)}`;
    this.title.textContent = slide.title;
    this.root.classList.toggle('note-hidden', !state.showNote);
    if (this.shown.note !== slide.note) {
      this.note.replaceChildren(renderNote(this.note.ownerDocument, slide.note));
      this.shown.note = slide.note;
    }
    this.note.hidden = !state.showNote || !slide.note;
    const qrOn = Boolean(state.showQr && link);
    this.qr.hidden = !qrOn;
    if (qrOn && this.shown.qr !== link) {
      this.qrImage.replaceChildren(qrSvg(this.qr.ownerDocument, link));
      // The link as a person reads it off the wall: without the scheme.
      this.qrLink.textContent = link.replace(/^https?:\/\//, '');
      this.qrLink.dataset.link = link;
      this.shown.qr = link;
    }
  }
}
