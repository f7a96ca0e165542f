/**
 * Build the page for the Python package: esbuild bundles what index.html
 * loads (its module scripts and style sheets, dagre and KaTeX with its fonts)
 * into files with content hashes in their names, and writes a manifest.
 * It also writes the standalone player: one script and one style sheet
 * (KaTeX's fonts inlined as data URLs) that gradtrace inlines into a single
 * offline HTML file, and the template of that file.
 *
 *     node build.mjs [--out DIR]      (default: dist/)
 *
 * Output, all under DIR:
 *   index.html                 the page shell, its links pointing at assets/
 *   assets/NAME-HASH.EXT       the bundles and fonts (immutable: the hash is the content's)
 *   vendor/swagger-ui/         the files the OpenAPI page loads
 *   standalone.html            the offline file's template (jinja2)
 *   standalone.js, .css        what that template inlines
 *   manifest.json              source path -> built file, and the standalone's parts
 */

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, 'node_modules');

// The URL prefixes the page loads from, as the server mounts them (vendor.json, read by api/app.py too).
const MOUNTS = [
  ['/static/', here],
  ...Object.entries(JSON.parse(readFileSync(join(here, 'vendor.json'), 'utf8'))).map(([url, dir]) => [`${url}/`, join(modules, dir)]),
];
const SWAGGER_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

function fileOfUrl(url) {
  for (const [prefix, dir] of MOUNTS) if (url.startsWith(prefix)) return join(dir, url.slice(prefix.length));
  throw new Error(`build.mjs: no file for the URL ${url}`);
}

