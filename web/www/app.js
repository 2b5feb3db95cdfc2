// The page: settings, device choice, the training loop and the charts. The numbers come from
// kiln compiled to WebAssembly (pkg/, built by web/build.sh).
import init, { open_gpu, Files, Session, Synthetic } from './pkg/kiln_web.js';

const PRESETS = {
  laptop: { label: 'Laptop GPU', batch_size: 100, hidden: [500, 100], train_images: 5000,
            test_images: 500, steps_no_bn: 400, steps_bn: 100, eval_every: 20, lr: 1e-3, seed: 0 },
  small: { label: 'Small (software GPU, CPU)', batch_size: 32, hidden: [64, 32], train_images: 1024,
           test_images: 128, steps_no_bn: 120, steps_bn: 60, eval_every: 10, lr: 1e-3, seed: 0 },
  article: { label: "The article's (needs a big GPU)", batch_size: 5000, hidden: [3500, 700],
             train_images: 50000, test_images: 10000, steps_no_bn: 400, steps_bn: 100,
             eval_every: 20, lr: 1e-3, seed: 0 },
};
const FIELDS = ['batch_size', 'train_images', 'test_images', 'steps_no_bn', 'steps_bn', 'eval_every', 'lr', 'seed'];
const COLORS = { 'no-bn': '#f0883e', bn: '#58a6ff' };
const SMOOTHING = 10;
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

let stopRequested = false;
let files = null; // the CIFAR-10 files given to the page (kiln's `Files`), once kiln has loaded

function readSettings() {
  const s = { hidden: [Number($('hidden0').value), Number($('hidden1').value)] };
  for (const f of FIELDS) s[f] = Number($(f).value);
  return s;
}

function showSettings(s) {
  $('hidden0').value = s.hidden[0];
  $('hidden1').value = s.hidden[1];
  for (const f of FIELDS) $(f).value = s[f];
}

// Settings from the URL (`?preset=small&batch_size=8&hidden=16,8&...`) over the preset's.
function initialSettings() {
  const preset = PRESETS[params.get('preset')] ? params.get('preset') : 'laptop';
  $('preset').value = preset;
  const s = structuredClone(PRESETS[preset]);
  delete s.label;
  for (const f of FIELDS) if (params.has(f)) s[f] = Number(params.get(f));
  if (params.has('hidden')) s.hidden = params.get('hidden').split(',').map(Number);
  return s;
}

// --- charts -------------------------------------------------------------------------------

function smooth(values) {
  return values.map((_, i) => {
    const w = values.slice(Math.max(0, i + 1 - SMOOTHING), i + 1);
    return w.reduce((a, b) => a + b, 0) / w.length;
  });
}

function drawChart(canvas, series, xMax) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, L = 52, R = 14, T = 12, B = 30;
  ctx.clearRect(0, 0, W, H);
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const yMax = ys.length ? Math.max(...ys) * 1.05 : 2.5;
  const yMin = 0;
  const x = (v) => L + (W - L - R) * (v / Math.max(1, xMax));
  const y = (v) => T + (H - T - B) * (1 - (v - yMin) / (yMax - yMin || 1));
  ctx.font = '12px system-ui, sans-serif';
  ctx.strokeStyle = '#2a313b';
  ctx.fillStyle = '#8b95a3';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = yMin + (yMax - yMin) * i / 4;
    ctx.beginPath(); ctx.moveTo(L, y(v)); ctx.lineTo(W - R, y(v)); ctx.stroke();
    ctx.textAlign = 'right'; ctx.fillText(v.toFixed(2), L - 6, y(v) + 4);
  }
  for (let i = 0; i <= 5; i++) {
    const v = Math.round(xMax * i / 5);
    ctx.textAlign = 'center'; ctx.fillText(String(v), x(v), H - 10);
  }
  ctx.textAlign = 'right'; ctx.fillText('step', L - 6, H - 10);
  for (const s of series) {
    if (!s.points.length) continue;
    ctx.strokeStyle = s.color; ctx.globalAlpha = s.alpha ?? 1; ctx.lineWidth = s.width;
    ctx.beginPath();
    s.points.forEach(([px, py], i) => (i ? ctx.lineTo(x(px), y(py)) : ctx.moveTo(x(px), y(py))));
    ctx.stroke();
    if (s.dots) {
      ctx.fillStyle = s.color;
      for (const [px, py] of s.points) { ctx.beginPath(); ctx.arc(x(px), y(py), 3, 0, 7); ctx.fill(); }
    }
    ctx.globalAlpha = 1;
  }
}

