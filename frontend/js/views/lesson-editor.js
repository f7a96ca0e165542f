/**
 * The lesson editor: the lesson's title and its slides in order, each with
 * its title, note (and the note's preview), quiz mark, and buttons to open,
 * move and delete it; and the lesson's own actions: add the current trace,
 * the built-in examples as a lesson, open a file or a link, download, share,
 * present. Renders from the state; every change goes back as an intent.
 */

import { MAX_NOTE, MAX_TITLE } from '../lesson.js';
import { renderNote } from '../markdown.js';

function button(doc, text, onClick, title = '') {
  const b = doc.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

export class LessonEditor {
  /**
   * `intents`: title(text), edit(i, patch), move(i, j), remove(i), open(i),
   * add(), examples(), file(text), link(text), download(), html(), share(), present(), close().
   */
  constructor(root, intents) {
    this.root = root;
    this.intents = intents;
    const doc = root.ownerDocument;
    this.doc = doc;
    const bar = doc.createElement('div');
    bar.className = 'lesson-bar';
    const titleLabel = doc.createElement('label');
    titleLabel.className = 'lesson-title-field';
    titleLabel.textContent = 'Lesson title ';
    this.titleInput = doc.createElement('input');
    this.titleInput.type = 'text';
    this.titleInput.maxLength = MAX_TITLE;
    this.titleInput.addEventListener('input', () => intents.title(this.titleInput.value));
    titleLabel.appendChild(this.titleInput);

    const fileLabel = doc.createElement('label');
    fileLabel.className = 'lesson-file button-like';
    fileLabel.textContent = 'Open file…';
    this.fileInput = doc.createElement('input');
    this.fileInput.type = 'file';
    this.fileInput.accept = '.json,application/json';
    this.fileInput.addEventListener('change', async () => {
      const file = this.fileInput.files && this.fileInput.files[0];
      if (file) intents.file(await file.text());
      this.fileInput.value = '';
    });
    fileLabel.appendChild(this.fileInput);

    const linkForm = doc.createElement('form');
    linkForm.className = 'lesson-link-form';
    this.linkInput = doc.createElement('input');
    this.linkInput.type = 'text';
    this.linkInput.placeholder = 'a lesson link or id';
    this.linkInput.setAttribute('aria-label', 'Lesson link');
    const linkButton = doc.createElement('button');
    linkButton.type = 'submit';
    linkButton.textContent = 'Open link';
    linkForm.append(this.linkInput, linkButton);
    linkForm.addEventListener('submit', (event) => {
      event.preventDefault();
      intents.link(this.linkInput.value);
    });

    this.addButton = button(doc, 'Add slide', () => intents.add(), 'Add the expression, values and step shown now as a slide');
    this.downloadButton = button(doc, 'Download', () => intents.download(), 'Save the lesson as a .lesson.json file');
    this.shareButton = button(doc, 'Share link', () => intents.share(), 'Store the lesson on the server and get its short link');
    this.htmlButton = button(doc, 'Lesson as HTML', () => intents.html(), 'Download one HTML file that runs the lesson offline, for a course website');
    this.presentButton = button(doc, 'Present', () => intents.present(), 'Run the lesson full screen from the slide open now (after Escape, the class goes on where it was) (P)');
    bar.append(
      titleLabel,
      this.addButton,
      button(doc, 'Examples as a lesson', () => intents.examples(), 'Start from the built-in examples, one slide each'),
      fileLabel,
      linkForm,
      this.downloadButton,
      this.htmlButton,
      this.shareButton,
      this.presentButton,
      button(doc, 'Close', () => intents.close()),
    );
    this.message = doc.createElement('p');
    this.message.className = 'lesson-message';
    this.message.setAttribute('role', 'status');
    this.slides = doc.createElement('ol');
    this.slides.className = 'lesson-slides';
    this.slides.setAttribute('aria-label', 'Slides');
    root.append(bar, this.message, this.slides);
    this.rows = [];
    this.signature = null;
  }

  /** Show `state.lesson` (or an empty lesson), `state.slide`, and `message` ({text, error}). */
  render(state, message) {
    this.root.hidden = !state.editing;
    if (!state.editing) return;
    const lesson = state.lesson;
    const slides = lesson ? lesson.slides : [];
    if (this.doc.activeElement !== this.titleInput) this.titleInput.value = lesson ? lesson.title : '';
    this.message.textContent = message ? message.text : '';
    this.message.classList.toggle('is-error', Boolean(message && message.error));
    const empty = !slides.length;
    this.downloadButton.disabled = empty;
    this.shareButton.disabled = empty;
    this.htmlButton.disabled = empty;
    this.presentButton.disabled = empty;
    // Rows are rebuilt when slides come, go or move; typing only patches them.
    const signature = slides.map((s) => `${s.expression}\u0000${JSON.stringify(s.values)}`).join('\u0001');
    if (signature !== this.signature) {
      this.slides.replaceChildren(...slides.map((_, i) => this.row(i, slides.length)));
      this.signature = signature;
    }
    slides.forEach((slide, i) => {
      const row = this.rows[i];
      if (this.doc.activeElement !== row.title) row.title.value = slide.title;
      if (this.doc.activeElement !== row.note) row.note.value = slide.note;
      row.quiz.checked = slide.quiz;
      row.li.classList.toggle('is-current', state.lesson && i === state.slide && state.slideOpen);
      if (row.previewed !== slide.note) {
        row.preview.replaceChildren(renderNote(this.doc, slide.note));
        row.previewed = slide.note;
      }
    });
  }

  row(i, count) {
    const doc = this.doc;
    const li = doc.createElement('li');
    li.className = 'lesson-slide';
    li.dataset.index = String(i);
    const title = doc.createElement('input');
    title.type = 'text';
    title.maxLength = MAX_TITLE;
    title.className = 'slide-title-input';
    title.setAttribute('aria-label', `Slide ${i + 1} title`);
    title.addEventListener('input', () => this.intents.edit(i, { title: title.value }));
    const note = doc.createElement('textarea');
    note.rows = 2;
    note.maxLength = MAX_NOTE;
    note.className = 'slide-note-input';
    note.setAttribute('aria-label', `Slide ${i + 1} note`);
    note.placeholder = 'A note: **bold**, *italic*, `code`, lines starting with "- "';
    note.addEventListener('input', () => this.intents.edit(i, { note: note.value }));
    const quizLabel = doc.createElement('label');
    quizLabel.className = 'checkbox';
    const quiz = doc.createElement('input');
    quiz.type = 'checkbox';
    quiz.setAttribute('aria-label', `Slide ${i + 1} is a quiz`);
    quiz.addEventListener('change', () => this.intents.edit(i, { quiz: quiz.checked }));
    quizLabel.append(quiz, doc.createTextNode(' quiz'));
    const tools = doc.createElement('span');
    tools.className = 'slide-tools';
    const up = button(doc, '↑', () => this.intents.move(i, i - 1), 'Move up');
    up.setAttribute('aria-label', `Move slide ${i + 1} up`);
    up.disabled = i === 0;
    const down = button(doc, '↓', () => this.intents.move(i, i + 1), 'Move down');
    down.setAttribute('aria-label', `Move slide ${i + 1} down`);
    down.disabled = i === count - 1;
    const open = button(doc, 'Open', () => this.intents.open(i), 'Show this slide');
    open.setAttribute('aria-label', `Open slide ${i + 1}`);
    const remove = button(doc, 'Delete', () => this.intents.remove(i));
    remove.setAttribute('aria-label', `Delete slide ${i + 1}`);
    tools.append(open, up, down, remove, quizLabel);
    const preview = doc.createElement('div');
    preview.className = 'slide-note-preview';
    preview.setAttribute('aria-label', `Slide ${i + 1} note preview`);
    const number = doc.createElement('span');
    number.className = 'slide-number';
    number.textContent = String(i + 1);
    li.append(number, title, tools, note, preview);
    this.rows[i] = { li, title, note, quiz, preview, previewed: null };
    this.rows.length = count;
    return li;
  }
}
