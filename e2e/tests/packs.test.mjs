// The page groups' packs (.ci/name-bundle.mjs), without a browser: name-bundle.mjs runs on a
// small bundle laid out as wasm-split-cli and wasm-bindgen write it (three groups sharing
// chunks), then its loader runs in Node with `fetch`, the page's preload links and
// WebAssembly's instantiation stood in for, to see which files each load asks for and which
// bytes each chunk is instantiated from. The real bundle's packs are checked in a browser
// by bundle.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const NAME_BUNDLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.ci', 'name-bundle.mjs');

// Random bytes do not compress: a chunk's compressed size is about its size.
const CHUNKS = {
  chunk_1: 2_000, // every group
  chunk_2: 40_000, // home and editor
  chunk_3: 300_000, // editor only, over the lazily loaded file's budget (250 KB) once packed
};
const GROUPS = {
  home_pages_1: { deps: ['chunk_1', 'chunk_2'], own: 30_000 },
  list_pages_1: { deps: ['chunk_1'], own: 60_000 },
  editor_pages_1: { deps: ['chunk_1', 'chunk_2', 'chunk_3'], own: 10_000 },
};

// The loader as wasm-split-cli writes it (its shape is what name-bundle.mjs parses).
function wasmSplitLoader() {
  const chunk = (name) => `/* ${Object.keys(GROUPS).filter((g) => GROUPS[g].deps.includes(name)).join(', ')} */
const __${name} = makeLoad(() => {
    const src = fetch(new URL("./${name}.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
`;
  const point = (name) => `export const __wasm_split_load_${name} = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_${name}.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [${GROUPS[name].deps.map((d) => `__${d}`).join(', ')}]));
`;
  return `import { initSync } from "./patchbay.js";

let sharedImports = undefined;
function getSharedImports() {
    if (sharedImports === undefined) {
        sharedImports = { __wasm_split: {  } };
        const { memory, __indirect_function_table,  } = initSync(undefined, undefined);
        Object.assign(sharedImports.__wasm_split, { memory, __indirect_function_table,  });
    }
    return sharedImports;
}
function wrapAsyncCb(callee) {
    return async (callbackIndex, callbackData) => {
        let success;
        try {
            await callee();
            success = true;
        } catch (e) {
            success = false;
        } finally {
            const sharedImports = getSharedImports();
            sharedImports.__wasm_split.__indirect_function_table.get(callbackIndex)(callbackData, success);
        }
    }
}
function makeLoad(fetcher, deps) {
    const loader = async () => {
        const parallelStuff = deps.map(d => d());
        const instantiate = fetcher();
        await Promise.all(parallelStuff);
        const imports = getSharedImports();
        return instantiate(imports);
    };
    let loadingModule = undefined;
    return () => {
        if (loadingModule === undefined) {
            const thisLoad = loader();
            thisLoad.catch(() => {
                if (loadingModule === thisLoad) loadingModule = undefined;
            });
            loadingModule = thisLoad;
        }
        return loadingModule;
    }
}
${Object.keys(CHUNKS).map(chunk).join('')}${Object.keys(GROUPS).map(point).join('')}`;
}

// The glue wasm-bindgen writes imports the loader; initSync hands over the table through
// which a load reports whether it succeeded.
const GLUE = `import * as split from "./__wasm_split.js";
export function initSync() {
  return { memory: {}, __indirect_function_table: { get: () => globalThis.__loadDone } };
}
`;

// A bundle named and packed by name-bundle.mjs, with its loader imported afresh: what it
// fetched, which chunk got which bytes, and each load's outcome.
async function packedBundle() {
  const pkg = mkdtempSync(join(tmpdir(), 'patchbay-packs-'));
  const bytes = {};
  for (const [name, size] of Object.entries(CHUNKS)) bytes[name] = randomBytes(size);
  for (const [name, { own }] of Object.entries(GROUPS)) bytes[`split_${name}`] = randomBytes(own);
  for (const [name, content] of Object.entries(bytes)) writeFileSync(join(pkg, `${name}.wasm`), content);
  writeFileSync(join(pkg, '__wasm_split.js'), wasmSplitLoader());
  writeFileSync(join(pkg, 'patchbay.js'), GLUE);
  writeFileSync(join(pkg, 'patchbay_bg.wasm'), randomBytes(100));
  const hashes = execFileSync('node', [NAME_BUNDLE, pkg, '5'], { encoding: 'utf8' });
  const hash = /split: (\w+)/.exec(hashes)[1];

  const fetched = [];
  const instantiated = [];
  const outcomes = [];
  const failing = new Set();
  const preloads = new Set();
  globalThis.__loadDone = (_, success) => outcomes.push(success);
  globalThis.document = { querySelector: (selector) => [...preloads].find((file) => selector.includes(`/${file}"`)) ?? null };
  globalThis.fetch = async (url) => {
    const file = new URL(url).pathname.split('/').pop();
    fetched.push(file.replace(`.${hash}`, ''));
    if (failing.has(file.split('.')[0])) return new Response('', { status: 503 });
    return new Response(readFileSync(join(pkg, file)));
  };
  WebAssembly.instantiateStreaming = async (source) => {
    const response = await source;
    assert.equal(response.headers.get('content-type') ?? 'application/wasm', 'application/wasm');
    const content = Buffer.from(await response.arrayBuffer());
    const name = Object.keys(bytes).find((n) => bytes[n].equals(content));
    assert.ok(name, `a chunk instantiated from ${content.length} bytes that are no chunk's`);
    instantiated.push(name);
    return { instance: { exports: {} } };
  };
  const loader = await import(pathToFileURL(join(pkg, `__wasm_split.${hash}.js`)).href);
  const load = async (group) => {
    fetched.length = 0;
    instantiated.length = 0;
    await loader[`__wasm_split_load_${group}`](0, 0);
    return { fetched: [...fetched].sort(), instantiated: [...instantiated].sort(), success: outcomes.at(-1) };
  };
  const manifest = JSON.parse(readFileSync(join(pkg, readdirSync(pkg).find((f) => f.startsWith('__wasm_split_manifest.'))), 'utf8'));
  return { pkg, hash, load, manifest, preloads, failing };
}