function redraw(runs, settings) {
  const xMax = Math.max(settings.steps_no_bn, settings.steps_bn);
  const train = [], test = [];
  for (const [name, r] of Object.entries(runs)) {
    const color = COLORS[name] ?? '#aaa';
    train.push({ color, width: 1, alpha: 0.35, points: r.loss.map((l, i) => [i + 1, l]) });
    train.push({ color, width: 2.5, points: smooth(r.loss).map((l, i) => [i + 1, l]) });
    test.push({ color, width: 2, dots: true, points: r.evals.map((e) => [e.step, e.loss]) });
  }
  drawChart($('train-chart'), train, xMax);
  drawChart($('test-chart'), test, xMax);
}

// --- device and training ------------------------------------------------------------------

// The device to train on. `auto`: a hardware WebGPU adapter, else kiln's CPU kernels (a software
// adapter such as SwiftShader is slower than they are, and is skipped as natively); `gpu`:
// any WebGPU adapter. A fallback to the CPU is said on the page.
async function pickDevice(choice) {
  if (choice !== 'cpu') {
    const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
    let why = !navigator.gpu ? 'this browser has no WebGPU'
      : !adapter ? 'the browser offers no WebGPU adapter' : null;
    if (!why && isFallback(adapter) && choice === 'auto') {
      why = `the only WebGPU adapter is a software one (${adapter.info.vendor} ${adapter.info.architecture}), slower than the CPU kernels`;
    }
    if (!why) {
      try {
        const summary = await open_gpu();
        return { device: 'gpu', name: describe(adapter.info) || summary };
      } catch (e) {
        why = `WebGPU did not open (${e.message ?? e})`;
      }
    }
    if (choice === 'gpu') throw new Error(why);
    notice(`${why}: training on kiln's CPU kernels, single-threaded in WebAssembly.`);
  }
  return { device: 'cpu', name: "CPU (kiln's CPU kernels in wasm)" };
}

// Whether `adapter` is a software one (`info.isFallbackAdapter`; older browsers had it on the
// adapter itself).
function isFallback(adapter) {
  return adapter.info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
}

// The adapter as the browser describes it (wgpu passes on only its often empty description).
function describe(info) {
  const words = [info.vendor, info.architecture, info.description].filter(Boolean);
  return words.length ? `${words.join(' ')} (WebGPU${info.isFallbackAdapter ? ', software' : ''})` : '';
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = false;
}

// The page's yield, as kiln's own (page.rs): a message posted to itself on a MessageChannel
// arrives on a later task, after what was waiting (input, a repaint), without the 4 ms that
// browsers add to chained zero-delay timers.
const yieldChannel = new MessageChannel();
const nextTask = () => new Promise((resolve) => {
  yieldChannel.port1.onmessage = () => resolve();
  yieldChannel.port2.postMessage(null);
});

// Measures how long the page's thread is held while it trains: the longest gap, in ms, between
// two animation frames (the browser paints only while the thread is free).
function pauseMeter() {
  let last = performance.now(), longest = 0, frame;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  };
  const loop = () => {
    tick();
    frame = requestAnimationFrame(loop);
  };
  frame = requestAnimationFrame(loop);
  return {
    stop() { tick(); cancelAnimationFrame(frame); },
    longest: () => Math.round(longest),
  };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

// --- data ---------------------------------------------------------------------------------

// Milliseconds of generation between two repaints.
const CHUNK_MS = 30;