/** The page's absolute imports (/vendor/..., /static/...) resolve to the files the server would send. */
const serverPaths = {
  name: 'server-paths',
  setup(build) {
    build.onResolve({ filter: /^\/(vendor|static)\// }, (args) => ({ path: fileOfUrl(args.path) }));
  },
};

/**
 * For the one offline file: keep only the woff2 source of each KaTeX font
 * (every browser that runs the page reads woff2), so each font is inlined
 * once rather than three times.
 */
const woff2Only = {
  name: 'woff2-only',
  setup(build) {
    build.onLoad({ filter: /katex(\.min)?\.css$/ }, (args) => {
      const css = readFileSync(args.path, 'utf8').replace(/,\s*url\([^)]*\.(woff|ttf)\)\s*format\("(woff|truetype)"\)/g, '');
      return { contents: css, loader: 'css', resolveDir: dirname(args.path) };
    });
  },
};

// How the page starts a worker: new Worker(new URL('./NAME-worker.js', import.meta.url), ...).
const WORKER_URL = /new URL\(\s*['"]\.\/([\w-]+-worker\.js)['"]\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Point the page's worker URLs at the built workers: `served` maps a worker's
 * file name to its hashed name (the main bundle's hash then changes with the
 * worker's); `inline` maps it to its bundled code, started from a blob URL,
 * since a file:// page or a notebook's sandboxed frame cannot load a worker
 * from a file. There the worker is a classic script (its code bundled as one
 * IIFE): Chromium does not start a module worker from a blob URL of a file://
 * page, whose origin is opaque.
 */
function workerUrls({ served = null, inline = null }) {
  return {
    name: 'worker-urls',
    setup(build) {
      build.onLoad({ filter: /[\\/]js[\\/].*\.js$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        let contents = source.replace(WORKER_URL, (_, file) => {
          if (served) return `new URL(${JSON.stringify(`./${basename(served[file])}`)}, import.meta.url)`;
          return `URL.createObjectURL(new Blob([${JSON.stringify(inline[file])}], { type: 'text/javascript' }))`;
        });
        if (contents === source) return undefined;
        if (inline) contents = contents.replace(/type:\s*['"]module['"]/g, "type: 'classic'");
        return { contents, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

function parseArgs(argv) {
  const out = { out: join(here, 'dist') };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--out') out.out = resolve(argv[++i]);
    else throw new Error(`build.mjs: unknown argument ${argv[i]}`);
  }
  return out;
}

const SCRIPT_TAG = /<script type="module" src="([^"]+)"><\/script>/g;
const STYLE_TAG = /<link rel="stylesheet" href="([^"]+)">/g;

async function main() {
  const { out } = parseArgs(process.argv.slice(2));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const shell = readFileSync(join(here, 'index.html'), 'utf8');
  const scripts = [...shell.matchAll(SCRIPT_TAG)].map((m) => m[1]);
  const styles = [...shell.matchAll(STYLE_TAG)].map((m) => m[1]);
  if (!scripts.length) throw new Error('build.mjs: index.html loads no module script');
  // Workers are entries of their own: the page starts them by URL.
  const workers = readdirSync(join(here, 'js')).filter((f) => f.endsWith('-worker.js')).map((f) => `/static/js/${f}`);

  // -- the served page: hashed files under assets/ (workers first: the page names them) --
  const common = { bundle: true, format: 'esm', minify: true, target: 'es2020', preserveSymlinks: true, logLevel: 'warning' };
  const manifest = { files: {}, standalone: {} };
  const record = (result) => {
    for (const [file, meta] of Object.entries(result.metafile.outputs)) {
      if (!meta.entryPoint) continue;
      manifest.files[relative(here, resolve(meta.entryPoint))] = relative(out, resolve(file));
    }
  };
  const hashed = {
    ...common,
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file' },
    metafile: true,
  };
  const workerFiles = {};
  const workerCode = {};
  if (workers.length) {
    record(await esbuild.build({ ...hashed, entryPoints: workers.map(fileOfUrl), plugins: [serverPaths] }));
    const inline = await esbuild.build({
      ...common,
      format: 'iife',
      entryPoints: workers.map(fileOfUrl),
      write: false,
      outdir: out,
      plugins: [serverPaths],
    });
    for (const url of workers) {
      const file = basename(url);
      workerFiles[file] = manifest.files[relative(here, fileOfUrl(url))];
      workerCode[file] = inline.outputFiles.find((f) => basename(f.path) === file).text;
    }
  }
  record(await esbuild.build({
    ...hashed,
    entryPoints: [...scripts, ...styles].map(fileOfUrl),
    plugins: [serverPaths, workerUrls({ served: workerFiles })],
  }));
  const builtUrl = (url) => {
    const source = relative(here, fileOfUrl(url));
    const built = manifest.files[source];
    if (!built) throw new Error(`build.mjs: ${url} was not built`);
    return `/static/${built}`;
  };
  const page = shell
    .replace(SCRIPT_TAG, (_, src) => `<script type="module" src="${builtUrl(src)}"></script>`)
    .replace(STYLE_TAG, (_, href) => `<link rel="stylesheet" href="${builtUrl(href)}">`);
  writeFileSync(join(out, 'index.html'), page);
  // The server reads it for the OpenAPI page's mount.
  copyFileSync(join(here, 'vendor.json'), join(out, 'vendor.json'));

  mkdirSync(join(out, 'vendor', 'swagger-ui'), { recursive: true });
  for (const f of SWAGGER_FILES) copyFileSync(join(modules, 'swagger-ui-dist', f), join(out, 'vendor', 'swagger-ui', f));

  // -- the standalone player: one script, one style sheet, everything inlined --
  const script = await esbuild.build({
    ...common,
    entryPoints: scripts.map(fileOfUrl),
    write: false,
    outdir: out,
    plugins: [serverPaths, workerUrls({ inline: workerCode })],
  });
  const style = await esbuild.build({
    preserveSymlinks: true,
    stdin: { contents: styles.map((href) => `@import ${JSON.stringify(fileOfUrl(href))};`).join('\n'), resolveDir: here, loader: 'css' },
    bundle: true,
    minify: true,
    write: false,
    outfile: join(out, 'standalone.css'),
    loader: { '.woff2': 'dataurl' },
    plugins: [woff2Only],
    logLevel: 'warning',
  });
  // Inlined into <script> and <style>: text that would close the element is escaped.
  const scriptText = script.outputFiles.map((f) => f.text).join('\n').replace(/<\/(script)/gi, '<\\/$1');
  const styleText = style.outputFiles[0].text.replace(/<\/(style)/gi, '<\\/$1');
  writeFileSync(join(out, 'standalone.js'), scriptText);
  writeFileSync(join(out, 'standalone.css'), styleText);
  const template = shell
    .replace('<meta charset="utf-8">', '<meta charset="utf-8">\n  <meta http-equiv="Content-Security-Policy" content="{{ csp }}">')
    .replace(/<title>[^<]*<\/title>/, '<title>{{ title }}</title>')
    .replace(STYLE_TAG, '')
    .replace(SCRIPT_TAG, '<style>{{ style|safe }}</style>\n  <script type="module">{{ script|safe }}</script>');
  writeFileSync(join(out, 'standalone.html'), template);
  const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('base64');
  manifest.standalone = {
    template: 'standalone.html',
    script: 'standalone.js',
    style: 'standalone.css',
    script_sha256: sha256(scriptText),
  };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