test('the manifest names one pack per group, holding its chunks end to end', async () => {
  const { pkg, hash, manifest } = await packedBundle();
  assert.deepEqual(manifest, {
    home_pages_1: [`pack_home_pages.${hash}.bin`],
    list_pages_1: [`pack_list_pages.${hash}.bin`],
    editor_pages_1: [`pack_editor_pages.${hash}.bin`],
  });
  const pack = readFileSync(join(pkg, `pack_home_pages.${hash}.bin`));
  const parts = ['chunk_1', 'chunk_2', 'split_home_pages_1'].map((n) => readFileSync(join(pkg, `${n}.${hash}.wasm`)));
  assert.ok(pack.equals(Buffer.concat(parts)));
  for (const file of readdirSync(pkg).filter((f) => /^(chunk|split|pack)_.*\.(wasm|bin)$/.test(f))) {
    assert.ok(readdirSync(pkg).includes(`${file}.br`), `${file}: no .br beside it`);
  }
});

test('a direct visit loads its group from the preloaded pack alone, each chunk from its own bytes', async () => {
  const { hash, load, preloads } = await packedBundle();
  preloads.add(`pack_home_pages.${hash}.bin`);
  const home = await load('home_pages_1');
  assert.deepEqual(home.fetched, ['pack_home_pages.bin']);
  assert.deepEqual(home.instantiated, ['chunk_1', 'chunk_2', 'split_home_pages_1']);
  assert.equal(home.success, true);
});

test('later, a group lacking little fetches what it lacks one by one', async () => {
  const { hash, load, preloads } = await packedBundle();
  preloads.add(`pack_list_pages.${hash}.bin`);
  assert.deepEqual((await load('list_pages_1')).fetched, ['pack_list_pages.bin']);
  // Home lacks chunk_2 and its own chunk (70 KB in two requests) of a 72 KB pack.
  const home = await load('home_pages_1');
  assert.deepEqual(home.fetched, ['chunk_2.wasm', 'split_home_pages_1.wasm']);
  assert.deepEqual(home.instantiated, ['chunk_2', 'split_home_pages_1']);
  assert.equal(home.success, true);
});

test('a group lacking all its chunks takes its pack, unless the pack is over the lazy budget', async () => {
  // Loaded first through navigation (from a page of no group): three chunks, 72 KB, in three
  // requests, or the pack in one.
  const home = await (await packedBundle()).load('home_pages_1');
  assert.deepEqual(home.fetched, ['pack_home_pages.bin']);
  assert.deepEqual(home.instantiated, ['chunk_1', 'chunk_2', 'split_home_pages_1']);
  // The editor's pack (352 KB) would cost less than its four chunks, but is over 250 KB.
  const editor = await (await packedBundle()).load('editor_pages_1');
  assert.deepEqual(editor.fetched, ['chunk_1.wasm', 'chunk_2.wasm', 'chunk_3.wasm', 'split_editor_pages_1.wasm']);
  assert.equal(editor.success, true);
});

test('a pack that fails leaves the load to be retried chunk by chunk', async () => {
  const { hash, load, preloads, failing } = await packedBundle();
  preloads.add(`pack_home_pages.${hash}.bin`);
  failing.add('pack_home_pages');
  const failed = await load('home_pages_1');
  assert.equal(failed.success, false);
  assert.deepEqual(failed.fetched, ['pack_home_pages.bin']);
  const retried = await load('home_pages_1');
  assert.equal(retried.success, true);
  assert.deepEqual(retried.fetched, ['chunk_1.wasm', 'chunk_2.wasm', 'split_home_pages_1.wasm']);
  assert.deepEqual(retried.instantiated, ['chunk_1', 'chunk_2', 'split_home_pages_1']);
});