// The data of `settings`: the CIFAR-10 files given to the page if any, else the synthetic data,
// generated a chunk of images at a time with the page repainted in between; `null` if stopped.
async function makeData(settings) {
  if (!files.is_empty()) return files.data(JSON.stringify(settings));
  const synthetic = new Synthetic(JSON.stringify(settings));
  const total = synthetic.total();
  let chunk = 8;
  for (;;) {
    const t = performance.now();
    if (synthetic.draw(chunk)) break;
    const ms = Math.max(1, performance.now() - t);
    chunk = Math.max(1, Math.min(4 * chunk, Math.round(chunk * CHUNK_MS / ms)));
    const done = synthetic.drawn();
    $('progress').textContent = `data ${Math.floor(100 * done / total)}%`;
    $('message').textContent = `Generating the synthetic data: ${done.toLocaleString()} of ${total.toLocaleString()} images…`;
    await nextTask();
    if (stopRequested) {
      synthetic.free();
      return null;
    }
  }
  return synthetic.finish();
}

// Says on the page which data the runs use.
function announce(data) {
  const line = $('data-used');
  line.className = `data-used ${data.synthetic() ? 'synthetic' : 'real'}`;
  line.textContent = data.synthetic()
    ? `Data: ${data.description()}, not CIFAR-10. Drop CIFAR-10's binary files on the page to train on it.`
    : `Data: ${data.description()}.`;
  line.hidden = false;
}

// Reads `entries` ({ name, size, read: () => Promise<ArrayBuffer> }) into `files`, one at a time
// with the page repainted in between, and shows what the page now holds. A file kiln refuses
// (its name, its size or a label byte) or one that cannot be read is said on the page, with its
// name and size, and left out. Returns those messages.
async function addFiles(entries) {
  const errors = [];
  for (const entry of entries) {
    $('files-status').textContent = `Reading ${entry.name}…`;
    await nextTask();
    let bytes;
    try {
      bytes = new Uint8Array(await entry.read());
    } catch (e) {
      const size = entry.size === undefined ? '' : ` (${entry.size} bytes)`;
      errors.push(`${entry.name}${size} could not be read: ${e.message ?? e}`);
      continue;
    }
    try {
      files.add(entry.name, bytes);
    } catch (e) {
      errors.push(e.message ?? String(e));
    }
  }
  showFiles();
  $('files-error').textContent = errors.join('\n');
  $('files-error').hidden = !errors.length;
  return errors;
}

function showFiles() {
  $('files-status').textContent = files.is_empty()
    ? 'Synthetic CIFAR-10-format data, generated from the seed.'
    : `CIFAR-10 files: ${files.status()}. The settings' train and test images are the first ones of these files.`;
  $('synthetic').hidden = files.is_empty();
}

const fromFile = (file) => ({ name: file.name, size: file.size, read: () => file.arrayBuffer() });

// `?cifar=URL,URL...`: files the page fetches, then takes as if they had been dropped.
const fromUrl = (url) => ({
  name: url.split('/').pop(),
  read: async () => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.arrayBuffer();
  },
});

function acceptDrops() {
  const zone = $('data');
  const over = (on) => (e) => { e.preventDefault(); zone.classList.toggle('over', on); };
  document.addEventListener('dragover', over(true));
  document.addEventListener('dragleave', over(false));
  document.addEventListener('drop', (e) => {
    over(false)(e);
    addFiles([...e.dataTransfer.files].map(fromFile));
  });
  $('pick').onchange = () => {
    addFiles([...$('pick').files].map(fromFile));
    $('pick').value = '';
  };
  $('synthetic').onclick = () => {
    files.free();
    files = new Files();
    showFiles();
    $('files-error').hidden = true;
  };
}

// --- training -----------------------------------------------------------------------------

async function train(settings, choice) {
  $('notice').hidden = true;
  const { device, name } = await pickDevice(choice);
  $('device-name').textContent = name;
  $('device-name').title = name;
  $('message').textContent = files.is_empty() ? 'Generating the synthetic data…' : 'Taking the CIFAR-10 files…';
  await nextTask();
  const t0 = performance.now();
  const data = await makeData(settings);
  if (!data) {
    $('message').textContent = 'Stopped.';
    return { device, adapter: name, stopped: true };
  }
  const dataSeconds = (performance.now() - t0) / 1000;
  const dataset = data.description(), synthetic = data.synthetic();
  announce(data);
  let session;
  try {
    session = new Session(JSON.stringify(settings), device, data);
  } finally {
    data.free();
  }
  $('message').textContent = `Data ${synthetic ? 'generated' : 'read'} in ${dataSeconds.toFixed(1)} s. Training…`;
  try {
    const measured = await trainSession(session, settings);
    return { device, adapter: name, dataset, synthetic, data_seconds: dataSeconds, ...measured };
  } finally {
    session.free();
  }
}

// Steps `session` to its end (or a stop), showing each step; returns what was measured.
async function trainSession(session, settings) {
  const runs = {};
  for (const n of JSON.parse(session.runs())) runs[n] = { loss: [], evals: [], seconds: [] };
  const total = settings.steps_no_bn + settings.steps_bn;
  let done = 0, lastDraw = 0;
  const meter = pauseMeter();
  try {
    for (;;) {
      if (stopRequested) break;
      const json = await session.step();
      if (json === null) break;
      const p = JSON.parse(json);
      const r = runs[p.name];
      r.loss.push(p.loss);
      r.seconds.push(p.seconds);
      if (p.eval) r.evals.push(p.eval);
      done++;
      const step = median(r.seconds.slice(-10));
      $('step-time').textContent = `${(step * 1000).toFixed(step < 0.1 ? 1 : 0)} ms`;
      $('ips').textContent = Math.round(Math.min(settings.batch_size, settings.train_images) / step).toLocaleString();
      $('progress').textContent = `${p.name} ${p.step} · ${Math.round(100 * done / total)}%`;
      if (p.eval || performance.now() - lastDraw > 100) {
        redraw(runs, settings);
        $('table').textContent = session.table();
        lastDraw = performance.now();
      }
      await nextTask();
    }
  } finally {
    meter.stop();
  }
  redraw(runs, settings);
  $('message').textContent = stopRequested ? 'Stopped.' : 'Done.';
  const table = session.table();
  $('table').textContent = table;
  return { runs, table, longest_pause_ms: meter.longest() };
}

// Posts what the run measured to the local test server (`?report=TAG`); a failed post is said
// on the page.
async function report(result) {
  const tag = params.get('report');
  if (!tag) return;
  try {
    await fetch(`/report/${encodeURIComponent(tag)}`, { method: 'POST', body: JSON.stringify(result) });
  } catch (e) {
    $('message').textContent += ` (reporting to the test server failed: ${e.message ?? e})`;
  }
}

async function main() {
  for (const [key, p] of Object.entries(PRESETS)) $('preset').add(new Option(p.label, key));
  showSettings(initialSettings());
  $('preset').onchange = () => showSettings(PRESETS[$('preset').value]);
  if (params.has('device')) $('device').value = params.get('device');
  try {
    await init();
  } catch (e) {
    $('message').textContent = `Could not load kiln's WebAssembly: ${e}`;
    return report({ error: String(e) });
  }
  $('device-name').textContent = navigator.gpu ? 'WebGPU available' : 'no WebGPU';
  files = new Files();
  showFiles();
  acceptDrops();
  const start = async () => {
    $('start').disabled = true; $('stop').disabled = false; stopRequested = false;
    try {
      const result = await train(readSettings(), $('device').value);
      await report(result);
    } catch (e) {
      $('message').textContent = `Error: ${e.message ?? e}`;
      await report({ error: String(e.message ?? e) });
    } finally {
      $('start').disabled = false; $('stop').disabled = true;
    }
  };
  $('start').onclick = start;
  $('stop').onclick = () => { stopRequested = true; };
  if (params.has('cifar')) {
    const errors = await addFiles(params.get('cifar').split(',').map(fromUrl));
    if (errors.length) {
      // The page stays usable (on the files that were taken, or synthetic data); a test run
      // that gave these files stops here.
      $('message').textContent = 'Some of the files given were refused (see Data).';
      return report({ error: $('files-error').textContent });
    }
  }
  $('message').textContent = 'Ready: choose the settings and press Train.';
  if (params.has('autostart')) start();
}

main();
